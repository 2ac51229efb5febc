"""Device times read from a capture (tests/demo/check_demo.py's pcap reader): its span and the
first packet of an attack, against which an alert's evidence times are checked and measured."""

import ipaddress

from check_demo import ethernet_ip, parse_ip, read_pcap


def frame_ms(seconds, micros):
    return seconds * 1000 + micros // 1000


def capture_span_ms(path):
    """(first, last) frame time in ms since the epoch."""
    _, packets = read_pcap(path)
    return frame_ms(*packets[0][:2]), frame_ms(*packets[-1][:2])


def attack_start_ms(path, device_addresses, networks):
    """The time of the first IP packet between the device and any of networks, or None."""
    device = {ipaddress.ip_address(a) for a in device_addresses}
    wanted = [ipaddress.ip_network(n) for n in networks]
    _, packets = read_pcap(path)
    for seconds, micros, frame, _ in packets:
        packet = ethernet_ip(frame)
        ip = parse_ip(packet) if packet else None
        if ip is None:
            continue
        remote = ip.dst if ip.src in device else ip.src
        if any(remote.version == n.version and remote in n for n in wanted):
            return frame_ms(seconds, micros)
    return None


def frame_count(path):
    return len(read_pcap(path)[1])

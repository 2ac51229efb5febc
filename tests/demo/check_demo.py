#!/usr/bin/python3
"""Checks vigil-console-demo against captures read here with the standard library only.

Nothing in this file uses Vigil's code: the pcap reader, the per-direction byte counts and the
link-type conversions are written again from the file formats, so the demo's totals are compared
with an independent count.

  check_demo.py replay DEMO SAMPLE      expected flows and exact totals on the committed sample
  check_demo.py link-types DEMO SAMPLE  the same capture as raw IP, cooked v1/v2, VLAN, pcapng...
  check_demo.py infer DEMO              which addresses the demo takes as the device's
  check_demo.py bad-input DEMO SAMPLE   damaged or foreign files give a clear error, exit 1
  check_demo.py live DEMO               --live on a veth pair in two network namespaces
                                        (exit 77, skipped, without the rights to make them)
"""

import collections
import ipaddress
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from vigil_testlib import check, finish  # noqa: E402

# The device in the committed sample (scripts/demo makes it with these addresses).
DEVICE = ["198.51.100.2", "2001:db8:1::2", "fe80::ff:fe00:2"]
PEER_V4 = "198.51.100.1"
PEER_V6 = "2001:db8:1::1"

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276


# --- pcap files ---------------------------------------------------------------------------------

def read_pcap(path):
    """(linktype, [(seconds, microseconds, frame bytes, original length)])"""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    packets = []
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, original = struct.unpack(order + "IIII",
                                                               data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + captured]
        packets.append((seconds, fraction // 1000 if nano else fraction, frame, original))
        offset += 16 + captured
    return linktype, packets


def write_pcap(path, linktype, packets, order="<", nano=False):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    with open(path, "wb") as out:
        out.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
        for seconds, micros, frame, original in packets:
            fraction = micros * 1000 if nano else micros
            out.write(struct.pack(order + "IIII", seconds, fraction, len(frame), original))
            out.write(frame)


def write_pcapng(path, linktype, packets):
    def block(kind, body):
        body += b"\0" * (-len(body) % 4)
        length = 12 + len(body)
        return struct.pack("<II", kind, length) + body + struct.pack("<I", length)

    with open(path, "wb") as out:
        out.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        out.write(block(0x00000001, struct.pack("<HHI", linktype, 0, 262144)))
        for seconds, micros, frame, original in packets:
            stamp = seconds * 1000000 + micros  # default resolution: microseconds
            out.write(block(0x00000006, struct.pack("<IIIII", 0, stamp >> 32, stamp & 0xFFFFFFFF,
                                                    len(frame), original) + frame))


# --- IP accounting ------------------------------------------------------------------------------

Ip = collections.namedtuple("Ip", "family src dst protocol length first_fragment header")


def ethernet_ip(frame):
    """The IP packet in an Ethernet frame (VLAN tags skipped), or None."""
    offset = 12
    while len(frame) >= offset + 2:
        ethertype = struct.unpack(">H", frame[offset:offset + 2])[0]
        if ethertype in (0x8100, 0x88A8):
            offset += 4
            continue
        return frame[offset + 2:] if ethertype in (0x0800, 0x86DD) else None
    return None


def parse_ip(packet):
    version = packet[0] >> 4 if packet else 0
    if version == 4 and len(packet) >= 20:
        header = (packet[0] & 0x0F) * 4
        fragment_offset = struct.unpack(">H", packet[6:8])[0] & 0x1FFF
        return Ip(4, ipaddress.ip_address(packet[12:16]), ipaddress.ip_address(packet[16:20]),
                  packet[9], struct.unpack(">H", packet[2:4])[0], fragment_offset == 0, header)
    if version == 6 and len(packet) >= 40:
        next_header, offset, first = packet[6], 40, True
        while next_header in (0, 43, 44, 51, 60) and len(packet) >= offset + 8:
            if next_header == 44:
                first = struct.unpack(">H", packet[offset + 2:offset + 4])[0] & 0xFFF8 == 0
                size = 8
            elif next_header == 51:
                size = (packet[offset + 1] + 2) * 4
            else:
                size = (packet[offset + 1] + 1) * 8
            next_header, offset = packet[offset], offset + size
        return Ip(6, ipaddress.ip_address(packet[8:24]), ipaddress.ip_address(packet[24:40]),
                  next_header, struct.unpack(">H", packet[4:6])[0] + 40, first, offset)
    return None


def is_group(address):
    return address.is_multicast or address == ipaddress.ip_address("255.255.255.255")


PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmp"}


def expected_totals(path, device):
    """What the agent must report for a capture: per direction and per (protocol, remote) the
    sum of IP lengths of the packets it records: TCP, UDP, ICMP (ICMPv6 on IPv6), first
    fragments only, inbound multicast and broadcast left out (the build's unicast-only filter)."""
    device = {ipaddress.ip_address(a) for a in device}
    linktype, packets = read_pcap(path)
    assert linktype == LINKTYPE_ETHERNET, "the sample is an Ethernet capture"
    totals = collections.Counter()
    per_remote = collections.Counter()
    ip_packets = 0
    for _, _, frame, _ in packets:
        packet = ethernet_ip(frame)
        ip = parse_ip(packet) if packet else None
        if ip is None:
            continue
        ip_packets += 1
        outbound = ip.src in device
        family_protocols = (6, 17, 1) if ip.family == 4 else (6, 17, 58)
        if ip.protocol not in family_protocols or not ip.first_fragment:
            continue
        if not outbound and is_group(ip.dst):
            continue
        direction = "out" if outbound else "in"
        totals["bytes_" + direction] += ip.length
        totals["packets_" + direction] += 1
        remote = ip.dst if outbound else ip.src
        per_remote[(PROTOCOL_NAMES[ip.protocol], str(remote), "bytes_" + direction)] += ip.length
    totals["ip_packets"] = ip_packets
    return totals, per_remote


# --- running the demo ---------------------------------------------------------------------------

def run_demo(demo, *args):
    result = subprocess.run([demo, *args], capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


def json_lines(demo, pcap, *extra):
    code, out, err = run_demo(demo, "--pcap", pcap, "--json-lines", *extra)
    check(code == 0, f"demo exit code {code} on {os.path.basename(pcap)}: {err.strip()}")
    lines = []
    for line in out.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            check(False, f"stdout line is not JSON: {line[:80]}")
    return lines, err


def locals_args(addresses):
    return [arg for a in addresses for arg in ("--local", a)]


def reported(lines):
    """Per direction and per (protocol, remote) totals from the network messages."""
    totals = collections.Counter()
    per_remote = collections.Counter()
    for line in lines:
        network = line["message"].get("network")
        if not network:
            continue
        for flow in network["flows"]:
            for key in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
                totals[key] += flow[key]
            for key in ("bytes_in", "bytes_out"):
                per_remote[(flow["protocol"], flow["remote"], key)] += flow[key]
        for record in network["overflow"]:
            for key in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
                totals[key] += record[key]
    return totals, per_remote


def flows(lines):
    return [flow for line in lines if line["message"].get("network")
            for flow in line["message"]["network"]["flows"]]


def has_flow(all_flows, **wanted):
    return any(all(flow.get(k) == v for k, v in wanted.items()) for flow in all_flows)


# --- the checks ---------------------------------------------------------------------------------

def check_replay(demo, sample):
    lines, _ = json_lines(demo, sample, "--device-id", "sample-device", "--interval-high", "2",
                          *locals_args(DEVICE))
    check(len(lines) > 0, "messages printed")
    for line in lines:
        check(line["topic"] == "devices/sample-device/messages/events/", f"topic {line['topic']}")
        check(line["property_bag"] == "mti=vigil.1&%24.ct=application%2Fcbor", "property bag")
        check(0 < line["size"] <= 1024, f"size {line['size']}")
        check("message" in line, f"message decodes: {line.get('decode_error')}")
    check(sum(1 for l in lines if "network" in l["message"]) >= 2,
          "several network windows (2 s high-priority interval)")

    expected, expected_remote = expected_totals(sample, DEVICE)
    got, got_remote = reported(lines)
    for key in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
        check(got[key] == expected[key], f"{key}: demo {got[key]}, pcap {expected[key]}")
    check(got_remote == expected_remote,
          f"per (protocol, remote) bytes: demo {dict(got_remote)}, pcap {dict(expected_remote)}")
    check(expected["bytes_in"] > 40000, "the sample holds the 40 kB download")
    print("pcap:", dict(expected))
    print("demo:", dict(got))

    heartbeats = [l["message"]["heartbeat"] for l in lines if "heartbeat" in l["message"]]
    check(heartbeats and heartbeats[-1]["packets_seen"] == expected["ip_packets"],
          f"last heartbeat counts every IP packet ({expected['ip_packets']})")
    check(heartbeats and heartbeats[-1]["config_version"] == 1, "the runtime config is in force")
    systems = [l["message"]["system"] for l in lines if "system" in l["message"]]
    check(systems and systems[0]["addresses"] == DEVICE, "system info names the device addresses")
    check(systems and systems[0]["macs"] == ["02:00:00:00:00:02"], "and its MAC")

    all_flows = flows(lines)
    check(has_flow(all_flows, protocol="tcp", remote=PEER_V4, remote_port=8080,
                   handshake="completed", opened_by="local"), "HTTP download over IPv4")
    check(has_flow(all_flows, protocol="tcp", remote=PEER_V6, remote_port=8080,
                   handshake="completed", opened_by="local"), "HTTP over IPv6")
    check(has_flow(all_flows, protocol="tcp", remote=PEER_V4, remote_port=8081,
                   handshake="refused"), "refused connection")
    check(has_flow(all_flows, protocol="tcp", local_port=2222, remote=PEER_V4,
                   opened_by="remote", handshake="completed"), "inbound connection to 2222")
    check(has_flow(all_flows, protocol="udp", remote=PEER_V4, remote_port=9999, packets_in=3,
                   packets_out=3), "UDP exchange")
    check(has_flow(all_flows, protocol="udp", remote=PEER_V4, remote_port=9, packets_in=0),
          "UDP to a closed port")
    check(has_flow(all_flows, protocol="icmp", remote=PEER_V4, icmp_type=3, icmp_code=3,
                   opened_by="remote"), "ICMP port unreachable")
    check(has_flow(all_flows, protocol="icmp", remote=PEER_V4, icmp_type=8, opened_by="local"),
          "ping to the peer")
    check(has_flow(all_flows, protocol="icmp", remote=PEER_V4, icmp_type=8, opened_by="remote"),
          "ping from the peer")
    check(has_flow(all_flows, protocol="icmp", remote=PEER_V6, icmp_type=128),
          "IPv6 ping")

    # The human form carries the same messages.
    code, out, _ = run_demo(demo, "--pcap", sample, *locals_args(DEVICE))
    check(code == 0 and "topic:        devices/console-demo/messages/events/" in out and
          '"flows": [' in out, "human-readable output")


def to_linktype(packets, linktype, device):
    """The sample's frames re-framed for another link type."""
    device_macs = set()
    out = []
    for seconds, micros, frame, original in packets:
        ip = ethernet_ip(frame)
        if ip is None:
            continue
        parsed = parse_ip(ip)
        outgoing = parsed is not None and str(parsed.src) in device
        ethertype = frame[12:14] if frame[12:14] != b"\x81\x00" else frame[16:18]
        source_mac = frame[6:12]
        if outgoing:
            device_macs.add(source_mac)
        if linktype == LINKTYPE_RAW:
            new = ip
        elif linktype == LINKTYPE_LINUX_SLL:
            new = struct.pack(">HHH", 4 if outgoing else 0, 1, 6) + source_mac + b"\0\0" + \
                ethertype + ip
        elif linktype == LINKTYPE_LINUX_SLL2:
            new = ethertype + b"\0\0" + struct.pack(">IHBB", 2, 1, 4 if outgoing else 0, 6) + \
                source_mac + b"\0\0" + ip
        else:  # Ethernet with an 802.1Q tag, VLAN 42
            new = frame[:12] + b"\x81\x00\x00\x2a" + frame[12:]
        out.append((seconds, micros, new, original - len(frame) + len(new)))
    return out


def check_link_types(demo, sample):
    baseline, _ = json_lines(demo, sample, "--interval-high", "2", *locals_args(DEVICE))
    baseline_flows = flows(baseline)
    check(len(baseline_flows) > 5, "baseline flows")
    _, packets = read_pcap(sample)
    with tempfile.TemporaryDirectory() as work:
        variants = {
            "raw IP": (LINKTYPE_RAW, "<", False, False),
            "Linux cooked": (LINKTYPE_LINUX_SLL, "<", False, False),
            "Linux cooked v2": (LINKTYPE_LINUX_SLL2, "<", False, False),
            "Ethernet with a VLAN tag": (LINKTYPE_ETHERNET, "<", False, False),
            "big-endian file, nanosecond stamps": (None, ">", True, False),
            "pcapng": (None, "<", False, True),
        }
        for name, (linktype, order, nano, ng) in variants.items():
            path = os.path.join(work, name.replace(" ", "_").replace(",", "") + ".pcap")
            if linktype is None:
                framed, linktype = packets, LINKTYPE_ETHERNET
            else:
                framed = to_linktype(packets, linktype, DEVICE)
            if ng:
                write_pcapng(path, linktype, framed)
            else:
                write_pcap(path, linktype, framed, order, nano)
            lines, _ = json_lines(demo, path, "--interval-high", "2", *locals_args(DEVICE))
            check(flows(lines) == baseline_flows, f"{name}: the same flows as the Ethernet capture")


def ipv4_udp(src, dst, sport, dport, payload):
    total = 28 + len(payload)
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 17, 0,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    return header + struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv6_udp(src, dst, sport, dport, payload):
    header = struct.pack(">IHBB16s16s", 0x60000000, 8 + len(payload), 17, 64,
                         ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    return header + struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def check_infer(demo):
    # The device fetches from a server that sends five times as much as it receives (so the
    # server is the most common source) and also asks a resolver; only the device is in every
    # packet.
    device, server, resolver = "203.0.113.10", "203.0.113.80", "203.0.113.53"
    device6, peer6 = "2001:db8:5::10", "2001:db8:5::1"
    packets = []
    t = 1700000000
    for i in range(4):
        packets.append((t, i * 1000, ipv4_udp(device, resolver, 5353, 53, b"q" * 20), 48))
        packets.append((t, i * 1000 + 10, ipv4_udp(resolver, device, 53, 5353, b"a" * 40), 68))
        packets.append((t, i * 1000 + 20, ipv4_udp(device, server, 40000, 443, b"r" * 30), 58))
        for j in range(5):
            packets.append((t, i * 1000 + 30 + j, ipv4_udp(server, device, 443, 40000,
                                                           b"d" * 500), 528))
    packets.append((t + 1, 0, ipv6_udp(device6, peer6, 6000, 7000, b"x"), 49))
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "infer.pcap")
        write_pcap(path, LINKTYPE_RAW, packets)
        lines, err = json_lines(demo, path)
        check(f"inferred (set them with --local): {device}, {device6}" in err,
              f"inferred device addresses: {err.strip()}")
        all_flows = flows(lines)
        check(has_flow(all_flows, protocol="udp", local=device, remote=server, remote_port=443,
                       opened_by="local", packets_out=4, packets_in=20), "download direction")
        check(has_flow(all_flows, protocol="udp", local=device6, remote=peer6, packets_out=1),
              "IPv6 direction")


def check_bad_input(demo, sample):
    data = open(sample, "rb").read()
    with tempfile.TemporaryDirectory() as work:
        def case(name, content):
            path = os.path.join(work, name)
            with open(path, "wb") as out:
                out.write(content)
            return path

        _, packets = read_pcap(sample)
        first_record_end = 24 + 16 + len(packets[0][2])
        unsupported = bytearray(data[:24])
        unsupported[20:24] = struct.pack("<I", 105)  # IEEE 802.11
        huge = bytearray(data[:first_record_end + 16])
        huge[first_record_end + 8:first_record_end + 12] = struct.pack("<I", 0x7FFFFFF0)
        cases = {
            "missing file": (os.path.join(work, "does-not-exist.pcap"), "No such file"),
            "empty file": (case("empty.pcap", b""), "truncated"),
            "text file": (case("notes.txt", b"this is not a capture\n" * 10),
                          "unknown file format"),
            "cut inside the file header": (case("header.pcap", data[:10]), "truncated"),
            "cut inside a record header": (case("record.pcap", data[:first_record_end + 7]),
                                           "truncated"),
            "cut inside a packet": (case("packet.pcap", data[:len(data) - 10]), "truncated"),
            "absurd packet length": (case("huge.pcap", bytes(huge)), "length"),
            "unsupported link type": (case("wifi.pcap", bytes(unsupported) + data[24:]),
                                      "not supported"),
        }
        for name, (path, reason) in cases.items():
            code, out, err = run_demo(demo, "--pcap", path)
            check(code == 1, f"{name}: exit code {code} (want 1)")
            check(reason.lower() in err.lower(), f"{name}: error names the cause: {err.strip()}")
            check(os.path.basename(path) in err, f"{name}: error names the file")
            check("Sanitizer" not in err and "runtime error" not in err, f"{name}: clean exit")
            check("topic:" not in out, f"{name}: no message printed before the error")

    usage = {
        "no source": ([], "give one of"),
        "two sources": (["--pcap", sample, "--live", "lo"], "give one of"),
        "interval out of range": (["--pcap", sample, "--interval-high", "0"], "interval out of range"),
        "not a number": (["--pcap", sample, "--interval-low", "ten"], "not a number"),
        "bad address": (["--pcap", sample, "--local", "198.51.100"], "not an IP address"),
        "bad device id": (["--pcap", sample, "--device-id", "a/b"], "device id"),
    }
    for name, (args, reason) in usage.items():
        code, _, err = run_demo(demo, *args)
        check(code == 2, f"{name}: exit code {code} (want 2)")
        check(reason.lower() in err.lower(), f"{name}: {err.strip()}")


SKIPPED = 77


def check_live(demo):
    tag = str(os.getpid())
    device_ns, peer_ns = "vigil-live-d" + tag, "vigil-live-p" + tag
    made = []

    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    try:
        try:
            ip("netns", "add", device_ns)
        except (OSError, subprocess.CalledProcessError):
            print("cannot create network namespaces here: skipped")
            sys.exit(SKIPPED)
        made.append(device_ns)
        ip("netns", "add", peer_ns)
        made.append(peer_ns)
        ip("link", "add", "vd", "netns", device_ns, "type", "veth", "peer", "name", "vp",
           "netns", peer_ns)
        ip("-n", device_ns, "addr", "add", "198.51.100.20/24", "dev", "vd")
        ip("-n", peer_ns, "addr", "add", "198.51.100.21/24", "dev", "vp")
        ip("-n", device_ns, "link", "set", "vd", "up")
        ip("-n", peer_ns, "link", "set", "vp", "up")
        demo_run = subprocess.Popen(
            ["ip", "netns", "exec", device_ns, demo, "--live", "vd", "--duration", "3",
             "--interval-high", "1", "--json-lines"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        notes = []
        for line in demo_run.stderr:  # the capture is open once the agent is configured
            notes.append(line)
            if line.startswith("config:"):
                break
        subprocess.run(["ip", "netns", "exec", peer_ns, "ping", "-c", "3", "-i", "0.2", "-q",
                        "198.51.100.20"], check=True, capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "exec", peer_ns, sys.executable, "-c",
                        "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                        ".sendto(b'x' * 10, ('198.51.100.20', 7777))"],
                       check=True, capture_output=True, timeout=10)
        out, err = demo_run.communicate(timeout=30)
        check(demo_run.returncode == 0, f"live exit code {demo_run.returncode}: {err}")
        lines = [json.loads(line) for line in out.splitlines()]
        all_flows = flows(lines)
        check(has_flow(all_flows, protocol="icmp", local="198.51.100.20", remote="198.51.100.21",
                       icmp_type=8, opened_by="remote", packets_in=3, packets_out=3),
              f"pings from the peer: {all_flows}")
        check(has_flow(all_flows, protocol="udp", local_port=7777, remote="198.51.100.21",
                       opened_by="remote", packets_in=1, bytes_in=38),
              "UDP datagram from the peer")
        check(any(f["protocol"] == "icmp" and f.get("icmp_type") == 3 and f["packets_out"] == 1
                  for f in all_flows), "the device's port-unreachable answer")
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    command, demo = sys.argv[1], sys.argv[2]
    if command == "replay":
        check_replay(demo, sys.argv[3])
    elif command == "link-types":
        check_link_types(demo, sys.argv[3])
    elif command == "infer":
        check_infer(demo)
    elif command == "bad-input":
        check_bad_input(demo, sys.argv[3])
    elif command == "live":
        check_live(demo)
    else:
        print(__doc__)
        sys.exit(2)
    finish()


if __name__ == "__main__":
    main()

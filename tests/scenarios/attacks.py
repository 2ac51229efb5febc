"""The attack captures, recorded live: real tools (nmap, hping3, curl) run in the scenario's
namespaces, aimed only at their documentation addresses, bounded in count and time, while tcpdump
records the device's interface.

Each recorder returns a Scenario: the capture, the device's addresses, the alerts it must and must
not raise, the remote addresses whose first packet starts the attack, and what the hub must have
stored of it.
"""

import collections
import os

from scenario_net import ATTACKER_V4, DEVICE_V4, DEVICE_V6, Recording
from vigil_testlib import check

# expected: [Expect]; forbidden: [(category, subject)] that must not be raised; attackers: address
# blocks; stored: [(what, aggregate, condition, at least)] over the flows the hub stored for the
# device (protocol 0 TCP, 1 UDP, 2 ICMP with its type in local_port), which show the attack
# whatever the detections make of it.
Scenario = collections.namedtuple("Scenario",
                                  "name pcap locals expected forbidden attackers stored")
# An alert the scenario must raise: its category, type and subject, and a text its evidence must
# hold (None: any).
Expect = collections.namedtuple("Expect", "category type subject evidence")

LISTED_V4, NEIGHBOUR_V4 = "203.0.113.80", "203.0.113.81"
LISTED_V6, NEIGHBOUR_V6 = "2001:db8:66::80", "2001:db8:66::81"
# The outbound scan's targets: a /26 of which a few hosts exist, one with telnet open.
SCANNED_NET = "203.0.113.0/26"
SWEPT_NET = "203.0.113.128/26"
FLOOD_VICTIM = "203.0.113.90"


def tool(net, ns, argv, timeout, what, codes=(0,)):
    result = net.run(ns, ["timeout", str(timeout), *argv], timeout=timeout + 10)
    if not check(result.returncode in codes, f"{what} (exit {result.returncode})"):
        print(result.stdout[-1000:], result.stderr[-1000:])
    return result


def inbound_scan(net, work, ports=100, udp=True):
    """nmap SYN (and UDP) scans of the device from the attacker; two ports open, so some
    handshakes complete and the rest are refused."""
    udp_ports = [53, 69, 123, 161, 500, 1900, 5353, 5683] if udp else []
    net.serve_tcp(net.device, [DEVICE_V4], [22, 80], b"SSH-2.0-device\r\n")
    pcap = os.path.join(work, "inbound_scan.pcap")
    with Recording(net, pcap):
        tool(net, net.internet, ["nmap", "-sS", "-n", "-Pn", "-p", f"1-{ports}", "--max-retries",
                                 "1", "-T4", DEVICE_V4], 60, f"nmap -sS of {ports} ports")
        if udp_ports:
            tool(net, net.internet, ["nmap", "-sU", "-n", "-Pn", "-p",
                                     ",".join(map(str, udp_ports)), "--max-retries", "1", "-T4",
                                     DEVICE_V4], 60, "nmap -sU")
    stored = [("local TCP ports the attacker opened to", "count(DISTINCT local_port)",
               f"remote = '{ATTACKER_V4}' AND protocol = 0 AND remote_opened = 1", ports)]
    if udp_ports:
        stored.append(("local UDP ports it probed", "count(DISTINCT local_port)",
                       f"remote = '{ATTACKER_V4}' AND protocol = 1", len(udp_ports)))
    return Scenario("inbound_scan", pcap, [DEVICE_V4, DEVICE_V6],
                    [Expect("port_scan_inbound", "scan.port_inbound", ATTACKER_V4, None)], [],
                    [ATTACKER_V4 + "/32"], stored)


def outbound_scan(net, work):
    """The device SYN-scans port 23 of 64 hosts (Mirai's pattern) and sweeps 64 more with ICMP
    echo; a few of the hosts exist and one accepts."""
    targets = ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.130", "203.0.113.131"]
    for address in targets:
        net.add_internet_host(address)
    net.serve_tcp(net.internet, [targets[0]], [23], b"login: ")
    pcap = os.path.join(work, "outbound_scan.pcap")
    with Recording(net, pcap):
        tool(net, net.device, ["nmap", "-sS", "-n", "-Pn", "-p", "23", "--max-retries", "0",
                               "--min-rate", "500", SCANNED_NET], 60, "nmap -sS -p23 of a /26")
        tool(net, net.device, ["nmap", "-sn", "-PE", "-n", "--max-retries", "0", "--min-rate",
                               "500", SWEPT_NET], 60, "nmap -sn -PE of a /26")
    return Scenario("outbound_scan", pcap, [DEVICE_V4, DEVICE_V6],
                    [Expect("scan_outbound", "scan.outbound", "tcp/23", None),
                     Expect("scan_outbound", "scan.icmp_sweep", None, None)], [],
                    [SCANNED_NET, SWEPT_NET],
                    [("hosts the device opened port 23 of", "count(DISTINCT remote)",
                      "remote_port = 23 AND protocol = 0 AND remote_opened = 0", 64),
                     ("hosts it sent ICMP echo", "count(DISTINCT remote)",
                      "protocol = 2 AND local_port = 8 AND remote LIKE '203.0.113.%'", 64)])


def flood(net, work, count=30000):
    """A SYN flood from the attacker at the device's web port, then a UDP flood out of the
    device at one host: hping3 with a count, so each is bounded. At 10,000 packets/s or less
    (hping3 -i u100), 30,000 packets fill one 10 s report above the 1,000 packets/s rule however
    the windows fall, down to a rate of about 1,100 packets/s on a loaded machine."""
    net.add_internet_host(FLOOD_VICTIM)
    net.serve_tcp(net.device, [DEVICE_V4], [80])
    pcap = os.path.join(work, "flood.pcap")
    with Recording(net, pcap):
        # hping3 picks its source from the first interface (loopback) unless told, and exits 1
        # when nothing answers, as a flood's victim may not. One source port (-k): each flood is
        # one flow, so its source and victim are in the report, not only in the overflow counts.
        tool(net, net.internet, ["hping3", "-q", "-I", "vnet", "-a", ATTACKER_V4, "-s", "40000",
                                 "-k", "-S", "-p", "80", "-i", "u100", "-c", str(count),
                                 DEVICE_V4], 90, "hping3 SYN flood in", codes=(0, 1))
        tool(net, net.device, ["hping3", "-q", "-I", "vdev", "-a", DEVICE_V4, "--udp", "-s", "5353",
                               "-k", "-p", "9999", "-i", "u100", "-c", str(count), FLOOD_VICTIM],
             90, "hping3 UDP flood out", codes=(0, 1))
    # A flood's subject is its protocol; the source or victim is in the evidence.
    return Scenario("flood", pcap, [DEVICE_V4, DEVICE_V6],
                    [Expect("flood", "flood.inbound", "tcp", f'"{ATTACKER_V4}"'),
                     Expect("flood", "flood.outbound", "udp", f'"{FLOOD_VICTIM}"')], [],
                    [ATTACKER_V4 + "/32", FLOOD_VICTIM + "/32"],
                    # Half the packets sent: tcpdump may drop some of a flood on a loaded machine.
                    [("SYN packets in from the attacker", "coalesce(sum(packets_in), 0)",
                      f"remote = '{ATTACKER_V4}' AND protocol = 0", count // 2),
                     ("UDP packets out to the victim", "coalesce(sum(packets_out), 0)",
                      f"remote = '{FLOOD_VICTIM}' AND protocol = 1", count // 2)])


def feed_text():
    """The feed the hub is given: the listed addresses, exact, among comments and blank lines."""
    return ("# Vigil scenario feed: command-and-control servers\n\n"
            f"{LISTED_V4}  # the device downloads from it\n"
            f"{LISTED_V6}/128\n"
            "192.0.2.0/25\n")


def malicious_ip(net, work):
    """The device fetches a page over HTTP from a listed server (IPv4 and IPv6) and from its
    unlisted neighbour in the same /24 (/64)."""
    for address in (LISTED_V4, NEIGHBOUR_V4):
        net.add_internet_host(address)
    for address in (LISTED_V6, NEIGHBOUR_V6):
        net.ip("-n", net.internet, "addr", "add", address + "/128", "dev", "vnet", "nodad")
    net.serve_tcp(net.internet, [LISTED_V4, NEIGHBOUR_V4, LISTED_V6, NEIGHBOUR_V6], [80],
                  b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    pcap = os.path.join(work, "malicious_ip.pcap")
    with Recording(net, pcap):
        for url in (f"http://{LISTED_V4}/payload", f"http://{NEIGHBOUR_V4}/payload",
                    f"http://[{LISTED_V6}]/payload", f"http://[{NEIGHBOUR_V6}]/payload"):
            tool(net, net.device, ["curl", "-sS", "-g", "--max-time", "5", "-o", "/dev/null", url],
                 10, f"curl {url}")
    return Scenario("malicious_ip", pcap, [DEVICE_V4, DEVICE_V6],
                    [Expect("malicious_ip", "intel.malicious_ip", LISTED_V4, None),
                     Expect("malicious_ip", "intel.malicious_ip", LISTED_V6, None)],
                    [("malicious_ip", NEIGHBOUR_V4), ("malicious_ip", NEIGHBOUR_V6)],
                    [LISTED_V4 + "/32", LISTED_V6 + "/128"],
                    [("listed and unlisted servers the device fetched from",
                      "count(DISTINCT remote)",
                      "remote_port = 80 AND remote_opened = 0 AND remote IN "
                      f"('{LISTED_V4}', '{NEIGHBOUR_V4}', '{LISTED_V6}', '{NEIGHBOUR_V6}')", 4)])

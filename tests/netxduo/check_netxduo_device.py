#!/usr/bin/python3
"""End-to-end checks of vigil-netxduo-device: ThreadX and NetX Duo as a Linux process on a TAP
device inside a network namespace that this script creates, a real mosquitto bound to the host
side of the TAP (the peer), and a tcpdump capture of that side as the ground truth.

  check_netxduo_device.py flows DEVICE DECODER     the peer pings the device over IPv4 and IPv6,
                                                   echoes through its TCP service over both,
                                                   sends UDP over both, probes closed TCP and UDP
                                                   ports; every flow the agent published equals
                                                   the capture, packets and bytes each way, except
                                                   the device's outbound neighbour solicitations
                                                   (NetX hands them to the driver past the
                                                   filter), whose number is checked exactly
  check_netxduo_device.py startup DEVICE DECODER   the device started and stopped again and again
                                                   (VIGIL_NETXDUO_STARTS times, 40 unless set):
                                                   each start comes up within seconds (the
                                                   ThreadX Linux port once hung about one start
                                                   in a hundred under AddressSanitizer)
  check_netxduo_device.py idle-cpu DEVICE DECODER  the device connected and idle: its CPU use
                                                   (BENCH netxduo_device_idle_cpu_percent)
  check_netxduo_device.py hub DEVICE DECODER HUB CLI
                                                   the same traffic through vigil-hub with
                                                   enrolled credentials: the flows the hub
                                                   stored equal the capture; meanwhile a config
                                                   pushed with `vigil config push` is applied
                                                   (heartbeat version, window length) and hostile
                                                   ones published on the config topic (bad CBOR,
                                                   an interval out of range, an older version)
                                                   are refused while the device keeps reporting
  check_netxduo_device.py hub-restart DEVICE DECODER HUB CLI
                                                   the hub stopped for a few windows and started
                                                   again mid-run: every flow still stored

The pcap reader and the per-flow counts are written here from the file formats, independently
of Vigil's parser. The device runs with every capability dropped. Exit 77 (skipped) without the
rights to create network namespaces and TAPs.
"""

import collections
import ipaddress
import json
import os
import pathlib
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from tap_namespace import TapNamespace, decoded_messages, stop  # noqa: E402
from vigil_testlib import check, finish, wait_or_fail as wait_for  # noqa: E402

HOST4 = "198.18.1.1"
DEVICE4 = "198.18.1.2"
HOST6 = "2001:db8:8::1"
DEVICE6 = "2001:db8:8::2"
DEVICE_MAC = bytes.fromhex("02005e100002")  # the device's fixed MAC (main.cpp)
TAP = "nxtap0"
BROKER_PORT = 1883
ECHO_PORT = 7000
UDP_PORT = 7001
CLOSED_TCP_PORT = 7998
CLOSED_UDP_PORT = 7999
DEVICE_ID = "netxduo-e2e"
TOPIC = f"devices/{DEVICE_ID}/messages/events/#"

def log(*args):
    print("[check]", *args, flush=True)


# --- the namespace and the processes in it ------------------------------------------------------

class Namespace(TapNamespace):
    def __init__(self):
        # A persistent TAP owned by this user: the device opens it with no capability at all.
        super().__init__("vigil-netxduo", TAP, HOST4, HOST6, tap_owner=os.getuid())


def start_broker(ns):
    conf = ns.path("mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {BROKER_PORT} {HOST4}\nallow_anonymous true\npersistence false\n"
                "log_dest stderr\nlog_type all\n")
    broker = ns.start(["mosquitto", "-c", conf], "mosquitto.log")
    listening = wait_for(lambda: f"Opening ipv4 listen socket on port {BROKER_PORT}" in
                         ns.read("mosquitto.log") or broker.poll() is not None, 5, "mosquitto")
    check(listening and broker.poll() is None, f"mosquitto runs: {ns.read('mosquitto.log')}")
    return broker


def start_subscriber(ns):
    return ns.start(["mosquitto_sub", "-h", HOST4, "-p", str(BROKER_PORT), "-t", TOPIC, "-q", "1",
                     "-v", "-F", "%t %x", "-i", "e2e-sub"], "sub.err", "sub.txt")


# The device runs with every capability dropped (CapEff 0), as a device would where its TAP
# exists: nothing it does needs privileges.
NO_CAPABILITIES = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]


def capabilities(pid):
    with open(f"/proc/{pid}/status") as f:
        found = re.search(r"^CapEff:\s*([0-9a-f]+)", f.read(), re.M)
    return int(found.group(1), 16) if found else None


def thread_niceness(pid):
    """{thread id: nice} of every thread of the process (field 19 of /proc/PID/task/TID/stat)."""
    niceness = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            # The command name in parentheses may hold spaces: count the fields after it.
            niceness[int(tid)] = int(f.read().rsplit(")", 1)[1].split()[16])
    return niceness


def start_device(ns, *extra, log_name="device.log"):
    return ns.start([*NO_CAPABILITIES, DEVICE, "--tap", TAP, "--ipv4", f"{DEVICE4}/24", "--ipv6", DEVICE6,
                     "--broker", f"{HOST4}:{BROKER_PORT}", "--device-id", DEVICE_ID,
                     "--echo-port", str(ECHO_PORT), "--udp-port", str(UDP_PORT),
                     "--interval", "1", *extra], log_name)


def decode(ns):
    """Every message the subscriber received, decoded by Vigil's hosted decoder, each once: QoS 1
    delivers at least once (a publish whose acknowledgement the dropped connection lost goes again
    after the reconnect), so the test, as vigil-hub, keeps one message per (boot_id, sequence)."""
    messages, seen, repeated = [], set(), 0
    for topic, message in decoded_messages(DECODER, ns.read("sub.txt")):
        check(topic.startswith(f"devices/{DEVICE_ID}/messages/events/mti=vigil.1&"),
              f"IoT-hub topic with the property bag: {topic}")
        key = (message.get("boot_id"), message.get("sequence"))
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        messages.append(message)
    if repeated:
        log(f"{repeated} message(s) delivered more than once, counted once")
    return messages


def wait_started(ns, device):
    return wait_for(lambda: "MQTT connected" in ns.read("device.log") or device.poll() is not None,
                    15, "the device's MQTT connection") and device.poll() is None


# --- the capture --------------------------------------------------------------------------------

def read_pcap(path):
    """[frame bytes] of a classic pcap file with Ethernet frames."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    if struct.unpack(order + "I", data[20:24])[0] != 1:
        raise ValueError("not an Ethernet capture")
    frames, offset = [], 24
    while offset + 16 <= len(data):
        captured = struct.unpack(order + "I", data[offset + 8:offset + 12])[0]
        offset += 16
        frames.append(data[offset:offset + captured])
        offset += captured
    return frames


Packet = collections.namedtuple("Packet", "outbound family src dst protocol l4 ip_length multicast")


def parse_frame(frame):
    """The IP facts of one Ethernet frame, or None for ARP and anything else not IP."""
    if len(frame) < 14:
        return None
    outbound = frame[6:12] == DEVICE_MAC
    ethertype, ip = struct.unpack("!H", frame[12:14])[0], frame[14:]
    if ethertype == 0x0800 and len(ip) >= 20:
        length = struct.unpack("!H", ip[2:4])[0]
        protocol, l4 = ip[9], ip[(ip[0] & 0x0F) * 4:]
        src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        multicast = dst.is_multicast or dst == ipaddress.ip_address("255.255.255.255")
        return Packet(outbound, 4, str(src), str(dst), protocol, l4, length, multicast)
    if ethertype == 0x86DD and len(ip) >= 40:
        length = struct.unpack("!H", ip[4:6])[0] + 40
        protocol, offset = ip[6], 40
        # Hop-by-hop, routing and destination options (the kernel's MLD reports carry one).
        while protocol in (0, 43, 60) and offset + 8 <= len(ip):
            protocol, offset = ip[offset], offset + (ip[offset + 1] + 1) * 8
        src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
        return Packet(outbound, 6, str(src), str(dst), protocol, ip[offset:], length,
                      dst.is_multicast)
    return None


ICMP4_REQUEST_OF_REPLY = {0: 8, 14: 13, 16: 15, 18: 17}


def flow_key(protocol, local, local_port, remote, remote_port):
    return (protocol, local, local_port, remote, remote_port)


def expected_flows(packets):
    """{key: [packets in, bytes in, packets out, bytes out]} as the agent should report them, and
    the number of outbound neighbour solicitations. Outbound: every IP packet the device sent,
    except neighbour solicitations. Inbound: every unicast IP packet the peer sent it (the agent
    counts no inbound broadcast or multicast by default)."""
    flows = collections.defaultdict(lambda: [0, 0, 0, 0])
    solicitations = 0
    for p in packets:
        icmp = p.protocol == (58 if p.family == 6 else 1)
        if not icmp and p.protocol not in (6, 17):
            continue
        local, remote = (p.src, p.dst) if p.outbound else (p.dst, p.src)
        if icmp:
            # Replies are folded onto their request's type, as the agent keys ICMP flows.
            kind = p.l4[0]
            if p.family == 4:
                kind = ICMP4_REQUEST_OF_REPLY.get(kind, kind)
            elif kind == 129:
                kind = 128
            key = flow_key("icmp", local, kind, remote, p.l4[1])
        else:
            sport, dport = struct.unpack("!HH", p.l4[:4])
            local_port, remote_port = (sport, dport) if p.outbound else (dport, sport)
            key = flow_key("tcp" if p.protocol == 6 else "udp", local, local_port, remote,
                           remote_port)
        if p.outbound:
            if p.family == 6 and icmp and p.l4[0] == 135:
                solicitations += 1
                continue
            flows[key][2] += 1
            flows[key][3] += p.ip_length
        elif not p.multicast:
            flows[key][0] += 1
            flows[key][1] += p.ip_length
    return flows, solicitations


def reported_flows(messages):
    flows = collections.defaultdict(lambda: [0, 0, 0, 0])
    for m in messages:
        for f in (m.get("network") or {}).get("flows", []):
            if f["protocol"] == "icmp":
                key = flow_key("icmp", f["local"], f["icmp_type"], f["remote"], f["icmp_code"])
            else:
                key = flow_key(f["protocol"], f["local"], f.get("local_port"), f["remote"],
                               f.get("remote_port"))
            totals = flows[key]
            totals[0] += f["packets_in"]
            totals[1] += f["bytes_in"]
            totals[2] += f["packets_out"]
            totals[3] += f["bytes_out"]
    return flows


def to_broker(p):
    return p.protocol == 6 and p.dst == HOST4 and struct.unpack("!H", p.l4[2:4])[0] == BROKER_PORT


def is_mqtt(key):
    return key[0] == "tcp" and key[3] == HOST4 and key[4] == BROKER_PORT


# Router solicitation and advertisement, neighbour solicitation and advertisement, redirect.
NEIGHBOUR_DISCOVERY = range(133, 138)


def is_neighbour_discovery(key):
    return key[0] == "icmp" and ":" in key[1] and key[2] in NEIGHBOUR_DISCOVERY


# --- traffic from the peer ----------------------------------------------------------------------

# Runs in the namespace: echo sessions, datagrams and closed-port probes; prints what it got.
PEER = r"""
import socket, sys, json
device4, device6, echo, udp, closed_tcp, closed_udp = sys.argv[1:7]
results = {}
def echo_session(host, size):
    s = socket.create_connection((host, int(echo)), timeout=10)
    data = bytes((i * 7 + 3) & 0xFF for i in range(size))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got == data
def datagram(family, host, port, expect_reply):
    u = socket.socket(family, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(b"vigil datagram", (host, int(port)))
    try:
        return u.recvfrom(100)[0] == b"vigil datagram"
    except OSError:
        return False
    finally:
        u.close()
def refused(host):
    try:
        socket.create_connection((host, int(closed_tcp)), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True
results["echo4_3000"] = echo_session(device4, 3000)
results["echo4_20000"] = echo_session(device4, 20000)
results["echo6_5000"] = echo_session(device6, 5000)
results["udp4"] = datagram(socket.AF_INET, device4, udp, True)
results["udp6"] = datagram(socket.AF_INET6, device6, udp, True)
results["udp4_closed_no_reply"] = not datagram(socket.AF_INET, device4, closed_udp, False)
results["tcp4_closed_refused"] = refused(device4)
results["tcp6_closed_refused"] = refused(device6)
print(json.dumps(results))
"""


def ping(ns, host, count):
    family = ["-6"] if ":" in host else []
    done = ns.run(["ping", *family, "-c", str(count), "-i", "0.2", "-W", "2", host])
    return check(done.returncode == 0, f"ping {host}: {done.stdout[-200:]}")


def wait_ipv6(ns):
    # NetX Duo keeps the address tentative for about 3 s of duplicate address detection.
    return wait_for(lambda: ns.run(["ping", "-6", "-c", "1", "-W", "1", DEVICE6]).returncode == 0,
                    15, "the device's IPv6 address")


# --- the tests ----------------------------------------------------------------------------------

def run_scenario(ns, *device_args, interruption=None, settle_s=3.5):
    """Starts the capture and the device, runs the peer's traffic, waits out the collection
    windows and stops the device; returns the captured IP packets (None if the device never
    connected). `interruption(device)`, if given, runs after the traffic, followed by more
    pings."""
    dump = ns.start(["tcpdump", "-i", TAP, "-n", "-U", "-s", "256", "-w",
                     ns.path("tap.pcap")], "tcpdump.log")
    wait_for(lambda: "listening on" in ns.read("tcpdump.log"), 10, "tcpdump")
    device = start_device(ns, *device_args)
    if not check(wait_started(ns, device), "the device connects to its broker"):
        log("device log:\n" + ns.read("device.log"))
        return None
    check(capabilities(device.pid) == 0, "the device runs with no capability")
    # The ThreadX port would lower its threads to nice 19 and 10, its clock then falling behind
    # the peer's under any load: the device keeps the niceness it was started with.
    niceness = thread_niceness(device.pid)
    check(len(niceness) > 3 and set(niceness.values()) == {niceness[device.pid]},
          f"every thread of the device at the niceness it started with: {niceness}")

    ping(ns, DEVICE4, 3)
    wait_ipv6(ns)
    ping(ns, DEVICE6, 3)
    peer = ns.python(PEER, DEVICE4, DEVICE6, str(ECHO_PORT), str(UDP_PORT),
                     str(CLOSED_TCP_PORT), str(CLOSED_UDP_PORT), timeout=60)
    if check(peer.returncode == 0, f"peer traffic ran: {peer.stderr.strip()}"):
        for what, ok in json.loads(peer.stdout).items():
            check(ok, f"peer: {what}")

    if interruption:
        interruption(device)
        ping(ns, DEVICE4, 3)

    time.sleep(settle_s)  # every window holding the traffic above is closed and published
    check(stop(device) == 0, "the device exits 0 on SIGTERM")
    time.sleep(0.5)
    stop(dump, signal.SIGINT)
    log("device log:\n" + ns.read("device.log"))
    return [p for p in map(parse_frame, read_pcap(ns.path("tap.pcap"))) if p]


def compare_flows(packets, reported, where):
    """Every flow of the capture equals what `where` holds, except the device's outbound
    neighbour solicitations (counted exactly) and the still open MQTT connection."""
    expected, solicitations = expected_flows(packets)

    # The device's own MQTT connection is still open when the capture ends: its last packets
    # belong to a window never published. Everything the agent reported of it was on the wire.
    mqtt = [k for k in set(expected) | set(reported) if is_mqtt(k)]
    check(len(mqtt) >= 1, "the MQTT connection to the broker is a flow")
    for key in mqtt:
        got, wire = reported.get(key, [0, 0, 0, 0]), expected.get(key, [0, 0, 0, 0])
        log(f"{key}: {where} {got}, capture {wire} (open connection)")
        check(got[2] > 0 and all(a <= w for a, w in zip(got, wire)),
              f"MQTT flow {key}: {where} {got} within capture {wire}")

    # Neighbour Discovery runs on NetX's and the peer kernel's own timers (router solicitations,
    # reachability probes and their answers), so some of it may fall in the last window too,
    # after the traffic: within the capture as well. What the test drives must be exact.
    discovery = sorted(k for k in set(expected) | set(reported) if is_neighbour_discovery(k))
    for key in discovery:
        got, wire = reported.get(key, [0, 0, 0, 0]), expected.get(key, [0, 0, 0, 0])
        log(f"{key}: {where} {got}, capture {wire} (neighbour discovery)")
        check(all(a <= w for a, w in zip(got, wire)),
              f"neighbour discovery flow {key}: {where} {got} within capture {wire}")
    # Its router solicitations and its answers to the pings' neighbour solicitations come early.
    check(any(reported[k][2] > 0 for k in discovery if k in reported),
          f"the device's neighbour discovery reported by the {where}")

    others = sorted(k for k in set(expected) | set(reported)
                    if not is_mqtt(k) and not is_neighbour_discovery(k))
    for key in others:
        got, wire = reported.get(key, [0, 0, 0, 0]), expected.get(key, [0, 0, 0, 0])
        log(f"{key}: {where} {got}, capture {wire}")
        check(got == wire, f"flow {key}: {where} {got} == capture {wire} (in pkts/bytes, "
                           "out pkts/bytes)")
    wire_out = sum(1 for p in packets if p.outbound and p.protocol in (1, 6, 17, 58) and
                   not to_broker(p))
    # The device's outbound neighbour solicitations are left out of the flows above (NetX hands
    # them to the driver past the filter): an agent that reported one fails the discovery check.
    agent_out = sum(reported[k][2] for k in others + discovery if k in reported)
    log(f"outbound IP packets (MQTT aside): capture {wire_out}, {where} {agent_out}, "
        f"neighbour solicitations {solicitations}")
    check(solicitations >= 3, f"NetX's duplicate address detection was on the wire "
                              f"({solicitations} neighbour solicitations)")

    def has(protocol, local, local_port, remote):
        return any(k[0] == protocol and k[1] == local and k[2] == local_port and
                   k[3] == remote for k in reported)
    check(has("icmp", DEVICE4, 8, HOST4) and has("icmp", DEVICE6, 128, HOST6),
          "pings over IPv4 and IPv6 reported")
    check(has("tcp", DEVICE4, ECHO_PORT, HOST4) and has("tcp", DEVICE6, ECHO_PORT, HOST6),
          "echo sessions over IPv4 and IPv6 reported")
    check(has("udp", DEVICE4, UDP_PORT, HOST4) and has("udp", DEVICE6, UDP_PORT, HOST6),
          "datagrams over IPv4 and IPv6 reported")
    check(has("tcp", DEVICE4, CLOSED_TCP_PORT, HOST4) and
          has("tcp", DEVICE6, CLOSED_TCP_PORT, HOST6), "closed-port probes reported")


def test_flows():
    with Namespace() as ns:
        start_broker(ns)
        sub = start_subscriber(ns)
        time.sleep(0.3)
        packets = run_scenario(ns)
        if packets is None:
            return
        stop(sub)
        messages = decode(ns)
        check(len(messages) >= 3, f"at least 3 messages, got {len(messages)}")
        compare_flows(packets, reported_flows(messages), "agent")

        systems = [m["system"] for m in messages if m.get("system")]
        if check(systems, "system information published"):
            system = systems[-1]
            check(system.get("os_name") == "Eclipse ThreadX" and
                  system.get("stack_name") == "NetX Duo", f"ThreadX and NetX Duo: {system}")
            check(DEVICE4 in system.get("addresses", []) and
                  DEVICE6 in system.get("addresses", []), "the device's addresses listed")
            check("02:00:5e:10:00:02" in system.get("macs", []), "the TAP driver's MAC listed")
        ports = [m["listening_ports"] for m in messages if m.get("listening_ports") is not None]
        check(ports and {(p["protocol"], p["port"]) for p in ports[-1]} >=
              {("tcp", ECHO_PORT), ("udp", UDP_PORT)},
              f"listening ports from NetX's own lists: {ports[-1:]}")
        heartbeats = [m["heartbeat"] for m in messages if m.get("heartbeat")]
        check(heartbeats and heartbeats[-1]["state"] == "active",
              f"heartbeats present: {heartbeats[-1:]}")


# Runs in the namespace: the peer's side of the hub's broker. vigil-hub's plain listener is on
# 127.0.0.1 only (devices are meant to use its TLS listener, which NetX Duo's MQTT client is not
# built for here), so the peer relays HOST4:BROKER_PORT to it byte for byte.
RELAY = r"""
import socket, sys, threading
host, port, target = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((host, port))
server.listen(8)
print("relaying", flush=True)
def pipe(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
while True:
    client, _ = server.accept()
    try:
        upstream = socket.create_connection(("127.0.0.1", target))
    except OSError:  # the hub is restarting: the device tries again
        client.close()
        continue
    threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
"""

HUB_BROKER_PORT = 18830
# How long the restarted hub's broker is away while the device runs: a few of its 1 s windows,
# well within the eight its backlog holds (with its reconnect, at most about 4 s of windows).
OUTAGE_S = 3
HUB_API_PORT = 18080
HUB_PROTOCOLS = {0: "tcp", 1: "udp", 2: "icmp"}  # the hub stores wire::Protocol


def hub_flows(db_path, device_id):
    """{key: [packets in, bytes in, packets out, bytes out]} the hub stored for the device."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute(
            "SELECT f.protocol, f.local, f.local_port, f.remote, f.remote_port, "
            "sum(f.packets_in), sum(f.bytes_in), sum(f.packets_out), sum(f.bytes_out) "
            "FROM flows f JOIN messages m ON m.id = f.message_id "
            "JOIN devices d ON d.device_key = m.device_key WHERE d.id = ? "
            "GROUP BY 1, 2, 3, 4, 5", (device_id,)).fetchall()
        overflow = db.execute(
            "SELECT count(*) FROM flow_overflow o JOIN messages m ON m.id = o.message_id "
            "JOIN devices d ON d.device_key = m.device_key WHERE d.id = ?",
            (device_id,)).fetchone()[0]
    check(overflow == 0, f"nothing in the hub's overflow rows ({overflow})")
    flows = {}
    for protocol, local, local_port, remote, remote_port, *totals in rows:
        name = HUB_PROTOCOLS.get(protocol, str(protocol))
        flows[flow_key(name, local, local_port, remote, remote_port)] = list(totals)
    return flows


def hub_dropped(db_path, device_id):
    """The most messages the device's heartbeats stored by the hub say it dropped."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
        return db.execute("SELECT max(h.messages_dropped) FROM heartbeats h JOIN messages m "
                          "ON m.id = h.message_id JOIN devices d ON d.device_key = m.device_key "
                          "WHERE d.id = ?", (device_id,)).fetchone()[0]


def hub_messages(db_path, device_id):
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as db:
            return db.execute("SELECT count(*) FROM messages m JOIN devices d "
                              "ON d.device_key = m.device_key WHERE d.id = ?",
                              (device_id,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def start_hub(ns, data):
    hub = ns.start([HUB, "--data", data, "--broker-port", str(HUB_BROKER_PORT), "--api-port",
                    str(HUB_API_PORT)], "hub.log")
    if wait_for(lambda: "running;" in ns.read("hub.log") or hub.poll() is not None, 30,
                "vigil-hub") and hub.poll() is None:
        return hub
    log("hub log:\n" + ns.read("hub.log")[-2000:])
    return None


# Configs as the agent reads them (docs/protocol.md): a map of 1: version, 2: [high, medium, low].
HOSTILE_CONFIGS = [
    ("bad CBOR", bytes.fromhex("ffff00"), 0, "malformed config message"),
    # Longer than the adapter's buffer: dropped before the agent, and must not hold back the next.
    ("an oversized message", bytes(300), None, None),
    ("an interval out of range", bytes.fromhex("a20107028300" "0202"), 7,
     "interval out of range"),
    ("an older version", bytes.fromhex("a20101028305" "0505"), 1,
     "config version not newer than the one in force"),
]
PUSHED_INTERVAL_S = 2


def start_hub_subscriber(ns, data):
    """What the device publishes, read off the hub's broker with the hub's own account."""
    with open(os.path.join(data, "broker-credentials.json")) as f:
        password = json.load(f)["ingest"]
    sub = ns.start(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(HUB_BROKER_PORT), "-u",
                    "vigil-ingest", "-P", password, "-t", TOPIC, "-q", "1", "-v", "-F", "%t %x",
                    "-i", "vigil-hub/e2e-config-sub"], "sub.err", "sub.txt")
    return sub, password


def messages_so_far(ns):
    """The decoded messages received so far, without checks (used while waiting)."""
    result = subprocess.run([DECODER], input=ns.read("sub.txt"), capture_output=True, text=True,
                            timeout=30)
    return [json.loads(line).get("message") or {} for line in result.stdout.splitlines()]


def heartbeats(ns):
    return [m["heartbeat"] for m in messages_so_far(ns) if m.get("heartbeat")]


def window_lengths_ms(messages):
    return [m["network"]["window_duration_ms"] for m in messages
            if (m.get("network") or {}).get("window_duration_ms")]


def config_phase(ns, data, password):
    """A config pushed through the hub is applied; hostile ones on the same topic are refused."""
    interval = str(PUSHED_INTERVAL_S)
    lengths = window_lengths_ms(messages_so_far(ns))
    check(lengths and all(800 <= n <= 1300 for n in lengths),
          f"windows last the starting 1 s before the push: {lengths} ms")
    pushed = ns.run([CLI, "--hub", f"http://127.0.0.1:{HUB_API_PORT}", "--data", data, "config",
                     "push", DEVICE_ID, "--high", interval, "--medium", interval, "--low",
                     interval])
    if not check(pushed.returncode == 0 and "config version 1" in pushed.stdout,
                 f"vigil config push: {pushed.stdout.strip()} {pushed.stderr.strip()}"):
        return
    applied = wait_for(lambda: any(h.get("config_version") == 1 for h in heartbeats(ns)), 15,
                       "a heartbeat reporting config version 1")
    check(applied, "the pushed config is in force (heartbeat config_version 1)")
    before = len(messages_so_far(ns))
    wait_for(lambda: len(window_lengths_ms(messages_so_far(ns)[before:])) >= 2, 15,
             "two windows under the pushed config")
    lengths = window_lengths_ms(messages_so_far(ns)[before:])
    check(lengths and all(1800 <= n <= 2600 for n in lengths),
          f"windows last the pushed {PUSHED_INTERVAL_S} s, not 1 s: {lengths} ms")

    for what, payload, version, reason in HOSTILE_CONFIGS:
        path = ns.path("hostile.cbor")
        with open(path, "wb") as f:
            f.write(payload)
        sent = ns.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(HUB_BROKER_PORT), "-u",
                       "vigil-ingest", "-P", password, "-t", f"devices/{DEVICE_ID}/config/vigil",
                       "-q", "1", "-f", path, "-i", "vigil-hub/e2e-hostile"])
        if not check(sent.returncode == 0, f"published {what}: {sent.stderr.strip()}"):
            continue
        if version is None:
            continue
        expected = {"version": version, "reason": reason}
        seen = len(heartbeats(ns))
        refused = wait_for(lambda: any(h.get("config_rejected") == expected and
                                       h.get("config_version") == 1
                                       for h in heartbeats(ns)[seen:]), 15,
                           f"a heartbeat refusing {what}")
        check(refused, f"{what} refused, the pushed config still in force: {heartbeats(ns)[-1:]}")

    before = len(messages_so_far(ns))
    check(wait_for(lambda: len(window_lengths_ms(messages_so_far(ns)[before:])) >= 2, 15,
                   "windows after the hostile configs"),
          "the device keeps reporting after the hostile configs")
    lengths = window_lengths_ms(messages_so_far(ns)[before:])
    check(lengths and all(1800 <= n <= 2600 for n in lengths),
          f"still on the pushed intervals: {lengths} ms")
    return True


def test_hub(restart=False):
    with Namespace() as ns:
        data = ns.path("hub-data")
        hub = start_hub(ns, data)
        if hub is None:
            return
        added = ns.run([HUB, "devices", "add", DEVICE_ID, "--data", data, "--broker-port",
                        str(HUB_BROKER_PORT)])
        if not check(added.returncode == 0, f"devices add: {added.stderr}"):
            return
        credentials = json.loads(added.stdout)
        relay = ns.start(["/usr/bin/python3", "-c", RELAY, HOST4, str(BROKER_PORT),
                          str(HUB_BROKER_PORT)], "relay.err", "relay.out")
        wait_for(lambda: "relaying" in ns.read("relay.out") or relay.poll() is not None, 10,
                 "the relay")
        hubs = [hub]
        sub, password = start_hub_subscriber(ns, data)

        def restart_hub(device):
            # The hub (and its broker) go away for a few collection windows and come back on the
            # same data directory; the device keeps collecting into its backlog meanwhile. The
            # backlog holds about eight of the device's 1 s windows, the oldest dropped first:
            # the outage the device lives through must stay within that however long the hub
            # takes to stop and to start (its store's fsyncs on a busy machine take seconds).
            # So the device is frozen while the hub stops and while it starts (SIGSTOP also
            # stops its ThreadX clock: no window passes), and lives through OUTAGE_S without a
            # broker plus its own reconnect, a number of windows the test sets, not the load.
            os.kill(device.pid, signal.SIGSTOP)
            check(stop(hubs[-1]) == 0, "vigil-hub exits 0 on SIGTERM")
            reconnects = ns.read("device.log").count("MQTT connected")
            os.kill(device.pid, signal.SIGCONT)
            time.sleep(OUTAGE_S)
            os.kill(device.pid, signal.SIGSTOP)
            os.rename(ns.path("hub.log"), ns.path("hub-first.log"))
            again = start_hub(ns, data)
            os.kill(device.pid, signal.SIGCONT)
            if check(again is not None, "vigil-hub starts again"):
                hubs.append(again)
            wait_for(lambda: ns.read("device.log").count("MQTT connected") > reconnects, 20,
                     "the device reconnecting")

        configs = []
        packets = run_scenario(ns, "--username", credentials["username"], "--password",
                               credentials["password"],
                               interruption=restart_hub if restart else
                               lambda device: configs.append(config_phase(ns, data, password)),
                               settle_s=3.5 if restart else 3.5 + PUSHED_INTERVAL_S)
        stop(sub)
        if configs:
            counted = re.search(r"configs applied (\d+) refused (\d+) dropped (\d+)",
                                ns.read("device.log"))
            check(counted and counted.groups() == ("1", "3", "1"),
                  f"the device applied 1 config, refused 3, dropped 1 oversized: "
                  f"{counted.group(0) if counted else None}")
        hub = hubs[-1]
        if packets is None:
            log("hub log:\n" + ns.read("hub.log")[-2000:])
            return
        published = re.search(r"published (\d+)", ns.read("device.log"))
        count = int(published.group(1)) if published else 0
        db_path = os.path.join(data, "vigil.db")
        check(wait_for(lambda: hub_messages(db_path, DEVICE_ID) >= count > 0, 15,
                       f"the hub storing the device's {count} messages"),
              "every message the device published is stored")
        dropped = hub_dropped(db_path, DEVICE_ID)
        check(dropped == 0, f"the device's backlog held every window ({dropped} dropped)")
        compare_flows(packets, hub_flows(db_path, DEVICE_ID), "hub")
        check(stop(hub) == 0, "vigil-hub exits 0 on SIGTERM")
        stop(relay)


def test_startup():
    starts = int(os.environ.get("VIGIL_NETXDUO_STARTS", "40"))
    slowest = 0.0
    with Namespace() as ns:
        for attempt in range(starts):
            log_name = f"device-{attempt}.log"
            started = time.monotonic()
            device = start_device(ns, log_name=log_name)
            ready = wait_for(lambda: "ready:" in ns.read(log_name) or device.poll() is not None,
                             10, f"start {attempt + 1} of the device")
            slowest = max(slowest, time.monotonic() - started)
            if not check(ready and device.poll() is None,
                         f"start {attempt + 1} of {starts} comes up: {ns.read(log_name)!r}"):
                return
            if not check(stop(device) == 0, f"start {attempt + 1} exits 0 on SIGTERM"):
                return
        log(f"{starts} starts, the slowest ready after {slowest:.2f} s")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime of every thread


def test_idle_cpu():
    with Namespace() as ns:
        start_broker(ns)
        device = start_device(ns)
        if not wait_started(ns, device):
            log("device log:\n" + ns.read("device.log"))
            return
        time.sleep(2)
        seconds = 5.0
        before, started = cpu_ticks(device.pid), time.monotonic()
        time.sleep(seconds)
        used = (cpu_ticks(device.pid) - before) / os.sysconf("SC_CLK_TCK")
        elapsed = time.monotonic() - started
        percent = 100.0 * used / elapsed
        print(f"BENCH netxduo_device_idle_cpu_percent {percent:.1f} %", flush=True)
        check(device.poll() is None, "the device kept running")
        check(stop(device) == 0, "the device exits 0 on SIGTERM")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 6) or sys.argv[1].startswith("hub") != (len(sys.argv) == 6):
        print(__doc__)
        sys.exit(2)
    mode, DEVICE, DECODER = sys.argv[1], sys.argv[2], sys.argv[3]
    HUB, CLI = sys.argv[4:6] if len(sys.argv) > 4 else (None, None)
    if os.geteuid() != 0:
        print("skipped: needs root for network namespaces and TAP devices")
        sys.exit(77)
    {"flows": test_flows, "hub": test_hub, "hub-restart": lambda: test_hub(restart=True),
     "idle-cpu": test_idle_cpu, "startup": test_startup}[mode]()
    finish()

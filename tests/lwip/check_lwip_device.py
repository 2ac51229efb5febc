#!/usr/bin/python3
"""End-to-end checks of vigil-lwip-device: lwIP on a TAP device inside a network namespace that
this script creates, a real mosquitto bound to the host side of the TAP, and a tcpdump capture
of that side as the ground truth.

  check_lwip_device.py flows DEVICE DECODER           echo connections (IPv4, IPv6, frames well
                                                      over 592 bytes), a ping and the device's
                                                      own MQTT connection, counted exactly
  check_lwip_device.py broker-restart DEVICE DECODER  broker SIGKILLed and restarted: the device
                                                      reconnects, no sequence gap the heartbeat
                                                      does not account for
  check_lwip_device.py mqtt-ipv6 DEVICE DECODER       the device's MQTT client over IPv6
  check_lwip_device.py tap-removed DEVICE DECODER     the TAP deleted under the device: exit 1
                                                      with a clear error
  check_lwip_device.py bad-credentials DEVICE DECODER wrong MQTT password: refusal logged, the
                                                      device keeps collecting and serving

The pcap reader and the per-flow counts are written here from the file formats, independently
of Vigil's parser. Exit 77 (skipped) without the rights to create network namespaces.
"""

import collections
import ipaddress
import os
import pathlib
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from tap_namespace import TapNamespace, decoded_messages, stop  # noqa: E402
from vigil_testlib import check, finish, wait_or_fail as wait_for  # noqa: E402

HOST4 = "198.18.0.1"
DEVICE4 = "198.18.0.2"
HOST6 = "2001:db8:7::1"
DEVICE6 = "2001:db8:7::2"
TAP = "vtap0"
BROKER_PORT = 1883
ECHO_PORT = 7000
DEVICE_ID = "lwip-e2e"
TOPIC = f"devices/{DEVICE_ID}/messages/events/#"


def log(*args):
    print("[check]", *args, flush=True)


# --- the namespace and the processes in it ------------------------------------------------------

class Namespace(TapNamespace):
    def __init__(self):
        super().__init__("vigil-lwip", TAP, HOST4, HOST6)


def start_broker(ns, extra="allow_anonymous true\n", name="mosquitto"):
    conf = ns.path(f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"listener {BROKER_PORT} {HOST4}\nlistener {BROKER_PORT} {HOST6}\n"
                "persistence false\nlog_dest stderr\nlog_type all\n" + extra)
    broker = ns.start(["mosquitto", "-c", conf], f"{name}.log")
    listening = wait_for(lambda: f"Opening ipv4 listen socket on port {BROKER_PORT}" in
                         ns.read(f"{name}.log") or broker.poll() is not None, 5, "mosquitto")
    check(listening and broker.poll() is None, f"mosquitto runs: {ns.read(f'{name}.log')}")
    return broker


def start_subscriber(ns, name):
    sub = ns.start(["mosquitto_sub", "-h", HOST4, "-p", str(BROKER_PORT), "-t", TOPIC, "-q", "1",
                    "-v", "-F", "%t %x", "-i", f"e2e-{name}"], f"{name}.err", f"{name}.txt")
    return sub


def start_device(ns, *extra, interval=1, broker=f"{HOST4}:{BROKER_PORT}"):
    return ns.start([DEVICE, "--tap", TAP, "--ipv4", f"{DEVICE4}/24", "--ipv6", DEVICE6,
                     "--broker", broker, "--device-id", DEVICE_ID,
                     "--service-port", str(ECHO_PORT), "--interval-high", str(interval),
                     "--interval-medium", str(interval), "--interval-low", str(interval),
                     "--retry", "1", *extra], "device.log")


def decode(ns, *names):
    """Every message the subscribers received, decoded by Vigil's hosted decoder."""
    text = "".join(ns.read(f"{name}.txt") for name in names)
    return [message for _, message in decoded_messages(DECODER, text)]


# --- the capture --------------------------------------------------------------------------------

def read_pcap(path):
    """[(frame bytes, original length)] of a classic pcap file with Ethernet frames."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    magic = data[:4]
    order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(order + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"unexpected link type {linktype}")
    frames, offset = [], 24
    while offset + 16 <= len(data):
        _, _, captured, original = struct.unpack(order + "IIII", data[offset:offset + 16])
        offset += 16
        frames.append((data[offset:offset + captured], original))
        offset += captured
    return frames


Packet = collections.namedtuple("Packet", "family src dst protocol sport dport ip_length icmp")


def parse_frame(frame):
    """The IP facts of one Ethernet frame (one 802.1Q tag allowed), or None for non-IP."""
    if len(frame) < 14:
        return None
    ethertype, offset = struct.unpack("!H", frame[12:14])[0], 14
    if ethertype == 0x8100:
        ethertype, offset = struct.unpack("!H", frame[16:18])[0], 18
    ip = frame[offset:]
    if ethertype == 0x0800 and len(ip) >= 20:
        header = (ip[0] & 0x0F) * 4
        length = struct.unpack("!H", ip[2:4])[0]
        protocol, l4 = ip[9], ip[header:]
        src, dst, family = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20]), 4
    elif ethertype == 0x86DD and len(ip) >= 40:
        length = struct.unpack("!H", ip[4:6])[0] + 40
        protocol, l4 = ip[6], ip[40:]
        src, dst, family = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40]), 6
    else:
        return None
    sport = dport = icmp = None
    if protocol in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
    elif protocol in (1, 58) and len(l4) >= 2:
        icmp = (l4[0], l4[1])
    return Packet(family, str(src), str(dst), protocol, sport, dport, length, icmp)


def capture_counts(packets, device, remote, device_port, remote_port, protocol=6):
    """(packets in, bytes in, packets out, bytes out) of one 5-tuple as the device sees it."""
    counts = [0, 0, 0, 0]
    for p in packets:
        if p.protocol != protocol:
            continue
        if (p.src, p.dst, p.sport, p.dport) == (remote, device, remote_port, device_port):
            counts[0] += 1
            counts[1] += p.ip_length
        elif (p.src, p.dst, p.sport, p.dport) == (device, remote, device_port, remote_port):
            counts[2] += 1
            counts[3] += p.ip_length
    return tuple(counts)


# --- the agent's view ---------------------------------------------------------------------------

def flow_records(messages):
    records = collections.defaultdict(list)
    for m in messages:
        for f in (m.get("network") or {}).get("flows", []):
            key = (f["protocol"], f["local"], f.get("local_port"), f["remote"], f.get("remote_port"))
            records[key].append(f)
    return records


def totals(records):
    return (sum(r["packets_in"] for r in records), sum(r["bytes_in"] for r in records),
            sum(r["packets_out"] for r in records), sum(r["bytes_out"] for r in records))


# Runs on the host side: prints its own port, sends `size` bytes, half-closes, and checks that
# exactly those bytes come back.
ECHO_CLIENT = r"""
import socket, sys
host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
print(s.getsockname()[1], flush=True)
data = bytes((i * 7 + 3) & 0xFF for i in range(size))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
echoed = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    echoed += chunk
s.close()
sys.exit(0 if echoed == data else 1)
"""


def echo(ns, host, size):
    """One echo session from the host side; returns the client's port, or None on failure."""
    done = ns.python(ECHO_CLIENT, host, str(ECHO_PORT), str(size))
    ok = check(done.returncode == 0, f"echo of {size} bytes via {host}: {done.stderr.strip()}")
    return int(done.stdout.split()[0]) if ok and done.stdout.strip() else None


def wait_ipv6(ns):
    # lwIP's address stays tentative (DAD) for a second or two after start.
    return wait_for(lambda: ns.run(["ping", "-6", "-c", "1", "-W", "1", DEVICE6]).returncode == 0,
                    15, "the device's IPv6 address")


def device_counts(text):
    found = re.search(r"frames in (\d+) \((\d+) bytes, (\d+) IP\) out (\d+) \((\d+) bytes", text)
    return tuple(int(x) for x in found.groups()) if found else None


# --- the tests ----------------------------------------------------------------------------------

def test_flows():
    with Namespace() as ns:
        dump = ns.start(["tcpdump", "-i", TAP, "-n", "-U", "-s", "256", "-w",
                         ns.path("tap.pcap")], "tcpdump.log")
        wait_for(lambda: "listening on" in ns.read("tcpdump.log"), 10, "tcpdump")
        start_broker(ns)
        sub = start_subscriber(ns, "sub")
        time.sleep(0.3)
        device = start_device(ns)
        wait_for(lambda: "MQTT connected" in ns.read("device.log") or device.poll() is not None,
                 10, "the device's MQTT connection")

        sizes4 = [3000, 20000, 200000]
        ports4 = {size: echo(ns, DEVICE4, size) for size in sizes4}
        ping = ns.run(["ping", "-c", "3", "-i", "0.2", DEVICE4])
        check(ping.returncode == 0, f"ping {DEVICE4}: {ping.stdout}")
        wait_ipv6(ns)
        port6 = echo(ns, DEVICE6, 50000)

        time.sleep(2.5)  # two collection windows: every flow above is closed and published
        check(stop(device) == 0, "the device exits 0 on SIGTERM")
        rx, tx = ns.tap_counters()
        time.sleep(0.5)
        stop(sub)
        stop(dump, signal.SIGINT)
        device_log = ns.read("device.log")
        log("device log:\n" + device_log)

        packets = [p for p in (parse_frame(f) for f, _ in read_pcap(ns.path("tap.pcap"))) if p]
        messages = decode(ns, "sub")
        check(len(messages) >= 3, f"at least 3 messages, got {len(messages)}")
        records = flow_records(messages)

        connections = [(DEVICE4, HOST4, port, size) for size, port in ports4.items()]
        connections.append((DEVICE6, HOST6, port6, 50000))
        for device_addr, host_addr, port, size in connections:
            if port is None:
                continue
            key = ("tcp", device_addr, ECHO_PORT, host_addr, port)
            seen = records.get(key, [])
            expected = capture_counts(packets, device_addr, host_addr, ECHO_PORT, port)
            log(f"echo {size} B {host_addr}:{port}: capture in/out packets+bytes {expected}, "
                f"agent {totals(seen)} in {len(seen)} window(s)")
            if not check(seen, f"flow {key} reported"):
                continue
            check(totals(seen) == expected, f"flow {key}: agent {totals(seen)} == capture {expected}")
            check(all(r["opened_by"] == "remote" for r in seen), f"flow {key} opened by the host")
            check(any(not r["opener_inferred"] and r["handshake"] == "completed" for r in seen),
                  f"flow {key}: SYN seen and handshake completed")
            largest = max(p.ip_length for p in packets if ECHO_PORT in (p.sport, p.dport) and
                          port in (p.sport, p.dport))
            check(largest > 592, f"flow {key} carried frames over 592 bytes ({largest})")

        mqtt = [r for k, rs in records.items() for r in rs
                if k[0] == "tcp" and k[1] == DEVICE4 and k[3] == HOST4 and k[4] == BROKER_PORT]
        check(mqtt, "the device's MQTT connection to the broker is a flow")
        check(all(r["opened_by"] == "local" for r in mqtt), "the MQTT flow was opened by the device")

        requests = [p for p in packets if p.protocol == 1 and p.icmp == (8, 0) and p.dst == DEVICE4]
        replies = [p for p in packets if p.protocol == 1 and p.icmp == (0, 0) and p.src == DEVICE4]
        icmp = [r for k, rs in records.items() for r in rs
                if k[0] == "icmp" and k[1] == DEVICE4 and k[3] == HOST4]
        check((sum(r["packets_in"] for r in icmp), sum(r["packets_out"] for r in icmp)) ==
              (len(requests), len(replies)) and len(requests) == 3,
              f"ping: agent {totals(icmp)} vs capture {len(requests)} requests, "
              f"{len(replies)} replies")

        systems = [m["system"] for m in messages if m.get("system")]
        check(systems and systems[-1].get("stack_name") == "lwIP" and
              systems[-1].get("stack_version", "").startswith("2."), f"system info: {systems[-1:]}")
        check(systems and DEVICE4 in systems[-1]["addresses"] and DEVICE6 in
              systems[-1]["addresses"], "system info lists the device's addresses")
        ports = [m["listening_ports"] for m in messages if m.get("listening_ports") is not None]
        check(ports and any(p["port"] == ECHO_PORT and p["protocol"] == "tcp" for p in ports[-1]),
              f"listening ports read from lwIP's PCBs include the echo service: {ports[-1:]}")
        heartbeats = [m["heartbeat"] for m in messages if m.get("heartbeat")]
        check(heartbeats and heartbeats[-1]["state"] == "active" and
              heartbeats[-1]["packets_seen"] > 0, f"heartbeats present: {heartbeats[-1:]}")
        check("not acknowledged" not in device_log,
              "everything queued at SIGTERM reached the broker before exit")
        sequences = sorted(m["sequence"] for m in messages)
        check(sequences == list(range(len(sequences))), f"sequence numbers 0..n: {sequences}")

        counts = device_counts(device_log)
        if check(counts is not None, "the device logs its frame counts"):
            frames_in, bytes_in, _, frames_out, bytes_out = counts
            print(f"BENCH lwip_frames_in_hooked {frames_in} frames")
            print(f"BENCH lwip_frames_in_kernel_tap_tx {tx['packets']} frames")
            print(f"BENCH lwip_frames_out_hooked {frames_out} frames")
            print(f"BENCH lwip_frames_out_kernel_tap_rx {rx['packets']} frames")
            print(f"BENCH lwip_bytes_in_hooked {bytes_in} bytes")
            print(f"BENCH lwip_bytes_in_kernel_tap_tx {tx['bytes']} bytes")
            print(f"BENCH lwip_echo_bytes_total {2 * (sum(sizes4) + 50000)} bytes")
            # Both sides count the same frames; the kernel may count a few more that arrived
            # after the device stopped reading (the broker's FIN after DISCONNECT).
            check(0 <= tx["packets"] - frames_in <= 4, f"hooked in {frames_in} vs tap tx {tx}")
            check(0 <= rx["packets"] - frames_out <= 4, f"hooked out {frames_out} vs tap rx {rx}")
        check("ERROR: AddressSanitizer" not in device_log, "no AddressSanitizer report")


def test_broker_restart():
    with Namespace() as ns:
        broker = start_broker(ns)
        sub = start_subscriber(ns, "sub1")
        time.sleep(0.3)
        device = start_device(ns)
        wait_for(lambda: len(ns.read("sub1.txt").splitlines()) >= 3, 15, "first messages")
        before = len(ns.read("sub1.txt").splitlines())
        broker.send_signal(signal.SIGKILL)
        broker.wait()
        log(f"broker killed after {before} messages")
        stop(sub)
        # The client backs off 1 s, 2 s, 4 s...: after the second refused attempt the next one
        # is 4 s away, time enough to have the new broker and the subscriber in place first.
        failed = lambda: ns.read("device.log").count("connect failed")
        wait_for(lambda: failed() >= 2, 15, "two refused reconnection attempts")
        start_broker(ns, name="mosquitto2")
        sub2 = start_subscriber(ns, "sub2")
        wait_for(lambda: "e2e-sub2" in ns.read("mosquitto2.log"), 5, "the new subscriber")
        wait_for(lambda: "connection 2" in ns.read("device.log"), 15, "the device's reconnection")
        time.sleep(0.5)  # what the device held arrives in a burst right after the reconnection
        held = len(ns.read("sub2.txt").splitlines())
        wait_for(lambda: len(ns.read("sub2.txt").splitlines()) >= held + 2, 15,
                 "new messages after the restart")
        log(f"{held} held message(s) delivered after the restart")
        check(stop(device) == 0, "the device exits 0 on SIGTERM")
        time.sleep(0.5)
        stop(sub2)
        log("device log:\n" + ns.read("device.log"))

        messages = decode(ns, "sub1", "sub2")
        boots = {m["boot_id"] for m in messages}
        check(len(boots) == 1, f"one boot: {boots}")
        received = {m["sequence"] for m in messages}
        highest = max(received)
        missing = sorted(set(range(highest + 1)) - received)
        dropped = max((m["heartbeat"]["messages_dropped"] for m in messages
                       if m.get("heartbeat")), default=0)
        log(f"{len(messages)} messages ({len(received)} distinct), sequences 0..{highest}, "
            f"missing {missing}, heartbeat dropped {dropped}")
        print(f"BENCH lwip_restart_messages_missing {len(missing)} messages")
        print(f"BENCH lwip_restart_messages_dropped_reported {dropped} messages")
        check(len(missing) == dropped,
              f"every gap is a message the agent reports dropped: missing {missing}, "
              f"dropped {dropped}")
        check(len(ns.read("sub2.txt").splitlines()) >= held + 2,
              "publishing resumed after the restart")


def test_mqtt_ipv6():
    with Namespace() as ns:
        start_broker(ns)
        sub = start_subscriber(ns, "sub")
        time.sleep(0.3)
        # Until DAD ends the device has no usable IPv6 source address: the first attempts fail
        # and the client retries with backoff.
        device = start_device(ns, broker=f"[{HOST6}]:{BROKER_PORT}")
        wait_for(lambda: "MQTT connected" in ns.read("device.log") or device.poll() is not None,
                 20, "the device's MQTT connection over IPv6")
        time.sleep(2.5)  # two windows after the connection: its flow is published
        check(len(ns.read("sub.txt").splitlines()) >= 3, "messages over IPv6")
        check(stop(device) == 0, "the device exits 0 on SIGTERM")
        time.sleep(0.3)
        stop(sub)
        log("device log:\n" + ns.read("device.log"))
        messages = decode(ns, "sub")
        records = flow_records(messages)
        mqtt = [r for k, rs in records.items() for r in rs
                if k[0] == "tcp" and k[1] == DEVICE6 and k[3] == HOST6 and k[4] == BROKER_PORT]
        check(mqtt and all(r["opened_by"] == "local" for r in mqtt),
              "the MQTT connection over IPv6 is a flow the device opened")
        check(f"Opening ipv6 listen socket on port {BROKER_PORT}" in ns.read("mosquitto.log"),
              "the broker listened on IPv6")


def test_tap_removed():
    with Namespace() as ns:
        start_broker(ns)
        device = start_device(ns)
        wait_for(lambda: "MQTT connected" in ns.read("device.log"), 10, "the device")
        ns.run(["ip", "link", "del", TAP], check=True)
        try:
            code = device.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        text = ns.read("device.log")
        log("device log:\n" + text)
        check(code == 1, f"the device exits 1 when its TAP goes away (exit {code})")
        check("error: the TAP interface went away" in text, "a clear error is logged")
        check("AddressSanitizer" not in text, "no AddressSanitizer report")


def test_bad_credentials():
    with Namespace() as ns:
        passwords = ns.path("passwd")
        made = subprocess.run(["mosquitto_passwd", "-b", "-c", passwords, "device", "right"],
                              capture_output=True, text=True)
        check(made.returncode == 0, f"mosquitto_passwd: {made.stderr}")
        os.chmod(passwords, 0o644)
        start_broker(ns, f"allow_anonymous false\npassword_file {passwords}\n")
        device = start_device(ns, "--username", "device", "--password", "wrong")
        wait_for(lambda: "refused the connection" in ns.read("device.log") or
                 device.poll() is not None, 10, "the refusal")
        time.sleep(1.5)
        check(device.poll() is None, "the device keeps running after the refusal")
        port = echo(ns, DEVICE4, 5000)
        check(port is not None, "the echo service still answers")
        time.sleep(1.2)
        check(stop(device) == 0, "the device exits 0 on SIGTERM")
        text = ns.read("device.log")
        log("device log:\n" + text)
        check(text.count("refused the connection") == 1, "the refusal is logged once")
        check(re.search(r"refused the connection: refused: (bad user name or password|not authorized)", text)
              is not None, "the refusal names the reason")
        counts = device_counts(text)
        check(counts is not None and counts[2] > 10, f"the agent kept seeing packets: {counts}")
        check("MQTT connected" not in text, "never connected with the wrong password")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    mode, DEVICE, DECODER = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.geteuid() != 0:
        print("skipped: needs root for network namespaces")
        sys.exit(77)
    tests = {"flows": test_flows, "broker-restart": test_broker_restart,
             "tap-removed": test_tap_removed, "mqtt-ipv6": test_mqtt_ipv6, "bad-credentials": test_bad_credentials}
    tests[mode]()
    finish()

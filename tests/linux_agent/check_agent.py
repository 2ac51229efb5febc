#!/usr/bin/python3
"""vigil-agent end to end: a real mosquitto, real traffic in network namespaces made here, the
messages read back from the broker with cbor2 (vigil_cbor.py) and compared with a tcpdump capture
read by check_demo.py's own pcap reader.

  check_agent.py e2e AGENT            live capture in a namespace; flows match the capture
  check_agent.py broker-faults AGENT  broker absent at start, then stopped and killed: no gaps
  check_agent.py credentials AGENT    wrong password: refused, logged, the agent keeps running
  check_agent.py broker-gone AGENT    the broker killed for good: exit code 3, the count logged
  check_agent.py interface-gone AGENT the captured interface is deleted: logged, keeps running
  check_agent.py replay AGENT SAMPLE  --pcap through the broker: exact totals of the capture
  check_agent.py once AGENT SAMPLE    --once prints one report
  check_agent.py check-config AGENT   good and hostile settings files, refused alike by
                                      --check-config and by a run
  check_agent.py bad-input AGENT SAMPLE  damaged captures, missing interfaces
  check_agent.py unit AGENT           the systemd unit passes systemd-analyze verify

Tests that need network namespaces exit 77 (skipped) without the rights to make them.
"""

import collections
import ipaddress
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "demo"))
sys.path.insert(0, str(HERE.parent / "support"))
sys.path.insert(0, str(HERE))

from check_demo import ethernet_ip, expected_totals, has_flow, parse_ip, read_pcap  # noqa: E402
from vigil_testlib import (SKIPPED, Processes, check, finish, free_port,  # noqa: E402
                           mosquitto_pub, wait_for)

try:
    import cbor2  # noqa: F401
    import vigil_cbor  # noqa: E402
except ImportError:
    print("cbor2 is not installed for this python; skipped")
    sys.exit(77)

MOSQUITTO = "/usr/sbin/mosquitto"
DEVICE_V4, PEER_V4 = "198.18.0.1", "198.18.0.2"
DEVICE_V6, PEER_V6 = "2001:db8:3::1", "2001:db8:3::2"
TOPIC = "devices/{}/messages/events/mti=vigil.1&%24.ct=application%2Fcbor"
PROBE_TOPIC = "devices/probe/messages/"


class Namespaces:
    """A device namespace and a peer namespace joined by a veth pair (vdev <-> vpeer), offloads off
    so that every frame on the wire is one packet in the capture."""

    def __init__(self, peer=True):
        tag = str(os.getpid())
        self.device, self.peer = "vigil-ag-d" + tag, "vigil-ag-p" + tag
        self.made = []
        try:
            self.ip("netns", "add", self.device)
        except (OSError, subprocess.CalledProcessError):
            print("cannot create network namespaces here: skipped")
            sys.exit(SKIPPED)
        self.made.append(self.device)
        try:
            self.setup(peer)
        except BaseException:
            self.close()  # what was made so far, so a failed set-up leaves nothing behind
            raise

    def setup(self, peer):
        self.ip("-n", self.device, "link", "set", "lo", "up")
        if peer:
            self.ip("netns", "add", self.peer)
            self.made.append(self.peer)
            self.ip("link", "add", "name", "vdev", "netns", self.device, "type", "veth", "peer",
                    "name", "vpeer", "netns", self.peer)
            for ns, dev, v4, v6 in ((self.device, "vdev", DEVICE_V4, DEVICE_V6),
                                    (self.peer, "vpeer", PEER_V4, PEER_V6)):
                self.ip("-n", ns, "addr", "add", v4 + "/24", "dev", dev)
                self.ip("-n", ns, "addr", "add", v6 + "/64", "dev", dev, "nodad")
                self.ip("-n", ns, "link", "set", dev, "up")
                self.ip("-n", ns, "link", "set", "lo", "up")
                subprocess.run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off",
                                "gso", "off", "gro", "off"], capture_output=True, timeout=10)

    @staticmethod
    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def run(self, ns, *command, **kwargs):
        return subprocess.run(["ip", "netns", "exec", ns, *command], capture_output=True,
                              timeout=kwargs.pop("timeout", 30), **kwargs)

    def popen(self, ns, *command, **kwargs):
        return subprocess.Popen(["ip", "netns", "exec", ns, *command], **kwargs)

    def close(self):
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


class Broker:
    def __init__(self, work, port, prefix=(), extra="allow_anonymous true\n", persistence=False):
        self.work, self.port, self.prefix = work, port, list(prefix)
        self.conf = os.path.join(work, "mosquitto.conf")
        with open(self.conf, "w") as out:
            out.write(f"listener {port} 127.0.0.1\nuser root\n")
            if persistence:
                out.write(f"persistence true\npersistence_location {work}/\n"
                          "autosave_interval 1\n")
            else:
                out.write("persistence false\n")
            out.write(f"log_dest file {work}/mosquitto.log\n{extra}")
        self.process = None

    def start(self, processes):
        self.process = processes.add(subprocess.Popen(
            [*self.prefix, MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
        time.sleep(0.3)
        check(self.process.poll() is None, "mosquitto started")
        return self.process


class Subscriber:
    """mosquitto_sub on the device's topic; each line is the topic and the payload in hex."""

    def __init__(self, processes, port, prefix=(), client_id=None, topic="devices/+/messages/#"):
        args = [*prefix, "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                "-t", topic, "-F", "%t %x"]
        if client_id:
            args += ["-c", "-i", client_id]
        self.output = tempfile.TemporaryFile(mode="w+")
        self.process = processes.add(subprocess.Popen(args, stdout=self.output,
                                                      stderr=subprocess.DEVNULL))

    def lines(self):
        self.output.seek(0)
        return self.output.read().splitlines()

    def messages(self):
        out = []
        for line in self.lines():
            topic, _, payload = line.partition(" ")
            if payload and not topic.startswith(PROBE_TOPIC):
                out.append((topic, vigil_cbor.decode(bytes.fromhex(payload))))
        return out

    def wait_subscribed(self, prefix, port):
        """Publishes probes until one arrives: then the broker holds the subscription."""
        def probe_arrived():
            mosquitto_pub(port, PROBE_TOPIC + "events/", "-m", "probe", prefix=prefix, timeout=10)
            return any(line.startswith(PROBE_TOPIC) for line in self.lines())
        return wait_for(probe_arrived, 10, step=0.2)


def read_log(log):
    log.seek(0)
    return log.read()


def write_settings(path, device_id, port, interfaces=("vdev",), extra=""):
    with open(path, "w") as out:
        out.write(f"""device_id = "{device_id}"
log_level = "debug"
[capture]
interfaces = {json.dumps(list(interfaces))}
[mqtt]
host = "127.0.0.1"
port = {port}
reconnect_min_s = 1
reconnect_max_s = 2
{extra}
[collection]
high_interval_s = 1
medium_interval_s = 1
low_interval_s = 2
first_collection_splay_s = 0
""")


class Scenario:
    """The namespaces, the processes, a work folder and a broker port of one test; all of it is
    removed on the way out, whatever happened."""

    def __init__(self, name, port):
        self.net = Namespaces()
        self.processes = Processes()
        self.work = tempfile.mkdtemp(prefix=f"vigil-agent-{name}-")
        self.port = port
        self.prefix = ["ip", "netns", "exec", self.net.device]
        self.log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.processes.close()
        self.net.close()
        shutil.rmtree(self.work, ignore_errors=True)
        return False

    def path(self, name):
        return os.path.join(self.work, name)

    def start_agent(self, agent, device_id, extra=""):
        """vigil-agent in the device namespace on its veth, publishing to the test's broker."""
        settings = self.path("agent.toml")
        write_settings(settings, device_id, self.port, extra=extra)
        self.log = open(self.path("agent.log"), "w+")
        return self.processes.add(self.net.popen(self.net.device, agent, "-c", settings,
                                                 stdout=self.log, stderr=subprocess.STDOUT))

    def agent_log(self):
        return read_log(self.log)


def network_flows(messages):
    return [f for _, m in messages if "network" in m for f in m["network"]["flows"]]


def summed(flows):
    """Per flow key, the sum over every window that reported it."""
    total = collections.defaultdict(collections.Counter)
    for f in flows:
        key = (f["protocol"], f["local"], f["remote"], f.get("local_port", f.get("icmp_type")),
               f.get("remote_port", f.get("icmp_code")))
        for k in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
            total[key][k] += f[k]
    return total


def captured_flows(path, device_addresses):
    """Per flow key, what the capture holds: TCP and UDP by ports, ICMP echo by type 8/128
    (replies fold onto the request), other ICMP by type and code."""
    device = {ipaddress.ip_address(a) for a in device_addresses}
    _, packets = read_pcap(path)
    total = collections.defaultdict(collections.Counter)
    for _, _, frame, _ in packets:
        packet = ethernet_ip(frame)
        ip = parse_ip(packet) if packet else None
        if ip is None:
            continue
        outbound = ip.src in device
        local, remote = (ip.src, ip.dst) if outbound else (ip.dst, ip.src)
        body = packet[ip.header:]
        if ip.protocol in (6, 17) and len(body) >= 4:
            sport, dport = int.from_bytes(body[0:2], "big"), int.from_bytes(body[2:4], "big")
            lport, rport = (sport, dport) if outbound else (dport, sport)
            name = "tcp" if ip.protocol == 6 else "udp"
        elif ip.protocol in (1, 58) and len(body) >= 2:
            name, kind, code = "icmp", body[0], body[1]
            echo = {0: 8, 129: 128}  # replies fold onto the request
            lport, rport = echo.get(kind, kind), code
        else:
            continue
        key = (name, str(local), str(remote), lport, rport)
        direction = "out" if outbound else "in"
        total[key]["bytes_" + direction] += ip.length
        total[key]["packets_" + direction] += 1
    return total


PEER_SERVER = r"""
import socket, sys, threading
def serve(s):
    while True:
        c, _ = s.accept()
        def talk(c):
            got = 0
            while True:
                data = c.recv(65536)
                if not data:
                    break
                got += len(data)
            c.sendall(b"r" * 20000)
            c.close()
        threading.Thread(target=talk, args=(c,), daemon=True).start()
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 9000)); s.listen(8)
print("ready", flush=True)
serve(s)
"""

DEVICE_SERVER = r"""
import socket, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 6000))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8000)); s.listen(8)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close()
"""

CLIENT = r"""
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
c = socket.socket(family)
c.connect((sys.argv[1], int(sys.argv[2])))
c.sendall(b"s" * int(sys.argv[3]))
c.shutdown(socket.SHUT_WR)
got = 0
while True:
    data = c.recv(65536)
    if not data:
        break
    got += len(data)
c.close()
print(got)
"""

UDP = r"""
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[3])):
    u.sendto(b"u" * int(sys.argv[4]), (sys.argv[1], int(sys.argv[2])))
"""


def start_script(ns, net, processes, script, ready=True):
    process = processes.add(net.popen(ns, "/usr/bin/python3", "-c", script,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      text=True))
    if ready:
        check(process.stdout.readline().strip() == "ready", "helper server ready")
    return process


def run_script(net, ns, script, *args):
    result = net.run(ns, "/usr/bin/python3", "-c", script, *map(str, args), text=True)
    check(result.returncode == 0, f"traffic script {args}: {result.stderr}")
    return result.stdout.strip()


def check_e2e(agent):
    with Scenario("e2e", 18830) as s:
        net, processes, work, port, prefix = s.net, s.processes, s.work, s.port, s.prefix
        Broker(work, port, prefix).start(processes)
        subscriber = Subscriber(processes, port, prefix)
        check(subscriber.wait_subscribed(prefix, port), "subscribed")
        start_script(net.device, net, processes, DEVICE_SERVER)
        start_script(net.peer, net, processes, PEER_SERVER)
        agent_run = s.start_agent(agent, "e2e-device")
        check(wait_for(lambda: subscriber.messages(), 10), "the agent publishes")
        pcap = os.path.join(work, "truth.pcap")
        tcpdump = processes.add(net.popen(net.device, "tcpdump", "-i", "vdev", "-s", "256", "-U",
                                          "-w", pcap, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
        tcpdump.stderr.readline()  # "listening on vdev ..."
        time.sleep(0.5)

        check(run_script(net, net.device, CLIENT, PEER_V4, 9000, 100000) == "20000",
              "IPv4 transfer to the peer")
        check(run_script(net, net.device, CLIENT, PEER_V6, 9000, 30000) == "20000",
              "IPv6 transfer to the peer")
        run_script(net, net.peer, CLIENT, DEVICE_V4, 8000, 50000)
        run_script(net, net.device, UDP, PEER_V4, 5000, 5, 200)
        net.run(net.device, "ping", "-c", "3", "-i", "0.2", "-q", PEER_V4)
        time.sleep(3.5)  # two more windows close after the traffic
        processes.stop(tcpdump, signal.SIGINT)

        # A runtime config from the hub, retained, then a hostile one.
        config = os.path.join(work, "config.cbor")
        with open(config, "wb") as out:
            out.write(cbor2.dumps({1: 1, 2: [2, 1, 1]}))
        mosquitto_pub(port, "devices/e2e-device/config/vigil", "-r", "-f", config, prefix=prefix)
        time.sleep(2.5)
        with open(config, "wb") as out:
            out.write(cbor2.dumps({1: 2, 2: "ten seconds"}))
        mosquitto_pub(port, "devices/e2e-device/config/vigil", "-r", "-f", config, prefix=prefix)
        time.sleep(2.5)
        code = processes.stop(agent_run)
        agent_log = s.agent_log()
        check(code == 0, f"agent exit code {code}: {agent_log[-2000:]}")
        time.sleep(0.3)

        messages = subscriber.messages()
        check(all(t == TOPIC.format("e2e-device") for t, _ in messages), "topic and property bag")
        sequences = [m["sequence"] for _, m in messages]
        check(sequences == list(range(len(sequences))), f"no gap in sequences {sequences[:50]}")
        reported = summed(network_flows(messages))
        truth = captured_flows(pcap, [DEVICE_V4, DEVICE_V6])
        wanted = [k for k in truth if k[0] in ("tcp", "udp") or k[3] in (8, 128) and
                  k[2] in (PEER_V4, PEER_V6)]
        check(len([k for k in wanted if k[0] == "tcp"]) == 3, f"three TCP flows: {wanted}")
        for key in wanted:
            check(reported.get(key) == truth[key],
                  f"flow {key}: agent {dict(reported.get(key, {}))}, capture {dict(truth[key])}")
        all_flows = network_flows(messages)
        check(has_flow(all_flows, protocol="tcp", local=DEVICE_V4, remote=PEER_V4,
                       remote_port=9000, opened_by="local", handshake="completed"),
              "outbound IPv4 connection, opened by the device")
        check(has_flow(all_flows, protocol="tcp", local=DEVICE_V4, local_port=8000,
                       opened_by="remote"), "inbound connection to the device's service")
        check(has_flow(all_flows, protocol="tcp", local=DEVICE_V6, remote=PEER_V6,
                       remote_port=9000), "IPv6 connection")
        out_bytes = sum(v["bytes_out"] for k, v in reported.items()
                        if k[0] == "tcp" and k[4] == 9000 and k[2] == PEER_V4)
        check(out_bytes > 100000, f"bytes out include the 100000 sent: {out_bytes}")
        udp = [v for k, v in reported.items() if k[0] == "udp" and k[4] == 5000]
        check(udp and udp[0]["packets_out"] == 5 and udp[0]["bytes_out"] == 5 * 228,
              f"five UDP datagrams of 228 IP bytes: {udp}")
        check(reported.get(("icmp", DEVICE_V4, PEER_V4, 8, 0), {}).get("packets_out") == 3,
              "three pings")

        systems = [m["system"] for _, m in messages if "system" in m]
        check(systems and DEVICE_V4 in systems[0]["addresses"], "system info: the addresses")
        check(systems and systems[0].get("os_name"), "system info: the OS")
        ports = [m["listening_ports"] for _, m in messages if "listening_ports" in m]
        check(ports and {"protocol": "tcp", "port": 8000, "address": None} in ports[-1],
              f"listening TCP 8000: {ports[-1] if ports else None}")
        check(ports and {"protocol": "udp", "port": 6000, "address": None} in ports[-1],
              "listening UDP 6000")
        beats = [m["heartbeat"] for _, m in messages if "heartbeat" in m]
        check(beats and beats[0]["state"] == 2, "heartbeat: active")
        check(any(b["config_version"] == 1 for b in beats), "config version 1 applied")
        check(beats and beats[-1].get("config_rejected") == [2, 1] and
              beats[-1]["config_version"] == 1, f"hostile config refused: {beats[-1]}")
        check(beats and beats[-1]["messages_dropped"] == 0, "nothing dropped")
        check("config version 1 applied" in agent_log, "the log says what was applied")
        check("config refused: malformed" in agent_log.lower(), "and what was refused")
        windows = [m["network"]["window_duration_ms"] for _, m in messages if "network" in m]
        check(any(w >= 1900 for w in windows[-2:]), f"2 s windows after the config: {windows}")
        print(f"{len(messages)} messages; flows checked against the capture: {len(wanted)}")


def check_broker_faults(agent):
    with Scenario("faults", 18831) as s:
        net, processes, work, port, prefix = s.net, s.processes, s.work, s.port, s.prefix
        broker = Broker(work, port, prefix, persistence=True)
        # A persistent subscriber session, so messages published while it reconnects wait for it.
        first = broker.start(processes)
        sub = Subscriber(processes, port, prefix, client_id="faults-sub")
        check(sub.wait_subscribed(prefix, port), "the subscriber's session is in place")
        processes.stop(sub.process)
        processes.stop(first)

        agent_run = s.start_agent(agent, "faults-device")
        check(wait_for(lambda: "started:" in s.agent_log(), 10), "the agent is capturing")
        net.run(net.device, "ping", "-c", "5", "-i", "0.5", "-q", PEER_V4)  # broker down
        broker.start(processes)
        sub = Subscriber(processes, port, prefix, client_id="faults-sub")
        check(wait_for(lambda: len(sub.messages()) >= 10, 15), "backlog delivered after start")
        net.run(net.device, "ping", "-c", "3", "-i", "0.3", "-q", PEER_V4)
        # Stopped first, so publishes are sent and not acknowledged; then killed and restarted.
        os.kill(broker.process.pid, signal.SIGSTOP)
        time.sleep(2)
        processes.stop(broker.process, signal.SIGKILL)
        net.run(net.device, "ping", "-c", "4", "-i", "0.5", "-q", PEER_V4)  # broker gone
        broker.start(processes)
        subs = [sub]
        if sub.process.poll() is not None:  # mosquitto_sub may give up on a killed broker
            subs.append(Subscriber(processes, port, prefix, client_id="faults-sub"))
        time.sleep(4)
        code = processes.stop(agent_run)
        time.sleep(0.5)
        agent_log = s.agent_log()
        check(code == 0, f"agent exit code {code}")
        messages = [m for sub in subs for m in sub.messages()]
        sequences = sorted({m["sequence"] for _, m in messages})
        check(sequences and sequences == list(range(sequences[-1] + 1)),
              f"every sequence number from 0 arrived (duplicates allowed): {sequences}")
        check(len({m["boot_id"] for _, m in messages}) == 1, "one boot")
        pings = sum(f["packets_out"] for f in network_flows(messages)
                    if f["protocol"] == "icmp" and f["remote"] == PEER_V4 and
                    f["icmp_type"] == 8)
        check(pings == 12, f"all 12 pings reported, also those made while the broker was down: "
                           f"{pings}")
        beats = [m["heartbeat"] for _, m in messages if "heartbeat" in m]
        check(beats and beats[-1]["messages_dropped"] == 0, "nothing dropped")
        check(any(b["state"] == 1 for b in beats), "heartbeats show the pending state")
        check("connect" in agent_log.lower(), "the log tells of the lost connection")


def check_credentials(agent):
    with Scenario("creds", 18832) as s:
        work, port, prefix, processes = s.work, s.port, s.prefix, s.processes
        passwords = os.path.join(work, "passwords")
        subprocess.run(["mosquitto_passwd", "-c", "-b", passwords, "gateway", "right"],
                       check=True, capture_output=True)
        broker = Broker(work, port, prefix,
                        extra=f"allow_anonymous false\npassword_file {passwords}\n")
        broker.start(processes)
        secret = os.path.join(work, "secret")
        with open(secret, "w") as out:
            out.write("wrong\n")
        agent_run = s.start_agent(agent, "creds-device",
                                  extra=f'username = "gateway"\npassword_file = "{secret}"')
        time.sleep(4)
        check(agent_run.poll() is None, "the agent keeps running")
        code = processes.stop(agent_run)
        agent_log = s.agent_log()
        check(code == 3, f"exit code {code} (want 3: nothing reached the broker)")
        check("authori" in agent_log.lower(), f"the refusal is logged: {agent_log[-1500:]}")
        check("unsent" in agent_log, "and what was not sent")


def check_broker_gone(agent):
    """The broker is killed and never comes back: the agent's stop says how many messages never
    reached it, and the exit code is not the one of a clean run."""
    with Scenario("broker-gone", 18834) as s:
        processes = s.processes
        broker = Broker(s.work, s.port, s.prefix)
        broker.start(processes)
        sub = Subscriber(processes, s.port, s.prefix)
        check(sub.wait_subscribed(s.prefix, s.port), "subscribed")
        agent_run = s.start_agent(agent, "gone-broker-device", extra="flush_timeout_s = 1")
        check(wait_for(lambda: sub.messages(), 10), "the agent publishes")
        processes.stop(broker.process, signal.SIGKILL)
        # Heartbeats every second: a few messages are made while the broker is gone.
        check(wait_for(lambda: " ended: " in s.agent_log(), 10), "the agent sees the loss")
        time.sleep(2.5)
        code = processes.stop(agent_run)
        agent_log = s.agent_log()
        check(code == 3, f"exit code {code} (want 3): {agent_log[-1500:]}")
        summary = [line for line in agent_log.splitlines() if "summary:" in line]
        undelivered = re.search(r"(\d+) undelivered", summary[-1]) if summary else None
        check(undelivered is not None and int(undelivered.group(1)) > 0,
              f"the summary counts the undelivered messages: {summary}")
        check("Sanitizer" not in agent_log, "clean")


def check_interface_gone(agent):
    with Scenario("gone", 18833) as s:
        net, processes = s.net, s.processes
        Broker(s.work, s.port, s.prefix).start(processes)
        sub = Subscriber(processes, s.port, s.prefix)
        check(sub.wait_subscribed(s.prefix, s.port), "subscribed")
        agent_run = s.start_agent(agent, "gone-device")
        check(wait_for(lambda: sub.messages(), 10), "the agent publishes")
        net.ip("-n", net.peer, "link", "del", "vpeer")  # takes the device's end with it
        time.sleep(1)
        before = len(sub.messages())
        time.sleep(3)
        check(agent_run.poll() is None, "the agent keeps running")
        check(len(sub.messages()) > before, "and keeps reporting (heartbeats)")
        code = processes.stop(agent_run)
        agent_log = s.agent_log()
        check(code == 0, f"exit code {code}")
        check("capture:" in agent_log and "reopen" in agent_log,
              f"the capture error is logged: {agent_log[-1500:]}")
        check("Sanitizer" not in agent_log, "clean")


def check_replay(agent, sample):
    from check_demo import DEVICE
    processes = Processes()
    work = tempfile.mkdtemp(prefix="vigil-agent-replay-")
    try:
        port = free_port()
        Broker(work, port).start(processes)
        sub = Subscriber(processes, port)
        check(sub.wait_subscribed([], port), "subscribed")
        args = [agent, "--pcap", sample, "--device-id", "replay-device", "--broker",
                f"127.0.0.1:{port}", "--high-interval", "2"]
        for address in DEVICE:
            args += ["--local", address]
        result = subprocess.run(args, capture_output=True, text=True, timeout=60)
        check(result.returncode == 0, f"exit code {result.returncode}: {result.stderr}")
        time.sleep(0.5)
        messages = sub.messages()
        check(messages, "messages arrived")
        expected, _ = expected_totals(sample, DEVICE)
        got = collections.Counter()
        for _, m in messages:
            if "network" in m:
                for record in m["network"]["flows"] + m["network"]["overflow"]:
                    for k in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
                        got[k] += record[k]
        for k in ("bytes_in", "bytes_out", "packets_in", "packets_out"):
            check(got[k] == expected[k], f"{k}: agent {got[k]}, capture {expected[k]}")
        check("summary:" in result.stderr and "peak RSS" in result.stderr, "summary logged")
    finally:
        processes.close()
        shutil.rmtree(work, ignore_errors=True)


def check_once(agent, sample):
    result = subprocess.run([agent, "--once", "--pcap", sample, "--device-id", "once"],
                            capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"exit code {result.returncode}: {result.stderr}")
    report = json.loads(result.stdout)
    check(report["device_id"] == "once", "device id")
    check(any("network" in m and m["network"]["flows"] for m in report["messages"]),
          "one report with network activity")
    check(sum(1 for m in report["messages"] if "network" in m) == 1, "exactly one window")


GOOD = """device_id = "gw-1"
[capture]
interfaces = ["eth0"]
[mqtt]
host = "127.0.0.1"
port = 1883
[collection]
high_interval_s = 5
[collection.network]
priority = "medium"
[collection.system]
enabled = false
"""

# The name the system collector had in settings files before it took the protocol's name.
OLDER_NAME = """device_id = "gw-1"
[collection.system_information]
priority = "high"
"""

HOSTILE = {
    "unknown key": ('device_id = "a"\nfavourite_colour = "red"\n', "unknown setting"),
    "wrong type": ('device_id = "a"\n[collection]\nhigh_interval_s = "ten"\n',
                   "collection.high_interval_s: must be an integer"),
    "huge value": ('device_id = "a"\n[collection]\nlow_interval_s = 99999999999\n',
                   "must be between 1 and 86400"),
    "negative port": ('device_id = "a"\n[mqtt]\nhost = "h"\nport = -1\n', "mqtt.port"),
    "unknown collector": ('device_id = "a"\n[collection.camera]\nenabled = true\n',
                          "collection.camera: unknown setting"),
    "bad priority": ('device_id = "a"\n[collection.heartbeat]\npriority = "urgent"\n',
                     "must be \"high\""),
    "bad device id": ('device_id = "a/b"\n', "device_id: only"),
    "no device id": ('[capture]\ninterfaces = []\n', "device_id: required"),
    "not toml": ('device_id = \n[[[', "line 1"),
    "missing CA": ('device_id = "a"\n[mqtt]\nhost = "h"\ntls = true\nca_file = "/nonexistent/ca"\n',
                   "cannot read /nonexistent/ca"),
    "cert without key": ('device_id = "a"\n[mqtt]\nhost = "h"\ntls = true\nca_file = "/etc/hostname"'
                         '\ncert_file = "/etc/hostname"\n', "give both or neither"),
    "interface name": ('device_id = "a"\n[capture]\ninterfaces = ["a-very-long-interface-name"]\n',
                       "not an interface name"),
    "huge ring": ('device_id = "a"\n[capture]\nring_block_kb = 65536\nring_blocks = 1024\n',
                  "64 MiB"),
    # Read at most 64 KiB, however much the file holds.
    "endless password": ('device_id = "a"\n[mqtt]\nhost = "h"\nusername = "u"\n'
                         'password_file = "/dev/zero"\n', "longer than 65535 bytes"),
    "password too long": ('device_id = "a"\n[mqtt]\nhost = "h"\nusername = "u"\n'
                          'password_file = "{work}/long_password"\n', "longer than 65535 bytes"),
    "password file is a folder": ('device_id = "a"\n[mqtt]\nhost = "h"\nusername = "u"\n'
                                  'password_file = "{work}"\n', "is a directory"),
    "password file is missing": ('device_id = "a"\n[mqtt]\nhost = "h"\nusername = "u"\n'
                                 'password_file = "{work}/nonexistent"\n',
                                 "No such file or directory"),
    "CA is a folder": ('device_id = "a"\n[mqtt]\nhost = "h"\ntls = true\nca_file = "{work}"\n',
                       "mqtt.ca_file: cannot read"),
    "capture is a folder": ('device_id = "a"\n[replay]\npcap = "{work}"\n', "is a directory"),
    "local address": ('device_id = "a"\n[replay]\npcap = "{work}/capture.pcap"\n'
                      'local_addresses = ["999.1.1.1"]\n', '"999.1.1.1" is not an IP address'),
}

# A file that is not TOML: the parse error alone, with its line and column; nothing about the
# settings it would have held.
NOT_TOML = {
    'device_id = \n[[[': "line 1, column 13",
    'device_id = "a"\n[mqtt]\nport = 18 83\n': "line 3, column 11",
    'device_id = "a"\nlog_level = "debug\n': "line 2, column 19",
}


def run_agent(args, timeout=20):
    """The agent's exit code and stderr; None for the code when it had to be killed."""
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        return result.returncode, result.stderr
    except subprocess.TimeoutExpired:
        return None, f"killed after {timeout} s"


def check_config_files(agent):
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "good.toml")
        with open(path, "w") as out:
            out.write(GOOD)
        result = subprocess.run([agent, "--check-config", "-c", path], capture_output=True,
                                text=True, timeout=30)
        check(result.returncode == 0 and "settings OK" in result.stdout,
              f"good file: {result.returncode} {result.stdout} {result.stderr}")
        path = os.path.join(work, "older_name.toml")
        with open(path, "w") as out:
            out.write(OLDER_NAME)
        result = subprocess.run([agent, "--check-config", "-c", path], capture_output=True,
                                text=True, timeout=30)
        check(result.returncode == 0, f"system_information still read: {result.stderr}")
        example = HERE.parents[1] / "linux-agent" / "dist" / "vigil-agent.toml"
        result = subprocess.run([agent, "--check-config", "-c", str(example)],
                                capture_output=True, text=True, timeout=30)
        check(result.returncode == 0, f"the shipped example: {result.stderr}")
        with open(os.path.join(work, "long_password"), "w") as out:
            out.write("p" * 70000 + "\n")
        with open(os.path.join(work, "capture.pcap"), "wb") as out:
            out.write(b"\0" * 24)
        for name, (text, reason) in HOSTILE.items():
            path = os.path.join(work, name.replace(" ", "_") + ".toml")
            with open(path, "w") as out:
                out.write(text.replace("{work}", work))
            # The check and the run refuse it alike: one validation serves both. A run that
            # wrongly starts prints instead of publishing and stops after a second.
            for mode, args in (("--check-config", ["--check-config", "-c", path]),
                               ("run", ["-c", path, "--stdout", "--duration", "1"])):
                code, stderr = run_agent([agent, *args])
                check(code == 2, f"{name}, {mode}: exit code {code} (want 2)")
                check(reason in stderr, f"{name}, {mode}: the error names it: {stderr.strip()}")
                check("Sanitizer" not in stderr, f"{name}, {mode}: clean")
        for text, position in NOT_TOML.items():
            path = os.path.join(work, "not_toml.toml")
            with open(path, "w") as out:
                out.write(text)
            code, stderr = run_agent([agent, "--check-config", "-c", path])
            lines = stderr.strip().splitlines()
            check(code == 2 and len(lines) == 1 and f"not_toml.toml: {position}:" in lines[0],
                  f"{text!r}: the parse error alone, at {position}: {code} {lines}")


def check_bad_input(agent, sample):
    data = open(sample, "rb").read()
    with tempfile.TemporaryDirectory() as work:
        cases = {"truncated.pcap": (data[:len(data) - 10], "truncated"),
                 "notes.txt": (b"not a capture\n" * 20, "unknown file format"),
                 "empty.pcap": (b"", "truncated")}
        for name, (content, reason) in cases.items():
            path = os.path.join(work, name)
            with open(path, "wb") as out:
                out.write(content)
            result = subprocess.run([agent, "--pcap", path, "--device-id", "bad", "--stdout"],
                                    capture_output=True, text=True, timeout=30)
            check(result.returncode == 1, f"{name}: exit code {result.returncode} (want 1)")
            check(name in result.stderr and reason in result.stderr.lower(),
                  f"{name}: the error names the file and cause: {result.stderr.strip()}")
            check("Sanitizer" not in result.stderr, f"{name}: clean")
    result = subprocess.run([agent, "--device-id", "bad", "--stdout", "-i", "nosuchif0"],
                            capture_output=True, text=True, timeout=30)
    check(result.returncode == 1 and "nosuchif0" in result.stderr,
          f"missing interface: {result.returncode} {result.stderr.strip()}")


def check_unit(agent):
    """The shipped systemd unit is valid and runs the agent unprivileged with CAP_NET_RAW."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("systemd-analyze is not installed: skipped")
        sys.exit(SKIPPED)
    unit = (HERE.parents[1] / "linux-agent" / "dist" / "vigil-agent.service").read_text()
    check("User=vigil" in unit and "AmbientCapabilities=CAP_NET_RAW" in unit and
          "CapabilityBoundingSet=CAP_NET_RAW" in unit, "unprivileged, CAP_NET_RAW only")
    check("--check-config" in unit, "the settings are checked before the start")
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "vigil-agent.service")
        with open(path, "w") as out:
            out.write(unit.replace("/usr/local/bin/vigil-agent", agent))
        result = subprocess.run([analyze, "verify", path], capture_output=True, text=True,
                                timeout=60)
        problems = [line for line in result.stderr.splitlines() if "vigil-agent.service" in line]
        check(result.returncode == 0 and not problems, f"systemd-analyze verify: {result.stderr}")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    command, agent = sys.argv[1], sys.argv[2]
    commands = {
        "e2e": lambda: check_e2e(agent),
        "broker-faults": lambda: check_broker_faults(agent),
        "credentials": lambda: check_credentials(agent),
        "broker-gone": lambda: check_broker_gone(agent),
        "interface-gone": lambda: check_interface_gone(agent),
        "replay": lambda: check_replay(agent, sys.argv[3]),
        "once": lambda: check_once(agent, sys.argv[3]),
        "check-config": lambda: check_config_files(agent),
        "bad-input": lambda: check_bad_input(agent, sys.argv[3]),
        "unit": lambda: check_unit(agent),
    }
    if command not in commands:
        print(__doc__)
        sys.exit(2)
    commands[command]()
    finish()


if __name__ == "__main__":
    main()

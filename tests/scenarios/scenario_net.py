"""The scenarios' network: a device namespace and an "internet" namespace joined by a veth pair,
only documentation addresses, and tcpdump recording on the device's interface. Every tool runs
inside these namespaces, aimed at their addresses; every process started here is ended by its PID.

    device (vdev)  198.51.100.10/24, 2001:db8:51::10/64, default route via the internet side
    internet (vnet) 198.51.100.1/24, 2001:db8:51::1/64, and the 203.0.113.0/24 hosts it is given
"""

import os
import re
import signal
import subprocess
import sys
import time

from vigil_testlib import SKIPPED, check, wait_for

DEVICE_V4, GATEWAY_V4 = "198.51.100.10", "198.51.100.1"
DEVICE_V6, GATEWAY_V6 = "2001:db8:51::10", "2001:db8:51::1"
# The attacker's address: the internet side opens its connections to the device from it.
ATTACKER_V4 = "203.0.113.66"


class ScenarioNet:
    def __init__(self, tag=""):
        tag = f"{os.getpid()}{tag}"
        self.device, self.internet = "vigil-sc-d" + tag, "vigil-sc-i" + tag
        self.made = []
        self.processes = []

    def __enter__(self):
        if os.geteuid() != 0:
            print("skipped: network namespaces need root")
            sys.exit(SKIPPED)
        made = subprocess.run(["ip", "netns", "add", self.device], capture_output=True, text=True)
        if made.returncode != 0:
            print("skipped: cannot create a network namespace:", made.stderr.strip())
            sys.exit(SKIPPED)
        self.made.append(self.device)
        try:
            self.setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def setup(self):
        self.ip("netns", "add", self.internet)
        self.made.append(self.internet)
        self.ip("link", "add", "name", "vdev", "netns", self.device, "type", "veth", "peer", "name",
                "vnet", "netns", self.internet)
        for ns, dev, v4, v6 in ((self.device, "vdev", DEVICE_V4, DEVICE_V6),
                                (self.internet, "vnet", GATEWAY_V4, GATEWAY_V6)):
            self.ip("-n", ns, "addr", "add", v4 + "/24", "dev", dev)
            self.ip("-n", ns, "addr", "add", v6 + "/64", "dev", dev, "nodad")
            self.ip("-n", ns, "link", "set", dev, "up")
            self.ip("-n", ns, "link", "set", "lo", "up")
            # One frame on the wire is one packet in the capture.
            self.run(ns, ["ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"])
            # Closed UDP ports answer every probe, so a UDP scan ends in seconds.
            self.run(ns, ["sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
            self.run(ns, ["sysctl", "-qw", "net.ipv6.icmp.ratelimit=0"])
        self.ip("-n", self.device, "route", "add", "default", "via", GATEWAY_V4)
        self.ip("-n", self.device, "-6", "route", "add", "default", "via", GATEWAY_V6)
        self.add_internet_host(ATTACKER_V4)
        # What the internet side opens to the device comes from the attacker's address.
        self.ip("-n", self.internet, "route", "replace", DEVICE_V4 + "/32", "dev", "vnet", "src",
                ATTACKER_V4)

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
                process.wait()
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    @staticmethod
    def ip(*args):
        subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)

    def add_internet_host(self, address):
        self.ip("-n", self.internet, "addr", "add", address + "/32", "dev", "vnet")

    @staticmethod
    def command(ns, argv):
        return ["ip", "netns", "exec", ns, *argv]

    def run(self, ns, argv, timeout=60):
        return subprocess.run(self.command(ns, argv), capture_output=True, text=True,
                              timeout=timeout)

    def start(self, ns, argv, **kwargs):
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        process = subprocess.Popen(self.command(ns, argv), **kwargs)
        self.processes.append(process)
        return process

    def serve_tcp(self, ns, addresses, ports, reply=b""):
        """A python listener in ns accepting on every address and port, answering `reply` and
        closing; returns once it listens."""
        code = (
            "import selectors, socket, sys\n"
            "sel = selectors.DefaultSelector()\n"
            "for a in sys.argv[2].split(','):\n"
            "    for p in sys.argv[3].split(','):\n"
            "        s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET)\n"
            "        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "        s.bind((a, int(p))); s.listen(64); sel.register(s, selectors.EVENT_READ)\n"
            "print('ready', flush=True)\n"
            "while True:\n"
            "    for key, _ in sel.select():\n"
            "        c, _ = key.fileobj.accept()\n"
            "        c.settimeout(2)\n"
            "        try:\n"
            "            c.recv(4096); c.sendall(sys.argv[1].encode())\n"
            "        except OSError:\n"
            "            pass\n"
            "        c.close()\n")
        process = self.start(ns, ["/usr/bin/python3", "-c", code, reply.decode(),
                                  ",".join(addresses), ",".join(str(p) for p in ports)],
                             stdout=subprocess.PIPE, text=True)
        ready = process.stdout.readline().strip() == "ready"
        check(ready, f"listener on {addresses} ports {ports}")
        return process


class Recording:
    """tcpdump -w on the device's interface for the length of a `with` block."""

    def __init__(self, net, path):
        self.net, self.path = net, path

    def __enter__(self):
        self.log = self.path + ".log"
        with open(self.log, "w") as err:
            self.process = self.net.start(
                self.net.device, ["tcpdump", "-i", "vdev", "-n", "--immediate-mode", "-B", "16384",
                                  "-U", "-w", self.path],
                stderr=err)
        check(wait_for(lambda: "listening on" in open(self.log).read()
                       or self.process.poll() is not None, 15),
              "tcpdump records the device's interface")
        return self

    def __exit__(self, *exc):
        time.sleep(0.3)  # the last answers on the wire
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            check(False, "tcpdump stops on SIGINT")
        with open(self.log) as f:
            summary = f.read()
        # A loaded machine may make tcpdump drop some of a flood; the capture is what is checked.
        if not re.search(r"^0 packets dropped by kernel", summary, re.M):
            print("tcpdump:", summary.strip().replace("\n", "; "))

"""A network namespace of the test's own with a TAP in it, for the checks of devices that run their
own network stack on a TAP (the lwIP and NetX Duo example devices): the host side of the TAP is
the device's peer. Every process started in it is ended by its PID on exit, and the namespace and
its files are removed.

    with TapNamespace("vigil-lwip", "vtap0", "198.18.0.1", "2001:db8:7::1") as ns:
        ns.start([...], "device.log")
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

from vigil_testlib import SKIPPED, check


class TapNamespace:
    def __init__(self, prefix, tap, host4, host6, tap_owner=None):
        """tap_owner: a uid that may open the TAP without any capability (a persistent TAP)."""
        self.name = f"{prefix}-{os.getpid()}"
        self.tap = tap
        self.host4 = host4
        self.host6 = host6
        self.tap_owner = tap_owner
        self.processes = []
        self.dir = tempfile.mkdtemp(prefix=prefix.replace("-", "_") + "_")
        # mosquitto started as root drops to its own user, which must read its files here.
        os.chmod(self.dir, 0o755)

    def __enter__(self):
        made = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if made.returncode != 0:
            print("skipped: cannot create a network namespace:", made.stderr.strip())
            sys.exit(SKIPPED)
        add_tap = ["ip", "tuntap", "add", "dev", self.tap, "mode", "tap"]
        if self.tap_owner is not None:
            add_tap += ["user", str(self.tap_owner)]
        tap = self.run(add_tap)
        if tap.returncode != 0:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            print("skipped: cannot create a TAP device:", tap.stderr.strip())
            sys.exit(SKIPPED)
        for command in (["ip", "link", "set", "lo", "up"],
                        ["ip", "addr", "add", f"{self.host4}/24", "dev", self.tap],
                        ["ip", "-6", "addr", "add", f"{self.host6}/64", "dev", self.tap, "nodad"],
                        ["ip", "link", "set", self.tap, "up"]):
            self.run(command, check=True)
        return self

    def __exit__(self, *exc):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
                process.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["rm", "-rf", self.dir])

    def command(self, argv):
        return ["ip", "netns", "exec", self.name] + argv

    def run(self, argv, **kwargs):
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 30)
        return subprocess.run(self.command(argv), **kwargs)

    def start(self, argv, log_name, stdout_name=None):
        err = open(os.path.join(self.dir, log_name), "w")
        out = open(os.path.join(self.dir, stdout_name), "w") if stdout_name else err
        process = subprocess.Popen(self.command(argv), stdout=out, stderr=err)
        self.processes.append(process)
        return process

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def python(self, code, *args, timeout=30):
        return self.run(["/usr/bin/python3", "-c", code, *args], timeout=timeout)

    def tap_counters(self):
        shown = self.run(["ip", "-s", "-j", "link", "show", self.tap], check=True)
        stats = json.loads(shown.stdout)[0]["stats64"]
        return stats["rx"], stats["tx"]


def stop(process, sig=signal.SIGTERM, timeout=15):
    """Signals a process started through TapNamespace.start and waits for it; one that does not
    stop in time fails the check and is killed."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        check(False, f"{process.args[3:5]} did not stop on signal {sig}")
        process.kill()
        return process.wait()


def decoded_messages(decoder, text):
    """Each line of mosquitto_sub -F '%t %x' output through the decoder program
    (tests/support/decode_messages.cpp): (topic, message) for every message that decodes; a check
    fails for each one that does not."""
    result = subprocess.run([decoder], input=text, capture_output=True, text=True, timeout=30)
    messages = []
    for line in result.stdout.splitlines():
        item = json.loads(line)
        if check("error" not in item, f"message decodes: {item.get('error')}"):
            messages.append((item["topic"], item["message"]))
    return messages

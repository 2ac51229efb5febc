"""What the end-to-end test scripts share: checks that keep going after a failure, free loopback
ports, polling with a deadline, and the processes a test started, ended by PID.

A script finds this module from any working directory with

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
"""

import signal
import socket
import subprocess
import sys
import time

SKIPPED = 77  # the exit code ctest's SKIP_RETURN_CODE takes as "skipped"

FAILURES = []


def check(condition, what):
    """Prints the outcome and records a failure; the test carries on so one run shows them all.
    Returns the condition, so a check can also guard what follows it."""
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)
    return condition


def failed():
    return bool(FAILURES)


def summary():
    """Prints the outcome of every check so far and returns the exit code that says it."""
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


def finish():
    sys.exit(summary())


def free_port():
    """A TCP port free on 127.0.0.1 now; another process may still take it before it is used."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, step=0.05):
    """Polls condition until it holds or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def stop_process(process, sig=signal.SIGTERM, timeout=15):
    """Sends sig, waits, and kills the process if it has not ended by then; returns its code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Processes:
    """Everything started here, ended by PID on the way out."""

    def __init__(self):
        self.running = []

    def add(self, process):
        self.running.append(process)
        return process

    def stop(self, process, sig=signal.SIGTERM, timeout=15):
        return stop_process(process, sig, timeout)

    def close(self):
        for process in reversed(self.running):
            if process.poll() is None:
                process.kill()
                process.wait()


def wait_or_fail(condition, timeout, what):
    """wait_for() that fails a check, naming what it waited for, when the time runs out."""
    if wait_for(condition, timeout):
        return True
    check(False, f"timed out waiting for {what}")
    return False


def mosquitto_pub(port, topic, *payload_args, prefix=(), qos=1, credentials=None, timeout=15):
    """One message through mosquitto_pub to 127.0.0.1:port. payload_args is ("-m", text) or
    ("-f", path); credentials, when given, holds username, password and client_id; prefix runs
    the client elsewhere (["ip", "netns", "exec", name])."""
    args = [*prefix, "mosquitto_pub", "-h", "127.0.0.1", "-p", str(port)]
    if credentials:
        args += ["-u", credentials["username"], "-P", credentials["password"], "-i",
                 credentials["client_id"]]
    args += ["-q", str(qos), "-t", topic, *payload_args]
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)

#!/usr/bin/python3
"""vigil-hub end to end: the real program with its own mosquitto on free loopback ports, a temp
data directory, real devices (vigil-agent, mosquitto_pub, the load program) and the SQLite file
read back with Python's sqlite3.

  check_hub.py formats HUB AGENT FLATC SAMPLE   agent replay, legacy Defender and AWS reports:
                                                stored once each, right device, exact totals;
                                                AWS answered on /accepted; a device publishing on
                                                another's topic gets nothing stored
  check_hub.py kill HUB LOAD                    kill -9 of the hub under load, restart: every
                                                acknowledged message stored exactly once
  check_hub.py broker-restart HUB LOAD          kill -9 of the supervised mosquitto under load: the
                                                hub restarts it and catches up, nothing lost
  check_hub.py smoke-bench HUB LOAD             a short ingest benchmark through the real broker
  check_hub.py lock HUB                         the data directory's lock: a second hub and an
                                                offline `devices add` refused with the holder's
                                                pid, the first hub's broker untouched; both
                                                accepted again after SIGTERM and after kill -9
  check_hub.py administration HUB               /healthz reports the broker's administration
                                                failing while the hub's administrator is locked
                                                out, and ok again once it is let back in
  check_hub.py log HUB                          device text in the hub's log: a newline cannot
                                                forge a line, NUL and 0xFF are escaped; a flood
                                                of junk writes a few lines and a count, and
                                                /metrics counts what was not logged
  check_hub.py unreachable HUB                  as root, a data directory below a folder the
                                                mosquitto user cannot pass: the hub refuses to
                                                start, naming the folder and the fix
"""

import json
import os
import pwd
import pathlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "demo"))
sys.path.insert(0, str(ROOT / "tests" / "support"))

from check_demo import expected_totals  # noqa: E402
from vigil_testlib import (SKIPPED, check, failed, free_port, mosquitto_pub,  # noqa: E402
                           stop_process, summary, wait_for)

DEFENDER_TOPIC = ("devices/{}/messages/events/"
                  "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&mti=2.3-1-0-0")
VIGIL_TOPIC = "devices/{}/messages/events/mti=vigil.1&%24.ct=application%2Fcbor"


class Hub:
    """vigil-hub on a data directory, started and ended by PID."""

    def __init__(self, binary, work, extra_args=()):
        """extra_args: more of vigil-hub's options, given at every start."""
        self.binary = binary
        self.extra_args = list(extra_args)
        self.data = os.path.join(work, "data")
        self.broker_port = free_port()
        self.api_port = free_port()
        self.log_path = os.path.join(work, "hub.log")
        self.process = None

    def start(self):
        self.sessions = self.connections()
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.binary, "--data", self.data, "--broker-port", str(self.broker_port),
             "--api-port", str(self.api_port), *self.extra_args], stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        starts = self.log().count("running;")
        ok = wait_for(lambda: self.log().count("running;") > starts
                      or self.process.poll() is not None, 30)
        check(ok and self.process.poll() is None, f"vigil-hub runs: {self.log()[-800:]}")
        check(wait_for(lambda: self.connections() > self.sessions, 15), "ingest connected")

    def connections(self):
        # The ingest session is up once mosquitto logged the hub's client connecting.
        path = os.path.join(self.data, "broker", "mosquitto.log")
        try:
            with open(path, errors="replace") as f:
                return f.read().count("as vigil-hub/ingest")
        except OSError:
            return 0

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def devices_add(self, device_id):
        # The broker port is the one an offline command starts the directory's broker on.
        return subprocess.run([self.binary, "devices", "add", device_id, "--data", self.data,
                               "--broker-port", str(self.broker_port)],
                              capture_output=True, text=True, timeout=30)

    def add_device(self, device_id):
        result = self.devices_add(device_id)
        check(result.returncode == 0, f"devices add {device_id}: {result.stderr}")
        return json.loads(result.stdout)

    def stop(self, sig=signal.SIGTERM):
        return stop_process(self.process, sig, timeout=30) if self.process else None

    def broker_pid(self):
        pids = re.findall(r"mosquitto started, pid (\d+)", self.log())
        return int(pids[-1]) if pids else None

    def db(self):
        return sqlite3.connect(f"file:{self.data}/vigil.db?mode=ro", uri=True, timeout=10)


def query(hub, sql, *args):
    with hub.db() as db:
        return db.execute(sql, args).fetchall()


def publish(port, creds, topic, payload_file, qos=1):
    return mosquitto_pub(port, topic, "-f", payload_file, qos=qos, credentials=creds)


def replay_agent(hub, agent, sample, work):
    from check_demo import DEVICE
    creds = hub.add_device("gw-replay")
    settings = os.path.join(work, "agent.toml")
    with open(settings, "w") as f:
        f.write(f'device_id = "gw-replay"\n[mqtt]\nhost = "127.0.0.1"\nport = {hub.broker_port}\n'
                f'username = "{creds["username"]}"\npassword = "{creds["password"]}"\n')
    args = [agent, "-c", settings, "--pcap", sample, "--broker",
            f"127.0.0.1:{hub.broker_port}", "--high-interval", "2"]
    for address in DEVICE:
        args += ["--local", address]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(result.returncode == 0, f"agent replay exit {result.returncode}: {result.stderr[-500:]}")
    sent = re.search(r"(\d+) messages? sent|sent (\d+)", result.stderr)
    expected, _ = expected_totals(sample, DEVICE)
    keys = ("bytes_in", "bytes_out", "packets_in", "packets_out")
    sql = ("SELECT {0} FROM {1} JOIN messages m ON m.id = message_id "
           "JOIN devices d ON d.device_key = m.device_key WHERE d.id = 'gw-replay'")
    sums = ", ".join(f"coalesce(sum({k}), 0)" for k in keys)

    def totals():
        flows = query(hub, sql.format(sums, "flows"))[0]
        overflow = query(hub, sql.format(sums, "flow_overflow"))[0]
        return {k: flows[i] + overflow[i] for i, k in enumerate(keys)}

    wait_for(lambda: totals()["bytes_in"] >= expected["bytes_in"], 10)
    time.sleep(0.3)
    got = totals()
    for k in keys:
        check(got[k] == expected[k], f"replay {k}: stored {got[k]}, capture {expected[k]}")
    rows = query(hub, "SELECT d.messages, count(m.id) FROM devices d JOIN messages m "
                      "ON m.device_key = d.device_key WHERE d.id = 'gw-replay'")
    check(rows and rows[0][0] == rows[0][1] and rows[0][1] > 0,
          f"the agent's messages counted once each: {rows}{' ' + str(sent) if sent else ''}")


def legacy_defender(hub, flatc, work):
    creds = hub.add_device("mcu-legacy")
    fixtures = ROOT / "tests" / "hub_decode" / "defender"
    schema = ROOT / "hub" / "decode" / "defender.fbs"
    names = ("network", "heartbeat", "system", "ports")
    for name in names:
        result = subprocess.run([flatc, "-b", "-o", work, str(schema), str(fixtures / f"{name}.json")],
                                capture_output=True, text=True, timeout=30)
        check(result.returncode == 0, f"flatc {name}: {result.stderr}")
        # Twice: a redelivered message is stored once.
        for _ in range(2):
            r = publish(hub.broker_port, creds, DEFENDER_TOPIC.format("mcu-legacy"),
                        os.path.join(work, f"{name}.bin"))
            check(r.returncode == 0, f"published legacy {name}: {r.stderr}")
    ok = wait_for(lambda: query(hub, "SELECT count(*) FROM messages m JOIN devices d USING "
                                     "(device_key) WHERE d.id = 'mcu-legacy'")[0][0] >= 4, 10)
    time.sleep(0.3)
    rows = query(hub, "SELECT d.messages, d.format, count(m.id) FROM devices d JOIN messages m "
                      "USING (device_key) WHERE d.id = 'mcu-legacy'")
    check(ok and rows == [(4, 1, 4)], f"4 legacy Defender messages stored once each: {rows}")


def mqtt_packet(kind, body):
    length, encoded = len(body), b""
    while True:
        byte, length = length % 128, length // 128
        encoded += bytes([byte | (128 if length else 0)])
        if not length:
            return bytes([kind]) + encoded + body


def mqtt_string(text):
    data = text.encode() if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def read_packet(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise OSError("the broker closed the connection")
            data += chunk
        return data
    kind = exact(1)[0]
    length, shift = 0, 0
    while True:
        byte = exact(1)[0]
        length |= (byte & 127) << shift
        shift += 7
        if not byte & 128:
            return kind, exact(length)


def request_response(port, creds, topic, payload, answer_filters, timeout=10):
    """A minimal MQTT 3.1.1 client: connect, subscribe, publish at QoS 1, return the first
    message received (topic, payload)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        body = (mqtt_string("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big") +
                mqtt_string(creds["client_id"]) + mqtt_string(creds["username"]) +
                mqtt_string(creds["password"]))
        sock.sendall(mqtt_packet(0x10, body))
        kind, ack = read_packet(sock)
        if kind != 0x20 or ack[1] != 0:
            raise OSError(f"connection refused: {ack!r}")
        filters = b"".join(mqtt_string(f) + bytes([0]) for f in answer_filters)
        sock.sendall(mqtt_packet(0x82, (1).to_bytes(2, "big") + filters))
        while read_packet(sock)[0] != 0x90:
            pass
        sock.sendall(mqtt_packet(0x32, mqtt_string(topic) + (2).to_bytes(2, "big") + payload))
        while True:
            kind, body = read_packet(sock)
            if kind >> 4 == 3:
                size = int.from_bytes(body[:2], "big")
                skip = 2 if kind & 0x06 else 0  # a packet id follows the topic at QoS > 0
                return body[2:2 + size].decode(), body[2 + size + skip:]


def aws_reports(hub, work):
    import cbor2
    creds = hub.add_device("thing-aws")
    fixtures = ROOT / "tests" / "hub_decode" / "aws"
    cbor_file = os.path.join(work, "short_keys.cbor")
    with open(fixtures / "short_keys.json") as f, open(cbor_file, "wb") as out:
        out.write(cbor2.dumps(json.load(f)))
    base = "$aws/things/thing-aws/defender/metrics/"
    # The broker binds the client id to the device, so the report and its answer share one
    # connection, which the command-line clients cannot do with a file's bytes.
    for kind, path in (("json", fixtures / "long_keys.json"), ("cbor", cbor_file)):
        with open(path, "rb") as f:
            payload = f.read()
        try:
            topic, answer = request_response(hub.broker_port, creds, base + kind, payload,
                                             [base + kind + "/accepted",
                                              base + kind + "/rejected"])
        except OSError as e:
            topic, answer = f"error {e}", b""
        check(topic == base + kind + "/accepted",
              f"AWS {kind} report answered on /accepted: {topic} {answer[:200]!r}")
    rows = query(hub, "SELECT m.message_key, m.format FROM messages m JOIN devices d "
                      "USING (device_key) WHERE d.id = 'thing-aws' ORDER BY m.message_key")
    check(rows == [("1530304554", 2), ("1530305228", 2)], f"both AWS reports stored: {rows}")
    totals = query(hub, "SELECT count(*) FROM interface_totals t JOIN messages m "
                        "ON m.id = t.message_id JOIN devices d USING (device_key) "
                        "WHERE d.id = 'thing-aws'")
    check(totals[0][0] == 2, f"their interface totals stored: {totals}")


def spoofing(hub, work):
    creds = hub.add_device("honest-1")
    hub.add_device("victim-1")
    payload = os.path.join(work, "vigil.cbor")
    # A Vigil heartbeat (docs/protocol.md): version 1, boot 5, sequence 1, state active.
    import cbor2
    heartbeat = {k: 0 for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15)}
    heartbeat[1] = 2
    with open(payload, "wb") as f:
        f.write(cbor2.dumps({1: 1, 2: 5, 3: 1, 4: 1700000000, 5: 10, 13: heartbeat}))
    r = publish(hub.broker_port, creds, VIGIL_TOPIC.format("victim-1"), payload)
    check(r.returncode == 0, "the broker takes the publish (MQTT 3.1.1 cannot refuse one)")
    # The same message on the device's own topic is stored: the payload itself is fine.
    r = publish(hub.broker_port, creds, VIGIL_TOPIC.format("honest-1"), payload)
    # Counted in messages, not devices: `devices add` may already make the device's row.
    stored = ("SELECT count(*) FROM messages m JOIN devices d USING (device_key) "
              "WHERE d.id = ?")
    check(wait_for(lambda: query(hub, stored, "honest-1")[0][0] == 1, 10),
          "the device's own topic is stored")
    time.sleep(0.5)
    rows = query(hub, stored, "victim-1")
    check(rows[0][0] == 0, f"nothing stored for another device's topic: {rows}")


def check_formats(hub, agent, flatc, sample, work):
    hub.start()
    replay_agent(hub, agent, sample, work)
    legacy_defender(hub, flatc, work)
    aws_reports(hub, work)
    spoofing(hub, work)
    check(hub.stop() == 0, "vigil-hub exits 0 on SIGTERM")
    log = hub.log()
    check("mosquitto stopped" in log and "stopped after" in log, "clean shutdown logged")
    check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer reports")


def exact_counts(hub, prefix, devices, per_device):
    total = devices * per_device
    rows = query(hub, "SELECT count(*), coalesce(sum(d.messages), 0) FROM devices d "
                      "WHERE d.id LIKE ?", prefix + "%")
    stored = query(hub, "SELECT count(*) FROM messages m JOIN devices d USING (device_key) "
                        "WHERE d.id LIKE ?", prefix + "%")
    flows = query(hub, "SELECT count(*) FROM flows f JOIN messages m ON m.id = f.message_id "
                       "JOIN devices d USING (device_key) WHERE d.id LIKE ?", prefix + "%")
    check(rows[0] == (devices, total), f"{devices} devices counted {total} messages: {rows}")
    check(stored[0][0] == total, f"{total} messages stored: {stored}")
    check(flows[0][0] == total * 20, f"{total * 20} flows stored: {flows}")


def run_load(hub, load, prefix, devices, messages, timeout):
    return subprocess.Popen(
        [load, "--data", hub.data, "--devices", str(devices), "--messages", str(messages),
         "--prefix", prefix, "--inflight", "10", "--timeout", str(timeout)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stored_count(hub):
    try:
        return query(hub, "SELECT rows FROM row_counts WHERE name = 'messages'")[0][0]
    except sqlite3.Error:
        return 0


def check_kill(hub, load):
    hub.start()
    devices, messages = 8, 2500
    loader = run_load(hub, load, "kill-", devices, messages, 100)
    # Killed at the first commit: batches are large, so waiting for more could see them all.
    check(wait_for(lambda: stored_count(hub) > 0, 30, step=0.01), "ingest under way before the kill")
    hub.process.kill()  # kill -9, mid-ingest
    hub.process.wait()
    at_kill = stored_count(hub)
    check(at_kill < devices * messages, f"killed mid-ingest ({at_kill} stored)")
    hub.start()
    out, _ = loader.communicate(timeout=120)
    print(out.strip())
    check(loader.returncode == 0, "every acknowledged message committed")
    exact_counts(hub, "kill-", devices, messages)


def check_broker_restart(hub, load):
    hub.start()
    devices, messages = 6, 1500
    loader = run_load(hub, load, "brk-", devices, messages, 90)
    check(wait_for(lambda: stored_count(hub) > 1500, 30), "ingest under way")
    pid = hub.broker_pid()
    # Our hub's own mosquitto, by its PID. SIGTERM: mosquitto 2.0 keeps sessions in memory and
    # saves them every autosave_interval, so a kill -9 of the broker itself loses what devices
    # had acknowledged since the last save (docs/hub.md).
    os.kill(pid, signal.SIGTERM)
    check(wait_for(lambda: hub.broker_pid() != pid, 15), "the hub restarted its broker")
    out, _ = loader.communicate(timeout=120)
    print(out.strip())
    check(loader.returncode == 0, "the hub caught up with every acknowledged message")
    exact_counts(hub, "brk-", devices, messages)
    check("mosquitto exited with status 0" in hub.log(), "the broker's death is logged")


def check_smoke_bench(hub, load):
    hub.start()
    # Two seconds of 20 devices at full speed: about three times what the sanitizer build of the
    # hub commits in a second, so the minute it has to catch up is ample (scripts/bench runs the
    # long version).
    r = subprocess.run([load, "--data", hub.data, "--devices", "20", "--seconds", "2",
                        "--timeout", "60"], capture_output=True, text=True, timeout=90)
    print(r.stdout.strip())
    check(r.returncode == 0, f"load run: every acknowledged message committed {r.stderr[-300:]}")
    check("BENCH hub_ingest_messages_per_second" in r.stdout, "BENCH line printed")
    hub.stop()
    check(re.search(r"receipt to commit p50 [\d.]+ ms, p99 [\d.]+ ms", hub.log()) is not None,
          "latency logged on stop")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def check_lock(hub):
    hub.start()
    holder = hub.process.pid
    broker = hub.broker_pid()
    lock_file = os.path.join(hub.data, "hub.lock")
    check(read_text(lock_file).strip() == str(holder), "the lock file holds the hub's pid")

    began = time.monotonic()
    second = subprocess.Popen([hub.binary, "--data", hub.data, "--broker-port", str(free_port()),
                               "--api-port", str(free_port())],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, errors = second.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        stop_process(second)  # SIGTERM, so that a hub that did start stops its own broker
        _, errors = second.communicate()
    took = time.monotonic() - began
    check(second.returncode != 0 and took < 5,
          f"a second hub exits at once, non-zero ({second.returncode}, {took:.1f} s)")
    check(hub.data in errors and f"pid {holder}" in errors,
          f"its message names the directory and the holder's pid: {errors.strip()[-300:]}")
    time.sleep(1)  # the first hub's supervisor would have seen its broker die by now
    check(alive(broker) and hub.broker_pid() == broker and "restarting mosquitto" not in hub.log(),
          "the first hub's broker is untouched")
    check(hub.process.poll() is None, "the first hub still runs")

    # A hub that holds the lock but has not said where its broker listens (as while it starts):
    # an offline command would start the directory's broker beside the hub's, so it is refused.
    runtime = os.path.join(hub.data, "hub.json")
    hidden = os.path.exists(runtime)
    if hidden:
        os.rename(runtime, runtime + ".hidden")
    refused = hub.devices_add("lock-refused")
    if hidden:
        os.rename(runtime + ".hidden", runtime)
    check(refused.returncode != 0 and f"pid {holder}" in refused.stderr and
          hub.data in refused.stderr,
          f"offline devices add refused while the hub runs: {refused.stderr.strip()}")
    check(alive(broker) and "restarting mosquitto" not in hub.log(),
          "the hub's broker is untouched by the refused command")
    hub.add_device("lock-through-hub")  # through the running hub's broker, as before

    check(hub.stop() == 0, "the hub stops on SIGTERM")
    after_stop = hub.devices_add("lock-after-stop")
    check(after_stop.returncode == 0, f"offline devices add accepted once the hub stopped: "
          f"{after_stop.stderr.strip()}")

    hub.start()
    hub.process.kill()  # kill -9: the lock file stays behind, the kernel drops the lock
    hub.process.wait()
    check(os.path.exists(lock_file), "a killed hub leaves its lock file")
    killed = hub.process.pid
    # The killed hub's broker may live on (as root it does); the command stops it and runs its own.
    after_kill = hub.devices_add("lock-after-kill")
    check(after_kill.returncode == 0, f"offline devices add accepted after a kill -9 of the hub: "
          f"{after_kill.stderr.strip()}")
    hub.start()
    check(f"in use by" not in hub.log(), "a hub starts over the lock file of a killed one")
    check(read_text(lock_file).strip() == str(hub.process.pid) != str(killed),
          "the new hub's pid replaces the killed one's")
    rows = query(hub, "SELECT id, enrolment FROM devices WHERE id LIKE 'lock-%' ORDER BY id")
    check(rows == [("lock-after-kill", 1), ("lock-after-stop", 1), ("lock-through-hub", 1)],
          f"the accepted commands are recorded, the refused one is not: {rows}")


def healthz(hub):
    """(status, body) of the hub's /healthz."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{hub.api_port}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def api_enrol(hub, device_id):
    """The status of POST /api/devices with the first admin token."""
    with open(os.path.join(hub.data, "admin.token")) as f:
        token = f.read().strip()
    request = urllib.request.Request(f"http://127.0.0.1:{hub.api_port}/api/devices",
                                     data=json.dumps({"id": device_id}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=15) as r:
            return r.status
    except urllib.error.HTTPError as error:
        return error.code


def set_admin_password(hub, old, new):
    # The broker lets the hub's accounts in only under the hub's client ids.
    result = subprocess.run(["mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(hub.broker_port),
                             "-i", "vigil-hub/test-admin", "-u", "vigil-admin", "-P", old,
                             "dynsec", "setClientPassword",
                             "vigil-admin", new], capture_output=True, text=True, timeout=15)
    check(result.returncode == 0, f"mosquitto_ctrl: {result.stdout} {result.stderr}")


def check_administration(hub):
    hub.start()
    check(wait_for(lambda: healthz(hub)[0] == 200, 15), f"/healthz ok: {healthz(hub)}")
    with open(os.path.join(hub.data, "broker-credentials.json")) as f:
        password = json.load(f)["admin"]
    # The hub's administrator locked out of the broker, as a mistaken edit of its accounts would.
    set_admin_password(hub, password, "locked-out")
    # A failed enrolment through the API has the hub look at once; it also looks every 15 s.
    status = api_enrol(hub, "admin-refused")
    check(status >= 400, f"an enrolment through the API fails: {status}")
    check(wait_for(lambda: "broker: administration failing: " in healthz(hub)[1], 10),
          f"/healthz reports the administration failing: {healthz(hub)}")
    check(healthz(hub)[0] == 503, "with status 503")
    time.sleep(1)
    check("broker: administration failing: " in healthz(hub)[1], "and goes on reporting it")
    set_admin_password(hub, "locked-out", password)
    check(wait_for(lambda: healthz(hub)[0] == 200, 25), f"/healthz ok again: {healthz(hub)}")
    check("administration works again" in hub.log(), "the hub logs the recovery")
    hub.add_device("admin-back")


def check_unreachable(hub, work):
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        print("skipped: no mosquitto user")
        return SKIPPED
    if os.geteuid() != 0:
        print("skipped: mosquitto changes its user only when started by root")
        return SKIPPED
    os.chmod(work, 0o700)  # as `mktemp -d` makes it: the mosquitto user cannot pass
    log = open(hub.log_path, "a")
    process = subprocess.Popen([hub.binary, "--data", hub.data, "--broker-port",
                                str(hub.broker_port), "--api-port", str(hub.api_port)],
                               stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stop_process(process, signal.SIGKILL)
        code = None
    check(code == 1, f"vigil-hub exits with status 1 ({code})")
    text = hub.log()
    check("running;" not in text, "it never says it runs")
    check(f"the directory {work} does not let it through" in text and f"chmod o+x {work}" in text,
          f"the message names the folder and the fix: {text[-600:]}")
    return None


def metrics(hub):
    with urllib.request.urlopen(f"http://127.0.0.1:{hub.api_port}/metrics", timeout=5) as r:
        return r.read().decode()


def log_bytes(hub):
    with open(hub.log_path, "rb") as f:
        return f.read()


def check_log(hub, work):
    import cbor2
    hub.extra_args = ["--rejection-log-lines", "3", "--rejection-log-interval-ms", "600000"]
    hub.start()
    creds = hub.add_device("thing-log")
    base = "$aws/things/thing-log/defender/metrics/"
    # The version is quoted in the rejection: a device chooses what the hub writes there.
    forged = "2026-01-01T00:00:00.000 vigil-hub: devices: all revoked"
    json_file = os.path.join(work, "forge.json")
    with open(json_file, "w") as f:
        json.dump({"hed": {"rid": 1, "v": "1.0\n" + forged}, "met": {}}, f)
    # CBOR text is not checked for UTF-8 by the decoder: raw NUL, 0xFF and an escape sequence.
    cbor_file = os.path.join(work, "raw.cbor")
    with open(cbor_file, "wb") as f:
        f.write(cbor2.dumps({"hed": {"rid": 2, "v": "@@@@@@"}, "met": {}})
                .replace(b"\x66@@@@@@", b"\x66\x00\xff\x1b[2J"))
    check(publish(hub.broker_port, creds, base + "json", json_file).returncode == 0, "JSON sent")
    check(publish(hub.broker_port, creds, base + "cbor", cbor_file).returncode == 0, "CBOR sent")
    check(wait_for(lambda: hub.log().count("unsupported_version") >= 2, 15),
          "both rejections logged")
    text = log_bytes(hub)
    lines = text.split(b"\n")
    check(not any(line.startswith(forged.encode()) for line in lines),
          "a newline in device text forges no log line")
    check(b'"1.0\\n' + forged.encode() in text, "the newline is written as \\n")
    check(b"\x00" not in text and b"\xff" not in text and b"\x1b" not in text,
          "no raw NUL, 0xFF or ESC in the log")
    check(b"\\x00\\xff\\x1b[2J" in text, "they are written as \\xNN")

    # A flood of junk: a few lines, one count.
    before = len(log_bytes(hub))
    junk = "\n".join(f"junk {i}" for i in range(3000))
    flood = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(hub.broker_port),
                            "-u", creds["username"], "-P", creds["password"], "-i",
                            creds["client_id"], "-q", "1", "-t", base + "json", "-l"],
                           input=junk, capture_output=True, text=True, timeout=60)
    check(flood.returncode == 0, f"3,000 junk messages sent: {flood.stderr}")
    counted = 'vigil_hub_ingest_rejections_unlogged_total{reason="malformed"} 2997'
    check(wait_for(lambda: counted in metrics(hub), 30),
          f"/metrics counts the 2,997 not logged: "
          f"{[m for m in metrics(hub).splitlines() if 'unlogged' in m]}")
    added = log_bytes(hub)[before:].decode(errors="replace")
    check(added.count("rejected a message on") == 3,
          f"3 lines for 3,000 rejections: {added.count('rejected a message on')}")
    check(len(added) < 4000, f"the flood wrote {len(added)} bytes of log")
    check(hub.stop() == 0, "the hub stops")
    check("rejected 2997 more messages (malformed)" in hub.log(),
          "what was held back is summed up in one line")


def main():
    command = sys.argv[1]
    work = tempfile.mkdtemp(prefix="vigil-hub-e2e-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    hub = Hub(sys.argv[2], work)
    try:
        if command == "formats":
            check_formats(hub, sys.argv[3], sys.argv[4], sys.argv[5], work)
        elif command == "kill":
            check_kill(hub, sys.argv[3])
        elif command == "broker-restart":
            check_broker_restart(hub, sys.argv[3])
        elif command == "smoke-bench":
            check_smoke_bench(hub, sys.argv[3])
        elif command == "lock":
            check_lock(hub)
        elif command == "log":
            check_log(hub, work)
        elif command == "administration":
            check_administration(hub)
        elif command == "unreachable":
            if check_unreachable(hub, work) == SKIPPED:
                return SKIPPED
        else:
            print(__doc__)
            return 2
    finally:
        hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
        if failed():
            print(hub.log()[-3000:])
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

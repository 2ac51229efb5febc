#!/usr/bin/python3
"""vigil-hub's embedded broker under attack from an enrolled device: the real program with its
own mosquitto on free loopback ports, a temp data directory, devices as mosquitto_pub or a
minimal MQTT client. Each command is bounded in time and in messages.

  check_broker.py identity HUB   the hub's MQTT identity: an id in the hub's namespace is refused
                                 at enrolment with the reason; a device cannot connect with the
                                 hub's client ids; a device with the old ingest id is refused;
                                 when the hub's session is taken anyway (by the hub's own account)
                                 the hub says so in its log, /metrics and /healthz
  check_broker.py retained HUB   150 retained 64 kB publishes of one device on as many topics: none stays at the
                                 broker, its persistence stays small, each one counted
  check_broker.py refused HUB    publishes outside the device's formats' topics are refused and
                                 counted per device and reason in /metrics, on across a restart
                                 of the broker
  check_broker.py upgrade HUB    a data directory whose broker queued 300 messages for the ingest
                                 session's old client id (vigil-hub-ingest): the hub reads and
                                 stores them all, then ends that session
  check_broker.py queue HUB      a stalled hub (SIGSTOP) while a device sends 60 x 250 kB: the
                                 broker holds no more than its in-flight and queue bounds, drops
                                 the rest and /metrics counts what it dropped
"""

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "support"))

from check_hub import Hub, mqtt_packet, mqtt_string, read_packet  # noqa: E402
from vigil_testlib import check, failed, mosquitto_pub, summary, wait_for  # noqa: E402

EVENTS = "devices/{}/messages/events/mti=vigil.1&%24.ct=application%2Fcbor"


def hub_accounts(hub):
    with open(os.path.join(hub.data, "broker-credentials.json")) as f:
        return json.load(f)


def http_get(hub, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{hub.api_port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def metric(hub, name, labels=""):
    """The value of one sample in /metrics (0 when absent)."""
    _, text = http_get(hub, "/metrics")
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.M)
    return float(found.group(1)) if found else 0.0


def connect(port, client_id, username, password, clean=True, timeout=5):
    """A raw MQTT 3.1.1 connection; returns (socket, CONNACK return code)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    flags = 0xC0 | (0x02 if clean else 0)
    body = (mqtt_string("MQTT") + bytes([4, flags]) + (30).to_bytes(2, "big") +
            mqtt_string(client_id) + mqtt_string(username) + mqtt_string(password))
    sock.sendall(mqtt_packet(0x10, body))
    try:
        kind, ack = read_packet(sock)
    except OSError:
        return sock, -1
    return sock, ack[1] if kind == 0x20 else -1


def subscribe_collect(port, client_id, username, password, topic, seconds):
    """Subscribes and returns [(topic, payload, retained)] received within `seconds`."""
    sock, rc = connect(port, client_id, username, password)
    got = []
    if rc != 0:
        sock.close()
        return None
    sock.sendall(mqtt_packet(0x82, (1).to_bytes(2, "big") + mqtt_string(topic) + bytes([0])))
    sock.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            kind, body = read_packet(sock)
        except (socket.timeout, TimeoutError):
            continue
        except OSError:
            break
        if kind >> 4 == 3:
            size = int.from_bytes(body[:2], "big")
            skip = 2 if kind & 0x06 else 0
            got.append((body[2:2 + size].decode(), body[2 + size + skip:], bool(kind & 1)))
    sock.close()
    return got


def publish_many(port, creds, topic, payload_file, count, retain=False, qos=1):
    """count publishes of the file's bytes over one connection (mosquitto_pub -l sends a line
    each, so the file goes through -f once per run)."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", creds["username"],
            "-P", creds["password"], "-i", creds["client_id"], "-q", str(qos), "-t", topic,
            "-f", payload_file, "--repeat", str(count), "--repeat-delay", "0"]
    if retain:
        args.append("-r")
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def heartbeat(sequence):
    """A Vigil heartbeat (docs/protocol.md) whose sequence makes its message key."""
    import cbor2
    body = {k: 0 for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15)}
    body[1] = 2
    return cbor2.dumps({1: 1, 2: 5, 3: sequence, 4: 1700000000, 5: 10, 13: body})


def send_acknowledged(port, creds, topic, payloads, window=20, retain=False, progress=None):
    """QoS 1 publishes over one connection; returns how many the broker acknowledged. topic may
    be a function of the message's index; progress, a dict, gets the count acknowledged so far."""
    sock, rc = connect(port, creds["client_id"], creds["username"], creds["password"])
    if rc != 0:
        sock.close()
        return 0
    acked, sent = 0, 0
    with sock:
        while acked < len(payloads):
            while sent < len(payloads) and sent - acked < window:
                packet_id = sent % 65535 + 1
                name = topic(sent) if callable(topic) else topic
                sock.sendall(mqtt_packet(0x33 if retain else 0x32, mqtt_string(name) +
                                         packet_id.to_bytes(2, "big") + payloads[sent]))
                sent += 1
            kind, _ = read_packet(sock)
            if kind >> 4 == 4:
                acked += 1
                if progress is not None:
                    progress["acked"] = acked
    return acked


def stored_messages(hub, device_id):
    try:
        with hub.db() as db:
            return db.execute("SELECT count(*) FROM messages m JOIN devices d USING (device_key) "
                              "WHERE d.id = ?", (device_id,)).fetchone()[0]
    except Exception:  # noqa: BLE001 - the store may be busy; the caller polls
        return -1


def check_identity(hub, work):
    import threading
    hub.start()
    refused = hub.devices_add("vigil-hub-ingest")
    check(refused.returncode != 0 and "reserved" in refused.stderr,
          f"enrolling vigil-hub-ingest is refused with the reason: {refused.stderr.strip()}")
    creds = hub.add_device("honest-2")
    # The attack: while another device sends acknowledged messages, the attacker connects three
    # times with a clean session under the hub's ingest client ids (as the device it could enrol,
    # or else as any device). Every acknowledged message must still be stored.
    attacker = json.loads(refused.stdout) if refused.returncode == 0 else creds
    sender = hub.add_device("sender-1")
    total = 3000
    payloads = [heartbeat(i + 1) for i in range(total)]
    progress = {"acked": 0}
    thread = threading.Thread(target=lambda: send_acknowledged(
        hub.broker_port, sender, EVENTS.format("sender-1"), payloads, progress=progress))
    thread.start()
    for quarter in (1, 2, 3):  # during the load, not before or after it
        wait_for(lambda: progress["acked"] >= total * quarter // 4, 30, step=0.005)
        for client_id in ("vigil-hub-ingest", "vigil-hub/ingest"):
            sock, rc = connect(hub.broker_port, client_id, attacker["username"],
                               attacker["password"])
            time.sleep(0.2)
            sock.close()
    thread.join(timeout=60)
    acked = progress["acked"]
    check(acked == total, f"{total} messages acknowledged by the broker ({acked})")
    wait_for(lambda: stored_messages(hub, "sender-1") >= acked, 15)
    stored = stored_messages(hub, "sender-1")
    check(stored == acked, f"every acknowledged message stored: {stored} of {acked}")
    for client_id in ("vigil-hub/ingest", "vigil-hub-ingest", "vigil-hub/watch"):
        sock, rc = connect(hub.broker_port, client_id, creds["username"], creds["password"])
        sock.close()
        check(rc != 0, f"a device cannot connect as {client_id} (CONNACK {rc})")
    check(hub.connections() == hub.sessions + 1, "the hub's ingest session was never taken")
    # The hub's own account may use its ids: taking its session with a clean start is what the
    # broker losing the session looks like to the hub, which must say so.
    accounts = hub_accounts(hub)
    before = hub.connections()
    sock, rc = connect(hub.broker_port, "vigil-hub/ingest", "vigil-ingest", accounts["ingest"])
    check(rc == 0, f"the hub's account connects with its id (CONNACK {rc})")
    time.sleep(0.3)
    sock.close()
    check(wait_for(lambda: hub.connections() > before + 1, 15), "ingest reconnected")
    check(wait_for(lambda: "dropped the hub's session" in hub.log(), 10),
          "the lost session is logged")
    check(wait_for(lambda: metric(hub, "vigil_hub_ingest_sessions_lost_total") == 1, 5),
          "and counted in /metrics")
    status, body = http_get(hub, "/healthz")
    check(status == 503 and "dropped the hub's session" in body,
          f"and named by /healthz: {status} {body[:300]}")


def check_retained(hub, work):
    hub.start()
    creds = hub.add_device("ret-1")
    payload = os.path.join(work, "big.bin")
    with open(payload, "wb") as f:
        f.write(os.urandom(64 * 1024))
    count = 150
    # The device's own telemetry topics (a property bag each): allowed, but the broker must keep
    # none of them.
    with open(payload, "rb") as f:
        body = f.read()
    acked = send_acknowledged(hub.broker_port, creds, lambda i: EVENTS.format("ret-1") + f"&n={i}",
                              [body] * count, retain=True)
    check(acked == count, f"{count} retained publishes acknowledged ({acked})")
    accounts = hub_accounts(hub)
    got = subscribe_collect(hub.broker_port, "vigil-hub/test-reader", "vigil-ingest",
                            accounts["ingest"], "devices/+/messages/events/#", 1.5)
    check(got == [], f"no retained message of the device stays at the broker: {len(got or [])}")
    check(wait_for(lambda: metric(hub, "vigil_hub_broker_retain_cleared_total",
                                  'device="ret-1"') == count, 10),
          f"{count} retain flags cleared, counted for the device")
    time.sleep(2.5)  # two autosaves
    size = os.path.getsize(os.path.join(hub.data, "broker", "persist", "mosquitto.db"))
    print(f"persistence file after {count} x 64 kB retained: {size} bytes")
    check(size < 1024 * 1024, f"the broker's persistence stays small ({size} bytes)")


def check_refused(hub, work):
    hub.start()
    creds = hub.add_device("ref-1")
    hub.add_device("ref-victim")
    attempts = [(EVENTS.format("ref-victim"), "other_device", 3),
                ("$aws/things/ref-victim/defender/metrics/json", "other_device", 1),
                ("devices/ref-1/anything", "not_a_format_topic", 2),
                ("vigil/alerts/forged", "not_a_device_topic", 2)]
    for topic, _, times in attempts:
        for _ in range(times):
            r = mosquitto_pub(hub.broker_port, topic, "-m", "x", credentials=creds)
            check(r.returncode == 0, f"publish on {topic} sent: {r.stderr.strip()}")
    # Allowed topics are not counted.
    mosquitto_pub(hub.broker_port, EVENTS.format("ref-1"), "-m", "x", credentials=creds)
    expected = {"other_device": 4, "not_a_format_topic": 2, "not_a_device_topic": 2}
    for reason, n in expected.items():
        labels = f'device="ref-1",reason="{reason}"'
        check(wait_for(lambda: metric(hub, "vigil_hub_broker_refused_total", labels) == n, 10),
              f"vigil_hub_broker_refused_total{{{labels}}} == {n}: "
              f"{metric(hub, 'vigil_hub_broker_refused_total', labels)}")
    _, text = http_get(hub, "/metrics")
    check('device="ref-victim"' not in text, "nothing counted against the victim")
    # The broker's counts start again when it restarts; the hub's go on.
    pid = hub.broker_pid()
    os.kill(pid, signal.SIGTERM)
    check(wait_for(lambda: hub.broker_pid() != pid and listening(hub.broker_port), 15),
          "the hub restarted its broker")
    labels = 'device="ref-1",reason="other_device"'
    wait_for(lambda: mosquitto_pub(hub.broker_port, EVENTS.format("ref-victim"), "-m", "x",
                                   credentials=creds).returncode == 0, 10)
    check(wait_for(lambda: metric(hub, "vigil_hub_broker_refused_total", labels) == 5, 15),
          f"counted on across the broker's restart: "
          f"{metric(hub, 'vigil_hub_broker_refused_total', labels)}")


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def check_upgrade(hub, work):
    hub.start()
    creds = hub.add_device("up-1")
    check(hub.stop() == 0, "the hub stops")
    # The data directory's broker alone, as an earlier hub left it: the ingest session under the
    # old id, subscribed, and messages queued for it while no hub ran.
    conf = os.path.join(hub.data, "broker", "mosquitto.conf")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        check(wait_for(lambda: listening(hub.broker_port), 10), "the broker alone listens")
        password = hub_accounts(hub)["ingest"]
        sock, rc = connect(hub.broker_port, "vigil-hub/ingest", "vigil-ingest", password)
        sock.close()  # a clean start ends the current id's session: as if it never existed
        sock, rc = connect(hub.broker_port, "vigil-hub-ingest", "vigil-ingest", password,
                           clean=False)
        with sock:
            sock.sendall(mqtt_packet(0x82, (1).to_bytes(2, "big") +
                                     mqtt_string("devices/+/messages/events/#") + bytes([1])))
            check(read_packet(sock)[0] == 0x90, "the old session subscribed")
        total = 300
        acked = send_acknowledged(hub.broker_port, creds, EVENTS.format("up-1"),
                                  [heartbeat(i + 1) for i in range(total)])
        check(acked == total, f"{total} messages queued for the old session ({acked})")
    finally:
        broker.send_signal(signal.SIGTERM)  # it saves its sessions
        broker.wait(timeout=30)
    hub.start()
    check(wait_for(lambda: stored_messages(hub, "up-1") == total, 20),
          f"every message the old session held is stored ({stored_messages(hub, 'up-1')})")
    check(wait_for(lambda: "vigil-hub-ingest) gave" in hub.log(), 10), "the reading is logged")
    sock, rc = connect(hub.broker_port, "vigil-hub-ingest", "vigil-ingest", password, clean=False)
    sock.close()
    check(rc == 0, "the hub's account may still use the old id")
    log = open(os.path.join(hub.data, "broker", "mosquitto.log"), errors="replace").read()
    check(log.count("as vigil-hub-ingest (p2, c0") >= 2, "the old session was reconnected")


def check_queue(hub, work):
    hub.extra_args += ["--broker-max-inflight-bytes", str(1024 * 1024),
                       "--broker-max-queued-bytes", str(2 * 1024 * 1024)]
    hub.start()
    creds = hub.add_device("q-1")
    payload = os.path.join(work, "q.bin")
    with open(payload, "wb") as f:
        f.write(os.urandom(250 * 1000))
    accounts = hub_accounts(hub)
    os.kill(hub.process.pid, signal.SIGSTOP)  # a stalled hub: connected, acknowledging nothing
    try:
        count = 60
        r = publish_many(hub.broker_port, creds, EVENTS.format("q-1"), payload, count)
        check(r.returncode == 0, f"{count} x 250 kB sent: {r.stderr[-300:]}")
        stats = {}
        for topic, body, _ in subscribe_collect(
                hub.broker_port, "vigil-hub/test-sys", "vigil-ingest", accounts["ingest"],
                "$SYS/broker/#", 3) or []:
            stats[topic] = body.decode(errors="replace")
        held = int(stats.get("$SYS/broker/store/messages/bytes", "-1"))
        dropped = int(stats.get("$SYS/broker/publish/messages/dropped", "-1"))
        print(f"broker holds {held} bytes, dropped {dropped} of {count} messages")
        check(0 <= held <= 4 * 1024 * 1024, f"the broker holds at most its bounds ({held} bytes)")
        check(dropped > 0, f"what did not fit was dropped ({dropped})")
    finally:
        os.kill(hub.process.pid, signal.SIGCONT)
    check(wait_for(lambda: metric(hub, "vigil_hub_broker_dropped_messages_total") > 0, 10),
          "/metrics counts the dropped messages")


def main():
    command = sys.argv[1]
    work = tempfile.mkdtemp(prefix="vigil-broker-e2e-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    hub = Hub(sys.argv[2], work)
    checks = {"identity": check_identity, "retained": check_retained, "refused": check_refused,
              "queue": check_queue, "upgrade": check_upgrade}
    if command not in checks:
        print(__doc__)
        return 2
    try:
        checks[command](hub, work)
        log = hub.log()
        check("runtime error" not in log and "Sanitizer" not in log, "no sanitizer reports")
    finally:
        if hub.process and hub.process.poll() is None:
            os.kill(hub.process.pid, signal.SIGCONT)
        hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
        if failed():
            print(hub.log()[-3000:])
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

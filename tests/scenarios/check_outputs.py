#!/usr/bin/python3
"""Alert delivery through a real vigil-hub: an inbound scan recorded in network namespaces the
test makes, replayed through vigil-agent --pcap, its alert delivered to receivers the test owns.

  check_outputs.py HUB AGENT CLI

- A signed webhook (the HMAC-SHA256 of the body checked), syslog over UDP and over TCP (RFC 5424,
  octet counting), the MQTT output on the hub's own broker (read with mosquitto_sub) and the
  API's server-sent events each get the alert's opened event; `vigil alerts list` and `show`
  print it.
- A webhook whose receiver takes the connection and never answers, and one at a closed port:
  their failures, drops and give-ups are counted in /metrics, and ingest is not slowed: the
  replay is stored as fast as with no output at all.
- Hot reload: the policy without the signed webhook is taken (GET /api/policy) and the next
  alert does not reach it; a broken policy is refused with its line, and alerts still reach the
  outputs kept.

Without root (network namespaces) the test exits 77, skipped.
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for path in (HERE, ROOT / "tests" / "support", ROOT / "tests" / "hub_e2e"):
    sys.path.insert(0, str(path))

from vigil_testlib import (SKIPPED, check, failed, free_port, stop_process,  # noqa: E402
                           summary, wait_for)

try:
    import scapy  # noqa: F401
except ImportError:
    print("skipped: python3-scapy is not installed for this python")
    sys.exit(SKIPPED)

import attacks  # noqa: E402
from scenario_hub import ScenarioHub, sent_messages  # noqa: E402
from scenario_net import ATTACKER_V4, ScenarioNet  # noqa: E402

SECRET = "s3cret-of-the-receiver"
SCAN_PORTS = 30  # above the built-in threshold of 15 ports
SEVERITY_CODE = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
FACILITY = 13
WAIT_S = 20  # for any one delivery


class WebhookReceiver:
    """An HTTP receiver in a thread: every POST's headers and exact body."""

    def __init__(self):
        self.posts = []
        received = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HangingReceiver:
    """Accepts TCP connections and never answers, never closes (until the test ends)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


class SyslogReceiver:
    """RFC 5424 messages over UDP (one a datagram) and TCP (RFC 6587 octet counting)."""

    def __init__(self):
        self.udp_messages, self.tcp_messages, self.tcp_garbage = [], [], []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.settimeout(0.2)
        self.udp_port = self.udp.getsockname()[1]
        self.tcp_port = self.tcp.getsockname()[1]
        self.running = True
        self.threads = [threading.Thread(target=self.read_udp, daemon=True),
                        threading.Thread(target=self.accept_tcp, daemon=True)]
        for thread in self.threads:
            thread.start()

    def read_udp(self):
        while self.running:
            try:
                self.udp_messages.append(self.udp.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    def accept_tcp(self):
        while self.running:
            try:
                connection, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.read_tcp, args=(connection,), daemon=True).start()

    def read_tcp(self, connection):
        connection.settimeout(0.2)
        pending = b""
        while self.running:
            try:
                chunk = connection.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            pending += chunk
            while True:
                length = re.match(rb"(\d{1,6}) ", pending)
                if not length:
                    if len(pending) > 8 and not re.match(rb"\d{1,6}$", pending):
                        self.tcp_garbage.append(pending)
                        pending = b""
                    break
                start = length.end()
                size = int(length.group(1))
                if len(pending) < start + size:
                    break
                self.tcp_messages.append(pending[start:start + size])
                pending = pending[start + size:]
        connection.close()

    def close(self):
        self.running = False
        for thread in self.threads:
            thread.join(timeout=2)
        self.udp.close()
        self.tcp.close()


class AlertStream:
    """GET /api/alerts/stream read in a thread: (event, id, data) of every server-sent event."""

    def __init__(self, hub):
        self.events = []
        self.status = None
        self.connection = http.client.HTTPConnection("127.0.0.1", hub.api_port, timeout=120)
        self.connection.request("GET", "/api/alerts/stream",
                                headers={"Authorization": "Bearer " + hub.token(),
                                         "Accept": "text/event-stream"})
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        fields = {}
        try:
            for raw in self.response:
                line = raw.decode(errors="replace").rstrip("\r\n")
                if not line:
                    if "event" in fields:
                        self.events.append(fields)
                    fields = {}
                elif not line.startswith(":") and ":" in line:
                    name, value = line.split(":", 1)
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass  # the stream closed: by the test, or by the hub stopping

    def close(self):
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def parse_syslog(frame):
    """(pri, msgid, structured data {name: value}) of an RFC 5424 message; None if it is not."""
    text = frame.decode("utf-8", errors="replace")
    match = re.match(r'<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) '
                     r'\[vigil@32473((?: \w+="(?:[^"\\]|\\.)*")*)\]', text)
    if not match:
        return None
    params = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(7)))
    return int(match.group(1)), match.group(6), params


def policy_text(receivers, webhook=True, broken=False):
    hook, hang, syslog = receivers["hook"], receivers["hang"], receivers["syslog"]
    text = "# Every output kind, and two webhooks that cannot deliver.\n"
    if webhook:
        text += ("[[outputs.webhook]]\n"
                 'name = "signed"\n'
                 f'url = "http://127.0.0.1:{hook.port}/vigil"\n'
                 f'secret = "{SECRET}"\n'
                 'timeout = "5s"\n')
    text += ("[[outputs.webhook]]\n"
             'name = "hanging"\n'
             f'url = "http://127.0.0.1:{hang.port}/never"\n'
             'timeout = "5s"\n'
             "retries = 1\n"
             "queue = 1\n"
             'changes = ["opened", "acknowledged", "resolved"]\n'
             "[[outputs.webhook]]\n"
             'name = "refused"\n'
             f'url = "http://127.0.0.1:{receivers["closed_port"]}/closed"\n'
             'timeout = "1s"\n'
             "retries = 1\n"
             "[[outputs.syslog]]\n"
             'name = "siem-udp"\n'
             f'address = "127.0.0.1:{syslog.udp_port}"\n'
             'transport = "udp"\n'
             f"facility = {FACILITY}\n"
             "[[outputs.syslog]]\n"
             'name = "siem-tcp"\n'
             f'address = "127.0.0.1:{syslog.tcp_port}"\n'
             'transport = "tcp"\n'
             f"facility = {FACILITY}\n"
             "[[outputs.mqtt]]\n"
             'name = "dashboard"\n'
             'topic = "vigil/alerts/{device_id}/{category}"\n'
             "qos = 1\n")
    if broken:
        text += "[[outputs.syslog]\n"  # the last line: a syntax error
    return text


def metric(hub, name, output):
    """The value of name{output=..} in /metrics; None when absent."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", hub.api_port, timeout=10)
        connection.request("GET", "/metrics", headers={"Authorization": "Bearer " + hub.token()})
        text = connection.getresponse().read().decode()
        connection.close()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + "{") and f'output="{output}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def timed_replay(hub, agent, device_id, scenario, work):
    """Replays the capture as device_id; seconds from the agent's start until all its messages
    are stored, and the messages it sent."""
    started = time.monotonic()
    result = hub.replay(agent, device_id, scenario.pcap, scenario.locals, work)
    sent = sent_messages(result.stderr)
    stored = wait_for(lambda: hub.messages_stored(device_id) >= sent, 30, step=0.02)
    elapsed = time.monotonic() - started
    check(stored and hub.messages_stored(device_id) == sent,
          f"{device_id}: the agent's {sent} messages all stored once "
          f"({hub.messages_stored(device_id)}) in {elapsed:.2f} s")
    return elapsed


def scan_alert(hub, device_id):
    """The device's port_scan_inbound alert from the API, waited for."""
    alerts = hub.wait_alerts(device_id, lambda found: any(
        a["category"] == "port_scan_inbound" for a in found), timeout=WAIT_S)
    raised = [a for a in alerts if a["category"] == "port_scan_inbound"]
    check(raised and raised[0]["subject"] == ATTACKER_V4,
          f"{device_id}: a port_scan_inbound alert about {ATTACKER_V4}: "
          f"{[(a['type'], a['subject']) for a in alerts]}")
    return raised[0] if raised else None


def event_matches(event, alert):
    inner = event.get("alert", {}) if isinstance(event, dict) else {}
    return (event.get("change") == "opened" and inner.get("id") == alert["id"]
            and inner.get("type") == alert["type"] and inner.get("category") == alert["category"]
            and inner.get("subject") == alert["subject"]
            and inner.get("device_id") == alert["device_id"])


def webhook_events(hook, alert):
    """The signed webhook's POSTs of the alert's opened event: (headers, body, event)."""
    found = []
    for headers, body in list(hook.posts):
        try:
            event = json.loads(body)
        except ValueError:
            continue
        if event_matches(event, alert):
            found.append((headers, body, event))
    return found


def syslog_frames(frames, alert):
    found = []
    for frame in list(frames):
        parsed = parse_syslog(frame)
        if parsed and parsed[2].get("id") == str(alert["id"]):
            found.append(parsed)
    return found


def mqtt_events(sub_log, alert):
    topic = f"vigil/alerts/{alert['device_id']}/{alert['category']}"
    found = []
    try:
        with open(sub_log, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return found
    for line in lines:
        if line.startswith(topic + " "):
            try:
                event = json.loads(line[len(topic) + 1:])
            except ValueError:
                continue
            if event_matches(event, alert):
                found.append(event)
    return found


def sse_events(stream, alert):
    found = []
    for fields in list(stream.events):
        try:
            data = json.loads(fields.get("data", ""))
        except ValueError:
            continue
        if fields.get("event") == "opened" and fields.get("id") == str(alert["id"]) and \
                event_matches({"change": "opened", "alert": data}, alert):
            found.append(fields)
    return found


def check_delivered(receivers, stream, sub_log, alert, webhook=True):
    """Every working output (and the stream) got the alert's opened event."""
    what = f"alert {alert['id']} ({alert['device_id']})"
    hook, syslog = receivers["hook"], receivers["syslog"]
    if webhook:
        check(wait_for(lambda: webhook_events(hook, alert), WAIT_S, step=0.1),
              f"{what}: the webhook got its opened event")
        for headers, body, event in webhook_events(hook, alert)[:1]:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            given = headers.get("X-Vigil-Signature", "")
            check(hmac.compare_digest(given, expected),
                  f"{what}: X-Vigil-Signature verifies ({given[:20]}..)")
            check(headers.get("X-Vigil-Event") == "opened", f"{what}: X-Vigil-Event: opened")
            check(headers.get("Content-Type", "").startswith("application/json"),
                  f"{what}: Content-Type application/json")
    for transport, frames in (("UDP", syslog.udp_messages), ("TCP", syslog.tcp_messages)):
        check(wait_for(lambda: syslog_frames(frames, alert), WAIT_S, step=0.1),
              f"{what}: syslog over {transport} got it")
        for pri, msgid, params in syslog_frames(frames, alert)[:1]:
            code = SEVERITY_CODE.get(alert["severity"])
            check(pri == FACILITY * 8 + code, f"{what}: {transport} PRI {pri} = facility "
                                              f"{FACILITY} x 8 + {alert['severity']} {code}")
            check(msgid == alert["type"], f"{what}: {transport} MSGID {msgid} = the alert type")
            check(params.get("category") == alert["category"]
                  and params.get("subject") == alert["subject"]
                  and params.get("device") == alert["device_id"]
                  and params.get("change") == "opened",
                  f"{what}: {transport} structured data {params}")
    check(not syslog.tcp_garbage, f"every TCP syslog frame octet-counted: {syslog.tcp_garbage}")
    check(wait_for(lambda: mqtt_events(sub_log, alert), WAIT_S, step=0.1),
          f"{what}: mosquitto_sub printed its event on vigil/alerts/{alert['device_id']}/"
          f"{alert['category']}")
    check(wait_for(lambda: sse_events(stream, alert), WAIT_S, step=0.1),
          f"{what}: the alert stream sent its opened event")


def run_cli(cli, hub, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_TOKEN", "VIGIL_HUB")}
    env["VIGIL_DATA"] = hub.data
    result = subprocess.run([cli, "--hub", f"http://127.0.0.1:{hub.api_port}", *args],
                            capture_output=True, text=True, timeout=30, env=env)
    check(result.returncode == 0, f"vigil {' '.join(args)} exits 0 ({result.returncode}) "
                                  f"{result.stderr[-300:]}")
    return result.stdout


def check_cli(cli, hub, alert):
    listed = run_cli(cli, hub, "alerts", "list", "--category", "port_scan_inbound")
    rows = [line.split() for line in listed.splitlines()]
    check(any(row and row[0] == str(alert["id"]) and alert["device_id"] in row for row in rows),
          f"vigil alerts list --category port_scan_inbound prints alert {alert['id']}:\n{listed}")
    check(all(not row or row[0] in ("ID", "(more:") or "port_scan_inbound" in row
              for row in rows), "it lists only port_scan_inbound alerts")
    shown = run_cli(cli, hub, "alerts", "show", str(alert["id"]))
    fields = dict(re.findall(r"^(\w[\w ]*?) {2,}(.*)$", shown, re.MULTILINE))
    check(fields.get("id") == str(alert["id"]) and fields.get("type") == alert["type"]
          and fields.get("subject") == alert["subject"]
          and fields.get("category") == alert["category"],
          f"vigil alerts show {alert['id']} prints it:\n{shown[:600]}")


def shown_outputs(hub):
    status, body = hub.api("/api/policy")
    policy = body.get("policy", {}) if isinstance(body, dict) else {}
    errors = body.get("errors", []) if isinstance(body, dict) else []
    return status, [o.get("name") for o in policy.get("outputs", [])], errors


def post(hub, path):
    connection = http.client.HTTPConnection("127.0.0.1", hub.api_port, timeout=10)
    connection.request("POST", path, headers={"Authorization": "Bearer " + hub.token()})
    status = connection.getresponse().status
    connection.close()
    return status


def broker_ingest_password(hub):
    with open(os.path.join(hub.data, "broker-credentials.json")) as f:
        return json.load(f)["ingest"]


def check_outputs(hub_binary, agent, cli, work):
    with ScenarioNet("o1") as net:
        scan = attacks.inbound_scan(net, work, ports=SCAN_PORTS, udp=False)
    receivers = {"hook": WebhookReceiver(), "hang": HangingReceiver(),
                 "syslog": SyslogReceiver(), "closed_port": free_port()}
    hub = ScenarioHub(hub_binary, work, policy_text(receivers))
    subscriber, stream = None, None
    sub_log = os.path.join(work, "mosquitto_sub.log")
    try:
        hub.start()
        check(wait_for(lambda: "6 alert outputs" in hub.log(), 15),
              "the hub took the policy's six outputs")
        status, names, _ = shown_outputs(hub)
        check(status == 200 and sorted(names) == sorted(
            ["signed", "hanging", "refused", "siem-udp", "siem-tcp", "dashboard"]),
            f"GET /api/policy shows the outputs: {names}")
        with open(sub_log, "w") as log:
            subscriber = subprocess.Popen(
                # Line-buffered: its debug lines say when it subscribed.
                ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(hub.broker_port),
                 "-u", "vigil-ingest", "-P", broker_ingest_password(hub),
                 "-i", "vigil-hub/outputs-test", "-t", "vigil/alerts/#", "-q", "1", "-v", "-d"],
                stdout=log, stderr=subprocess.STDOUT)

        def subscribed():
            with open(sub_log, errors="replace") as f:
                return "SUBACK" in f.read()
        check(wait_for(subscribed, 15), "mosquitto_sub subscribed as the hub's ingest account")
        stream = AlertStream(hub)
        check(stream.status == 200, f"GET /api/alerts/stream: {stream.status}")

        with_outputs_s = timed_replay(hub, agent, "outputs-scan", scan, work)
        alert = scan_alert(hub, "outputs-scan")
        if alert:
            check_delivered(receivers, stream, sub_log, alert)
            check_cli(cli, hub, alert)
            # Two more events for the hanging output, whose sender waits on the first and holds
            # one in its queue of one: the third is dropped.
            check(post(hub, f"/api/alerts/{alert['id']}/ack") == 200, "the alert acknowledged")
            check(post(hub, f"/api/alerts/{alert['id']}/resolve") == 200, "the alert resolved")
        # The hanging output: 5 s timeout, retried once after the backoff, then given up.
        for name, output in (("failed", "hanging"), ("dropped", "hanging"),
                             ("given_up", "hanging"), ("failed", "refused"),
                             ("given_up", "refused")):
            full = f"vigil_hub_output_{name}_total"
            check(wait_for(lambda: (metric(hub, full, output) or 0) >= 1, 30, step=0.2),
                  f"/metrics: {full}{{output=\"{output}\"}} counted: {metric(hub, full, output)}")
        check(metric(hub, "vigil_hub_output_sent_total", "signed") >= 1
              and not metric(hub, "vigil_hub_output_failed_total", "signed"),
              "/metrics: the signed webhook sent, never failed")
        check(receivers["hang"].held, "the hanging receiver holds the hub's connections")

        # Hot reload: the signed webhook removed.
        posts_before = len(receivers["hook"].posts)
        logged = len(hub.log())
        hub.write_policy(policy_text(receivers, webhook=False))
        check(wait_for(lambda: "5 alert outputs" in hub.log()[logged:], 15),
              "the policy without the webhook taken")
        status, names, errors = shown_outputs(hub)
        check(status == 200 and "signed" not in names and len(names) == 5 and not errors,
              f"GET /api/policy shows the webhook gone: {names} {errors}")
        # The hanging webhook holds the acknowledgement meanwhile: this replay is timed too.
        with_outputs_s = max(with_outputs_s,
                             timed_replay(hub, agent, "outputs-after-reload", scan, work))
        reloaded = scan_alert(hub, "outputs-after-reload")
        if reloaded:
            check_delivered(receivers, stream, sub_log, reloaded, webhook=False)
            check(not webhook_events(receivers["hook"], reloaded)
                  and len(receivers["hook"].posts) == posts_before,
                  f"the removed webhook got nothing more ({len(receivers['hook'].posts)} posts, "
                  f"{posts_before} before)")

        # A broken policy: refused with its line, the outputs kept.
        broken = policy_text(receivers, webhook=False, broken=True)
        broken_line = broken.count("\n")
        logged = len(hub.log())
        hub.write_policy(broken)
        check(wait_for(lambda: "previous policy stays in force" in hub.log()[logged:], 15),
              "the broken policy refused")
        status, names, errors = shown_outputs(hub)
        check(status == 200 and [e.get("line") for e in errors] == [broken_line],
              f"GET /api/policy shows the error at line {broken_line}: {errors}")
        check(len(names) == 5 and "signed" not in names,
              f"GET /api/policy shows the outputs kept: {names}")
        hub.replay(agent, "outputs-after-broken", scan.pcap, scan.locals, work)
        kept = scan_alert(hub, "outputs-after-broken")
        if kept:
            check_delivered(receivers, stream, sub_log, kept, webhook=False)
            check(len(receivers["hook"].posts) == posts_before, "the removed webhook got nothing")
        check(hub.process.poll() is None, "the hub runs on")

        # Stopped while the reload to no outputs drains the hanging webhook, which holds the
        # kept alert's event: the hub waits for the drain and stops cleanly.
        logged = len(hub.log())
        hub.write_policy("# No outputs.\n")
        check(wait_for(lambda: re.search(r"policy .*: .* 0 outputs", hub.log()[logged:]), 15),
              "the policy without outputs taken")
        stopping = time.monotonic()
        code = hub.stop()
        stopped_s = time.monotonic() - stopping
        check(code == 0 and stopped_s < 15,
              f"SIGTERM during the outputs' drain: vigil-hub stops cleanly ({code}) in "
              f"{stopped_s:.1f} s")

        # The same replay with no output at all: the baseline the hanging output must not slow.
        hub.start()
        without_outputs_s = timed_replay(hub, agent, "outputs-none", scan, work)
        print(f"BENCH outputs_replay_stored_s {with_outputs_s:.2f} s with a hanging webhook "
              "(the slower of two replays), "
              f"{without_outputs_s:.2f} s without outputs", flush=True)
        check(with_outputs_s <= 2 * without_outputs_s + 2,
              f"the hanging webhook did not slow ingest: {with_outputs_s:.2f} s against "
              f"{without_outputs_s:.2f} s without outputs")
    finally:
        if stream:
            stream.close()
        if subscriber:
            stop_process(subscriber)
        code = hub.stop()
        log = hub.log()
        check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer reports")
        check(code == 0, f"vigil-hub stops cleanly ({code})")
        if failed():
            print(log[-4000:])
            if os.path.exists(sub_log):
                with open(sub_log, errors="replace") as f:
                    print("mosquitto_sub:", f.read()[-1500:])
        receivers["hook"].close()
        receivers["hang"].close()
        receivers["syslog"].close()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    hub_binary, agent, cli = sys.argv[1:]
    if os.geteuid() != 0:
        print("skipped: the scenarios make network namespaces, which needs root")
        return SKIPPED
    missing = [t for t in ("nmap", "tcpdump", "ethtool", "mosquitto_sub") if not shutil.which(t)]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (scripts/packages.sh, group test)")
        return SKIPPED
    work = tempfile.mkdtemp(prefix="vigil-outputs-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    try:
        check_outputs(hub_binary, agent, cli, work)
    finally:
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Security hygiene end to end: a real vigil-hub (its own mosquitto, devices enrolled with their own
credentials) gets, for each recommendation kind, a device that shows the problem, then the same
device fixed; the recommendations are read back through GET /api/recommendations and `vigil
recommendations`, and their changes through a webhook.

  check_recommendations.py HUB AGENT CLI FLATC

- Traffic, through vigil-agent replaying captures written with scapy: telnet accepted from the
  internet (service.cleartext tcp/23 and exposure.internet_inbound tcp/23), MQTT on 1883
  accepted from the local network (service.cleartext, no exposure), FTP to a server on the
  internet (service.cleartext_outbound tcp/21). The same device a day later talking only MQTT
  over TLS gets them all closed. Its two replays are two boots: no identity.shared.
- Established connections in an AWS Device Defender report open the same three kinds (their
  closing needs a day of the hub's time, as AWS reports carry no device time).
- Listening ports in AWS Device Defender reports, JSON and CBOR, and in Vigil CBOR: telnet and
  FTP listening open service.cleartext, a report without them closes it.
- System information in Vigil CBOR and legacy Defender FlatBuffers: a vulnerable NetX Duo,
  lwIP or ThreadX release opens firmware.vulnerable with its CVEs, a fixed one closes it; a
  pre-release opens firmware.unknown_version. Hostile version strings: over the format's limit
  refused whole, control characters shown escaped, odd forms never matched; the hub runs on.
- Dismissal through the CLI holds for the same version and reopens for another.
- identity.shared: two vigil-agents replaying at once with one identity's settings are caught,
  and closed when one alone reports a day later; two boot ids whose sequences interleave, with a
  day later the one that reported second to last, the same; one device rebooting four times,
  and the traffic device's two replays, are not.
- agent.outdated, agent.data_dropped, config.refused (heartbeats and system information),
  clock.skew (three reports two hours behind the hub, then one on time) and messages.small (a day
  of 1441 heartbeats, then a day of a few).

Needs root only because the hub's broker, started as root, drops to its own user; python3-scapy
and cbor2 for the captures and reports. Exits 77, skipped, without them.
"""

import json
import os
import pathlib
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for path in (HERE, ROOT / "tests" / "support", ROOT / "tests" / "hub_e2e"):
    sys.path.insert(0, str(path))

from vigil_testlib import SKIPPED, check, failed, free_port, summary, wait_for  # noqa: E402

try:
    import cbor2
    from scapy.utils import PcapWriter
except ImportError:
    print("skipped: python3-scapy and python3-cbor2 are needed")
    sys.exit(SKIPPED)

from check_broker import send_acknowledged  # noqa: E402
from check_hub import mqtt_packet, mqtt_string, read_packet  # noqa: E402
from check_outputs import WebhookReceiver, run_cli  # noqa: E402
from device_lives import Conversation  # noqa: E402
from scenario_hub import ScenarioHub, sent_messages  # noqa: E402

VIGIL_TOPIC = "devices/{}/messages/events/mti=vigil.1&%24.ct=application%2Fcbor"
DEFENDER_TOPIC = ("devices/{}/messages/events/"
                  "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&mti=2.3-1-0-0")
AWS_TOPIC = "$aws/things/{}/defender/metrics/{}"

DEVICE_V4 = "192.168.7.10"
LOCAL_PEER = "192.168.7.20"
ATTACKER = "203.0.113.66"
FTP_SERVER = ("203.0.113.40", 21)
BROKER = ("203.0.113.30", 8883)
CAPTURE_START = 1_700_000_000.0
DAY_S = 24 * 3600
WAIT_S = 15
# identity.shared by source address: the hub's --shared-address-window-s in this test.
SHARED_ADDRESS_WINDOW_S = 6
# 200 s of capture, 600 frames: about 8 s of wall time per twin agent.
TWIN_PPS = 75


# --- captures ----------------------------------------------------------------------------------

def keepalive(writer, start, seconds):
    """MQTT over TLS to the broker every 10 s: windows keep coming, nothing in clear."""
    tls = Conversation(writer, DEVICE_V4, 40883, BROKER)
    t = tls.open(start)
    for step in range(int(seconds // 10)):
        tls.exchange(t + 10 * step + 1, b"\x17\x03\x03" + b"\0" * 40, b"\x17\x03\x03" + b"\0" * 20)
    tls.close(start + seconds)


def accepted(writer, t, peer, peer_port, local_port, request, answer):
    """A connection the peer opens to the device, which answers and closes."""
    conversation = Conversation(writer, DEVICE_V4, local_port, (peer, peer_port))
    conversation.packet(t, False, "S")
    conversation.packet(t + 0.001, True, "SA")
    conversation.packet(t + 0.03, False, "A")
    conversation.packet(t + 0.05, False, "PA", request)
    conversation.packet(t + 0.06, True, "PA", answer)
    conversation.close(t + 0.2)


def exposed_capture(path):
    """A minute of a device that offers telnet to the internet, MQTT without TLS to its LAN and
    fetches from an FTP server on the internet."""
    with PcapWriter(path, linktype=1, sync=True) as writer:
        accepted(writer, CAPTURE_START + 1, ATTACKER, 50023, 23, b"root\r\n", b"Password: ")
        ftp = Conversation(writer, DEVICE_V4, 40021, FTP_SERVER)
        ftp.exchange(ftp.open(CAPTURE_START + 5), b"USER anonymous\r\n", b"331 Password\r\n")
        ftp.close(CAPTURE_START + 6)
        accepted(writer, CAPTURE_START + 8, LOCAL_PEER, 50883, 1883, b"\x10\x10" + b"\0" * 16,
                 b"\x20\x02\x00\x00")
        keepalive(writer, CAPTURE_START + 12, 60)


def fixed_capture(path):
    """The same device a day and an hour later: only MQTT over TLS."""
    with PcapWriter(path, linktype=1, sync=True) as writer:
        keepalive(writer, CAPTURE_START + DAY_S + 3600, 60)


# --- reports -----------------------------------------------------------------------------------

def vigil_message(boot, sequence, unix_time, system=None, heartbeat=None, listening=None):
    """A Vigil message (docs/protocol.md), its map keys in the order the decoder requires."""
    message = {1: 1, 2: boot, 3: sequence, 4: int(unix_time), 5: sequence}
    if system is not None:
        message[11] = system
    if listening is not None:
        message[12] = listening
    if heartbeat is not None:
        message[13] = heartbeat
    return cbor2.dumps(message, canonical=True)


def stack(name, version, agent_version="0.3.0"):
    return {1: agent_version, 4: name, 5: version}


def heartbeat(dropped=0, rejected=None, collectors=0b11110):
    """collectors: bit (1 << id) per enabled one (network 1, system 2, heartbeat 3, listening 4)."""
    body = {1: 2, 2: 3, 3: 100, 4: 0, 5: 0, 6: 0, 7: 10, 8: 0, 9: dropped, 10: 0, 11: 0, 13: 0,
            14: 0, 15: collectors}
    if rejected is not None:
        body[12] = rejected
    return body


class Fleet:
    """Devices enrolled at the hub, each publishing Vigil messages under its own credentials with
    its boot id and a rising sequence."""

    def __init__(self, hub):
        self.hub = hub
        self.sequences = {}

    def enrol(self, device_id):
        if device_id not in self.hub.credentials:
            self.hub.enrol(device_id)
        return self.hub.credentials[device_id]

    def publish(self, device_id, payloads, topic=None):
        """Publishes every payload at QoS 1; the count the device had stored before."""
        creds = self.enrol(device_id)
        before = self.hub.messages_stored(device_id)
        acked = send_acknowledged(self.hub.broker_port, creds,
                                  topic or VIGIL_TOPIC.format(device_id), payloads, window=50)
        check(acked == len(payloads), f"{device_id}: {acked} of {len(payloads)} acknowledged")
        return before

    def send(self, device_id, payloads, topic=None):
        """Publishes and waits until the hub stored them all. Recommendations change in the
        transaction that stores their report, so once stored, a report has been judged."""
        before = self.publish(device_id, payloads, topic)
        stored = wait_for(lambda: self.hub.messages_stored(device_id) >= before + len(payloads),
                          WAIT_S, step=0.05)
        check(stored, f"{device_id}: {len(payloads)} messages stored "
                      f"({self.hub.messages_stored(device_id) - before})")

    def vigil(self, device_id, boot=7, unix_time=None, **content):
        sequence = self.sequences.get((device_id, boot), 0)
        self.sequences[(device_id, boot)] = sequence + 1
        return vigil_message(boot, sequence, unix_time or time.time(), **content)


def publish_once(hub, creds, topic, payload, source="127.0.0.1", tls=None):
    """One connection from `source` (over TLS to the hub's TLS listener when `tls` is an
    ssl.SSLContext) publishing one message at QoS 1; True once acknowledged."""
    port = hub.tls_port if tls else hub.broker_port
    raw = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock = tls.wrap_socket(raw) if tls else raw
    with sock:
        body = (mqtt_string("MQTT") + bytes([4, 0xC2]) + (30).to_bytes(2, "big") +
                mqtt_string(creds["client_id"]) + mqtt_string(creds["username"]) +
                mqtt_string(creds["password"]))
        sock.sendall(mqtt_packet(0x10, body))
        kind, ack = read_packet(sock)
        if kind != 0x20 or ack[1] != 0:
            return False
        sock.sendall(mqtt_packet(0x32, mqtt_string(topic) + (1).to_bytes(2, "big") + payload))
        kind, _ = read_packet(sock)
        sock.sendall(mqtt_packet(0xE0, b""))
        return kind >> 4 == 4


def defender_system(flatc, work, name, os_info, kernel_info=None):
    """A legacy Defender message of one SystemInformation event, built with flatc."""
    payload = {"os_info": os_info}
    if kernel_info is not None:
        payload["kernel_info"] = kernel_info
    document = {"security_module_id": "defender-iot-micro-agent",
                "security_module_version": 50659332,
                "events": [{"id": {"value": list(os.urandom(16))}, "time": int(time.time()),
                            "collection_interval": 60, "payload_type": "SystemInformation",
                            "payload": payload}]}
    source = os.path.join(work, name + ".json")
    with open(source, "w") as f:
        json.dump(document, f)
    schema = ROOT / "hub" / "decode" / "defender.fbs"
    result = subprocess.run([flatc, "-b", "-o", work, str(schema), source], capture_output=True,
                            text=True, timeout=30)
    check(result.returncode == 0, f"flatc {name}: {result.stderr}")
    with open(os.path.join(work, name + ".bin"), "rb") as f:
        return f.read()


def aws_report(report_id, tcp_ports, short=False):
    ports = [{"pt" if short else "port": p, "if" if short else "interface": "eth0"}
             for p in tcp_ports]
    if short:
        return {"hed": {"rid": report_id, "v": "1.0"},
                "met": {"tp": {"pts": ports, "t": len(ports)}}}
    return {"header": {"report_id": report_id, "version": "1.0"},
            "metrics": {"listening_tcp_ports": {"ports": ports, "total": len(ports)}}}


# --- reading them back -------------------------------------------------------------------------

def recommendations(hub, device_id):
    status, body = hub.api(f"/api/recommendations?device={device_id}&limit=500")
    if status != 200 or not isinstance(body, dict):
        check(False, f"GET /api/recommendations?device={device_id}: {status} {str(body)[:200]}")
        return []
    return body.get("recommendations", [])


def find(found, kind, subject=None):
    for r in found:
        if r["kind"] == kind and (subject is None or r["subject"] == subject):
            return r
    return None


def wait_state(hub, device_id, kind, subject, state, more=lambda r: True):
    """The device's recommendation of kind and subject once it is in `state` and `more` holds
    (None if it never gets there)."""
    seen = {}

    def arrived():
        seen["r"] = find(recommendations(hub, device_id), kind, subject)
        return seen["r"] is not None and seen["r"]["state"] == state and more(seen["r"])
    ok = wait_for(arrived, WAIT_S, step=0.2)
    r = seen.get("r")
    check(ok, f"{device_id}: {kind} {subject or ''} {state}: "
              f"{json.dumps(r)[:600] if r else 'none'}")
    if ok and state == "closed":
        check(r["closed_ms"] >= r["opened_ms"] > 0, f"{device_id}: {kind} closed at hub time "
                                                    f"{r['closed_ms']} (opened {r['opened_ms']})")
    if ok and state == "open":
        check(r["closed_ms"] == 0 and r["title"] and r["remediation"] and r["rationale"],
              f"{device_id}: {kind} says what and how to fix: {r['title']!r}")
    return r if ok else None


def none_of(hub, device_id, kind):
    found = find(recommendations(hub, device_id), kind)
    check(found is None, f"{device_id}: no {kind}: {json.dumps(found)[:300] if found else ''}")


def webhook_events(receiver, recommendation_id):
    """(X-Vigil-Event, change, the recommendation) of the webhook's posts about one."""
    found = []
    for headers, body in list(receiver.posts):
        try:
            event = json.loads(body)
        except ValueError:
            continue
        inner = event.get("recommendation", {}) if isinstance(event, dict) else {}
        if inner.get("id") == recommendation_id:
            found.append((headers.get("X-Vigil-Event"), event.get("change"), inner))
    return found


def opened_evidence(receiver, recommendation):
    """The evidence the recommendation opened with, from the webhook's opened event."""
    def opened():
        return [inner for event, change, inner in webhook_events(receiver, recommendation["id"])
                if event == "recommendation.opened" and change == "opened"]
    check(wait_for(opened, WAIT_S, step=0.1),
          f"the webhook got {recommendation['kind']} {recommendation['subject']} opened")
    events = opened()
    return events[0].get("evidence", {}) if events else {}


def remotes(evidence):
    return sorted({f.get("remote") for f in evidence.get("flows", [])})


# --- the kinds ---------------------------------------------------------------------------------

def check_traffic(hub, agent, receiver, work):
    exposed, fixed = os.path.join(work, "exposed.pcap"), os.path.join(work, "fixed.pcap")
    exposed_capture(exposed)
    fixed_capture(fixed)
    device = "rec-traffic"
    hub.replay(agent, device, exposed, [DEVICE_V4], work)
    # The flows that showed a problem are in the evidence of the report that opened it (the
    # webhook's opened event); later reports refresh the evidence with their own flows.
    telnet = wait_state(hub, device, "service.cleartext", "tcp/23", "open")
    if telnet:
        evidence = opened_evidence(receiver, telnet)
        check(evidence.get("accepted_connections") is True and evidence.get("protocol") == "telnet"
              and remotes(evidence) == [ATTACKER],
              f"telnet's evidence: accepted from {ATTACKER}: {evidence}")
        check(telnet["severity"] == "high", f"telnet is high: {telnet['severity']}")
    mqtt = wait_state(hub, device, "service.cleartext", "tcp/1883", "open")
    if mqtt:
        evidence = opened_evidence(receiver, mqtt)
        check(remotes(evidence) == [LOCAL_PEER],
              f"MQTT's evidence: accepted from {LOCAL_PEER}: {evidence}")
    ftp = wait_state(hub, device, "service.cleartext_outbound", "tcp/21", "open")
    if ftp:
        evidence = opened_evidence(receiver, ftp)
        check(remotes(evidence) == [FTP_SERVER[0]],
              f"FTP's evidence: to {FTP_SERVER[0]}: {evidence}")
    exposure = wait_state(hub, device, "exposure.internet_inbound", "tcp/23", "open")
    if exposure:
        evidence = opened_evidence(receiver, exposure)
        check(remotes(evidence) == [ATTACKER], f"exposure's evidence: from {ATTACKER}: {evidence}")
    found = recommendations(hub, device)
    check(find(found, "exposure.internet_inbound", "tcp/1883") is None,
          "MQTT accepted from the LAN is no internet exposure")
    check(find(found, "service.cleartext_outbound", "tcp/8883") is None
          and find(found, "service.cleartext", "tcp/8883") is None, "MQTT over TLS is no finding")
    listed = run_cli(hub.cli, hub, "recommendations", "list", "--device", device, "--kind",
                     "service.cleartext")
    check(telnet and re.search(rf"^{telnet['id']}\b.*tcp/23", listed, re.M),
          f"vigil recommendations list shows telnet:\n{listed}")

    hub.replay(agent, device, fixed, [DEVICE_V4], work)
    for kind, subject in (("service.cleartext", "tcp/23"), ("service.cleartext", "tcp/1883"),
                          ("service.cleartext_outbound", "tcp/21"),
                          ("exposure.internet_inbound", "tcp/23")):
        wait_state(hub, device, kind, subject, "closed")
    if telnet:
        check(wait_for(lambda: ("recommendation.closed", "closed") in
                       [e[:2] for e in webhook_events(receiver, telnet["id"])], WAIT_S, step=0.1),
              f"the webhook got telnet's closing: {webhook_events(receiver, telnet['id'])}")
    none_of(hub, device, "identity.shared")


def check_aws(hub, fleet):
    for kind, short, port, name in (("json", False, 23, "telnet"), ("cbor", True, 21, "FTP")):
        device = f"rec-aws-{kind}"
        encode = (lambda d: json.dumps(d).encode()) if kind == "json" else cbor2.dumps
        topic = AWS_TOPIC.format(device, kind)
        fleet.send(device, [encode(aws_report(1, [port, 8883], short))], topic)
        found = wait_state(hub, device, "service.cleartext", f"tcp/{port}", "open")
        if found:
            check(found["evidence"].get("listening") is True
                  and found["evidence"].get("protocol") == name,
                  f"AWS {kind}: {name} listening in the evidence: {found['evidence']}")
        fleet.send(device, [encode(aws_report(2, [8883], short))], topic)
        wait_state(hub, device, "service.cleartext", f"tcp/{port}", "closed")


def check_aws_connections(hub, fleet):
    """Established connections in an AWS report: one from the internet to telnet, one to an FTP
    server. AWS reports carry the hub's receipt time, so closing them takes a day of wall time:
    the traffic device above shows them closing."""
    device = "rec-aws-connections"
    report = {"header": {"report_id": 1, "version": "1.0"},
              "metrics": {"tcp_connections": {"established_connections": {"connections": [
                  {"remote_addr": f"{ATTACKER}:50000", "local_port": 23},
                  {"remote_addr": f"{FTP_SERVER[0]}:{FTP_SERVER[1]}", "local_port": 40000}],
                  "total": 2}}}}
    fleet.send(device, [json.dumps(report).encode()], AWS_TOPIC.format(device, "json"))
    for kind, subject, remote in (("exposure.internet_inbound", "tcp/23", ATTACKER),
                                  ("service.cleartext", "tcp/23", ATTACKER),
                                  ("service.cleartext_outbound", "tcp/21", FTP_SERVER[0])):
        found = wait_state(hub, device, kind, subject, "open")
        if found:
            check(remotes(found["evidence"]) == [remote],
                  f"AWS connections: {kind} names {remote}: {found['evidence']}")


def check_vigil_listening(hub, fleet):
    device = "rec-listening"
    fleet.send(device, [fleet.vigil(device, listening=[[0, 23, b""], [0, 8883, b""]])])
    found = wait_state(hub, device, "service.cleartext", "tcp/23", "open")
    if found:
        check(found["evidence"].get("listening") is True, f"telnet listening: {found['evidence']}")
    fleet.send(device, [fleet.vigil(device, listening=[[0, 8883, b""]])])
    wait_state(hub, device, "service.cleartext", "tcp/23", "closed")


def check_firmware_vigil(hub, fleet):
    device = "rec-fw-vigil"
    fleet.send(device, [fleet.vigil(device, system=stack("NetX Duo", "6.1.7"))])
    found = wait_state(hub, device, "firmware.vulnerable", "netxduo", "open")
    if not found:
        return
    evidence = found["evidence"]
    ids = [i for v in evidence.get("vulnerabilities", []) for i in v.get("ids", [])]
    check(evidence.get("version") == "6.1.7" and "CVE-2023-48316" in ids
          and evidence.get("reported_name") == "NetX Duo" and found["severity"] == "critical"
          and evidence.get("message_key") == "7:0",
          f"NetX Duo 6.1.7's evidence names its version and CVEs: {json.dumps(evidence)[:400]}")
    none_of(hub, device, "firmware.unknown_version")

    # A later report of the same release is observed; the evidence stays the report that showed
    # it first (its release and CVEs are the evidence key), as the opened event gave it.
    fleet.send(device, [fleet.vigil(device, unix_time=time.time() + 2,
                                    system=stack("NetX Duo", "6.1.7"))])
    again = find(recommendations(hub, device), "firmware.vulnerable", "netxduo")
    check(again and again["evidence"] == evidence
          and again["last_observed_ms"] > found["last_observed_ms"],
          f"the same release keeps the first report's evidence: {again and again['evidence']}")

    # Dismissed through the command line: holds for the same release, reopens for another.
    reason = "bench unit, never on the plant network"
    run_cli(hub.cli, hub, "recommendations", "dismiss", str(found["id"]), "--reason", reason)
    wait_state(hub, device, "firmware.vulnerable", "netxduo", "dismissed",
               lambda r: r["dismissed_reason"] == reason and r["dismissed_by"])
    fleet.send(device, [fleet.vigil(device, system=stack("NetX Duo", "6.1.7"))])
    still = find(recommendations(hub, device), "firmware.vulnerable", "netxduo")
    check(still and still["state"] == "dismissed", f"the same release stays dismissed: {still}")
    fleet.send(device, [fleet.vigil(device, system=stack("NetX Duo", "6.2.0"))])
    wait_state(hub, device, "firmware.vulnerable", "netxduo", "open",
               lambda r: r["evidence"].get("version") == "6.2.0"
               and r["dismissed_reason"] == reason)
    shown = run_cli(hub.cli, hub, "recommendations", "show", str(found["id"]))
    check("6.2.0" in shown and "CVE-2023-48316" in shown,
          f"vigil recommendations show prints the evidence:\n{shown[:500]}")

    fleet.send(device, [fleet.vigil(device, system=stack("NetX Duo", "6.4.4"))])
    wait_state(hub, device, "firmware.vulnerable", "netxduo", "closed")

    # A pre-release is no release: unknown, never matched; the release itself is clean.
    device = "rec-fw-unknown"
    fleet.send(device, [fleet.vigil(device, system=stack("lwIP", "2.1.3-rc1"))])
    wait_state(hub, device, "firmware.unknown_version", "lwip", "open",
               lambda r: r["evidence"].get("reported_version") == "2.1.3-rc1")
    none_of(hub, device, "firmware.vulnerable")
    fleet.send(device, [fleet.vigil(device, system=stack("lwIP", "2.1.2"))])
    wait_state(hub, device, "firmware.unknown_version", "lwip", "closed")
    wait_state(hub, device, "firmware.vulnerable", "lwip", "open",
               lambda r: r["evidence"].get("version") == "2.1.2")
    fleet.send(device, [fleet.vigil(device, system=stack("lwIP", "2.1.3"))])
    wait_state(hub, device, "firmware.vulnerable", "lwip", "closed")


def check_hostile_versions(hub, fleet):
    device = "rec-fw-hostile"
    # Over the format's 64 bytes: the decoder refuses the whole message.
    fleet.enrol(device)
    logged = len(hub.log())
    before = fleet.publish(device, [fleet.vigil(device, system=stack("NetX Duo",
                                                                      "6.1.7" + "9" * 200))])
    check(wait_for(lambda: f"rejected a message on devices/{device}/" in hub.log()[logged:],
                   WAIT_S), "the hub logs the refusal")
    check(hub.messages_stored(device) == before and not recommendations(hub, device),
          "a version over 64 bytes: the message refused, nothing recommended")
    odd = ["6.1.7\x1b[2J\r\nFAKE 6.4.4", "6.1.7.0.0.0.0", "\uff16.\uff11.\uff17", "6..1.7",
           "-6.1.7", "99999999999999999999999.1", "6.1.7 ", "%s%s%n", "'; DROP TABLE x;--"]
    for version in odd:
        fleet.send(device, [fleet.vigil(device, system=stack("NetX Duo", version))])
        found = wait_state(hub, device, "firmware.unknown_version", "netxduo", "open",
                           lambda r, v=version: r["evidence"].get("why_unknown")
                           and r["evidence"].get("reported_version") == shown(v))
        if found:
            text = json.dumps(found)
            check(not re.search(r"[\x00-\x1f\x7f]", found["title"] + found["rationale"] +
                                found["evidence"]["reported_version"]),
                  f"{version!r} shown without control characters: {text[:300]}")
        none_of(hub, device, "firmware.vulnerable")
    check(hub.process.poll() is None, "the hub runs on")


def shown(text, limit=64):
    """The hub's escaping of device text (control characters and non-ASCII as \\xNN)."""
    out = ""
    for byte in text.encode():
        if len(out) >= limit:
            return out + "..."
        out += chr(byte) if 0x20 <= byte < 0x7f and byte != 0x5c else f"\\x{byte:02x}"
    return out


def check_firmware_defender(hub, fleet, flatc, work):
    device = "rec-fw-defender"
    topic = DEFENDER_TOPIC.format(device)
    fleet.send(device, [defender_system(flatc, work, "threadx-621", "ThreadX 6.2.1")], topic)
    found = wait_state(hub, device, "firmware.vulnerable", "threadx", "open")
    if found:
        ids = [i for v in found["evidence"].get("vulnerabilities", []) for i in v.get("ids", [])]
        check(found["evidence"].get("version") == "6.2.1" and "CVE-2023-48693" in ids,
              f"ThreadX 6.2.1 from a Defender report: {json.dumps(found['evidence'])[:300]}")
    fleet.send(device, [defender_system(flatc, work, "threadx-644", "ThreadX 6.4.4")], topic)
    wait_state(hub, device, "firmware.vulnerable", "threadx", "closed")
    # FlatBuffers strings have no limit of their own: a long one is shown cut, never matched.
    long_version = "6.1." * 2500
    fleet.send(device, [defender_system(flatc, work, "threadx-long", "Eclipse ThreadX",
                                        long_version)], topic)
    found = wait_state(hub, device, "firmware.unknown_version", "threadx", "open")
    if found:
        check(len(found["evidence"].get("reported_version", "")) <= 70
              and len(json.dumps(found)) < 8000,
              f"a 10 kB version shown cut: {len(json.dumps(found))} bytes")
    # A NUL inside a FlatBuffers string, and a right-to-left override: escaped, never read.
    for name, os_info, kernel_info in (("threadx-nul", "Eclipse ThreadX", "6.1.7\u0000 9.9.9"),
                                       ("threadx-rlo", "ThreadX \u202e7.1.6", None)):
        fleet.send(device, [defender_system(flatc, work, name, os_info, kernel_info)], topic)
        wait_state(hub, device, "firmware.unknown_version", "threadx", "open",
                   lambda r, v=kernel_info or os_info.split(" ")[-1]:
                   r["evidence"].get("reported_version") == shown(v))
    vulnerable = find(recommendations(hub, device), "firmware.vulnerable", "threadx")
    check(vulnerable and vulnerable["state"] == "closed",
          f"the hostile versions matched nothing: {json.dumps(vulnerable)[:300]}")


def steady_capture(path, seconds):
    """MQTT over TLS with a packet every second: a replay paced in wall time lasts long enough
    for two agents replaying it at once to take turns on the broker."""
    with PcapWriter(path, linktype=1, sync=True) as writer:
        tls = Conversation(writer, DEVICE_V4, 40883, BROKER)
        t = tls.open(CAPTURE_START)
        for second in range(seconds):
            tls.exchange(t + second + 0.5, b"\x17\x03\x03" + b"\0" * 40,
                         b"\x17\x03\x03" + b"\0" * 20)


def check_twin_agents(hub, agent, work):
    """Two vigil-agents with one identity's settings, replaying at once: the broker gives the
    client id to whichever connected last, so each agent's messages arrive in turns."""
    device = "rec-twins"
    steady = os.path.join(work, "steady.pcap")
    steady_capture(steady, 200)
    hub.enrol(device)
    agents = []
    for twin in ("a", "b"):
        args = hub.agent_args(agent, device, steady, [DEVICE_V4], work, pps=TWIN_PPS)
        settings = f"{args[2]}.{twin}"
        with open(args[2]) as f:
            text = f.read()
        with open(settings, "w") as f:
            # Back on the broker a second after being pushed off, and time to deliver the rest.
            f.write(text.replace("[mqtt]\n", "[mqtt]\nreconnect_min_s = 1\nreconnect_max_s = 1\n"
                                             "flush_timeout_s = 30\n"))
        args[2] = settings
        agents.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True))
    sent = 0
    for process in agents:
        try:
            _, log = process.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            _, log = process.communicate()
        check(process.returncode == 0, f"a twin agent exits 0 ({process.returncode}): "
                                       f"{log[-600:]}")
        sent += sent_messages(log)
    check(wait_for(lambda: hub.messages_stored(device) >= sent, WAIT_S),
          f"{device}: both agents' {sent} messages stored ({hub.messages_stored(device)})")
    found = wait_state(hub, device, "identity.shared", None, "open")
    if found:
        check(found["evidence"].get("returns", 0) >= 3 and len(found["evidence"]["boots"]) == 2,
              f"two boots and their returns in the evidence: {found['evidence']}")
    # A day later one agent alone (a new boot): closed.
    hub.replay(agent, device, os.path.join(work, "fixed.pcap"), [DEVICE_V4], work)
    wait_state(hub, device, "identity.shared", None, "closed")


def check_identity(hub, fleet):
    now = time.time()
    device = "rec-shared"
    # Two agents under one identity: their messages alternate between two boot ids.
    interleaved = [fleet.vigil(device, boot=boot, unix_time=now + i, heartbeat=heartbeat())
                   for i, boot in enumerate([0xA1, 0xB2] * 4)]
    for payload in interleaved:
        fleet.send(device, [payload])
    found = wait_state(hub, device, "identity.shared", None, "open")
    if found:
        check(found["evidence"].get("returns", 0) >= 3 and sorted(found["evidence"]["boots"]) ==
              ["161", "178"], f"the two boots in the evidence: {found['evidence']}")
    # A day later only one of them reports: closed.
    fleet.send(device, [fleet.vigil(device, boot=0xA1, unix_time=now + DAY_S + 60,
                                    heartbeat=heartbeat())])
    wait_state(hub, device, "identity.shared", None, "closed")

    device = "rec-reboot"
    for boot in (1, 2, 3, 4):
        fleet.send(device, [fleet.vigil(device, boot=boot, unix_time=now + boot * 60 + i,
                                        heartbeat=heartbeat()) for i in range(4)])
    none_of(hub, device, "identity.shared")


def enrol_with_certificate(hub, device_id, work):
    """Enrols with the hub's TLS listener on: the credentials and a client context with the
    certificate the enrolment issued."""
    request = urllib.request.Request(f"http://127.0.0.1:{hub.api_port}/api/devices",
                                     data=json.dumps({"id": device_id}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {hub.token()}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as answer:
        creds = json.loads(answer.read())
    creds.setdefault("client_id", device_id)  # a device's client id is its id
    check("client_certificate_pem" in creds, f"{device_id}: a client certificate: {list(creds)}")
    hub.credentials[device_id] = creds
    cert, key = os.path.join(work, device_id + ".crt"), os.path.join(work, device_id + ".key")
    with open(cert, "w") as f:
        f.write(creds.get("client_certificate_pem", ""))
    with open(key, "w") as f:
        f.write(creds.get("client_key_pem", ""))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.load_verify_locations(cadata=creds.get("ca_certificate_pem", ""))
    context.load_cert_chain(cert, key)
    return creds, context


def report_until(hub, fleet, device, kind, state, **connection):
    """Reports a heartbeat over a connection of its own until the device's `kind` is in `state`:
    the broker's guard tells the hub about a connection within a second of its first publish,
    so the report that judges it may be a later one."""
    seen = {}

    def reported():
        payload = fleet.vigil(device, heartbeat=heartbeat())
        check(publish_once(hub, hub.credentials[device], VIGIL_TOPIC.format(device), payload,
                           **connection), f"{device}: a report over {connection}")
        seen["r"] = find(recommendations(hub, device), kind)
        return seen["r"] is not None and seen["r"]["state"] == state
    check(wait_for(reported, WAIT_S, step=0.5),
          f"{device}: {kind} {state}: {json.dumps(seen.get('r'))[:600]}")
    return seen.get("r")


def check_connections(hub, fleet, work):
    """How devices reach the broker, from its guard: plain MQTT, then TLS; one identity taken
    in turns from two addresses, and one device moving once."""
    device = "rec-plain"
    began_ms = int(time.time() * 1000) - 1000
    creds, tls = enrol_with_certificate(hub, device, work)
    found = report_until(hub, fleet, device, "exposure.no_tls", "open")
    if found:
        evidence = found["evidence"]
        check(evidence.get("listener") == "plain MQTT" and evidence.get("address") == "127.0.0.1"
              and began_ms <= evidence.get("since_ms", 0) <= time.time() * 1000 + 1000,
              f"the listener, address and since when in the evidence: {evidence}")
    report_until(hub, fleet, device, "exposure.no_tls", "closed", tls=tls)

    # Two devices with one identity: the broker hands the client id to whichever connected
    # last, from 127.0.0.2 and 127.0.0.3 in turns (a second apart, as the guard reports).
    device = "rec-addresses"
    fleet.enrol(device)
    for source in ["127.0.0.2", "127.0.0.3"] * 2 + ["127.0.0.2"]:
        payload = fleet.vigil(device, heartbeat=heartbeat())
        check(publish_once(hub, hub.credentials[device], VIGIL_TOPIC.format(device), payload,
                           source=source), f"{device}: a report from {source}")
        time.sleep(1.1)
    found = report_until(hub, fleet, device, "identity.shared", "open", source="127.0.0.2")
    if found:
        evidence = found["evidence"]
        check(evidence.get("addresses") == ["127.0.0.2", "127.0.0.3"]
              and evidence.get("address_returns", 0) >= 3 and "boots" not in evidence,
              f"the two addresses and their returns in the evidence: {evidence}")
    # One of them alone for longer than the window (--shared-address-window-s): closed.
    time.sleep(SHARED_ADDRESS_WINDOW_S + 1)
    report_until(hub, fleet, device, "identity.shared", "closed", source="127.0.0.2")

    # One device moving to another address once, reconnecting on both sides of the move.
    device = "rec-moved"
    fleet.enrol(device)
    for source in ["127.0.0.4"] * 2 + ["127.0.0.5"] * 3:
        payload = fleet.vigil(device, heartbeat=heartbeat())
        check(publish_once(hub, hub.credentials[device], VIGIL_TOPIC.format(device), payload,
                           source=source), f"{device}: a report from {source}")
        time.sleep(1.1)
    report_until(hub, fleet, device, "exposure.no_tls", "open", source="127.0.0.5")
    none_of(hub, device, "identity.shared")


def check_agent_kinds(hub, fleet):
    device = "rec-agent"
    fleet.send(device, [fleet.vigil(device, system=stack("lwIP", "2.1.3", "0.0.1"),
                                    heartbeat=heartbeat())])
    found = wait_state(hub, device, "agent.outdated", None, "open")
    if found:
        check(found["evidence"].get("agent_version") == "0.0.1", f"{found['evidence']}")
    fleet.send(device, [fleet.vigil(device, heartbeat=heartbeat(dropped=4, rejected=[9, 4]))])
    dropped = wait_state(hub, device, "agent.data_dropped", None, "open")
    if dropped:
        check(dropped["evidence"].get("messages_dropped") == 4, f"{dropped['evidence']}")
    refused = wait_state(hub, device, "config.refused", None, "open")
    if refused:
        check(refused["evidence"].get("rejected_config_version") == 9, f"{refused['evidence']}")
    fleet.send(device, [fleet.vigil(device, system=stack("lwIP", "2.1.3", "9.1.0"),
                                    heartbeat=heartbeat(dropped=4))])
    for kind in ("agent.outdated", "agent.data_dropped", "config.refused"):
        wait_state(hub, device, kind, None, "closed")

    # Collectors the heartbeat says are off: network (1) and listening ports (4), the
    # heartbeat's own (3) and system information (2) on; then all on again.
    device = "rec-collectors"
    fleet.send(device, [fleet.vigil(device, heartbeat=heartbeat(collectors=0b01100))])
    for collector in ("network", "listening_ports"):
        found = wait_state(hub, device, "agent.collector_disabled", collector, "open")
        if found:
            check(found["evidence"].get("collector") == collector
                  and found["evidence"].get("collectors_enabled") == 0b01100,
                  f"the collector and the heartbeat's bits in the evidence: {found['evidence']}")
    none_of_subject = find(recommendations(hub, device), "agent.collector_disabled", "system")
    check(none_of_subject is None, f"system information is on: {none_of_subject}")
    fleet.send(device, [fleet.vigil(device, heartbeat=heartbeat())])
    for collector in ("network", "listening_ports"):
        wait_state(hub, device, "agent.collector_disabled", collector, "closed")

    device = "rec-clock"
    fleet.send(device, [fleet.vigil(device, unix_time=time.time() - 7200, heartbeat=heartbeat())
                        for _ in range(3)])
    found = wait_state(hub, device, "clock.skew", None, "open")
    if found:
        check(re.search(r"\b72\d\d s behind the hub's", found["rationale"]),
              f"how far and which way: {found['rationale']}")
    fleet.send(device, [fleet.vigil(device, heartbeat=heartbeat())])
    wait_state(hub, device, "clock.skew", None, "closed")

    # A day of a heartbeat every 59 s: 1441 messages of about 50 bytes, judged when the next
    # day's first report comes; then a day of four, judged the day after.
    device = "rec-small"
    start = time.time() - 3 * DAY_S
    day = [fleet.vigil(device, unix_time=start + 59 * i, heartbeat=heartbeat())
           for i in range(1441)]
    fleet.send(device, day + [fleet.vigil(device, unix_time=start + DAY_S + 1,
                                          heartbeat=heartbeat())])
    found = wait_state(hub, device, "messages.small", None, "open")
    if found:
        check(found["evidence"].get("messages_per_day") == 1441
              and found["evidence"].get("billed_if_full", 1441) < 1441,
              f"the saving from the device's own figures: {found['evidence']}")
    fleet.send(device, [fleet.vigil(device, unix_time=start + DAY_S + 600 * i,
                                    heartbeat=heartbeat()) for i in range(2, 5)] +
               [fleet.vigil(device, unix_time=start + 2 * DAY_S + 2, heartbeat=heartbeat())])
    wait_state(hub, device, "messages.small", None, "closed")


ACME_CATALOG = ('schema = 1\nrevision = "site-1"\n'
                '[[product]]\nid = "acme-ip"\nname = "Acme IP"\n'
                '[[vulnerability]]\nids = ["CVE-2026-0001"]\nproduct = "acme-ip"\n'
                'components = "DHCP"\nsummary = "remote code execution in the DHCP client"\n'
                'severity = "high"\naffected = [{ fixed = "3.0" }]\nfixed_in = "3.0"\n'
                'sources = ["https://example.org/acme-2026-0001"]\n')


def vigil_cli(hub, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("VIGIL_TOKEN", "VIGIL_HUB")}
    env["VIGIL_DATA"] = hub.data
    return subprocess.run([hub.cli, "--hub", f"http://127.0.0.1:{hub.api_port}", *args],
                          capture_output=True, text=True, timeout=30, env=env)


def check_vulns_update(hub, fleet, work):
    """vigil vulns update: a valid file installed and in force without a restart, an invalid
    one refused with its line, hostile names and sizes refused, nothing written for them."""
    site = os.path.join(work, "site.toml")
    with open(site, "w") as f:
        f.write(ACME_CATALOG)
    done = vigil_cli(hub, "vulns", "update", site)
    check(done.returncode == 0 and "1 entries" in done.stdout,
          f"vigil vulns update site.toml: {done.returncode} {done.stdout} {done.stderr}")
    listed = vigil_cli(hub, "vulns", "list").stdout
    check(re.search(r"^vulnerabilities\.toml\s+built-in\s+\d+", listed, re.M)
          and re.search(r"^site\.toml\s+drop-in\s+1\s+in force", listed, re.M),
          f"vigil vulns list:\n{listed}")
    device = "rec-acme"
    seen = {}

    def vulnerable():
        fleet.send(device, [fleet.vigil(device, system=stack("Acme IP", "2.0"))])
        seen["r"] = find(recommendations(hub, device), "firmware.vulnerable")
        return seen["r"] is not None and seen["r"]["state"] == "open"
    check(wait_for(vulnerable, WAIT_S, step=0.5) and "CVE-2026-0001" in json.dumps(seen["r"]),
          f"the installed entry is in force: {json.dumps(seen.get('r'))[:400]}")

    bad = os.path.join(work, "bad.toml")
    with open(bad, "w") as f:
        f.write('schema = 1\n[[vulnerability]]\nids = ["CVE-1"]\n')
    refused = vigil_cli(hub, "vulns", "update", bad)
    check(refused.returncode == 1 and re.search(r"bad\.toml:3:\d+: ", refused.stderr),
          f"an invalid file is refused with its line: {refused.returncode} {refused.stderr}")
    with open(site, "w") as f:
        f.write("[[[")
    refused = vigil_cli(hub, "vulns", "update", site)
    check(refused.returncode == 1, f"a broken site.toml is refused: {refused.stderr}")
    valid = os.path.join(work, "valid.toml")
    with open(valid, "w") as f:
        f.write(ACME_CATALOG)
    for name in ("../escape.toml", "..", ".hidden.toml", "a b.toml", "x" * 300 + ".toml"):
        refused = vigil_cli(hub, "vulns", "update", valid, "--name", name)
        check(refused.returncode == 1, f"--name {name[:40]} refused: {refused.stderr[-200:]}")
    huge = os.path.join(work, "huge.toml")
    with open(huge, "w") as f:
        f.write("#" * (2 * 1024 * 1024))
    refused = vigil_cli(hub, "vulns", "update", huge)
    check(refused.returncode == 1 and "over" in refused.stderr,
          f"a 2 MiB file is refused: {refused.stderr[-300:]}")
    drop_ins = sorted(os.listdir(os.path.join(hub.data, "vulnerabilities.d")))
    check(drop_ins == ["site.toml"], f"only site.toml written: {drop_ins}")
    with open(os.path.join(hub.data, "vulnerabilities.d", "site.toml")) as f:
        check(f.read() == ACME_CATALOG, "the accepted site.toml is untouched by the refusals")
    check(not os.path.exists(os.path.join(hub.data, "escape.toml")), "nothing outside")


def check_summary(hub):
    status, body = hub.api("/api/recommendations/summary")
    kinds = {k["kind"]: k for k in body.get("kinds", [])} if isinstance(body, dict) else {}
    cleartext = kinds.get("service.cleartext", {})
    check(status == 200 and cleartext.get("closed_devices", 0) >= 3,
          f"the summary counts service.cleartext's closed devices: {cleartext}")
    printed = run_cli(hub.cli, hub, "recommendations", "summary")
    check(re.search(r"^firmware\.unknown_version\s", printed, re.M),
          f"vigil recommendations summary:\n{printed}")


def check_recommendations(hub_binary, agent, cli, flatc, work):
    receiver = WebhookReceiver()
    policy = ("[[outputs.webhook]]\n"
              'name = "hygiene"\n'
              f'url = "http://127.0.0.1:{receiver.port}/vigil"\n'
              'timeout = "5s"\n')
    hub = ScenarioHub(hub_binary, work, policy)
    hub.tls_port = free_port()
    hub.extra_args += ["--tls-port", str(hub.tls_port), "--tls-address", "127.0.0.1",
                       "--shared-address-window-s", str(SHARED_ADDRESS_WINDOW_S)]
    hub.cli = cli
    fleet = Fleet(hub)
    started = time.monotonic()
    try:
        hub.start()
        steps = [("traffic", lambda: check_traffic(hub, agent, receiver, work)),
                 ("aws", lambda: check_aws(hub, fleet)),
                 ("aws connections", lambda: check_aws_connections(hub, fleet)),
                 ("listening", lambda: check_vigil_listening(hub, fleet)),
                 ("firmware", lambda: check_firmware_vigil(hub, fleet)),
                 ("defender", lambda: check_firmware_defender(hub, fleet, flatc, work)),
                 ("hostile", lambda: check_hostile_versions(hub, fleet)),
                 ("twin agents", lambda: check_twin_agents(hub, agent, work)),
                 ("identity", lambda: check_identity(hub, fleet)),
                 ("connections", lambda: check_connections(hub, fleet, work)),
                 ("vulns", lambda: check_vulns_update(hub, fleet, work)),
                 ("agent", lambda: check_agent_kinds(hub, fleet)),
                 ("summary", lambda: check_summary(hub))]
        for name, step in steps:
            began = time.monotonic()
            step()
            print(f"-- {name}: {time.monotonic() - began:.1f} s", flush=True)
    finally:
        code = hub.stop()
        log = hub.log()
        check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer reports")
        check(code == 0, f"vigil-hub stops cleanly ({code})")
        if failed():
            print(log[-4000:])
        receiver.close()
    print(f"-- total {time.monotonic() - started:.1f} s")


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("skipped: the hub's broker is started as root in these tests")
        return SKIPPED
    work = tempfile.mkdtemp(prefix="vigil-recommend-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    try:
        check_recommendations(*sys.argv[1:], work)
    finally:
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

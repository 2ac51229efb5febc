#!/usr/bin/python3
"""Detection scenarios from real packets: captures recorded here in network namespaces the test
makes (nmap, hping3, curl aimed only at them) and benign device lives written with scapy, replayed
through vigil-agent --pcap into a real vigil-hub, the alerts read back through its API.

  check_scenarios.py inbound-scan HUB AGENT     nmap SYN and UDP scans of the device:
                                                port_scan_inbound from the attacker
  check_scenarios.py outbound-scan HUB AGENT    the device scans port 23 of a /26 and sweeps
                                                another with ICMP echo: scan_outbound
  check_scenarios.py flood HUB AGENT            a SYN flood in and a UDP flood out: flood
  check_scenarios.py malicious-ip HUB AGENT     the device fetches from a listed server (IPv4 and
                                                IPv6): malicious_ip; its unlisted neighbours none
  check_scenarios.py benign HUB AGENT           telemetry, a firmware download, reboots: no alert
  check_scenarios.py kill HUB AGENT             kill -9 of the hub while devices replay attacks,
                                                restarted: the alerts of an undisturbed run
  check_scenarios.py bad-policy HUB AGENT       a policy broken mid-run is refused with its lines
                                                and the previous one kept; a feed's garbage lines
                                                skipped and reported, its good lines still match
  check_scenarios.py silence HUB AGENT          a device that stops reporting: device_silence on
                                                the hub's clock, resolved by its next report; a
                                                device whose policy waits longer: none

  --long: the benchmark's sizes (longer device lives, more ports and packets).

Every check says what it expected; the attack scenarios print
`BENCH detect_time_to_alert_s_<scenario>` and the benign one `BENCH detect_false_alerts`.
Without root (network namespaces) the test exits 77, skipped.
"""

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
ROOT = HERE.parent.parent
for path in (HERE, ROOT / "tests" / "support", ROOT / "tests" / "demo", ROOT / "tests" / "hub_e2e"):
    sys.path.insert(0, str(path))

from vigil_testlib import SKIPPED, check, failed, summary, wait_for  # noqa: E402

try:
    import scapy  # noqa: F401
except ImportError:
    print("skipped: python3-scapy is not installed for this python")
    sys.exit(SKIPPED)

import attacks  # noqa: E402
import device_lives  # noqa: E402
from capture_times import attack_start_ms, capture_span_ms, frame_count  # noqa: E402
from scenario_hub import HIGH_INTERVAL_S, ScenarioHub, sent_messages, settle  # noqa: E402
from scenario_net import ScenarioNet  # noqa: E402

LONG = "--long" in sys.argv
# An alert's evidence times are its report windows' bounds, in whole seconds of device time: the
# window of the capture's first packet starts in its second, and the window of its last packet
# ends at most one high-priority interval later.
TRAILING_MS = HIGH_INTERVAL_S * 1000
POLICY = "# The scenarios run on the built-in defaults.\n"


def describe(alert):
    return (f"{alert.get('category')} {alert.get('type')} subject={alert.get('subject')} "
            f"first={alert.get('first_observed_ms')} last={alert.get('last_observed_ms')} "
            f"count={alert.get('count')}")


def expect_stored(hub, device_id, scenario):
    """The attack is in what the hub stored, so a missing alert is the detection's failure."""
    for what, aggregate, condition, least in scenario.stored:
        value = hub.stored_flows(device_id, aggregate, condition)
        check(value is not None and value >= least,
              f"{scenario.name}: the hub stored {what}: {value} (at least {least})")


def matches(alert, expect):
    return (alert["category"] == expect.category
            and expect.type in (None, alert["type"])
            and expect.subject in (None, alert["subject"])
            and (expect.evidence is None or expect.evidence in json.dumps(alert.get("evidence"))))


def expect_alerts(hub, device_id, scenario, bench=True):
    """Checks the scenario's expected alerts, their subjects and device times, and the forbidden
    ones; prints the time to alert."""
    expect_stored(hub, device_id, scenario)

    def complete(alerts):
        return all(any(matches(a, e) for a in alerts) for e in scenario.expected)
    hub.wait_alerts(device_id, complete, timeout=30)
    settle(hub, [device_id])
    alerts = hub.alerts(device_id)
    for alert in alerts:
        print("  alert:", describe(alert))
    first_ms, last_ms = capture_span_ms(scenario.pcap)
    first_ms -= first_ms % 1000
    started_ms = attack_start_ms(scenario.pcap, scenario.locals, scenario.attackers)
    reached = []
    for expect in scenario.expected:
        raised = [a for a in alerts if matches(a, expect)]
        check(raised, f"{scenario.name}: a {expect.category} alert "
                      f"(type {expect.type}, subject {expect.subject}, evidence {expect.evidence})")
        for alert in raised:
            reached.append(alert["last_observed_ms"])
            check(first_ms <= alert["first_observed_ms"] <= alert["last_observed_ms"]
                  <= last_ms + TRAILING_MS,
                  f"{scenario.name}: {alert['type']} {alert['subject']}: evidence in the capture's "
                  f"device time [{first_ms}, {last_ms}]: {alert['first_observed_ms']}.."
                  f"{alert['last_observed_ms']}")
    for category, subject in scenario.forbidden:
        check(not any(a["category"] == category and a["subject"] == subject for a in alerts),
              f"{scenario.name}: no {category} alert about {subject}")
    if bench and reached and started_ms is not None:
        # The latest evidence of the first alert raised: an upper bound of when the detection
        # had enough to raise it.
        print(f"BENCH detect_time_to_alert_s_{scenario.name} "
              f"{(min(reached) - started_ms) / 1000:.1f} s", flush=True)
    return alerts


def run_attack(hub_binary, agent, work, record, feeds=None):
    with ScenarioNet() as net:
        scenario = record(net, work)
    hub = ScenarioHub(hub_binary, work, POLICY, feeds)
    hub.start()
    try:
        hub.replay(agent, "device-" + scenario.name.replace("_", "-"), scenario.pcap,
                   scenario.locals, work)
        expect_alerts(hub, "device-" + scenario.name.replace("_", "-"), scenario)
    finally:
        finish_hub(hub)


def finish_hub(hub):
    code = hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
    log = hub.log()
    check("Sanitizer" not in log and "runtime error" not in log, "no sanitizer reports")
    if failed():
        print(log[-3000:])
    return code


def check_benign(hub_binary, agent, work):
    span_s = 30 * 60 if LONG else 20 * 60
    size = 48 * 1024 * 1024 if LONG else 24 * 1024 * 1024
    start_s = time.time() - span_s  # the lives end now, as if recorded until the test began
    lives = [device_lives.telemetry(work, start_s, span_s),
             device_lives.firmware(work, start_s, span_s, size),
             device_lives.reboot(work, start_s, span_s)]
    hub = ScenarioHub(hub_binary, work, POLICY)
    hub.start()
    try:
        for life in lives:
            hub.replay(agent, "benign-" + life.name, life.pcap, [life.device], work)
        downloaded = hub.stored_flows("benign-firmware", "coalesce(sum(bytes_in), 0)",
                                      f"remote = '{device_lives.FIRMWARE_SERVER[0]}'")
        check(downloaded is not None and downloaded >= size,
              f"the hub stored the {size >> 20} MB download: {downloaded} bytes in")
        settle(hub, ["benign-" + life.name for life in lives], quiet_s=3)
        alerts = hub.alerts()
        for alert in alerts:
            print("  alert:", describe(alert))
        check(not alerts, f"no alert at all on {len(lives)} benign device lives of "
                          f"{span_s // 60} min ({len(alerts)} raised)")
        print(f"BENCH detect_false_alerts {len(alerts)} alerts", flush=True)
    finally:
        finish_hub(hub)


def record_attacks(work):
    """The captures of the kill test: each attack recorded once, in its own namespaces, and a
    device's steady telemetry, whose many reports are in flight when the hub dies."""
    span_s = 10 * 60
    life = device_lives.telemetry(work, time.time() - span_s, span_s)
    scenarios = [attacks.Scenario("telemetry", life.pcap, [life.device], [], [], [], [])]
    for index, record in enumerate((attacks.inbound_scan, attacks.outbound_scan,
                                    attacks.malicious_ip, attacks.flood)):
        capture_dir = os.path.join(work, f"capture-{index}")
        os.makedirs(capture_dir)
        with ScenarioNet(f"k{index}") as net:
            scenarios.append(record(net, capture_dir))
    return scenarios


def alert_counts(hub, device_ids):
    """(device, type, subject, count) of every alert but the agents' health: an agent whose
    broker went away with the hub really had a backlog, and says so."""
    return sorted((a.get("device_id"), a["type"], a["subject"], a.get("count"))
                  for d in device_ids for a in hub.alerts(d) if a["category"] != "agent_health")


def stored_once(hub, work, device_ids):
    """Every message each agent had acknowledged is stored, once."""
    for device_id in device_ids:
        with open(os.path.join(work, f"{device_id}.log"), errors="replace") as f:
            sent = sent_messages(f.read())
        check(wait_for(lambda: hub.messages_stored(device_id) == sent, 30),
              f"{device_id}: its {sent} messages stored once ({hub.messages_stored(device_id)})")


def replay_all(hub, agent, scenarios, work, seconds):
    """Every scenario as its own device, all at once, each paced to last about `seconds` (0: at
    once); the agents' processes."""
    processes = []
    for scenario in scenarios:
        device_id = "kill-" + scenario.name.replace("_", "-")
        hub.enrol(device_id)
        pps = max(1, frame_count(scenario.pcap) // seconds) if seconds else 0
        args = hub.agent_args(agent, device_id, scenario.pcap, scenario.locals, work, pps)
        log = open(os.path.join(work, f"{device_id}.log"), "w")
        processes.append((device_id, subprocess.Popen(args, stdout=log, stderr=log)))
    return processes


def wait_agents(processes):
    for device_id, process in processes:
        try:
            code = process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        check(code == 0, f"{device_id}: the agent's replay exits 0 ({code})")


def check_kill(hub_binary, agent, work):
    scenarios = record_attacks(work)
    feeds = {"scenario.txt": attacks.feed_text()}
    device_ids = ["kill-" + s.name.replace("_", "-") for s in scenarios]
    # Paced so that the replays last seconds and the hub dies while they publish.
    seconds = 16 if LONG else 6

    undisturbed_dir = os.path.join(work, "undisturbed")
    os.makedirs(undisturbed_dir)
    hub = ScenarioHub(hub_binary, undisturbed_dir, POLICY, feeds)
    hub.start()
    try:
        wait_agents(replay_all(hub, agent, scenarios, undisturbed_dir, 0))
        stored_once(hub, undisturbed_dir, device_ids)
        settle(hub, device_ids, quiet_s=3)
        expected = alert_counts(hub, device_ids)
    finally:
        finish_hub(hub)
    print("undisturbed:", expected)
    check({d for d, _, _, _ in expected} >= set(device_ids[1:]),
          f"every attack raised alerts in the undisturbed run: {expected}")

    killed_dir = os.path.join(work, "killed")
    os.makedirs(killed_dir)
    hub = ScenarioHub(hub_binary, killed_dir, POLICY, feeds)
    hub.start()
    try:
        processes = replay_all(hub, agent, scenarios, killed_dir, seconds)
        stored = lambda: sum(hub.messages_stored(d) for d in device_ids)  # noqa: E731
        check(wait_for(lambda: stored() > 0, 30, step=0.05), "reports stored before the kill")
        hub.process.kill()  # kill -9, while the agents publish
        hub.process.wait()
        running = sum(p.poll() is None for _, p in processes)
        check(running > 0, f"killed while {running} agents still replay")
        hub.start()
        wait_agents(processes)
        stored_once(hub, killed_dir, device_ids)
        settle(hub, device_ids, quiet_s=3)
        after_kill = alert_counts(hub, device_ids)
        health = [a["type"] for d in device_ids for a in hub.alerts(d)
                  if a["category"] == "agent_health"]
        check(set(health) <= {"health.backlog"},
              f"the only health alerts are the backlogs the outage caused: {health}")
    finally:
        finish_hub(hub)
    check(after_kill == expected,
          f"after kill -9 and restart the alerts equal the undisturbed run's:\n  {after_kill}\n"
          f"  expected {expected}")


def check_bad_policy(hub_binary, agent, work):
    """A policy with a low inbound scan threshold (5 ports) is in force; it is then broken (a
    syntax error, then a value out of range, on known lines): the hub refuses each, reports its
    line, and a 10-port TCP scan (below the built-in 15) still alerts under the policy kept. The
    feed holds garbage lines among good ones: those are reported, the good ones still match."""
    good_policy = ("# A tighter inbound scan threshold than the built-in one.\n"
                   "[defaults.port_scan_inbound]\n"
                   "ports = 5\n")
    broken_policy = ("[defaults.port_scan_inbound]\n"
                     "ports = 5\n"
                     "[defaults.flood\n"                      # line 3: syntax
                     "packets_per_second = 10\n")
    invalid_policy = ("[defaults.port_scan_inbound]\n"
                      "ports = 5\n"
                      "[defaults.flood]\n"
                      "packets_per_second = -4\n")            # line 4: out of range
    garbage_feed = ("# a feed with damage in it\n"
                    "not-an-address\n"                        # line 2
                    f"{attacks.LISTED_V4}\n"                  # line 3
                    "203.0.113.300\n"                         # line 4
                    "198.51.100.0/33\n"                       # line 5
                    "\x00\x01binary\n"                        # line 6
                    f"{attacks.LISTED_V6}/128\n")
    with ScenarioNet("p1") as net:
        first = attacks.inbound_scan(net, work, ports=10, udp=False)
    malicious_dir = os.path.join(work, "malicious")
    os.makedirs(malicious_dir)
    with ScenarioNet("p2") as net:
        malicious = attacks.malicious_ip(net, malicious_dir)
    hub = ScenarioHub(hub_binary, work, good_policy, {"damaged.txt": garbage_feed})
    hub.start()
    try:
        hub.replay(agent, "policy-first", first.pcap, first.locals, work)
        expect_alerts(hub, "policy-first", first._replace(name="tight_policy"), bench=False)

        for text, line, what in ((broken_policy, 3, "a syntax error"),
                                 (invalid_policy, 4, "a value out of range")):
            logged = len(hub.log())
            hub.write_policy(text)
            named = re.compile(rf"policy\.toml:{line}:")
            logged_line = wait_for(lambda: named.search(hub.log()[logged:]), 20, step=0.5)
            if not check(logged_line, f"the policy with {what} refused, the log names line {line}"):
                print(hub.log()[logged:][-1000:])
            check("previous policy stays in force" in hub.log()[logged:],
                  "the log says the previous policy stays in force")
            status, shown = hub.api("/api/policy")
            errors = shown.get("errors", []) if isinstance(shown, dict) else []
            kept = (shown.get("policy", {}).get("defaults", {}).get("port_scan_inbound", {})
                    if isinstance(shown, dict) else {})
            check(status == 200 and [e.get("line") for e in errors] == [line],
                  f"GET /api/policy shows the refusal at line {line}: {status} {errors}")
            check(kept.get("ports") == 5, f"GET /api/policy shows the kept policy: {kept}")
            device_id = f"policy-after-{line}"
            hub.replay(agent, device_id, first.pcap, first.locals, work)
            expect_alerts(hub, device_id, first._replace(name="kept_policy"), bench=False)
        check(hub.process.poll() is None, "the hub runs on after the broken policies")

        log = hub.log()
        for line in (2, 4, 5, 6):
            check(re.search(rf"damaged\.txt\D{{0,8}}{line}\b", log),
                  f"the feed's bad line {line} reported with its file")
        hub.replay(agent, "policy-malicious", malicious.pcap, malicious.locals, work)
        expect_alerts(hub, "policy-malicious", malicious._replace(name="damaged_feed"),
                      bench=False)
    finally:
        finish_hub(hub)


SILENCE_POLICY = """
# Silent after 3 x 1 s without a message; one device allowed 1,000 x 1 s.
[defaults.silence]
default_interval = "1s"
intervals = 3

[devices."patient-dev".silence]
intervals = 1000
"""


def check_silence(hub_binary, agent, work):
    span_s = 120
    start_s = time.time() - span_s
    life = device_lives.telemetry(work, start_s, span_s)
    hub = ScenarioHub(hub_binary, work, SILENCE_POLICY)
    hub.start()
    try:
        for device in ("quiet-dev", "patient-dev"):
            hub.replay(agent, device, life.pcap, [life.device], work)
        silent = [a for a in hub.wait_alerts("quiet-dev", lambda alerts: any(
            a["category"] == "device_silence" for a in alerts), timeout=30)
            if a["category"] == "device_silence"]
        if check(len(silent) == 1, f"quiet-dev: one device_silence alert ({len(silent)})"):
            alert = silent[0]
            check(alert["type"] == "health.silent" and alert["state"] == "open",
                  f"quiet-dev: health.silent, open ({describe(alert)}, {alert['state']})")
            check(alert["first_observed_ms"] <= alert["raised_ms"],
                  "quiet-dev: its evidence is the hub's time of the last message, before the "
                  "alert was raised")
        check(not [a for a in hub.alerts("patient-dev") if a["category"] == "device_silence"],
              "patient-dev: no device_silence alert (its policy waits 1,000 intervals)")
        hub.replay(agent, "quiet-dev", life.pcap, [life.device], work)
        resolved = hub.wait_alerts("quiet-dev", lambda alerts: any(
            a["category"] == "device_silence" and a["state"] == "resolved" for a in alerts), 20)
        check(any(a["category"] == "device_silence" and a["state"] == "resolved" and
                  a["changed_by"] == "detection" for a in resolved),
              "quiet-dev: its next report resolves the silence, by detection")
    finally:
        finish_hub(hub)


def main():
    args = [a for a in sys.argv[1:] if a != "--long"]
    if len(args) != 3:
        print(__doc__)
        return 2
    command, hub_binary, agent = args
    if os.geteuid() != 0:
        print("skipped: the scenarios make network namespaces, which needs root")
        return SKIPPED
    missing = [t for t in ("nmap", "hping3", "tcpdump", "curl", "ethtool") if not shutil.which(t)]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (scripts/packages.sh, group test)")
        return SKIPPED
    work = tempfile.mkdtemp(prefix="vigil-scenarios-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    feeds = {"scenario.txt": attacks.feed_text()}
    try:
        if command == "inbound-scan":
            run_attack(hub_binary, agent, work,
                       lambda net, w: attacks.inbound_scan(net, w, 1000 if LONG else 100))
        elif command == "outbound-scan":
            run_attack(hub_binary, agent, work, attacks.outbound_scan)
        elif command == "flood":
            run_attack(hub_binary, agent, work,
                       lambda net, w: attacks.flood(net, w, 60000 if LONG else 30000))
        elif command == "malicious-ip":
            run_attack(hub_binary, agent, work, attacks.malicious_ip, feeds)
        elif command == "benign":
            check_benign(hub_binary, agent, work)
        elif command == "kill":
            check_kill(hub_binary, agent, work)
        elif command == "bad-policy":
            check_bad_policy(hub_binary, agent, work)
        elif command == "silence":
            check_silence(hub_binary, agent, work)
        else:
            print(__doc__)
            return 2
    finally:
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""vigil-sim against a real vigil-hub: its own mosquitto on free loopback ports, a temp data
directory, the SQLite file read back and the alerts read through the HTTP API.

  check_sim.py fleet HUB SIM      20 devices of the four profiles at 60x speed for 5 simulated
                                  minutes: every device's messages stored, as many as the
                                  simulator says it sent; the inbound port scan, the telnet
                                  scanning, the backdoor listener and the flood raise their
                                  alerts on their devices and no device raises any other;
                                  the vulnerable firmware opens its recommendation; beaconing
                                  to an address the hub's feed lists raises intel.malicious_ip,
                                  an exfiltration burst the policy's upload cap; a silenced
                                  device stops reporting; a clone of a device's identity opens
                                  identity.shared; a second run of the same fleet is stored
                                  beside the first
  check_sim.py scenario-errors SIM a scenario with mistakes is refused whole, each with its line
  check_sim.py scale HUB SIM DEVICES SPEED SECONDS
                                  DEVICES (four in ten sensors, two cameras, one gateway, three
                                  PLCs) enrolled in one `vigil-hub devices add` before the hub
                                  starts, run at SPEED for SECONDS simulated: the hub stores for
                                  every device exactly as many messages as the simulator's report
                                  says it sent (scripts/bench runs it at 10,000 devices)
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for path in (ROOT / "tests" / "support", ROOT / "tests" / "hub_e2e", ROOT / "tests" / "scenarios"):
    sys.path.insert(0, str(path))

from vigil_testlib import check, failed, summary, wait_for  # noqa: E402
from scenario_hub import ScenarioHub  # noqa: E402

SCANNER = "198.51.100.23"
BEACON = "203.0.113.66"
SCENARIO = f"""
[simulation]
speed = 60
duration_s = 300
seed = 7

[fleet]
sensor = 6
camera = 4
gateway = 4
plc = 6

[[attack]]
kind = "vulnerable_firmware"
at_s = 30
device = "sim-plc-3"

[[attack]]
kind = "port_scan_inbound"
at_s = 60
device = "sim-plc-1"
source = "{SCANNER}"
ports = 30
rate_per_s = 2

[[attack]]
kind = "telnet_scan"
at_s = 90
device = "sim-camera-2"
targets = 40
rate_per_s = 2

[[attack]]
kind = "backdoor_listener"
at_s = 60
device = "sim-sensor-1"
port = 4444

[[attack]]
kind = "flood"
at_s = 120
device = "sim-gateway-1"
packets_per_s = 3000
duration_s = 20

[[attack]]
kind = "beaconing"
at_s = 100
device = "sim-sensor-2"
destination = "{BEACON}"
interval_s = 30

[[attack]]
kind = "exfiltration"
at_s = 150
device = "sim-plc-4"
bytes = 50_000_000
duration_s = 60

[[attack]]
kind = "silence"
at_s = 120
device = "sim-sensor-5"

[[attack]]
kind = "shared_identity"
at_s = 60
device = "sim-gateway-2"
duration_s = 150
"""

# Two agents taking turns on the broker under one client id: the hub may see their backlogs.
SHARED = "sim-gateway-2"

# The hub's feed lists the beacon's address; its policy caps uploads far above any profile's.
FEEDS = {"c2.txt": f"{BEACON}\n"}
POLICY = """
[[defaults.rules]]
name = "upload-cap"
metric = "bytes_out"
above = 20_000_000
window = "1m"
category = "exfiltration"
"""

# What each attacked device must raise, and nothing else anywhere.
EXPECTED_ALERTS = {
    "sim-plc-1": {("scan.port_inbound", SCANNER)},
    "sim-camera-2": {("scan.outbound", "tcp/23")},
    "sim-sensor-1": {("ports.new_listening", "tcp/4444")},
    "sim-gateway-1": {("flood.inbound", "udp")},
    "sim-sensor-2": {("intel.malicious_ip", BEACON)},
    "sim-plc-4": {("rule.upload-cap", "")},
}


def stored_per_device(hub):
    rows = hub.sql("SELECT d.id, count(m.id) FROM devices d JOIN messages m USING (device_key) "
                   "GROUP BY d.id")
    return dict(rows)


def check_fleet(hub_binary, sim, work):
    hub = ScenarioHub(hub_binary, work, policy=POLICY, feeds=FEEDS)
    hub.start()
    try:
        scenario = os.path.join(work, "fleet.toml")
        with open(scenario, "w") as f:
            f.write(SCENARIO)
        report_path = os.path.join(work, "report.json")
        result = subprocess.run([sim, "--data", hub.data, "--scenario", scenario,
                                 "--report", report_path], capture_output=True, text=True,
                                timeout=45)
        print(result.stdout[-1500:])
        if not check(result.returncode == 0, f"vigil-sim exits 0 ({result.returncode}): "
                                             f"{result.stderr[-800:]}"):
            return
        with open(report_path) as f:
            report = json.load(f)
        devices = report["devices"]
        check(len(devices) == 20, f"20 devices simulated ({len(devices)})")
        # The clone is switched off with what the broker had not acknowledged yet.
        check(report["drained"] and report["unacknowledged"] == devices[SHARED]["unacknowledged"],
              "the broker acknowledged every publish")
        check(devices[SHARED]["agents"] == 2, f"two agents reported as {SHARED}")
        # Enrolled through the hub's own enrolment: listed as enrolled, not as strangers.
        status, listed = hub.api("/api/devices?limit=100")
        enrolment = {d["id"]: d["enrolment"] for d in listed["devices"]} if status == 200 else {}
        check(sorted(enrolment) == sorted(devices) and
              set(enrolment.values()) == {"enrolled"},
              f"the hub lists every device enrolled: {enrolment}")
        check(all(d["messages_sent"] > 0 for d in devices.values()),
              "every device sent messages: " +
              str({k: d["messages_sent"] for k, d in devices.items()}))
        check(report["sim_seconds"] == 300, f"300 simulated seconds ({report['sim_seconds']})")
        check(report["real_seconds"] < 15, f"at 60x in about 5 s ({report['real_seconds']:.1f} s)")
        sent = {k: d["messages_sent"] for k, d in devices.items()}
        wait_for(lambda: stored_per_device(hub) == sent, 20, step=0.25)
        stored = stored_per_device(hub)
        differ = {k: (sent.get(k), stored.get(k)) for k in set(sent) | set(stored)
                  if sent.get(k) != stored.get(k) and k != SHARED}
        check(not differ, f"the hub stored what each device sent, {sum(sent.values())} "
                          f"messages (device: sent, stored): {differ}")
        lost = devices[SHARED]["unacknowledged"]
        check(sent[SHARED] - lost <= stored.get(SHARED, 0) <= sent[SHARED],
              f"{SHARED}'s two agents: {sent[SHARED]} sent, {lost} of them cut off unacknowledged, "
              f"{stored.get(SHARED)} stored")
        attacks = {(a["kind"], a["device"]): a for a in report["attacks"]}
        # A backdoor listener, beaconing and a silence without end last until the run ends.
        check(all(a["started"] and (a["finished"] or a["kind"] in (
                  "backdoor_listener", "beaconing", "silence")) for a in attacks.values()),
              f"every attack ran to its end: {report['attacks']}")
        # Silent from 120 s of 300: the hub's health.silent needs three of its low-priority
        # intervals (3 minutes) on the hub's own clock, longer than this test runs.
        others = [sent[k] for k in sent if k.startswith("sim-sensor-") and k != "sim-sensor-5"]
        check(sent["sim-sensor-5"] < 0.6 * min(others),
              f"the silent sensor stopped reporting: {sent['sim-sensor-5']} messages, the other "
              f"sensors {min(others)} or more")

        for device, wanted in EXPECTED_ALERTS.items():
            seen = hub.wait_alerts(device, lambda alerts, wanted=wanted: wanted <= {
                (a["type"], a["subject"]) for a in alerts})
            got = {(a["type"], a["subject"]) for a in seen}
            check(got == wanted, f"{device}: its attack raised {sorted(wanted)}: {sorted(got)}")
        others = [(a.get("device_id"), a["type"], a["subject"]) for a in hub.alerts()
                  if a.get("device_id") not in EXPECTED_ALERTS and a.get("device_id") != SHARED]
        check(not others, f"the fleet's ordinary traffic raised no alert: {others}")

        def findings(device):
            status, body = hub.api(f"/api/recommendations?device={device}")
            if status != 200 or not isinstance(body, dict):
                return set()
            return {(r["kind"], r["subject"]) for r in body.get("recommendations", [])}
        firmware = ("firmware.vulnerable", "netxduo")
        wait_for(lambda: firmware in findings("sim-plc-3"), 10, step=0.5)
        check(firmware in findings("sim-plc-3"),
              f"the vulnerable NetX Duo release opened firmware.vulnerable on sim-plc-3: "
              f"{findings('sim-plc-3')}")
        wait_for(lambda: any(kind == "identity.shared" for kind, _ in findings(SHARED)), 10,
                 step=0.5)
        check(any(kind == "identity.shared" for kind, _ in findings(SHARED)),
              f"two agents under one identity opened identity.shared on {SHARED}: "
              f"{findings(SHARED)}")
        exposure = ("exposure.internet_inbound", "tcp/4444")
        wait_for(lambda: exposure in findings("sim-sensor-1"), 10, step=0.5)
        check(exposure in findings("sim-sensor-1"),
              f"the backdoor's sessions from the internet opened {exposure} on sim-sensor-1: "
              f"{findings('sim-sensor-1')}")

        # The same fleet again, with the credentials kept from the first run: each run is a new
        # boot of every device, so none of its messages is taken for a redelivery.
        again = subprocess.run([sim, "--data", hub.data, "--scenario", scenario, "--duration",
                                "50", "--report", report_path, "--quiet"],
                               capture_output=True, text=True, timeout=30)
        check(again.returncode == 0, f"a second run exits 0 ({again.returncode}): "
                                     f"{again.stderr[-800:]}")
        with open(report_path) as f:
            second = {k: d["messages_sent"] for k, d in json.load(f)["devices"].items()}
        total = {k: sent[k] + second.get(k, 0) for k in sent if k != SHARED}

        def stored_but_shared():
            return {k: n for k, n in stored_per_device(hub).items() if k != SHARED}
        wait_for(lambda: stored_but_shared() == total, 20, step=0.25)
        stored = stored_but_shared()
        check(stored == total and sum(second.values()) > 0,
              f"after a second run the hub holds both runs' messages, {sum(total.values())}: "
              f"{ {k: (total.get(k), stored.get(k)) for k in total if total[k] != stored.get(k)} }")
    finally:
        hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
        if failed():
            print(hub.log()[-3000:])


def fleet_of(devices):
    counts = {"sensor": devices * 4 // 10, "camera": devices * 2 // 10, "gateway": devices // 10}
    counts["plc"] = devices - sum(counts.values())
    return counts


def check_scale(hub_binary, sim, work, devices, speed, seconds):
    fleet = fleet_of(devices)
    ids = [f"sim-{profile}-{n}" for profile, count in fleet.items() for n in range(count)]
    scenario = os.path.join(work, "scale.toml")
    with open(scenario, "w") as f:
        f.write(f"[simulation]\nspeed = {speed}\nduration_s = {seconds}\nseed = 3\n\n[fleet]\n")
        f.write("".join(f"{profile} = {count}\n" for profile, count in fleet.items()))
    hub = ScenarioHub(hub_binary, work)
    os.makedirs(hub.data, exist_ok=True)
    started = time.monotonic()
    enrolled = subprocess.run([hub_binary, "devices", "add", *ids, "--data", hub.data,
                               "--broker-port", str(hub.broker_port)],
                              capture_output=True, text=True, timeout=300)
    enrol_s = time.monotonic() - started
    if not check(enrolled.returncode == 0, f"devices add of {devices} ids exits 0 "
                                           f"({enrolled.returncode}): {enrolled.stderr[-800:]}"):
        return
    credentials = json.loads(enrolled.stdout)
    check(sorted(credentials) == sorted(ids), f"{len(credentials)} of {devices} devices enrolled")
    print(f"enrolled {devices} devices in {enrol_s:.1f} s")
    print(f"BENCH sim_enrol_seconds {enrol_s:.1f} s")
    credentials_path = os.path.join(work, "credentials.json")
    with open(credentials_path, "w") as f:
        json.dump(credentials, f)
    hub.start()
    try:
        report_path = os.path.join(work, "report.json")
        # Bounded by the fleet's size: seconds for the smoke run, minutes for 10,000 devices.
        patience = 20 + devices / 100
        result = subprocess.run([sim, "--data", hub.data, "--scenario", scenario, "--credentials",
                                 credentials_path, "--report", report_path, "--quiet",
                                 "--drain-timeout", str(patience)],
                                capture_output=True, text=True,
                                timeout=seconds / speed + 2 * patience + 30)
        print(result.stdout)
        if not check(result.returncode == 0, f"vigil-sim exits 0 ({result.returncode}): "
                                             f"{result.stderr[-800:]}"):
            return
        with open(report_path) as f:
            report = json.load(f)
        sent = {k: d["messages_sent"] for k, d in report["devices"].items()}
        check(len(sent) == devices and all(n > 0 for n in sent.values()),
              f"all {devices} devices sent messages: "
              f"{sorted(k for k, n in sent.items() if n == 0)[:20]}")
        # How far a loaded machine let the fleet fall behind is a figure, not a failure.
        print(f"the fleet fell {report['lag_seconds']} simulated s behind its speed")
        wait_for(lambda: stored_per_device(hub) == sent, patience, step=1)
        stored = stored_per_device(hub)
        differ = {k: (sent.get(k), stored.get(k)) for k in set(sent) | set(stored)
                  if sent.get(k) != stored.get(k)}
        check(not differ, f"the hub stored what each device sent, {sum(sent.values())} messages; "
                          f"{len(differ)} devices differ (device: sent, stored): "
                          f"{dict(list(differ.items())[:20])}")
    finally:
        hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
        if failed():
            print(hub.log()[-3000:])


def check_scenario_errors(sim, work):
    scenario = os.path.join(work, "bad.toml")
    with open(scenario, "w") as f:
        f.write('[simulation]\nspeed = -3\n\n[fleet]\nsensor = 2\ntoaster = 1\n\n'
                '[[attack]]\nkind = "port_scan_inbound"\ndevice = "sim-sensor-9"\n\n'
                '[[attack]]\nkind = "teleport"\ndevice = "sim-sensor-0"\n')
    result = subprocess.run([sim, "--data", work, "--scenario", scenario],
                            capture_output=True, text=True, timeout=30)
    check(result.returncode == 2, f"a scenario with mistakes is refused ({result.returncode})")
    for line, what in ((2, "speed"), (6, "toaster"), (8, "sim-sensor-9"), (12, "kind")):
        check(f"bad.toml:{line}: " in result.stderr and what in result.stderr,
              f"line {line} named with {what}: {result.stderr}")


def main():
    command = sys.argv[1]
    work = tempfile.mkdtemp(prefix="vigil-sim-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    try:
        if command == "fleet":
            check_fleet(sys.argv[2], sys.argv[3], work)
        elif command == "scale":
            check_scale(sys.argv[2], sys.argv[3], work, int(sys.argv[4]), float(sys.argv[5]),
                        float(sys.argv[6]))
        elif command == "scenario-errors":
            check_scenario_errors(sys.argv[2], work)
        else:
            print(__doc__)
            return 2
    finally:
        subprocess.run(["rm", "-rf", work])
    return summary()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""The dashboard in a real browser against a real hub and fleet.

  check_web.py HUB SIM ARTIFACTS

Starts vigil-hub on free loopback ports with a temp data directory, plays a short fleet into it
with vigil-sim (an inbound port scan, telnet scanning, a backdoor listener, a flood, vulnerable
firmware), makes a read token, and runs dashboard_test.mjs: node with playwright-core driving the
system's chromium headless against the hub's own pages. Its live step plays the fleet again with
a new port scan on another device, whose alert must appear on the open page. Screenshots go to
ARTIFACTS. Skips (77) when node or chromium is missing.
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for path in (ROOT / "tests" / "support", ROOT / "tests" / "hub_e2e", ROOT / "tests" / "scenarios"):
    sys.path.insert(0, str(path))

from vigil_testlib import SKIPPED, check, failed, summary  # noqa: E402
from scenario_hub import ScenarioHub  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLEET = """
[simulation]
speed = 60
duration_s = {duration}
seed = 7

[fleet]
sensor = 3
camera = 2
gateway = 2
plc = 3
"""
ATTACKS = """
[[attack]]
kind = "vulnerable_firmware"
at_s = 20
device = "sim-plc-2"

[[attack]]
kind = "port_scan_inbound"
at_s = 40
device = "sim-plc-1"
ports = 30
rate_per_s = 2

[[attack]]
kind = "telnet_scan"
at_s = 60
device = "sim-camera-1"
targets = 40
rate_per_s = 2

[[attack]]
kind = "backdoor_listener"
at_s = 40
device = "sim-sensor-1"
port = 4444

[[attack]]
kind = "flood"
at_s = 90
device = "sim-gateway-1"
packets_per_s = 3000
duration_s = 20
"""
# The live step: the same fleet a minute longer, and a scan of a device that raised nothing yet.
LIVE_ATTACK = """
[[attack]]
kind = "port_scan_inbound"
at_s = 5
device = "sim-plc-0"
ports = 30
rate_per_s = 4
"""


def post(hub, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{hub.api_port}{path}",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + hub.token(),
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def page_headers(url):
    """The status and lower-cased headers of GET url, without a token (a browser's first load)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return {"status": response.status,
                    **{k.lower(): v for k, v in response.headers.items()}}
    except urllib.error.HTTPError as e:
        return {"status": e.code}
    except OSError as e:
        return {"status": 0, "error": str(e)}


def run(hub_binary, sim, artifacts, work):
    node = shutil.which("node")
    if not node or not os.access(CHROMIUM, os.X_OK):
        print(f"SKIPPED: the browser tests need node ({node or 'missing'}) and {CHROMIUM} "
              f"({'present' if os.access(CHROMIUM, os.X_OK) else 'missing'}); scripts/packages.sh "
              "installs chromium with the test group and node with the dashboard's packages")
        return SKIPPED
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        check(False, "playwright-core is installed in tests/web/node_modules (npm ci --prefix "
                     "tests/web, or vigil_install_web_tests in scripts/packages.sh)")
        return summary()

    hub = ScenarioHub(hub_binary, work)
    hub.start()
    try:
        scenario = os.path.join(work, "fleet.toml")
        live = os.path.join(work, "live.toml")
        with open(scenario, "w") as f:
            f.write(FLEET.format(duration=150) + ATTACKS)
        with open(live, "w") as f:
            f.write(FLEET.format(duration=60) + LIVE_ATTACK)
        played = subprocess.run([sim, "--data", hub.data, "--scenario", scenario, "--quiet"],
                                capture_output=True, text=True, timeout=60)
        if not check(played.returncode == 0, f"vigil-sim plays the fleet ({played.returncode}): "
                                              f"{played.stderr[-800:]}"):
            return summary()
        scanned = hub.wait_alerts("sim-plc-1", lambda alerts: any(
            a["type"] == "scan.port_inbound" and a["state"] == "open" for a in alerts))
        check(bool(scanned), "the port scan raised its alert before the browser starts")
        served = page_headers(f"http://127.0.0.1:{hub.api_port}/")
        if not check(served.get("status") == 200,
                     f"vigil-hub serves the dashboard at / ({served})"):
            return summary()
        charts = page_headers(f"http://127.0.0.1:{hub.api_port}/web/vendor/uPlot.iife.min.js")
        if not check(charts.get("status") == 200,
                     f"vigil-hub serves uPlot ({charts}; npm ci --prefix hub/web installs it)"):
            return summary()
        check("script-src 'self'" in served.get("content-security-policy", ""),
              f"with a strict Content-Security-Policy: {served.get('content-security-policy')}")
        reader = post(hub, "/api/tokens", {"name": "viewer", "role": "read"})

        env = dict(os.environ,
                   VIGIL_WEB_URL=f"http://127.0.0.1:{hub.api_port}",
                   VIGIL_WEB_ADMIN_TOKEN=hub.token(),
                   VIGIL_WEB_READ_TOKEN=reader["token"],
                   VIGIL_WEB_ARTIFACTS=artifacts,
                   VIGIL_WEB_CHROMIUM=CHROMIUM,
                   VIGIL_WEB_DEVICE="sim-plc-1",
                   VIGIL_WEB_LIVE_DEVICE="sim-plc-0",
                   VIGIL_WEB_LIVE_COMMAND=json.dumps(
                       [sim, "--data", hub.data, "--scenario", live, "--quiet"]))
        browser = subprocess.run([node, str(HERE / "dashboard_test.mjs")], env=env,
                                 cwd=str(HERE), timeout=90)
        check(browser.returncode == 0, f"the browser checks pass ({browser.returncode})")
    finally:
        hub.stop(signal.SIGKILL if failed() else signal.SIGTERM)
        if failed():
            print(hub.log()[-3000:])
    return summary()


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    work = tempfile.mkdtemp(prefix="vigil-web-")
    # Started as root, mosquitto drops to its own user, which must reach <data>/broker.
    os.chmod(work, 0o711)
    try:
        return run(sys.argv[1], sys.argv[2], sys.argv[3], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

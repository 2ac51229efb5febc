"""A real vigil-hub for the scenarios (tests/hub_e2e/check_hub.py's Hub) with its own policy file
and feeds directory, devices enrolled and replaying captures through vigil-agent --pcap, and the
alerts read back through the HTTP API."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from check_hub import Hub
from vigil_testlib import check, wait_for

# The agent's high-priority interval: one network report per 10 s of device time.
HIGH_INTERVAL_S = 10


class ScenarioHub(Hub):
    def __init__(self, binary, work, policy="", feeds=None):
        """policy: the policy file's text; feeds: {file name: text} in the feeds directory."""
        self.policy_path = os.path.join(work, "policy.toml")
        self.feeds_dir = os.path.join(work, "feeds")
        os.makedirs(self.feeds_dir, exist_ok=True)
        self.write_policy(policy)
        for name, text in (feeds or {}).items():
            self.write_feed(name, text)
        super().__init__(binary, work, ["--policy", self.policy_path, "--feeds", self.feeds_dir])
        self.credentials = {}

    def write_policy(self, text):
        replace_file(self.policy_path, text)

    def write_feed(self, name, text):
        replace_file(os.path.join(self.feeds_dir, name), text)

    def enrol(self, device_id):
        self.credentials[device_id] = self.add_device(device_id)

    def agent_args(self, agent, device_id, pcap, local_addresses, work, pps=0):
        creds = self.credentials[device_id]
        settings = os.path.join(work, f"agent-{device_id}.toml")
        with open(settings, "w") as f:
            f.write(f'device_id = "{device_id}"\n[mqtt]\nhost = "127.0.0.1"\n'
                    f'port = {self.broker_port}\nusername = "{creds["username"]}"\n'
                    f'password = "{creds["password"]}"\n'
                    # A capture holds no sockets: replaying, the agent would report the test
                    # machine's listening ports, which other tests open and close meanwhile.
                    '[collection.listening_ports]\nenabled = false\n')
        args = [agent, "-c", settings, "--pcap", pcap, "--broker", f"127.0.0.1:{self.broker_port}",
                "--high-interval", str(HIGH_INTERVAL_S), "--replay-pps", str(pps)]
        for address in local_addresses:
            args += ["--local", address]
        return args

    def replay(self, agent, device_id, pcap, local_addresses, work):
        """Replays a capture as device_id, enrolling it first; checks that every message the
        agent sent was stored."""
        if device_id not in self.credentials:
            self.enrol(device_id)
        result = subprocess.run(self.agent_args(agent, device_id, pcap, local_addresses, work),
                                capture_output=True, text=True, timeout=120)
        if not check(result.returncode == 0,
                     f"{device_id}: the replay exits 0 ({result.returncode})"):
            print(result.stderr[-1500:])
        check(wait_for(lambda: self.messages_stored(device_id) >= sent_messages(result.stderr),
                       30), f"{device_id}: the agent's {sent_messages(result.stderr)} messages "
                            f"stored ({self.messages_stored(device_id)})")
        return result

    def messages_stored(self, device_id):
        rows = self.sql("SELECT count(*) FROM messages m JOIN devices d USING (device_key) "
                        "WHERE d.id = ?", device_id)
        return rows[0][0] if rows else 0

    def stored_flows(self, device_id, aggregate, condition):
        rows = self.sql(f"SELECT {aggregate} FROM flows f JOIN messages m ON m.id = f.message_id "
                        f"JOIN devices d USING (device_key) WHERE d.id = ? AND ({condition})",
                        device_id)
        return rows[0][0] if rows else None

    def sql(self, text, *args):
        try:
            with self.db() as db:
                return db.execute(text, args).fetchall()
        except Exception as e:  # a store not yet created, or locked for a moment
            print(f"query failed: {e}")
            return []

    def token(self):
        with open(os.path.join(self.data, "admin.token")) as f:
            return f.read().strip()

    def api(self, path, timeout=10):
        """(status, parsed JSON body) of GET path; status 0 when the API did not answer."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}",
                                         headers={"Authorization": "Bearer " + self.token()})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            body = e.read()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, body.decode(errors="replace")
        except (OSError, ValueError) as e:
            return 0, str(e)

    def alerts(self, device_id=None):
        """Every alert (of one device), oldest first, following the API's pages."""
        found, before = [], None
        for _ in range(100):
            path = "/api/alerts?limit=500" + (f"&before={before}" if before else "")
            if device_id:
                path += f"&device={device_id}"
            status, body = self.api(path)
            if status != 200 or not isinstance(body, dict) or "alerts" not in body:
                check(False, f"GET {path}: {status} {str(body)[:300]}")
                return found
            found += body["alerts"]
            before = body.get("next_before")
            if not before:
                break
        if device_id:
            found = [a for a in found if a.get("device_id", device_id) == device_id]
        return sorted(found, key=lambda a: a.get("raised_ms", 0))

    def wait_alerts(self, device_id, wanted, timeout=20):
        """Polls the device's alerts until wanted(alerts) holds or the timeout passes; returns
        the last list read."""
        seen = []

        def arrived():
            seen[:] = self.alerts(device_id)
            return wanted(seen)
        wait_for(arrived, timeout, step=0.5)
        return seen


def sent_messages(agent_log):
    """The count in the agent's summary line ("... N messages sent, ...")."""
    for line in reversed(agent_log.splitlines()):
        if "summary:" in line and " messages sent" in line:
            return int(line.split(" messages sent")[0].rsplit(" ", 1)[1])
    return 1


def replace_file(path, text):
    """Written beside and renamed over, so the hub never reads half a file."""
    temporary = path + ".new"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def settle(hub, device_ids, quiet_s=2.0, timeout=30):
    """Waits until no new alert or repeat has come for quiet_s seconds."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = [(a.get("device_id"), a["type"], a["subject"], a.get("count"))
               for d in device_ids for a in hub.alerts(d)]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.5)

#!/usr/bin/python3
"""Reads Vigil's encoded messages with cbor2, an independent CBOR implementation.

    cbor2_check.py <cbor2_fixtures executable> <folder>

Runs the fixtures program to write the messages and manifest.json into <folder>, then for every
file: decodes it with cbor2, checks its structure against docs/protocol.md and the totals the
manifest gives, and re-encodes it with canonical=True to check that Vigil's bytes are already
the canonical encoding (shortest integers, definite lengths, map keys in order).

Exits 77 (skipped) when cbor2 cannot be imported, 1 on the first failed check.
"""

import json
import pathlib
import subprocess
import sys

try:
    import cbor2
except ImportError:
    print("cbor2 is not installed for this python; skipping")
    sys.exit(77)

U32 = 2**32 - 1
U64 = 2**64 - 1
FLOW_ITEMS = 9
GROUP_HEADER = 2


class CheckFailed(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise CheckFailed(what)


def is_uint(value, maximum=U64):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def check_map(value, where, required=(), allowed=()):
    expect(isinstance(value, dict), f"{where}: not a map")
    keys = list(value.keys())
    expect(all(is_uint(k) for k in keys), f"{where}: keys must be unsigned integers")
    expect(keys == sorted(keys), f"{where}: keys not in ascending order: {keys}")
    for key in required:
        expect(key in value, f"{where}: key {key} missing")
    if allowed:
        unknown = set(keys) - set(allowed)
        expect(not unknown, f"{where}: unexpected keys {sorted(unknown)}")


def check_address(value, where, sizes=(4, 16)):
    expect(isinstance(value, bytes), f"{where}: address is not a byte string")
    expect(len(value) in sizes, f"{where}: address of {len(value)} bytes")


def check_network(network, entry):
    check_map(network, "network", required=(1, 2, 3, 4), allowed=range(1, 7))
    expect(is_uint(network[1], U32) and is_uint(network[2], U32), "network: window values")
    locals_ = network[3]
    expect(isinstance(locals_, list), "network.local_addresses: not an array")
    for i, address in enumerate(locals_):
        check_address(address, f"network.local_addresses[{i}]")
    groups = network[4]
    expect(isinstance(groups, list), "network.groups: not an array")
    totals = {"flows": 0, "bytes_in": 0, "bytes_out": 0, "packets_in": 0, "packets_out": 0}
    for g, group in enumerate(groups):
        where = f"network.groups[{g}]"
        expect(isinstance(group, list), f"{where}: not an array")
        items = len(group)
        expect(items >= GROUP_HEADER + FLOW_ITEMS and (items - GROUP_HEADER) % FLOW_ITEMS == 0,
               f"{where}: {items} items is not 2 + 9k with k >= 1")
        local_index, remote = group[0], group[1]
        expect(is_uint(local_index) and local_index < len(locals_), f"{where}: local index")
        check_address(remote, f"{where}.remote")
        expect(len(remote) == len(locals_[local_index]), f"{where}: family mismatch")
        for f in range(GROUP_HEADER, items, FLOW_ITEMS):
            flags, local_port, remote_port, b_in, b_out, p_in, p_out, first, last = (
                group[f:f + FLOW_ITEMS])
            expect(is_uint(flags, 63) and flags & 3 != 3, f"{where}: flags {flags}")
            if flags & 3 == 2:  # ICMP type and code
                ports_ok = is_uint(local_port, 255) and is_uint(remote_port, 255)
            else:  # a port, or -1 - i for the i-th well-known port (24 of them)
                ports_ok = all(is_uint(p, 65535) or (isinstance(p, int) and -24 <= p <= -1)
                               for p in (local_port, remote_port))
            expect(ports_ok, f"{where}: ports")
            for value in (b_in, b_out, p_in, p_out, first, last):
                expect(is_uint(value, U32), f"{where}: counter {value} out of range")
            totals["flows"] += 1
            totals["bytes_in"] += b_in
            totals["bytes_out"] += b_out
            totals["packets_in"] += p_in
            totals["packets_out"] += p_out
    for name, value in totals.items():
        expect(value == entry[name], f"network: {name} is {value}, manifest says {entry[name]}")
    expect(len(groups) == entry["groups"], f"network: {len(groups)} groups")
    expect(len(locals_) == entry["local_addresses"], "network: local address count")
    overflow = network.get(5, [])
    expect(5 not in network or overflow, "network.overflow: present but empty")
    expect(len(overflow) == entry["overflow_records"], "network.overflow: record count")
    for i, record in enumerate(overflow):
        expect(isinstance(record, list) and len(record) == 6, f"network.overflow[{i}]: shape")
        expect(record[0] in (4, 6) and record[1] in (0, 1, 2), f"network.overflow[{i}]: codes")
        expect(all(is_uint(v, U32) for v in record[2:]), f"network.overflow[{i}]: counters")
    if 6 in network:
        part = network[6]
        expect(isinstance(part, list) and len(part) == 2 and part[0] < part[1],
               f"network.part: {part}")


def check_system(system):
    check_map(system, "system", allowed=range(1, 10))
    for key in range(1, 8):
        if key in system:
            text = system[key]
            expect(isinstance(text, str), f"system key {key}: not a text string")
            expect(len(text.encode("utf-8")) <= 64, f"system key {key}: longer than 64 bytes")
    for i, address in enumerate(system.get(8, [])):
        check_address(address, f"system.addresses[{i}]")
    for i, mac in enumerate(system.get(9, [])):
        expect(isinstance(mac, bytes) and len(mac) == 6, f"system.macs[{i}]")


def check_ports(ports, entry):
    expect(isinstance(ports, list), "listening_ports: not an array")
    expect(len(ports) == entry["listening_ports"], "listening_ports: count")
    for i, port in enumerate(ports):
        expect(isinstance(port, list) and len(port) == 3, f"listening_ports[{i}]: shape")
        expect(port[0] in (0, 1, 2) and is_uint(port[1], 65535), f"listening_ports[{i}]")
        check_address(port[2], f"listening_ports[{i}].address", sizes=(0, 4, 16))


def check_heartbeat(heartbeat, entry):
    required = [k for k in range(1, 16) if k != 12]
    check_map(heartbeat, "heartbeat", required=required, allowed=range(1, 16))
    expect(heartbeat[1] in (0, 1, 2, 3), "heartbeat.state")
    expect((12 in heartbeat) == entry["config_rejected"], "heartbeat.config_rejected presence")
    if 12 in heartbeat:
        rejected = heartbeat[12]
        expect(isinstance(rejected, list) and len(rejected) == 2 and 1 <= rejected[1] <= 8,
               f"heartbeat.config_rejected: {rejected}")
    expect(heartbeat[3] == entry["packets_seen"], "heartbeat.packets_seen")
    for key in (2, 10, 11, 15):
        expect(is_uint(heartbeat[key], U32), f"heartbeat key {key} over 32 bits")


def check_message(message, entry):
    check_map(message, "message", required=(1, 2, 3, 4, 5), allowed=(1, 2, 3, 4, 5, 10, 11, 12, 13))
    expect(message[1] == 1, "version is not 1")
    expect(message[2] == entry["boot_id"], "boot_id")
    expect(message[3] == entry["sequence"], "sequence")
    sections = [k for k in message if k >= 10]
    expect(sections == entry["sections"], f"sections {sections}, manifest {entry['sections']}")
    if 10 in message:
        check_network(message[10], entry)
    if 11 in message:
        check_system(message[11])
    if 12 in message:
        check_ports(message[12], entry)
    if 13 in message:
        check_heartbeat(message[13], entry)


def check_config(config, entry):
    check_map(config, "config", required=range(1, 7), allowed=range(1, 7))
    expect(config[1] == entry["version"], "config version")
    expect(config[2] == entry["intervals"], "config intervals")
    expect(config[6] == entry["retry_s"], "config retry")
    for collector, setting in config[3].items():
        expect(1 <= collector <= 4, f"config collector {collector}")
        expect(isinstance(setting[0], bool) and setting[1] in (0, 1, 2), "config setting")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    fixtures, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    subprocess.run([fixtures, str(folder)], check=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest:
        raw = (folder / entry["file"]).read_bytes()
        try:
            expect(len(raw) == entry["size"], "size differs from the manifest")
            value = cbor2.loads(raw)
            if entry["kind"] == "config":
                check_config(value, entry)
            else:
                check_message(value, entry)
            canonical = cbor2.dumps(value, canonical=True)
            expect(canonical == raw,
                   f"not canonical CBOR:\n  ours     {raw.hex()}\n  canonical {canonical.hex()}")
        except (CheckFailed, cbor2.CBORDecodeError) as error:
            print(f"FAIL {entry['file']}: {error}")
            return 1
        flows = entry.get("flows")
        note = f", {flows} flows, {len(raw) / flows:.1f} B/flow" if flows else ""
        print(f"ok   {entry['file']}: {len(raw)} bytes{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reads Vigil messages with cbor2 and the tables of docs/protocol.md, not with Vigil's decoder,
so what an end-to-end test asserts is an independent reading of the bytes on the wire.

    decode(payload) -> {"sequence", "boot_id", "network": {"local_addresses", "flows",
                        "overflow"}, "system", "listening_ports", "heartbeat"}
"""

import ipaddress
import pathlib
import re

import cbor2

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
PROTOCOLS = {0: "tcp", 1: "udp", 2: "icmp"}
HANDSHAKES = {0: "completed", 1: "unanswered", 2: "refused", 3: "reset"}
FLOW_ITEMS = 9


def well_known_ports():
    """index -> port, from the table in the "Well-known ports" section of docs/protocol.md."""
    text = DOCS.read_text()
    section = text[text.index("## Well-known ports"):]
    section = section[:section.index("\n## ", 5)]
    table = {}
    for index, port in re.findall(r"\|\s*(\d+)\s*\|\s*(\d+)\s+[^|]*\|", section):
        table[int(index)] = int(port)
    assert sorted(table) == list(range(24)), f"well-known port table: {table}"
    return table


WELL_KNOWN = well_known_ports()


def port(value, protocol):
    if protocol != "icmp" and value < 0:
        return WELL_KNOWN[-1 - value]
    return value


def address(raw):
    return str(ipaddress.ip_address(raw)) if raw else None


def decode_network(network):
    locals_ = [address(a) for a in network[3]]
    flows = []
    for group in network[4]:
        local, remote = locals_[group[0]], address(group[1])
        items = group[2:]
        assert len(items) % FLOW_ITEMS == 0 and items, "a group holds 9 items per flow"
        for i in range(0, len(items), FLOW_ITEMS):
            flags, lport, rport, bin_, bout, pin, pout, first, last = items[i:i + FLOW_ITEMS]
            protocol = PROTOCOLS[flags & 3]
            flow = {"protocol": protocol, "local": local, "remote": remote,
                    "opened_by": "remote" if flags & 4 else "local",
                    "opener_inferred": bool(flags & 8),
                    "bytes_in": bin_, "bytes_out": bout, "packets_in": pin, "packets_out": pout,
                    "first_s": first, "last_s": last}
            if protocol == "icmp":
                flow.update(icmp_type=lport, icmp_code=rport)
            else:
                flow.update(local_port=port(lport, protocol), remote_port=port(rport, protocol))
            if protocol == "tcp":
                flow["handshake"] = HANDSHAKES[(flags >> 4) & 3]
            flows.append(flow)
    overflow = [{"family": o[0], "protocol": PROTOCOLS[o[1]], "bytes_in": o[2], "bytes_out": o[3],
                 "packets_in": o[4], "packets_out": o[5]} for o in network.get(5, [])]
    return {"window_duration_ms": network[2], "local_addresses": locals_, "flows": flows,
            "overflow": overflow}


def decode(payload):
    message = cbor2.loads(payload)
    assert message[1] == 1, "format version 1"
    out = {"boot_id": message[2], "sequence": message[3], "unix_time": message[4]}
    if 10 in message:
        out["network"] = decode_network(message[10])
    if 11 in message:
        names = {1: "agent_version", 2: "os_name", 3: "os_version", 4: "stack_name",
                 5: "stack_version", 6: "firmware_version", 7: "board"}
        system = {names[k]: v for k, v in message[11].items() if k in names}
        system["addresses"] = [address(a) for a in message[11].get(8, [])]
        system["macs"] = [":".join(f"{b:02x}" for b in m) for m in message[11].get(9, [])]
        out["system"] = system
    if 12 in message:
        out["listening_ports"] = [{"protocol": PROTOCOLS[p[0]], "port": p[1],
                                   "address": address(p[2])} for p in message[12]]
    if 13 in message:
        h = message[13]
        names = {1: "state", 2: "config_version", 3: "packets_seen", 4: "packets_unparsed",
                 5: "packets_ignored", 6: "overflow_packets", 7: "messages_sent",
                 8: "send_failures", 9: "messages_dropped", 10: "backlog_messages",
                 11: "backlog_bytes", 12: "config_rejected", 13: "schedule_drift",
                 14: "clock_jumps", 15: "collectors"}
        out["heartbeat"] = {names[k]: v for k, v in h.items() if k in names}
    return out

#!/usr/bin/python3
"""Cross-checks vigil_bench_wire's per-flow figures with an independent CBOR library (cbor2).

Reads the messages `vigil_bench_wire --dump DIR` wrote and, for each window message:
  - decodes it with cbor2 and re-encodes it: the bytes must come back identical (so the agent
    wrote preferred, definite-length CBOR, and cbor2 sizes it the way the agent does);
  - builds "the same message with zero flows" from the decoded value (network key 3, local
    addresses, and key 4, groups, set to empty lists), encodes it with cbor2 and compares it with
    the zero-flow message the benchmark built byte by byte;
  - recomputes (message bytes - zero-flow bytes) / flows.
Run with Debian's /usr/bin/python3 (python3-cbor2). Exit status 1 on any disagreement.
"""
import os
import sys

import cbor2

NETWORK = 10
LOCAL_ADDRESSES = 3
GROUPS = 4
GROUP_HEADER_ITEMS = 2
FLOW_ITEMS = 9


def check(directory, stem):
    with open(os.path.join(directory, stem + ".cbor"), "rb") as f:
        message = f.read()
    with open(os.path.join(directory, stem + "-zero-flows.cbor"), "rb") as f:
        zero_from_bench = f.read()
    decoded = cbor2.loads(message)
    if cbor2.dumps(decoded) != message:
        print(f"{stem}: cbor2 does not re-encode the message byte for byte")
        return False
    network = decoded[NETWORK]
    flows = sum((len(g) - GROUP_HEADER_ITEMS) // FLOW_ITEMS for g in network[GROUPS])
    network[LOCAL_ADDRESSES] = []
    network[GROUPS] = []
    zero = cbor2.dumps(decoded)
    if zero != zero_from_bench:
        print(f"{stem}: zero-flow message differs ({len(zero)} B with cbor2, "
              f"{len(zero_from_bench)} B from the benchmark)")
        return False
    per_flow = (len(message) - len(zero)) / flows
    print(f"wire_check {stem}: cbor2 agrees: ({len(message)} - {len(zero)}) / {flows} "
          f"= {per_flow:.2f} B per flow")
    return True


def main():
    if len(sys.argv) != 2:
        print("usage: wire_check.py DIR", file=sys.stderr)
        return 2
    ok = all([check(sys.argv[1], "ipv4-window"), check(sys.argv[1], "ipv6-window")])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

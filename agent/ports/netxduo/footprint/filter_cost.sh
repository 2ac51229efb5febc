#!/usr/bin/env bash
# Instructions Vigil's NetX Duo filter costs for a packet of a flow the agent already holds,
# through NetX Duo's own call: runs bench/'s vigil_bench_netxduo_filter (two IP instances on
# NetX's RAM driver, UDP datagrams on one flow) under callgrind, collecting only inside Vigil's
# nx_ip_packet_filter_extended (the agent's flow update, its clock and lock, and the chained
# filter included). It runs twice, for FEW and MANY datagrams after the same warm-up, and divides
# the difference in instructions by the difference in filter calls, so the packets that created
# the flows (and anything else done once) drop out.
#   BENCH netxduo_filter_instructions_per_packet         all of it
#   BENCH netxduo_filter_instructions_per_packet_no_lock without the ThreadX Linux port's
#                                                        lockout (TX_DISABLE, a pthread mutex
#                                                        there, a few instructions on a
#                                                        microcontroller)
# and where the instructions go, per packet and per function.
# Exits 77 when valgrind or the program is missing.
#
# Usage: agent/ports/netxduo/footprint/filter_cost.sh [PATH/TO/vigil_bench_netxduo_filter]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
program=${1:-$root/build/release/bench/vigil_bench_netxduo_filter}
few=100
many=1100
if ! command -v valgrind >/dev/null || [[ ! -x "$program" ]]; then
  echo "filter_cost.sh: valgrind or $program missing; skipped" >&2
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for count in "$few" "$many"; do
  valgrind --tool=callgrind --callgrind-out-file="$out/$count.out" \
    --toggle-collect='*vigil_filter*' "$program" "$count" 2>"$out/$count.log"
done
python3 - "$out/$few.out" "$out/$many.out" <<'PY'
import re
import subprocess
import sys


def filter_calls(path):
    names, calls = {}, 0
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?", line)
        if not m:
            continue
        if m.group(2):
            names[m.group(1)] = m.group(2)
        if line.startswith("cfn=") and "vigil_filter" in names.get(m.group(1), ""):
            c = re.match(r"calls=(\d+)", lines[i + 1])
            calls += int(c.group(1)) if c else 0
    return calls


def self_costs(path):
    """{function: instructions} as callgrind_annotate lists them, and the program's total."""
    annotated = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", path],
                               capture_output=True, text=True, check=True).stdout
    costs, total = {}, 0
    for row in annotated.splitlines():
        m = re.match(r"^\s*([\d,]+) \([\d. ]+%\)\s+(.*?)(?: \[.*\])?$", row)
        if not m:
            continue
        cost = int(m.group(1).replace(",", ""))
        if "PROGRAM TOTALS" in row:
            total = cost
        elif ":" in m.group(2) and not m.group(2).lstrip().startswith("=>"):
            # file:function; the build's relative path prefix says nothing
            name = re.sub(r"^.*?/\.\./", "", m.group(2))
            costs[name] = costs.get(name, 0) + cost
    return costs, total


def is_lock(name):
    return "tx_thread_interrupt_control.c" in name or "/nptl/" in name or "nptl" in name


few_path, many_path = sys.argv[1], sys.argv[2]
calls = filter_calls(many_path) - filter_calls(few_path)
if calls <= 0:
    sys.exit("filter_cost.sh: the filter calls did not grow with the datagrams")
few_costs, few_total = self_costs(few_path)
many_costs, many_total = self_costs(many_path)
total = many_total - few_total
spent = {name: many_costs[name] - few_costs.get(name, 0) for name in many_costs}
lock = sum(cost for name, cost in spent.items() if is_lock(name))
print(f"existing-flow packets {calls}, instructions {total}, "
      f"of which the Linux port's lockout {lock}")
print("per packet, by function (self cost):")
for name, cost in sorted(spent.items(), key=lambda item: -item[1]):
    if cost * 10 >= calls:  # 0.1 instruction per packet or more
        print(f"  {cost / calls:7.1f}  {name}")
port = sum(cost for name, cost in spent.items() if "ports/netxduo/" in name)
core = sum(cost for name, cost in spent.items()
           if not is_lock(name) and "ports/netxduo/" not in name and "/third_party/" not in name)
print(f"per packet: the Linux port's lockout {lock / calls:.1f}, the agent core {core / calls:.1f}, "
      f"the NetX Duo port {port / calls:.1f}, other {(total - lock - core - port) / calls:.1f}")
print(f"BENCH netxduo_filter_instructions_per_packet {round(total / calls)} instructions")
print(f"BENCH netxduo_filter_instructions_per_packet_no_lock {round((total - lock) / calls)} "
      "instructions")
PY

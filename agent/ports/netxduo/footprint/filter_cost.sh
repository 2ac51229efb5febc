#!/usr/bin/env bash
# Instructions the packet hook costs per packet, through NetX Duo's own call: runs the NetX Duo
# port test under callgrind, collecting only inside Vigil's nx_ip_packet_filter_extended (the
# agent's flow update and the chained filter included), and divides by the filter's calls.
#   BENCH netxduo_filter_instructions_per_packet         all of it
#   BENCH netxduo_filter_instructions_per_packet_no_lock without the ThreadX Linux port's
#                                                        lockout, a pthread mutex there and a
#                                                        few instructions on a microcontroller
# The average is over the test's packets, new flows and existing ones alike.
# Exits 77 when valgrind or the test program is missing.
#
# Usage: agent/ports/netxduo/footprint/filter_cost.sh [PATH/TO/vigil_netxduo_port_test]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
program=${1:-$root/build/release/tests/netxduo/vigil_netxduo_port_test}
if ! command -v valgrind >/dev/null || [[ ! -x "$program" ]]; then
  echo "filter_cost.sh: valgrind or $program missing; skipped" >&2
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*vigil_filter*' \
  "$program" >/dev/null 2>&1
python3 - "$out" <<'PY'
import re
import subprocess
import sys

path = sys.argv[1]
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
annotated = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True,
                           check=True).stdout
# Self cost per function: everything collected is inside the filter, so the total is the sum,
# and the lockout is what the ThreadX Linux port's interrupt control and glibc's mutex spent.
total = lock = 0
for row in annotated.splitlines():
    m = re.match(r"^\s*([\d,]+) \([\d. ]+%\)\s+(\S+)", row)
    if not m:
        continue
    cost = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in row:
        total = cost
    elif "tx_thread_interrupt_control.c" in m.group(2) or "/nptl/" in m.group(2):
        lock += cost
if calls == 0:
    sys.exit("filter_cost.sh: the filter was never called")
print(f"filter calls {calls}, instructions {total}, of which the Linux port's lockout {lock}")
print(f"BENCH netxduo_filter_instructions_per_packet {total // calls} instructions")
print(f"BENCH netxduo_filter_instructions_per_packet_no_lock {(total - lock) // calls} instructions")
PY

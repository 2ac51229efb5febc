#!/usr/bin/env bash
# Instruction counts (callgrind) of the packet hook and of the window encoding; see
# bench/hook_callgrind.cpp for what each mode runs.
#   hook_instructions_per_packet[_nolock|_capi]
#       a packet of an existing IPv4 TCP flow: (Ir(N packets) - Ir(0 packets)) / N, collected
#       only inside vigil_bench_packet_loop (the loop that calls the hook)
#   encode_window_instructions
#       a full default window (64 IPv4 + 16 IPv6 flows) into messages: (Ir(N windows) -
#       Ir(0 windows)) / N, collected only inside AgentBase::encode_messages (the tick's
#       critical section)
#
# Usage: bench/callgrind_hook.sh PATH/TO/vigil_bench_hook_callgrind [PACKETS] [WINDOWS]
set -euo pipefail

driver=${1:?usage: $0 PATH/TO/vigil_bench_hook_callgrind [PACKETS] [WINDOWS]}
packets=${2:-1000000}
windows=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Total instructions (Ir) collected in one run, from the "totals:" line of callgrind's output
# (older versions write "summary:").
instructions() {
    local mode=$1 n=$2 collect=$3 out="$work/callgrind.$1.$2"
    valgrind --tool=callgrind --toggle-collect="$collect" --callgrind-out-file="$out" \
        "$driver" "$mode" "$n" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
    awk '/^(totals|summary):/ { print $2; found = 1; exit } END { if (!found) exit 1 }' "$out"
}

# figure mode count collect-function unit
measure() {
    local name=$1 mode=$2 n=$3 collect=$4 unit=$5 full empty per
    full=$(instructions "$mode" "$n" "$collect")
    empty=$(instructions "$mode" 0 "$collect")
    per=$(awk -v a="$full" -v b="$empty" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
    echo "callgrind $mode: Ir($n $unit) = $full, Ir(0 $unit) = $empty -> $per per ${unit%s}"
    echo "BENCH $name $per instructions"
}

measure hook_instructions_per_packet lock "$packets" vigil_bench_packet_loop packets
measure hook_instructions_per_packet_nolock nolock "$packets" vigil_bench_packet_loop packets
measure hook_instructions_per_packet_capi capi "$packets" vigil_bench_packet_loop packets
measure encode_window_instructions window "$windows" \
    'vigil::agent::AgentBase::encode_messages*' windows

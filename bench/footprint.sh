#!/usr/bin/env bash
# RAM the linker gives the agent, beyond sizeof(Agent<>): builds on vigil_bench_capi_tiny, a C
# program that uses only the C ABI (bench/capi_tiny.c), linked against the agent's archives.
#   agent_capi_bss_data_bytes  .data + .bss of every object in libvigil_agent.a and
#                              libvigil_protocol_core.a (all of them are linked into the program)
#   agent_capi_g_agent_bytes   size of the C ABI's static agent in the linked program (nm): the
#                              storage it is constructed in, g_storage
# Also prints, for information, the code size of those objects on this host (x86-64, -O2 -g;
# not the Cortex-M figure).
#
# Usage: bench/footprint.sh BUILD_DIR      (BUILD_DIR: e.g. build/release)
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR}
tiny="$build/bench/vigil_bench_capi_tiny"
archives=("$build/agent/libvigil_agent.a" "$build/protocol/libvigil_protocol_core.a")

"$tiny"  # it must run, not only link

# size -A lists each archive member's sections; sum them by kind.
size -A "${archives[@]}" | awk '
    /^\.(data|bss)/                        { ram += $2 }
    /^\.(text|rodata)/                     { code += $2 }
    END {
        printf "agent + protocol core objects: .data+.bss %d B, .text+.rodata %d B (x86-64)\n", ram, code
        printf "BENCH agent_capi_bss_data_bytes %d B\n", ram
    }'

echo "RAM symbols in the linked C program (nm):"
nm -S -C -t d --size-sort "$tiny" | awk '$3 ~ /^[bBdD]$/ { printf "  %6d B  %s %s\n", $2, $3, substr($0, index($0, $4)) }'
g_agent=$(nm -S -C -t d "$tiny" | awk '/g_storage$/ && !size { size = $2 + 0 } END { print size }')
if [[ -z "$g_agent" || "$g_agent" == 0 ]]; then
    echo "footprint.sh: g_storage not found in $tiny" >&2
    exit 1
fi
echo "BENCH agent_capi_g_agent_bytes $g_agent B"
if ldd "$tiny" | grep -q 'libstdc++'; then
    echo "note: the C program links libstdc++" >&2
fi

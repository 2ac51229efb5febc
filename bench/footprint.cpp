// RAM of one agent with the default capacities: sizeof(vigil::agent::Agent<>) holds all of its
// state (flow tables, sort order, the 2 KB backlog, listening ports, config, counters, device
// id and topic); the agent allocates nothing else and keeps no other static data.
// bench/footprint.sh adds what the linker places: .data + .bss of the agent's objects in a tiny
// C program that uses only the C ABI (bench/capi_tiny.c).
//
// Usage: vigil_bench_footprint [--check]   (--check: exit 1 above the 8 KB budget)
#include <cstdio>
#include <cstring>

#include "vigil/agent/agent.hpp"

int main(int argc, char** argv) {
    using vigil::agent::Agent;
    using vigil::agent::AgentBase;
    using vigil::agent::detail::FlowRecord4;
    using vigil::agent::detail::FlowRecord6;
    constexpr size_t kBudget = 8192;
    const size_t total = sizeof(Agent<>);
    const size_t flows4 = VIGIL_MAX_IPV4_FLOWS * sizeof(FlowRecord4);
    const size_t flows6 = VIGIL_MAX_IPV6_FLOWS * sizeof(FlowRecord6);
    const size_t order = (VIGIL_MAX_IPV4_FLOWS + VIGIL_MAX_IPV6_FLOWS) * sizeof(uint16_t);
    const size_t backlog = VIGIL_BACKLOG_BYTES;
    const size_t ports = VIGIL_MAX_LISTENING_PORTS * sizeof(vigil_listening_port);
    std::printf("sizeof(Agent<%d, %d, %d, %d, %d>) = %zu B\n", VIGIL_MAX_IPV4_FLOWS,
                VIGIL_MAX_IPV6_FLOWS, VIGIL_BACKLOG_BYTES, VIGIL_MAX_MESSAGE_BYTES,
                VIGIL_MAX_LISTENING_PORTS, total);
    std::printf("  IPv4 flow records  %3d x %2zu B = %5zu B\n", VIGIL_MAX_IPV4_FLOWS,
                sizeof(FlowRecord4), flows4);
    std::printf("  IPv6 flow records  %3d x %2zu B = %5zu B\n", VIGIL_MAX_IPV6_FLOWS,
                sizeof(FlowRecord6), flows6);
    std::printf("  sort order         %3d x  2 B = %5zu B\n",
                VIGIL_MAX_IPV4_FLOWS + VIGIL_MAX_IPV6_FLOWS, order);
    std::printf("  backlog                         %5zu B\n", backlog);
    std::printf("  listening ports    %3d x %2zu B = %5zu B\n", VIGIL_MAX_LISTENING_PORTS,
                sizeof(vigil_listening_port), ports);
    std::printf(
        "  AgentBase (state, config, counters, overflow records, device id %zu B, "
        "topic, clocks) = %zu B\n",
        vigil::agent::kMaxDeviceIdBytes + 1, sizeof(AgentBase));
    std::printf("  padding                         %5zu B\n",
                total - flows4 - flows6 - order - backlog - ports - sizeof(AgentBase));
    std::printf("BENCH agent_static_ram_bytes %zu B\n", total);
    std::printf("BENCH agent_base_bytes %zu B\n", sizeof(AgentBase));
    if (argc > 1 && std::strcmp(argv[1], "--check") == 0 && total > kBudget) {
        std::printf("OVER agent_static_ram_bytes: %zu (budget %zu)\n", total, kBudget);
        return 1;
    }
    return 0;
}

// Wire cost of the agent's messages, measured on messages a real agent publishes.
//
//   wire_bytes_per_ipv4_flow / wire_bytes_per_ipv6_flow
//     A real Agent (fake platform: simulated clock, recording transport) runs for three hours of
//     uptime, then one 10-second window of the 50-flow mix (bench/traffic_mix.cpp) is played into
//     Agent::packet() as real packets, and one tick turns it into the network message that the
//     transport receives. The figure is
//         (bytes of that message - bytes of the same message with zero flows) / 50
//     where "the same message with zero flows" is that very message with its local-address list
//     (network key 3) and its group list (key 4) replaced by empty arrays: the same envelope,
//     the same network map with the same window keys. It is built byte by byte from the real
//     message and read back with the protocol's reader; scripts/bench cross-checks it with
//     Python's cbor2 (bench/wire_check.py). So a flow is charged everything flows add: its nine
//     fields, its share of group heads and remote addresses, and of the local-address list.
//     The agent for these figures has 64 IPv4 and 64 IPv6 records and 8 KB messages, so the 50
//     flows land in one message; the default Agent<> splits the IPv4 window into parts (1024-byte
//     messages), reported separately.
//
//   wire_message_overhead_bytes
//     The envelope alone: a message map holding only keys 1..5 (format version, boot id,
//     sequence, unix time, uptime) with the values the agent wrote into that same message after
//     three hours of uptime (boot id from a random 32-bit value, sequence in the hundreds, unix
//     time of 2023, uptime 10810 s). Computed as the message's size minus its event pairs (the
//     map head is one byte for 5 or 6 pairs) and checked against the cbor::Writer encoding of a
//     map(5) with the same values.
//
// Usage: vigil_bench_wire [--check] [--dump DIR] [--quiet]
//   --check  exit 1 when a figure is over its budget (18 B, 30 B, 48 B)
//   --dump   write the messages (and their zero-flow twins) as .cbor files into DIR
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "message_walk.hpp"
#include "traffic_mix.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/protocol/cbor.h"

namespace {

using vigil::bench::FlowSpec;
using vigil::bench::MessageWalk;

constexpr double kBudgetIpv4 = 18.0;
constexpr double kBudgetIpv6 = 30.0;
constexpr double kBudgetEnvelope = 48.0;
constexpr uint64_t kUptimeBeforeWindowMs = 3ull * 3600 * 1000;
constexpr uint64_t kWindowMs = 10'000;

/// Enough room for the whole 50-flow window in one message, for either family.
using WideAgent = vigil::agent::Agent<64, 64, 16384, 8192>;
using DefaultAgent = vigil::agent::Agent<>;

bool g_quiet = false;

#define SAY(...)                      \
    do {                              \
        if (!g_quiet) {               \
            std::printf(__VA_ARGS__); \
        }                             \
    } while (0)

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "vigil_bench_wire: %s\n", what.c_str());
    std::exit(2);
}

struct WindowRun {
    std::vector<std::vector<uint8_t>> messages;  ///< what the transport got at the window's tick
    vigil::agent::Counters counters;
    uint32_t boot_messages = 0;  ///< messages sent before the window (3 h of snapshots)
};

/// Runs an agent for three hours, plays one window of `mix` and ticks once at its end.
template <typename AgentType>
WindowRun run_window(const std::vector<FlowSpec>& mix) {
    vigil::test::FakePlatform platform;
    platform.next_random = 0xC3A5F1E7u;  // a random boot id looks like this, not like 12345
    const uint64_t boot_ms = platform.now_ms;
    const uint32_t boot_unix = platform.unix_time;
    auto agent = std::make_unique<AgentType>();
    vigil_options options{};
    options.first_collection_splay_max_ms = 0;  // collections on multiples of 10 s from init
    if (agent->init(platform.port(), platform.transport(), "bench-device-0042", &options) !=
        vigil::agent::Status::Ok) {
        die("agent init failed");
    }
    // Uptime: a tick every second for three hours (snapshots, heartbeats; no traffic).
    while (platform.now_ms - boot_ms < kUptimeBeforeWindowMs) {
        platform.now_ms += 1000;
        platform.unix_time = boot_unix + static_cast<uint32_t>((platform.now_ms - boot_ms) / 1000);
        (void)agent->tick();
    }
    WindowRun run;
    run.boot_messages = static_cast<uint32_t>(platform.published.size());
    platform.published.clear();
    // The tick at exactly 3 h collected every group and opened a new window; 10 s later only the
    // network collector (high priority) is due.
    const uint64_t window_start = platform.now_ms;
    vigil::bench::feed(*agent, platform.now_ms, window_start, vigil::bench::play(mix));
    platform.now_ms = window_start + kWindowMs;
    platform.unix_time = boot_unix + static_cast<uint32_t>((platform.now_ms - boot_ms) / 1000);
    (void)agent->tick();
    for (const auto& p : platform.published) {
        run.messages.push_back(p.payload);
    }
    run.counters = agent->counters();
    return run;
}

void dump(const std::string& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
    if (dir.empty()) {
        return;
    }
    const std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
        die("cannot write " + path);
    }
    std::fclose(f);
}

std::string address_text(const std::vector<uint8_t>& a) {
    char text[64];
    if (a.size() == 4) {
        std::snprintf(text, sizeof(text), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        return text;
    }
    std::string out;
    for (size_t i = 0; i < a.size(); i += 2) {
        std::snprintf(text, sizeof(text), "%s%x", i == 0 ? "" : ":", (a[i] << 8) | a[i + 1]);
        out += text;
    }
    return out;
}

struct FlowFigure {
    double per_flow = 0;
    size_t message = 0;
    size_t empty = 0;
    size_t flows = 0;
};

/// Prints where the bytes of one network message go and returns the per-flow figure.
FlowFigure analyse(const char* family, const std::vector<uint8_t>& message,
                   const std::string& dump_dir, const std::string& stem) {
    const MessageWalk walk = vigil::bench::walk_message(message);
    if (!walk.ok || !walk.network) {
        die(std::string(family) + " message does not walk: " + walk.error);
    }
    const std::vector<uint8_t> empty = vigil::bench::without_flows(message, walk);
    const MessageWalk empty_walk = vigil::bench::walk_message(empty);
    if (!empty_walk.ok || empty_walk.flow_count() != 0) {
        die(std::string(family) + " zero-flow message does not walk: " + empty_walk.error);
    }
    dump(dump_dir, stem + ".cbor", message);
    dump(dump_dir, stem + "-zero-flows.cbor", empty);

    FlowFigure fig;
    fig.message = message.size();
    fig.empty = empty.size();
    fig.flows = walk.flow_count();
    fig.per_flow = static_cast<double>(fig.message - fig.empty) / static_cast<double>(fig.flows);
    const double flows = static_cast<double>(fig.flows);
    const double groups = static_cast<double>(walk.groups.size());

    SAY("\n== %s: %zu flows, %zu groups (local,remote), %zu local addresses ==\n", family,
        fig.flows, walk.groups.size(), walk.local_bytes.size());
    SAY("message %zu B; same message with zero flows %zu B; (%zu - %zu) / %zu = %.2f B per flow\n",
        fig.message, fig.empty, fig.message, fig.empty, fig.flows, fig.per_flow);

    // Per field: average bytes and how many flows took 1 / 2 / 3 / 5 / 9 bytes.
    SAY("%-12s %8s   %s\n", "field", "avg B", "flows by encoded size (1/2/3/5/9 B)");
    double field_total = 0;
    for (size_t i = 0; i < vigil::wire::kFlowItems; ++i) {
        size_t sum = 0;
        size_t by_size[10] = {};
        for (const auto& g : walk.groups) {
            for (const auto& f : g.flows) {
                sum += f.bytes[i];
                ++by_size[f.bytes[i]];
            }
        }
        field_total += static_cast<double>(sum);
        SAY("%-12s %8.2f   %zu / %zu / %zu / %zu / %zu\n", vigil::bench::kFlowFieldNames[i],
            static_cast<double>(sum) / flows, by_size[1], by_size[2], by_size[3], by_size[5],
            by_size[9]);
    }
    SAY("%-12s %8.2f   (the 9 fields of one flow)\n", "all fields", field_total / flows);

    size_t heads = 0;
    size_t indices = 0;
    size_t remotes = 0;
    for (const auto& g : walk.groups) {
        heads += g.head;
        indices += g.local_index;
        remotes += g.remote;
    }
    size_t locals = 0;
    for (size_t b : walk.local_bytes) {
        locals += b;
    }
    const size_t list_heads = walk.locals_head + walk.groups_head - 2;  // beyond the empty []
    const double group_total = static_cast<double>(heads + indices + remotes);
    SAY("per group:   head %.2f + local index %.2f + remote address %.2f = %.2f B "
        "(%.2f B per flow)\n",
        static_cast<double>(heads) / groups, static_cast<double>(indices) / groups,
        static_cast<double>(remotes) / groups, group_total / groups, group_total / flows);
    SAY("local addresses: %zu B (%.2f B per flow); list heads beyond []: %zu B\n", locals,
        static_cast<double>(locals) / flows, list_heads);
    SAY("check: fields %.0f + groups %.0f + locals %zu + list heads %zu = %zu = %zu - %zu\n",
        field_total, group_total, locals, list_heads,
        static_cast<size_t>(field_total + group_total) + locals + list_heads, fig.message,
        fig.empty);
    SAY("fixed part of the message: envelope %zu B (map head %zu + keys 1..5 %zu), network "
        "key+map head %zu B, window keys %zu B, empty lists 2 B\n",
        walk.map_head + walk.envelope_pairs, walk.map_head, walk.envelope_pairs,
        1 + walk.network_map_head, walk.network_pair_bytes[1] + walk.network_pair_bytes[2]);
    if (!g_quiet) {
        std::printf("groups (remote: flows [flags lport rport bin bout pin pout first last]):\n");
        for (const auto& g : walk.groups) {
            std::printf("  %s (local #%llu, %zu flows)\n", address_text(g.remote_address).c_str(),
                        static_cast<unsigned long long>(g.local_index_value), g.flows.size());
            for (const auto& f : g.flows) {
                std::printf("     ");
                for (size_t i = 0; i < vigil::wire::kFlowItems; ++i) {
                    std::printf(" %llu", static_cast<unsigned long long>(f.value[i]));
                }
                size_t bytes = 0;
                for (size_t b : f.bytes) {
                    bytes += b;
                }
                std::printf("   (%zu B)\n", bytes);
            }
        }
    }
    const std::string tag = std::string("ipv") + (family[3] == '4' ? "4" : "6");
    std::printf("BENCH wire_bytes_per_%s_flow_fields %.2f B\n", tag.c_str(), field_total / flows);
    std::printf("BENCH wire_bytes_per_%s_group %.2f B\n", tag.c_str(), group_total / groups);
    return fig;
}

}  // namespace

int main(int argc, char** argv) {
    bool check = false;
    std::string dump_dir;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--check") == 0) {
            check = true;
        } else if (std::strcmp(argv[i], "--quiet") == 0) {
            g_quiet = true;
        } else if (std::strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
            dump_dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--check] [--quiet] [--dump DIR]\n", argv[0]);
            return 2;
        }
    }
    const auto& mix4 = vigil::bench::ipv4_mix();
    const auto& mix6 = vigil::bench::ipv6_mix();
    SAY("Traffic mix: %zu flows to %zu remote addresses, played as %zu IPv4 / %zu IPv6 packets "
        "into Agent::packet(); one tick at the window's end.\n",
        mix4.size(), vigil::bench::distinct_remotes(mix4), vigil::bench::play(mix4).size(),
        vigil::bench::play(mix6).size());
    SAY("Agent for the per-flow figures: Agent<64, 64, 16384, 8192> (8 KB messages, so the window "
        "is not split; the encoding is the same as Agent<>'s).\n");

    FlowFigure v4;
    FlowFigure v6;
    size_t envelope = 0;
    for (int family = 4; family <= 6; family += 2) {
        const WindowRun run = run_window<WideAgent>(family == 4 ? mix4 : mix6);
        if (run.messages.size() != 1 || run.counters.overflow_packets != 0) {
            die("expected one message and no overflow, got " + std::to_string(run.messages.size()) +
                " messages");
        }
        const FlowFigure fig = analyse(family == 4 ? "IPv4" : "IPv6", run.messages[0], dump_dir,
                                       family == 4 ? "ipv4-window" : "ipv6-window");
        if (fig.flows != 50) {
            die("expected 50 flows in the message, found " + std::to_string(fig.flows));
        }
        (family == 4 ? v4 : v6) = fig;
        if (family == 4) {
            const MessageWalk walk = vigil::bench::walk_message(run.messages[0]);
            envelope = walk.map_head + walk.envelope_pairs;
            // The same envelope written on its own with the agent's CBOR writer.
            vigil::cbor::Writer alone;
            alone.map(5);
            for (uint8_t key = 1; key <= 5; ++key) {
                alone.uint(key);
                alone.uint(walk.envelope_value[key]);
            }
            if (alone.size() != envelope) {
                die("envelope size disagrees with its own encoding");
            }
            SAY("\n== Envelope (keys 1..5 as the agent wrote them after %u messages in 3 h) ==\n",
                run.boot_messages);
            const char* names[] = {"", "version", "boot id", "sequence", "unix time", "uptime s"};
            SAY("map head 1 B");
            for (uint8_t key = 1; key <= 5; ++key) {
                SAY(", %s %llu: %zu B", names[key],
                    static_cast<unsigned long long>(walk.envelope_value[key]),
                    walk.envelope_pair_bytes[key]);
            }
            SAY(" => %zu B\n", envelope);
        }
    }

    // The same IPv4 window through the default agent (1024-byte messages).
    const WindowRun split = run_window<DefaultAgent>(mix4);
    size_t split_bytes = 0;
    size_t split_flows = 0;
    for (const auto& m : split.messages) {
        const MessageWalk walk = vigil::bench::walk_message(m);
        if (!walk.ok) {
            die("default-agent message does not walk: " + walk.error);
        }
        split_bytes += m.size();
        split_flows += walk.flow_count();
    }
    const double split_per_flow =
        static_cast<double>(split_bytes - v4.empty) / static_cast<double>(split_flows);
    SAY("\n== IPv4 window through the default Agent<> (1024-byte messages) ==\n"
        "%zu messages, %zu B, %zu flows; (all bytes - one zero-flow message %zu B) / flows = "
        "%.2f B per flow (the extra envelopes and part keys of a split)\n",
        split.messages.size(), split_bytes, split_flows, v4.empty, split_per_flow);

    std::printf("BENCH wire_bytes_per_ipv4_flow %.2f B\n", v4.per_flow);
    std::printf("BENCH wire_bytes_per_ipv6_flow %.2f B\n", v6.per_flow);
    std::printf("BENCH wire_message_overhead_bytes %zu B\n", envelope);
    std::printf("BENCH wire_ipv4_window_messages_default_agent %zu messages\n",
                split.messages.size());
    std::printf("BENCH wire_bytes_per_ipv4_flow_default_agent %.2f B\n", split_per_flow);

    int status = 0;
    if (check) {
        const struct {
            const char* name;
            double value;
            double budget;
        } budgets[] = {
            {"wire_bytes_per_ipv4_flow", v4.per_flow, kBudgetIpv4},
            {"wire_bytes_per_ipv6_flow", v6.per_flow, kBudgetIpv6},
            {"wire_message_overhead_bytes", static_cast<double>(envelope), kBudgetEnvelope}};
        for (const auto& b : budgets) {
            const bool over = b.value > b.budget;
            std::printf("%s %s: %.2f (budget %.0f)\n", over ? "OVER" : "ok", b.name, b.value,
                        b.budget);
            status = over ? 1 : status;
        }
    }
    return status;
}

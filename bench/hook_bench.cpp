// Time of the packet hook and of the window encoding (Google Benchmark), on the real code path:
// real packets through Agent<>::packet(), windows through Agent<>::tick() into a transport.
//
//   hook_ns_per_packet_existing_flow[_nolock|_ipv6]
//     One packet of an established flow (the device's MQTT/TLS connection, PSH|ACK, 120 bytes
//     of payload) per iteration, the flow already in the table. Default agent, fake platform's
//     critical section (function pointers), or none (_nolock).
//   hook_ns_per_packet_new_flow[_ipv6]
//     Each iteration hands the hook a batch of packets that each open a new flow (TCP SYNs to
//     443 and UDP queries to 53 from distinct ephemeral ports over 20 remotes) until the table is
//     75 % full (48 of 64 IPv4 records, 12 of 16 IPv6 records), then empties the window with
//     disable() + enable() so the table never fills and no packet goes to overflow. Batches
//     rotate over 16 x 48 distinct flows so the probe sequences vary. The reset is timed on its
//     own (window_reset) and subtracted: new_flow = (batch - reset) / flows per batch.
//   encode_window_us
//     A full window (64 IPv4 + 16 IPv6 flows of the realistic mix) is played into the hook, then
//     tick() at the end of the 10-second window turns it into messages. The figure is how long
//     tick() holds the port's critical section (timed from enter_critical to exit_critical by the
//     port): that is when the packet hook cannot run. tick_full_window_us is the whole tick,
//     including sending the messages to a transport that only counts them.
//
// Every figure is the median of 5 repetitions (--smoke: 2 short ones, for ctest). Timings are noisy
// here: compare them as ratios within one run (DESIGN.md, "How we measure"); the stable figure is
// the callgrind count.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "message_walk.hpp"
#include "packets.hpp"
#include "traffic_mix.hpp"
#include "vigil/agent/agent.hpp"

namespace {

using vigil::agent::Agent;
using vigil::agent::Status;
namespace test = vigil::test;
namespace tcp = vigil::test::tcp;

int g_repetitions = 5;
bool g_smoke = false;
double g_min_time_s = 0.1;

std::unique_ptr<Agent<>> started_agent(const vigil_port& port, const vigil_transport& transport) {
    auto agent = std::make_unique<Agent<>>();
    vigil_options options{};
    options.first_collection_splay_max_ms = 0;
    if (agent->init(port, transport, "bench-device", &options) != Status::Ok) {
        std::fprintf(stderr, "agent init failed\n");
        std::abort();
    }
    return agent;
}

// ---- existing flow ------------------------------------------------------------------------

void existing_flow(benchmark::State& state, bool v6, bool lock) {
    test::FakePlatform platform;
    vigil_port port = platform.port();
    if (!lock) {
        port.enter_critical = nullptr;
        port.exit_critical = nullptr;
    }
    auto agent = started_agent(port, platform.transport());
    const test::Transport segment = test::tcp_segment(49731, 8883, tcp::kPsh | tcp::kAck, 120);
    const std::vector<uint8_t> ip =
        v6 ? test::ipv6_packet("2001:db8:1:0:a8bb:ccff:fedd:ee50", "2603:1030:20e:3::23c", segment)
           : test::ipv4_packet("192.168.1.50", "20.49.110.137", segment);
    const uint64_t now = platform.now_ms;
    agent->packet(ip.data(), ip.size(), VIGIL_OUTBOUND, 0, now);
    for (auto _ : state) {
        agent->packet(ip.data(), ip.size(), VIGIL_OUTBOUND, 0, now);
        benchmark::ClobberMemory();
    }
    if (agent->counters().overflow_packets != 0) {
        state.SkipWithError("packets went to overflow");
    }
    state.SetItemsProcessed(state.iterations());
}

// ---- new flows -------------------------------------------------------------------------------

constexpr size_t kBatches = 16;

size_t batch_flows(bool v6) {
    return v6 ? 12 : 48;  // 75 % of the default capacities (16 and 64)
}

std::vector<std::vector<uint8_t>> new_flow_packets(bool v6) {
    std::vector<std::vector<uint8_t>> out;
    const char* local = v6 ? "2001:db8:1:0:a8bb:ccff:fedd:ee50" : "192.168.1.50";
    for (size_t i = 0; i < kBatches * batch_flows(v6); ++i) {
        const uint16_t port = static_cast<uint16_t>(40000 + i);
        char remote[64];
        if (v6) {
            std::snprintf(remote, sizeof(remote), "2606:4700:%zx::%zx", i % 20, 100 + i % 7);
        } else {
            std::snprintf(remote, sizeof(remote), "203.0.%zu.%zu", 10 + i % 20, 100 + i % 7);
        }
        const test::Transport t =
            i % 3 == 2 ? test::udp_datagram(port, 53, 40) : test::tcp_segment(port, 443, tcp::kSyn);
        out.push_back(v6 ? test::ipv6_packet(local, remote, t)
                         : test::ipv4_packet(local, remote, t));
    }
    return out;
}

/// reset_only: time the window reset alone (what the batch run includes once per batch).
void new_flows(benchmark::State& state, bool v6, bool reset_only) {
    test::FakePlatform platform;
    auto agent = started_agent(platform.port(), platform.transport());
    const auto packets = new_flow_packets(v6);
    const size_t per_batch = batch_flows(v6);
    const uint64_t now = platform.now_ms;
    size_t batch = 0;
    for (auto _ : state) {
        if (!reset_only) {
            const auto* p = &packets[batch * per_batch];
            for (size_t i = 0; i < per_batch; ++i) {
                agent->packet(p[i].data(), p[i].size(), VIGIL_OUTBOUND, 0, now);
            }
            batch = batch + 1 == kBatches ? 0 : batch + 1;
        }
        (void)agent->disable();  // drops the window: the table is empty again
        (void)agent->enable();
        benchmark::ClobberMemory();
    }
    if (agent->counters().overflow_packets != 0) {
        state.SkipWithError("packets went to overflow");
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(reset_only ? 1 : per_batch));
}

// ---- full window encoding ----------------------------------------------------------------

/// A port whose critical section measures how long it is held, and a transport that counts.
struct TimedPlatform {
    using Clock = std::chrono::steady_clock;
    uint64_t now_ms = 1'000'000;
    Clock::time_point entered{};
    double held_s = 0;  ///< since the last reset
    uint64_t messages = 0;
    uint64_t bytes = 0;
    bool keep = false;
    std::vector<std::vector<uint8_t>> kept;

    static TimedPlatform& self(void* c) { return *static_cast<TimedPlatform*>(c); }

    vigil_port port() {
        vigil_port p{};
        p.context = this;
        p.now_ms = [](void* c) { return self(c).now_ms; };
        p.unix_time_s = [](void*) { return uint32_t{1'700'000'000}; };
        p.random32 = [](void*) { return uint32_t{0xC3A5F1E7u}; };
        p.enter_critical = [](void* c) { self(c).entered = Clock::now(); };
        p.exit_critical = [](void* c) {
            TimedPlatform& t = self(c);
            t.held_s += std::chrono::duration<double>(Clock::now() - t.entered).count();
        };
        return p;
    }
    vigil_transport transport() {
        vigil_transport t{};
        t.context = this;
        t.is_connected = [](void*) { return true; };
        t.send = [](void* c, const char*, const char*, const uint8_t* payload,
                    size_t length) -> int32_t {
            TimedPlatform& p = self(c);
            ++p.messages;
            p.bytes += length;
            if (p.keep) {
                p.kept.emplace_back(payload, payload + length);
            }
            return 1;
        };
        return t;
    }
};

struct WindowShape {
    size_t messages = 0;
    size_t bytes = 0;
    size_t flows = 0;
    uint64_t dropped = 0;
};
WindowShape g_window_shape;

void encode_window(benchmark::State& state) {
    TimedPlatform platform;
    auto agent = started_agent(platform.port(), platform.transport());
    if (!vigil::bench::collect_network_only(*agent)) {
        state.SkipWithError("config rejected");
        return;
    }
    (void)agent->tick();  // the first collection (everything due), opens the first window
    const auto packets = vigil::bench::play(vigil::bench::full_default_window());
    double tick_s = 0;
    double held_s = 0;
    bool first = true;
    for (auto _ : state) {
        const uint64_t start = platform.now_ms;
        vigil::bench::feed(*agent, platform.now_ms, start, packets);
        platform.now_ms = start + 10'000;
        platform.held_s = 0;
        platform.keep = first;
        const auto t0 = TimedPlatform::Clock::now();
        (void)agent->tick();
        const double tick = std::chrono::duration<double>(TimedPlatform::Clock::now() - t0).count();
        state.SetIterationTime(platform.held_s);
        tick_s += tick;
        held_s += platform.held_s;
        if (first) {
            WindowShape shape;
            for (const auto& m : platform.kept) {
                shape.bytes += m.size();
                shape.flows += vigil::bench::walk_message(m).flow_count();
            }
            shape.messages = platform.kept.size();
            shape.dropped = agent->counters().messages_dropped;
            g_window_shape = shape;
            platform.kept.clear();
            first = false;
        }
    }
    if (agent->counters().overflow_packets != 0) {
        state.SkipWithError("packets went to overflow");
    }
    const double n = static_cast<double>(state.iterations());
    state.counters["tick_us"] = tick_s / n * 1e6;
    state.counters["held_us"] = held_s / n * 1e6;
}

// ---- BENCH lines ---------------------------------------------------------------------------

/// The console output, plus the medians kept for the BENCH lines printed at the end.
class BenchLines : public benchmark::ConsoleReporter {
  public:
    // Colours only on a terminal, so the BENCH lines stay plain in files and pipes (a custom
    // display reporter does not get --benchmark_color applied by the library).
    BenchLines() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.error_occurred) {
                failed_ = true;
            }
            if (run.run_type != Run::RT_Aggregate || run.aggregate_name != "median") {
                continue;
            }
            const double unit = benchmark::GetTimeUnitMultiplier(run.time_unit);
            Median m;
            m.real_s = run.GetAdjustedRealTime() / unit;
            m.cpu_s = run.GetAdjustedCPUTime() / unit;
            for (const auto& [name, counter] : run.counters) {
                m.counters[name] = counter.value;
            }
            medians_[run.run_name.function_name] = m;
        }
    }

    void Finalize() override {
        ConsoleReporter::Finalize();
        auto per_packet_ns = [&](const char* name) { return medians_[name].cpu_s * 1e9; };
        auto line = [](const char* name, double value, const char* unit) {
            std::printf("BENCH %s %.1f %s\n", name, value, unit);
        };
        line("hook_ns_per_packet_existing_flow", per_packet_ns("existing_flow_ipv4"), "ns");
        line("hook_ns_per_packet_existing_flow_nolock", per_packet_ns("existing_flow_ipv4_nolock"),
             "ns");
        line("hook_ns_per_packet_existing_flow_ipv6", per_packet_ns("existing_flow_ipv6"), "ns");
        for (const bool v6 : {false, true}) {
            const double batch = per_packet_ns(v6 ? "new_flow_batch_ipv6" : "new_flow_batch_ipv4");
            const double reset = per_packet_ns(v6 ? "window_reset_ipv6" : "window_reset_ipv4");
            const double flows = static_cast<double>(batch_flows(v6));
            std::printf(
                "new flows %s: batch of %.0f flows %.1f ns, reset %.1f ns -> "
                "(batch - reset) / %.0f\n",
                v6 ? "IPv6" : "IPv4", flows, batch, reset, flows);
            line(v6 ? "hook_ns_per_packet_new_flow_ipv6" : "hook_ns_per_packet_new_flow",
                 (batch - reset) / flows, "ns");
        }
        const Median& enc = medians_["encode_window"];
        std::printf(
            "full window (64 IPv4 + 16 IPv6 flows, default Agent<>): %zu messages, %zu B, "
            "%zu flows encoded, %llu messages dropped from the backlog\n",
            g_window_shape.messages, g_window_shape.bytes, g_window_shape.flows,
            static_cast<unsigned long long>(g_window_shape.dropped));
        line("encode_window_us", enc.real_s * 1e6, "us");
        line("tick_full_window_us", enc.counters.count("tick_us") ? enc.counters.at("tick_us") : 0,
             "us");
        line("encode_window_messages", static_cast<double>(g_window_shape.messages), "messages");
        line("encode_window_flows", static_cast<double>(g_window_shape.flows), "flows");
        std::fflush(stdout);
    }

    bool failed() const { return failed_; }

  private:
    struct Median {
        double real_s = 0;
        double cpu_s = 0;
        std::map<std::string, double> counters;
    };
    std::map<std::string, Median> medians_;
    bool failed_ = false;
};

void configure(benchmark::internal::Benchmark* b) {
    b->Repetitions(g_repetitions)->DisplayAggregatesOnly(true)->MinTime(g_min_time_s);
}

}  // namespace

int main(int argc, char** argv) {
    // --smoke: a quick run for ctest (2 repetitions of a few milliseconds each).
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--smoke") {
            g_smoke = true;
            g_repetitions = 2;
            g_min_time_s = 0.002;
            for (int j = i; j + 1 < argc; ++j) {
                argv[j] = argv[j + 1];
            }
            --argc;
            break;
        }
    }
    configure(benchmark::RegisterBenchmark("existing_flow_ipv4", existing_flow, false, true)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("existing_flow_ipv4_nolock", existing_flow, false, false)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("existing_flow_ipv6", existing_flow, true, true)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("new_flow_batch_ipv4", new_flows, false, false)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("window_reset_ipv4", new_flows, false, true)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("new_flow_batch_ipv6", new_flows, true, false)
                  ->Unit(benchmark::kNanosecond));
    configure(benchmark::RegisterBenchmark("window_reset_ipv6", new_flows, true, true)
                  ->Unit(benchmark::kNanosecond));
    // A fixed count: the measured critical section is so short that a minimum manual time
    // would take hundreds of thousands of full windows to reach.
    benchmark::RegisterBenchmark("encode_window", encode_window)
        ->Unit(benchmark::kMicrosecond)
        ->UseManualTime()
        ->Repetitions(g_repetitions)
        ->DisplayAggregatesOnly(true)
        ->Iterations(g_smoke ? 20 : 2000);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 2;
    }
    BenchLines reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return reporter.failed() ? 1 : 0;
}

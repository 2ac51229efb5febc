// Driver for instruction counts under callgrind (bench/callgrind_hook.sh runs it).
//
// Hook modes: the agent is initialised with the fake platform and one IPv4 TCP flow (the
// device's MQTT/TLS connection) is inserted; then vigil_bench_packet_loop(), the only function
// callgrind collects in (--toggle-collect), hands the hook N more packets of that same flow. The
// script runs N = 1,000,000 and N = 0 and divides the difference by N, so what is counted is one
// hook call per packet with its argument setup and the loop's increment and compare.
//   lock    Agent<>::packet() with the fake port's critical section (two calls through function
//           pointers that bump counters), as a port with a real lock would call it
//   nolock  Agent<>::packet() on a port without a critical section (hook and tick in one context)
//   capi    vigil_agent_packet(), the C ABI's static agent, with the fake port's critical section
//
// Window mode: N times, a full default window (64 IPv4 + 16 IPv6 flows of the realistic mix,
// bench/traffic_mix.cpp) is played into the hook and tick() at the window's end turns it into
// messages; the script collects only inside AgentBase::encode_messages (the critical section of
// the tick and what it calls) and divides by N.
//
// Usage: vigil_bench_hook_callgrind lock|nolock|capi|window N
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "packets.hpp"
#include "traffic_mix.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/agent/vigil_agent.h"

namespace {

vigil::agent::Agent<> g_bench_agent;

}  // namespace

// Collected by callgrind (--toggle-collect=vigil_bench_packet_loop). Calls the hook directly so
// the count holds only what a network stack's call would cost.
extern "C" __attribute__((noinline)) void vigil_bench_packet_loop(bool c_api, const uint8_t* ip,
                                                                  size_t length, uint64_t now,
                                                                  unsigned long count) {
    if (c_api) {
        for (unsigned long i = 0; i < count; ++i) {
            vigil_agent_packet(ip, length, VIGIL_OUTBOUND, 0, now);
        }
    } else {
        for (unsigned long i = 0; i < count; ++i) {
            g_bench_agent.packet(ip, length, VIGIL_OUTBOUND, 0, now);
        }
    }
}

namespace {

int windows(vigil::test::FakePlatform& platform, unsigned long count) {
    if (!vigil::bench::collect_network_only(g_bench_agent)) {
        std::fprintf(stderr, "config rejected\n");
        return 1;
    }
    (void)g_bench_agent.tick();
    const auto packets = vigil::bench::play(vigil::bench::full_default_window());
    size_t messages = 0;
    for (unsigned long w = 0; w < count; ++w) {
        const uint64_t start = platform.now_ms;
        vigil::bench::feed(g_bench_agent, platform.now_ms, start, packets);
        platform.now_ms = start + 10'000;
        platform.published.clear();
        (void)g_bench_agent.tick();
        messages = platform.published.size();
    }
    std::printf("mode window: %lu windows of 64 + 16 flows, %zu messages each, overflow %llu\n",
                count, messages,
                static_cast<unsigned long long>(g_bench_agent.counters().overflow_packets));
    return g_bench_agent.counters().overflow_packets == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const char* modes[] = {"lock", "nolock", "capi", "window"};
    bool known = false;
    for (const char* m : modes) {
        known = known || (argc == 3 && std::strcmp(argv[1], m) == 0);
    }
    if (!known) {
        std::fprintf(stderr, "usage: %s lock|nolock|capi|window N\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    const bool c_api = mode == "capi";
    const unsigned long count = std::strtoul(argv[2], nullptr, 10);
    vigil::test::FakePlatform platform;
    vigil_port port = platform.port();
    if (mode == "nolock") {
        port.enter_critical = nullptr;
        port.exit_critical = nullptr;
    }
    const vigil_transport transport = platform.transport();
    vigil_options options{};
    options.first_collection_splay_max_ms = 0;
    const int status =
        c_api ? vigil_agent_init(&port, &transport, "bench-device", &options)
              : static_cast<int>(g_bench_agent.init(port, transport, "bench-device", &options));
    if (status != 0) {
        std::fprintf(stderr, "init failed: %d\n", status);
        return 1;
    }
    if (mode == "window") {
        return windows(platform, count);
    }
    // An established MQTT/TLS connection: PSH|ACK with 120 bytes of payload, device to hub.
    const std::vector<uint8_t> ip = vigil::test::ipv4_packet(
        "192.168.1.50", "20.49.110.137",
        vigil::test::tcp_segment(49731, 8883, vigil::test::tcp::kPsh | vigil::test::tcp::kAck,
                                 120));
    const uint64_t now = platform.now_ms;
    if (c_api) {  // the flow exists from here on
        vigil_agent_packet(ip.data(), ip.size(), VIGIL_OUTBOUND, 0, now);
    } else {
        g_bench_agent.packet(ip.data(), ip.size(), VIGIL_OUTBOUND, 0, now);
    }
    vigil_bench_packet_loop(c_api, ip.data(), ip.size(), now, count);
    std::printf("mode %s: %lu packets after the first; %d critical sections entered\n",
                mode.c_str(), count, platform.critical_entries);
    return 0;
}

// The packet hook runs in one thread while collections run in another, with the port's critical
// section as the only synchronisation: every packet must be reported exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "agent_harness.hpp"

namespace vigil::test {
namespace {

struct LockedPlatform {
    FakePlatform fake;
    std::mutex mutex;
    std::atomic<uint64_t> now_ms{1'000'000};
};

TEST(AgentConcurrency, HookAndCollectionInDifferentThreadsLoseNothing) {
    auto platform = std::make_unique<LockedPlatform>();
    auto core = std::make_unique<agent::Agent<64, 16, 256 * 1024, 4096>>();
    vigil_port port = platform->fake.port();
    port.context = platform.get();
    port.now_ms = [](void* c) { return static_cast<LockedPlatform*>(c)->now_ms.load(); };
    port.random32 = [](void*) { return 42u; };
    port.unix_time_s = nullptr;
    port.system_info = nullptr;
    port.listening_ports = nullptr;
    port.attach_hooks = nullptr;
    port.detach_hooks = nullptr;
    port.enter_critical = [](void* c) { static_cast<LockedPlatform*>(c)->mutex.lock(); };
    port.exit_critical = [](void* c) { static_cast<LockedPlatform*>(c)->mutex.unlock(); };
    const vigil_transport transport = platform->fake.transport();
    const vigil_options options{0};
    ASSERT_EQ(core->init(port, transport, "threads", &options), agent::Status::Ok);

    std::vector<std::vector<uint8_t>> packets;
    for (int i = 0; i < 100; ++i) {
        packets.push_back(ipv4_packet("192.0.2.10", "198.51.100." + std::to_string(i),
                                      udp_datagram(40000, 53, static_cast<size_t>(i))));
    }
    constexpr size_t kPackets = 200'000;
    std::atomic<bool> done{false};
    Totals sent;
    std::thread stack([&] {
        for (size_t i = 0; i < kPackets; ++i) {
            const auto& p = packets[i % packets.size()];
            core->packet(p.data(), p.size(), VIGIL_OUTBOUND, 0, platform->now_ms.load());
            sent.bytes_out += p.size();
            ++sent.packets_out;
        }
        done = true;
    });
    size_t ticks = 0;
    while (!done) {
        platform->now_ms += 1000;
        ASSERT_EQ(core->tick(), agent::Status::Ok);
        ++ticks;
    }
    stack.join();
    platform->now_ms += 20000;
    ASSERT_EQ(core->tick(), agent::Status::Ok);

    const auto messages = decode_all(platform->fake.published);
    EXPECT_EQ(totals(messages), sent);
    EXPECT_EQ(core->counters().packets_seen, kPackets);
    EXPECT_GT(ticks, 10u) << "collections should have run while packets arrived";
}

}  // namespace
}  // namespace vigil::test

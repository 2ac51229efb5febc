// Proves the agent core allocates nothing after init: this program replaces malloc and operator
// new for the whole process, arms them after init, and fails on any allocation while it pushes a
// million packets and hundreds of collections through the core. Built without sanitizers, which
// replace the allocator themselves.
#include <cstdio>
#include <cstdlib>
#include <new>

#include "fake_platform.hpp"
#include "packets.hpp"
#include "vigil/agent/agent.hpp"

extern "C" void* __libc_malloc(size_t size);
extern "C" void* __libc_calloc(size_t count, size_t size);
extern "C" void* __libc_realloc(void* pointer, size_t size);
extern "C" void __libc_free(void* pointer);

namespace {
volatile bool g_armed = false;
volatile size_t g_allocations = 0;

void note_allocation() {
    if (g_armed) {
        g_allocations = g_allocations + 1;
    }
}
}  // namespace

extern "C" void* malloc(size_t size) {
    note_allocation();
    return __libc_malloc(size);
}
extern "C" void* calloc(size_t count, size_t size) {
    note_allocation();
    return __libc_calloc(count, size);
}
extern "C" void* realloc(void* pointer, size_t size) {
    note_allocation();
    return __libc_realloc(pointer, size);
}
extern "C" void free(void* pointer) {
    __libc_free(pointer);
}

void* operator new(size_t size) {
    note_allocation();
    void* p = __libc_malloc(size == 0 ? 1 : size);
    if (p == nullptr) {
        std::abort();
    }
    return p;
}
void* operator new[](size_t size) {
    return operator new(size);
}
void operator delete(void* p) noexcept {
    __libc_free(p);
}
void operator delete[](void* p) noexcept {
    __libc_free(p);
}
void operator delete(void* p, size_t) noexcept {
    __libc_free(p);
}
void operator delete[](void* p, size_t) noexcept {
    __libc_free(p);
}

int main() {
    using namespace vigil;
    static test::FakePlatform platform;
    static agent::Agent<> core;
    const vigil_options options{0};
    // Packets are built before arming: building them allocates, the agent must not.
    std::vector<std::vector<uint8_t>> packets;
    for (int i = 0; i < 200; ++i) {
        const std::string remote = "198.51.100." + std::to_string(i % 100);
        packets.push_back(test::ipv4_packet(
            "192.0.2.10", remote,
            test::tcp_segment(static_cast<uint16_t>(40000 + i), 443, test::tcp::kAck, 100)));
        packets.push_back(test::ipv6_packet("2001:db8::10", "2001:db8::" + std::to_string(i + 1),
                                            test::udp_datagram(5000, 53, 30)));
    }
    const std::vector<uint8_t> garbage = {0x45, 0x00, 0x10};
    const vigil_port port = platform.port();
    const vigil_transport transport = platform.transport();
    if (core.init(port, transport, "no-heap", &options) != agent::Status::Ok) {
        std::puts("FAIL init");
        return 1;
    }
    // The recording transport copies payloads (that allocates in the test, not the agent), so
    // sends go to a transport that only counts while armed.
    vigil_transport counting = transport;
    static size_t sent = 0;
    counting.send = [](void*, const char*, const char*, const uint8_t*, size_t) -> int32_t {
        ++sent;
        return 1;
    };
    static agent::Agent<> armed_core;
    if (armed_core.init(port, counting, "no-heap-2", &options) != agent::Status::Ok) {
        std::puts("FAIL init");
        return 1;
    }

    g_armed = true;
    const size_t kPackets = 1'000'000;
    for (size_t i = 0; i < kPackets; ++i) {
        const auto& p = packets[i % packets.size()];
        armed_core.packet(p.data(), p.size(), (i & 1) ? VIGIL_INBOUND : VIGIL_OUTBOUND, 0,
                          platform.now_ms);
        if (i % 2000 == 0) {
            armed_core.packet(garbage.data(), garbage.size(), VIGIL_INBOUND, 0, platform.now_ms);
            platform.now_ms += 1000;
            platform.connected = (i / 100000) % 3 != 1;  // outages fill and drain the backlog
            (void)armed_core.tick();
        }
        if (i == kPackets / 2) {
            const uint8_t config[] = {0xA2, 0x01, 0x09, 0x04, 0xF4};  // {1: 9, 4: false}
            (void)armed_core.apply_config(config, sizeof config);
            const uint8_t bad[] = {0xA1, 0x01, 0x01};
            (void)armed_core.apply_config(bad, sizeof bad);
        }
    }
    g_armed = false;

    const auto& c = armed_core.counters();
    std::printf("packets %llu, messages sent %zu, dropped %llu, overflow packets %llu\n",
                static_cast<unsigned long long>(c.packets_seen), sent,
                static_cast<unsigned long long>(c.messages_dropped),
                static_cast<unsigned long long>(c.overflow_packets));
    if (g_allocations != 0) {
        std::printf("FAIL: %zu allocations after init\n", static_cast<size_t>(g_allocations));
        return 1;
    }
    if (c.packets_seen != kPackets + kPackets / 2000 || sent < 50 || c.messages_dropped == 0) {
        std::puts("FAIL: the run did not exercise collections, outages and sends");
        return 1;
    }
    std::puts("PASS: no allocation after init");
    return 0;
}

// Two agents with capacities of their own (the template), fed one IPv4 flow each; a message
// must reach the transport and the counters must say so.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "vigil/agent/agent.hpp"

namespace {

uint64_t clock_ms = 1000;
unsigned messages_sent = 0;

uint64_t now_ms(void*) {
    return clock_ms;
}
bool is_connected(void*) {
    return true;
}
int32_t send_message(void*, const char* topic, const char*, const uint8_t*, size_t length) {
    if (std::strstr(topic, "/messages/events/") == nullptr || length == 0) {
        return -1;
    }
    ++messages_sent;
    return static_cast<int32_t>(length);
}

vigil::agent::Agent<8, 2> small_agent;
vigil::agent::Agent<> default_agent;

}  // namespace

int main() {
    vigil::agent::Port port{};
    port.now_ms = now_ms;
    vigil::agent::Transport transport{};
    transport.is_connected = is_connected;
    transport.send = send_message;
    if (small_agent.init(port, transport, "consumer-small") != vigil::agent::Status::Ok ||
        default_agent.init(port, transport, "consumer-default") != vigil::agent::Status::Ok) {
        std::fprintf(stderr, "init failed\n");
        return 1;
    }
    // IPv4 TCP SYN 192.0.2.1:40000 -> 192.0.2.2:443.
    const uint8_t syn[40] = {0x45, 0, 0,   40, 0,    0,    0x40, 0,    64,   6,    0, 0, 192, 0,
                             2,    1, 192, 0,  2,    2,    0x9c, 0x40, 0x01, 0xbb, 0, 0, 0,   1,
                             0,    0, 0,   0,  0x50, 0x02, 0x10, 0,    0,    0,    0, 0};
    small_agent.packet(syn, sizeof syn, VIGIL_OUTBOUND, 0, clock_ms);
    default_agent.packet(syn, sizeof syn, VIGIL_OUTBOUND, 0, clock_ms);
    for (int second = 0; second < 120; ++second) {
        clock_ms += 1000;
        if (small_agent.tick() != vigil::agent::Status::Ok ||
            default_agent.tick() != vigil::agent::Status::Ok) {
            std::fprintf(stderr, "tick failed\n");
            return 1;
        }
    }
    const auto& small = small_agent.counters();
    const auto& large = default_agent.counters();
    std::printf("c++: %u messages sent; packets seen %llu and %llu\n", messages_sent,
                static_cast<unsigned long long>(small.packets_seen),
                static_cast<unsigned long long>(large.packets_seen));
    const bool ok = messages_sent > 0 && small.packets_seen == 1 && large.packets_seen == 1 &&
                    small.messages_sent + large.messages_sent == messages_sent;
    return ok ? 0 : 1;
}

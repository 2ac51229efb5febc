#include "fake_platform.hpp"

#include <cstring>

namespace vigil::test {

namespace {

FakePlatform& self(void* context) {
    return *static_cast<FakePlatform*>(context);
}

void fill_system(void* context, vigil_system_info* out) {
    (void)context;
    out->os_name = "Linux";
    out->os_version = "6.1";
    out->stack_name = "test-stack";
    out->stack_version = "1.0";
    out->firmware_version = "fw-2.4.1";
    out->board = "simulated-board";
    out->address_count = 1;
    out->addresses[0].family = 4;
    const uint8_t address[4] = {192, 0, 2, 10};
    std::memcpy(out->addresses[0].bytes, address, 4);
    out->mac_count = 1;
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    std::memcpy(out->macs[0], mac, 6);
}

}  // namespace

FakePlatform::FakePlatform() = default;

vigil_port FakePlatform::port() const {
    vigil_port p{};
    p.context = const_cast<FakePlatform*>(this);
    p.now_ms = [](void* c) { return self(c).now_ms; };
    p.unix_time_s = [](void* c) { return self(c).unix_time; };
    p.random32 = [](void* c) { return self(c).next_random++; };
    p.enter_critical = [](void* c) {
        ++self(c).critical_depth;
        ++self(c).critical_entries;
    };
    p.exit_critical = [](void* c) { --self(c).critical_depth; };
    p.system_info = fill_system;
    p.listening_ports = [](void* c, vigil_listening_port* out, size_t capacity) {
        const auto& ports = self(c).listening;
        for (size_t i = 0; i < ports.size() && i < capacity; ++i) {
            out[i] = ports[i];
        }
        return ports.size();
    };
    p.attach_hooks = [](void* c) { ++self(c).attach_calls; };
    p.detach_hooks = [](void* c) { ++self(c).detach_calls; };
    return p;
}

vigil_transport FakePlatform::transport() const {
    vigil_transport t{};
    t.context = const_cast<FakePlatform*>(this);
    t.is_connected = [](void* c) { return self(c).connected; };
    t.send = [](void* c, const char* topic, const char* bag, const uint8_t* payload,
                size_t length) -> int32_t {
        FakePlatform& f = self(c);
        ++f.send_attempts;
        if (!f.connected) {
            return -1;
        }
        if (f.send_result > 0) {
            f.published.push_back({topic, bag, std::vector<uint8_t>(payload, payload + length)});
        }
        return f.send_result;
    };
    return t;
}

}  // namespace vigil::test

// The smallest complete application of the agent on a Cortex-M: the Cortex-M port, a transport
// that stands in for the device's MQTT client, every C ABI function called once or more. Its
// linker map is what the flash and RAM figures are read from, so it must reach everything an
// application can reach and nothing more; the behaviour itself is tested by the QEMU test.
//
// It also measures the stack the agent uses: the stack below main's frame is filled with a
// pattern before the first call into the agent, and the deepest word overwritten is found after
// the last. Printed as "BENCH agent_stack_peak_bytes".
#include <cstddef>
#include <cstdint>

#include "semihost.hpp"
#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/cortex_m.h"

extern "C" uint32_t __stack_limit[];

namespace {

constexpr uint32_t kStackPattern = 0xC0FFEE55;

size_t g_messages = 0;
size_t g_bytes = 0;

bool is_connected(void*) {
    return true;
}

int32_t send(void*, const char*, const char*, const uint8_t*, size_t length) {
    ++g_messages;
    g_bytes += length;
    return 1;
}

// IPv4 UDP 192.0.2.10:50000 -> 198.51.100.53:53 with 8 bytes of payload (DNS-sized header only).
const uint8_t kPacket[] = {0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
                           192,  0,    2,    10,   198,  51,   100,  53,   0xC3, 0x50, 0x00, 0x35,
                           0x00, 0x10, 0x00, 0x00, 1,    2,    3,    4,    5,    6,    7,    8};

// {1: 1, 2: [5, 30, 60]}: config version 1, high group every 5 s.
const uint8_t kConfig[] = {0xA2, 0x01, 0x01, 0x02, 0x83, 0x05, 0x18, 0x1E, 0x18, 0x3C};

uint32_t* stack_pointer() {
    uint32_t* sp;
    asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

bool report(const char* what, vigil_status status) {
    if (status == VIGIL_OK) {
        return true;
    }
    vigil::semihost::write("FAIL ");
    vigil::semihost::write(what);
    vigil::semihost::write(": ");
    vigil::semihost::write(vigil_status_string(status));
    vigil::semihost::write("\n");
    return false;
}

/// Everything the application does with the agent; not inlined, so its frame is measured too.
__attribute__((noinline)) bool run_agent() {
    vigil_port port;
    vigil_cortex_m_port(&port);
    const vigil_transport transport{nullptr, is_connected, send};
    bool ok = report("init", vigil_agent_init(&port, &transport, "cm3-footprint", nullptr));
    for (uint32_t second = 0; second < 120; ++second) {
        for (int i = 0; i < 4; ++i) {
            vigil_agent_packet(kPacket, sizeof(kPacket), VIGIL_OUTBOUND, 0,
                               vigil_cortex_m_now_ms());
        }
        vigil_cortex_m_advance_ms(1000);
        ok = report("tick", vigil_agent_tick()) && ok;
        if (second == 30) {
            ok = report("config", vigil_agent_apply_config(kConfig, sizeof(kConfig))) && ok;
        }
        if (second == 60) {
            ok = report("disable", vigil_agent_disable()) && ok;
            ok = report("enable", vigil_agent_enable()) && ok;
        }
    }
    return ok && vigil_agent_state() == VIGIL_STATE_ACTIVE;
}

}  // namespace

int main() {
    // The painting loop runs in main's frame; a margin below it keeps the loop off its own work.
    uint32_t* const sp = stack_pointer();
    uint32_t* const top = sp - 16;
    for (uint32_t* word = __stack_limit; word < top; ++word) {
        *word = kStackPattern;
    }
    const bool ok = run_agent();
    uint32_t* deepest = __stack_limit;
    while (deepest < top && *deepest == kStackPattern) {
        ++deepest;
    }
    const size_t used = static_cast<size_t>(sp - deepest) * sizeof(uint32_t);

    vigil::semihost::write("footprint app: ");
    vigil::semihost::write_u64(g_messages);
    vigil::semihost::write(" messages, ");
    vigil::semihost::write_u64(g_bytes);
    vigil::semihost::write(" bytes sent\n");
    vigil::semihost::write("BENCH agent_stack_peak_bytes ");
    vigil::semihost::write_u64(used);
    vigil::semihost::write(" B\n");
    if (!ok || g_messages == 0 || deepest == __stack_limit) {
        vigil::semihost::write("FAIL footprint app\n");
        return 1;
    }
    vigil::semihost::write("PASS footprint app\n");
    return 0;
}

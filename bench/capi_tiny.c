/* The smallest program that uses the agent through its C ABI only: bench/footprint.sh reads
 * the RAM the linker gives the agent here (.data + .bss; the C ABI's agent is static). Written
 * in C and linked by the C compiler driver, so it also shows the core needs no C++ runtime. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil/agent/vigil_agent.h"

static uint64_t now_ms(void* context) {
    (void)context;
    return 1000;
}

static bool is_connected(void* context) {
    (void)context;
    return false;
}

static int32_t send(void* context, const char* topic, const char* property_bag,
                    const uint8_t* payload, size_t length) {
    (void)context;
    (void)topic;
    (void)property_bag;
    (void)payload;
    (void)length;
    return 0;
}

int main(void) {
    vigil_port port = {0};
    port.now_ms = now_ms;
    vigil_transport transport = {0};
    transport.is_connected = is_connected;
    transport.send = send;
    if (vigil_agent_init(&port, &transport, "tiny", NULL) != VIGIL_OK) {
        return 1;
    }
    static const uint8_t packet[28] = {0x45, 0, 0,   28, 0, 0, 0,    0,    64, 17, 0, 0, 192, 0,
                                       2,    1, 192, 0,  2, 2, 0x30, 0x39, 0,  53, 0, 8, 0,   0};
    vigil_agent_packet(packet, sizeof(packet), VIGIL_OUTBOUND, 0, 1000);
    return vigil_agent_tick() == VIGIL_OK ? 0 : 1;
}

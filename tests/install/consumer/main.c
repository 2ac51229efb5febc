/* Sends one UDP flow through the agent and checks that a message reached the transport. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vigil/agent/vigil_agent.h"

static uint64_t clock_ms = 1000;
static unsigned messages_sent;

static uint64_t now_ms(void* context) {
    (void)context;
    return clock_ms;
}

static bool is_connected(void* context) {
    (void)context;
    return true;
}

static int32_t send_message(void* context, const char* topic, const char* property_bag,
                            const uint8_t* payload, size_t length) {
    (void)context;
    (void)property_bag;
    (void)payload;
    if (strncmp(topic, "devices/consumer-1/", 19) != 0 || length == 0) {
        fprintf(stderr, "unexpected message on %s (%zu bytes)\n", topic, length);
        return -1;
    }
    ++messages_sent;
    return (int32_t)length;
}

int main(void) {
    vigil_port port;
    memset(&port, 0, sizeof port);
    port.now_ms = now_ms;
    vigil_transport transport;
    memset(&transport, 0, sizeof transport);
    transport.is_connected = is_connected;
    transport.send = send_message;
    if (vigil_agent_init(&port, &transport, "consumer-1", NULL) != VIGIL_OK) {
        fprintf(stderr, "vigil_agent_init failed\n");
        return 1;
    }
    /* IPv4 UDP 192.0.2.1:12345 -> 192.0.2.2:53, 8 bytes of UDP header, no payload. */
    static const uint8_t packet[28] = {0x45, 0, 0,   28, 0, 0, 0,    0,    64, 17, 0, 0, 192, 0,
                                       2,    1, 192, 0,  2, 2, 0x30, 0x39, 0,  53, 0, 8, 0,   0};
    vigil_agent_packet(packet, sizeof packet, VIGIL_OUTBOUND, 0, clock_ms);
    for (int second = 0; second < 120; ++second) {
        clock_ms += 1000;
        if (vigil_agent_tick() != VIGIL_OK) {
            fprintf(stderr, "vigil_agent_tick failed\n");
            return 1;
        }
    }
    printf("c: %u messages sent, state %d\n", messages_sent, (int)vigil_agent_state());
    return messages_sent > 0 ? 0 : 1;
}

// The pieces of the NetX Duo port that service.cpp assembles into the agent's vigil_port.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nx_api.h"
#include "tx_api.h"
#include "vigil/agent/vigil_agent.h"

// NetX's list of created IP instances (_nx_ip_created_ptr / _count), which the original module
// walked too; this internal header has no C++ linkage guard of its own.
extern "C" {
#include "nx_ip.h"
}

#ifndef NX_ENABLE_IP_PACKET_FILTER
#error \
    "Vigil's NetX Duo port hooks nx_ip_packet_filter_extended: define NX_ENABLE_IP_PACKET_FILTER in nx_user.h for the NetX Duo library and the application alike (it changes the layout of NX_IP)"
#endif

namespace vigil::ports::netxduo {

// clock_and_lock.cpp. now_ms is the port's clock, for the agent context only. The packet hooks
// hand each packet to the agent with count_packet, which reads the same clock.
uint64_t now_ms(void* context);
uint32_t random32(void* context);
void enter_critical(void* context);
void exit_critical(void* context);
void count_packet(const UCHAR* ip, ULONG length, vigil_direction direction, uint8_t slot);

// packet_filter.cpp: hooks every IP instance created so far that is not hooked yet. Call from a
// thread; cheap when nothing changed.
void hook_ip_instances();
/// Before the first hook: count inbound packets in NetX's transport receive functions instead
/// of the IP filter.
void set_inbound_at_transport(bool enabled);
void unhook_ip_instances();
struct FilterCounts {
    ULONG hooked;
    ULONG skipped;
    ULONG packets_in;
    ULONG packets_out;
};
FilterCounts filter_counts();

// system_facts.cpp
struct SystemSettings {
    const char* board;
    const char* firmware_version;
};
void system_info(void* context, vigil_system_info* out);  // context: const SystemSettings*
size_t listening_ports(void* context, vigil_listening_port* out, size_t capacity);

}  // namespace vigil::ports::netxduo

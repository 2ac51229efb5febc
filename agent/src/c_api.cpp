// The C ABI over one library-placed agent with the build's default capacities.
#include <new>

#include "vigil/agent/agent.hpp"
#include "vigil/agent/vigil_agent.h"

namespace {

using DefaultAgent = vigil::agent::Agent<>;

// The agent is constructed by vigil_agent_init() in zeroed static storage rather than by a
// static constructor, so it works with C start-up code that never runs C++ constructors, and it
// stays in .bss (a constant-initialised agent would hold pointers to itself and land in .data,
// costing its whole size in flash too).
alignas(DefaultAgent) unsigned char g_storage[sizeof(DefaultAgent)];
DefaultAgent* g_agent = nullptr;

vigil_status to_c(vigil::agent::Status status) {
    return static_cast<vigil_status>(status);
}

}  // namespace

extern "C" {

const char* vigil_status_string(vigil_status status) {
    switch (status) {
        case VIGIL_OK:
            return "ok";
        case VIGIL_BAD_PARAMETER:
            return "bad parameter";
        case VIGIL_NOT_INITIALISED:
            return "agent not initialised";
        case VIGIL_ALREADY_INITIALISED:
            return "agent already initialised";
        case VIGIL_DISABLED:
            return "agent disabled";
        case VIGIL_INVALID_CONFIG:
            return "config rejected";
    }
    return "unknown status";
}

vigil_status vigil_agent_init(const vigil_port* port, const vigil_transport* transport,
                              const char* device_id, const vigil_options* options) {
    if (port == nullptr || transport == nullptr) {
        return VIGIL_BAD_PARAMETER;
    }
    if (g_agent == nullptr) {
        g_agent = new (g_storage) DefaultAgent();
    }
    return to_c(g_agent->init(*port, *transport, device_id, options));
}

vigil_status vigil_agent_enable(void) {
    return g_agent != nullptr ? to_c(g_agent->enable()) : VIGIL_NOT_INITIALISED;
}

vigil_status vigil_agent_disable(void) {
    return g_agent != nullptr ? to_c(g_agent->disable()) : VIGIL_NOT_INITIALISED;
}

vigil_status vigil_agent_tick(void) {
    return g_agent != nullptr ? to_c(g_agent->tick()) : VIGIL_NOT_INITIALISED;
}

void vigil_agent_packet(const uint8_t* ip, size_t length, vigil_direction direction,
                        uint8_t interface_index, uint64_t timestamp_ms) {
    if (g_agent != nullptr) {
        g_agent->packet(ip, length, direction, interface_index, timestamp_ms);
    }
}

void vigil_agent_packet_in_critical_section(const uint8_t* ip, size_t length,
                                            vigil_direction direction, uint8_t interface_index,
                                            uint64_t timestamp_ms) {
    if (g_agent != nullptr) {
        g_agent->packet_in_critical_section(ip, length, direction, interface_index, timestamp_ms);
    }
}

vigil_status vigil_agent_apply_config(const uint8_t* data, size_t length) {
    return g_agent != nullptr ? to_c(g_agent->apply_config(data, length)) : VIGIL_NOT_INITIALISED;
}

vigil_status vigil_agent_apply_local_config(const uint8_t* data, size_t length) {
    return g_agent != nullptr ? to_c(g_agent->apply_local_config(data, length))
                              : VIGIL_NOT_INITIALISED;
}

vigil_state vigil_agent_state(void) {
    return g_agent != nullptr ? static_cast<vigil_state>(g_agent->state())
                              : VIGIL_STATE_NOT_INITIALISED;
}

}  // extern "C"

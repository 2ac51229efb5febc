// The C ABI over one library-placed agent with the build's default capacities.
#include "vigil/agent/agent.hpp"
#include "vigil/agent/vigil_agent.h"

namespace {

vigil::agent::Agent<> g_agent;

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
    return to_c(g_agent.init(*port, *transport, device_id, options));
}

vigil_status vigil_agent_enable(void) {
    return to_c(g_agent.enable());
}

vigil_status vigil_agent_disable(void) {
    return to_c(g_agent.disable());
}

vigil_status vigil_agent_tick(void) {
    return to_c(g_agent.tick());
}

void vigil_agent_packet(const uint8_t* ip, size_t length, vigil_direction direction,
                        uint8_t interface_index, uint64_t timestamp_ms) {
    g_agent.packet(ip, length, direction, interface_index, timestamp_ms);
}

vigil_status vigil_agent_apply_config(const uint8_t* data, size_t length) {
    return to_c(g_agent.apply_config(data, length));
}

vigil_state vigil_agent_state(void) {
    return static_cast<vigil_state>(g_agent.state());
}

}  // extern "C"

#include "vigil/hub/flow_direction.hpp"

namespace vigil::hub {

namespace {

// Formats that do not say who opened a flow (legacy Defender, AWS) leave it to the ports: the
// side on a well-known port is the server, the other an ephemeral client. Two well-known or two
// ephemeral ports say nothing.
constexpr uint16_t kWellKnownEnd = 1024;

}  // namespace

FlowDirection direction_of(const Flow& flow) {
    if (flow.remote_opened) {
        return *flow.remote_opened ? FlowDirection::Inbound : FlowDirection::Outbound;
    }
    if (flow.protocol == Protocol::Icmp) {
        return FlowDirection::Unknown;
    }
    const bool local_server = flow.local_port < kWellKnownEnd;
    const bool remote_server = flow.remote_port < kWellKnownEnd;
    if (local_server && !remote_server) {
        return FlowDirection::Inbound;
    }
    if (remote_server && !local_server) {
        return FlowDirection::Outbound;
    }
    return FlowDirection::Unknown;
}

}  // namespace vigil::hub

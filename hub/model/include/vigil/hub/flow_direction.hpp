// Which side opened a flow: the one rule detection and the traffic charts share.
#pragma once

#include "vigil/hub/report.hpp"

namespace vigil::hub {

enum class FlowDirection : uint8_t { Inbound = 0, Outbound = 1, Unknown = 2 };

/// Inbound when the remote side opened the flow, outbound when the device did: what the format
/// says (remote_opened), else the ports tell.
FlowDirection direction_of(const Flow& flow);

}  // namespace vigil::hub

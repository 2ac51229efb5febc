// Collector ids as indices into wire::ConfigFields::collectors.
#pragma once

#include <cstddef>

#include "vigil/protocol/wire.h"

namespace vigil::agent::detail {

constexpr size_t kNetworkCollector = static_cast<size_t>(wire::CollectorId::Network) - 1;
constexpr size_t kSystemCollector = static_cast<size_t>(wire::CollectorId::System) - 1;
constexpr size_t kHeartbeatCollector = static_cast<size_t>(wire::CollectorId::Heartbeat) - 1;
constexpr size_t kPortsCollector = static_cast<size_t>(wire::CollectorId::ListeningPorts) - 1;

}  // namespace vigil::agent::detail

// Device silence: the one detection on the hub's clock. A device that has sent nothing for its
// group's number of low-priority intervals (3 by default) is silent; its next report clears the
// alert (Engine::note_silent). The agent Vigil replaces waited 72 hours before saying so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/detect/policy.hpp"

namespace vigil::hub::detect {

struct DeviceLiveness {
    std::string device_id;
    std::string group;            ///< "" none
    int64_t last_seen_ms = 0;     ///< hub time of its latest message
    uint32_t low_interval_s = 0;  ///< from the config the hub gave it; 0 the policy's default
};

/// The alerts for the devices that are silent at `now_ms` (hub time), in the given order.
std::vector<AlertRaise> silent_devices(const Policy& policy,
                                       const std::vector<DeviceLiveness>& devices, int64_t now_ms);

}  // namespace vigil::hub::detect

// What happened to a device, for live consumers (the API's event stream): its enrolment and
// revocation, its first report, a config it applied; and how much the fleet reported, in one
// event per interval rather than one per message.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::hub {

enum class DeviceChange : uint8_t { Enrolled = 0, Revoked = 1, FirstReport = 2, ConfigApplied = 3 };
/// "enrolled", "revoked", "first_report", "config_applied"
const char* to_string(DeviceChange change);

struct DeviceEvent {
    std::string device_id;
    DeviceChange change = DeviceChange::FirstReport;
    int64_t at_ms = 0;  ///< the hub's clock: when the hub enrolled, revoked or received it
};

struct FleetEvent {
    uint64_t reported = 0;       ///< messages stored since the previous fleet event
    int64_t last_report_ms = 0;  ///< the hub's receive time of the latest of them
};

}  // namespace vigil::hub

// Suppressions: alerts an operator has decided not to be told about, for a while. A matching
// alert is still kept, marked with the suppression, and counted by it; it reaches no output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::hub {

/// Where a suppression came from: the policy file (replaced whole on each load) or the API/CLI.
enum class SuppressionSource : uint8_t { Policy = 0, Operator = 1 };
const char* to_string(SuppressionSource source);  ///< "policy", "operator"

struct Suppression {
    int64_t id = 0;
    SuppressionSource source = SuppressionSource::Operator;
    std::string name;  ///< unique within its source
    /// Which devices: one device, or every device of a group; both empty: every device.
    std::string device_id, group;
    std::string type;                   ///< an alert type, "" every type
    std::string subject_pattern = "*";  ///< shell glob over the alert's subject
    std::optional<int64_t> expires_ms;  ///< hub time; none: until removed
    std::string reason, created_by;
    int64_t created_ms = 0;
    uint64_t suppressed = 0;  ///< alerts it has suppressed
};

}  // namespace vigil::hub

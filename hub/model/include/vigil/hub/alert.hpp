// Detection's findings as the hub keeps and shows them: what a rule raised about a device, and
// where a person took it (open, acknowledged, resolved).
#pragma once

#include <cstdint>
#include <string>

namespace vigil::hub {

enum class AlertState : uint8_t { Open = 0, Acknowledged = 1, Resolved = 2 };
const char* to_string(AlertState state);  ///< "open", "acknowledged", "resolved"

enum class Severity : uint8_t { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };
const char* to_string(Severity severity);  ///< "info", "low", "medium", "high", "critical"

/// Detection's finding. While an alert of the same device, kind and subject is open or
/// acknowledged, raising it again updates that alert (last seen, count, details) instead of
/// opening another.
struct AlertRaise {
    std::string device_id;
    std::string kind;     ///< the rule, "port-scan"
    std::string subject;  ///< what it is about within the kind, "203.0.113.9"; may be ""
    Severity severity = Severity::Medium;
    int64_t seen_ms = 0;
    std::string details_json = "{}";
};

struct Alert {
    int64_t id = 0;
    std::string device_id, kind, subject;
    Severity severity = Severity::Medium;
    AlertState state = AlertState::Open;
    int64_t first_seen_ms = 0, last_seen_ms = 0;
    uint64_t count = 0;  ///< times raised
    std::string details_json;
    int64_t changed_ms = 0;  ///< of the latest acknowledge or resolve; 0 never
    std::string changed_by;
};

}  // namespace vigil::hub

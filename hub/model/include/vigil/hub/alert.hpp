// Detection's findings as the hub keeps and shows them: what a rule raised about a device, the
// evidence it had, and where a person took it (open, acknowledged, resolved).
//
// Two clocks: observed times are the device's own (the window times of the reports that were the
// evidence), so a capture replayed in seconds gives the same alert as the live run; raised and
// changed times are the hub's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::hub {

enum class AlertState : uint8_t { Open = 0, Acknowledged = 1, Resolved = 2 };
const char* to_string(AlertState state);  ///< "open", "acknowledged", "resolved"

enum class Severity : uint8_t { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };
const char* to_string(Severity severity);  ///< "info", "low", "medium", "high", "critical"

/// What kind of finding an alert is, for filtering and routing; a type belongs to one category.
enum class AlertCategory : uint8_t {
    MaliciousIp = 0,
    PortScanInbound = 1,
    ScanOutbound = 2,
    Flood = 3,
    AllowlistViolation = 4,
    NewListeningPort = 5,
    Exfiltration = 6,
    Beaconing = 7,
    DeviceSilence = 8,
    BaselineDeviation = 9,
    Threshold = 10,
    AgentHealth = 11,
};
/// "malicious_ip", "port_scan_inbound", "scan_outbound", "flood", "allowlist_violation",
/// "new_listening_port", "exfiltration", "beaconing", "device_silence", "baseline_deviation",
/// "threshold", "agent_health".
const char* to_string(AlertCategory category);
std::optional<AlertCategory> alert_category_named(const std::string& name);
std::optional<Severity> severity_named(const std::string& name);
std::optional<AlertState> alert_state_named(const std::string& name);

/// Detection's finding. While an alert of the same device, type and subject is open or
/// acknowledged, raising it again updates that alert (count, latest observed time, the higher
/// severity, description and evidence) instead of opening another.
struct AlertRaise {
    std::string device_id;
    /// Stable across releases, one per detection: "scan.port_inbound", "rule.<group>.<name>".
    std::string type;
    AlertCategory category = AlertCategory::Threshold;
    /// What it is about within the type, "203.0.113.9"; "" when the type has one per device.
    std::string subject;
    Severity severity = Severity::Medium;
    std::string title;        ///< one line: "Inbound port scan from 203.0.113.9"
    std::string description;  ///< what was seen, in words a person understands
    std::string remediation;  ///< what to do about it
    /// MITRE ATT&CK for ICS, "T0846 Remote System Discovery"; "" where none fits.
    std::string technique;
    int64_t first_observed_ms = 0;  ///< device time of the earliest evidence
    int64_t last_observed_ms = 0;   ///< device time of the latest evidence
    int64_t raised_ms = 0;          ///< hub time
    /// JSON object: the flow records, counts, windows and rule that triggered it.
    std::string evidence_json = "{}";
};

/// The condition behind an open alert has cleared for its clear count: the alert is resolved
/// (by "detection"). Nothing happens when no such alert is unresolved.
struct AlertClear {
    std::string device_id, type, subject;
    int64_t observed_ms = 0;  ///< device time the condition was last seen clear
    int64_t cleared_ms = 0;   ///< hub time
};

struct Alert {
    int64_t id = 0;
    std::string device_id, type;
    AlertCategory category = AlertCategory::Threshold;
    std::string subject;
    Severity severity = Severity::Medium;
    AlertState state = AlertState::Open;
    std::string title, description, remediation, technique;
    int64_t first_observed_ms = 0, last_observed_ms = 0;  ///< device time
    int64_t raised_ms = 0;                                ///< hub time of the first raise
    int64_t last_raised_ms = 0;                           ///< hub time of the latest raise
    uint64_t count = 0;                                   ///< times raised
    std::string evidence_json;                            ///< of the latest raise
    int64_t changed_ms = 0;  ///< hub time of the latest acknowledge or resolve; 0 never
    std::string changed_by;  ///< who: a user, a token, or "detection" (cleared)
    /// The suppression that matched when the alert was opened; 0 none. A suppressed alert is kept
    /// (and counted by its suppression) but sent to no output.
    int64_t suppressed_by = 0;
};

/// What happened to an alert, for live consumers (outputs, the API's event stream).
enum class AlertChange : uint8_t { Opened = 0, Repeated = 1, Acknowledged = 2, Resolved = 3 };
const char* to_string(AlertChange change);  ///< "opened", "repeated", "acknowledged", "resolved"

struct AlertEvent {
    AlertChange change = AlertChange::Opened;
    Alert alert;  ///< as it is after the change
};

}  // namespace vigil::hub

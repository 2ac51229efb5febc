// The model's names for its enums, as the API, the store and the metrics spell them.
#include <array>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/device_event.hpp"
#include "vigil/hub/enrolment.hpp"
#include "vigil/hub/enum_names.hpp"
#include "vigil/hub/recommendation.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/suppression.hpp"

namespace vigil::hub {

namespace {

constexpr std::array<const char*, 3> kAlertStates = {"open", "acknowledged", "resolved"};
constexpr std::array<const char*, 12> kAlertCategories = {
    "malicious_ip",        "port_scan_inbound",  "scan_outbound", "flood",
    "allowlist_violation", "new_listening_port", "exfiltration",  "beaconing",
    "device_silence",      "baseline_deviation", "threshold",     "agent_health"};
constexpr std::array<const char*, 4> kAlertChanges = {"opened", "repeated", "acknowledged",
                                                      "resolved"};
constexpr std::array<const char*, 4> kDeviceChanges = {"enrolled", "revoked", "first_report",
                                                       "config_applied"};
constexpr std::array<const char*, 2> kSuppressionSources = {"policy", "operator"};
constexpr std::array<const char*, 5> kSeverities = {"info", "low", "medium", "high", "critical"};
constexpr std::array<const char*, 3> kEnrolments = {"pending", "enrolled", "blocked"};
constexpr std::array<const char*, 3> kRecommendationStates = {"open", "dismissed", "closed"};
constexpr std::array<const char*, 5> kRecommendationChanges = {"opened", "updated", "closed",
                                                               "reopened", "dismissed"};
constexpr std::array<const char*, 3> kFormats = {"vigil", "legacy-defender", "aws-defender"};
constexpr std::array<const char*, 3> kProtocols = {"tcp", "udp", "icmp"};

}  // namespace

const char* to_string(AlertState state) {
    return name_of(state, kAlertStates);
}

const char* to_string(Severity severity) {
    return name_of(severity, kSeverities);
}

std::optional<AlertState> alert_state_named(const std::string& name) {
    return value_named<AlertState>(name, kAlertStates);
}

std::optional<Severity> severity_named(const std::string& name) {
    return value_named<Severity>(name, kSeverities);
}

const char* to_string(AlertCategory category) {
    return name_of(category, kAlertCategories);
}

std::optional<AlertCategory> alert_category_named(const std::string& name) {
    return value_named<AlertCategory>(name, kAlertCategories);
}

const char* to_string(AlertChange change) {
    return name_of(change, kAlertChanges);
}

const char* to_string(DeviceChange change) {
    return name_of(change, kDeviceChanges);
}

const char* to_string(SuppressionSource source) {
    return name_of(source, kSuppressionSources);
}

const char* to_string(Enrolment enrolment) {
    return name_of(enrolment, kEnrolments);
}

const char* to_string(RecommendationState state) {
    return name_of(state, kRecommendationStates);
}

std::optional<RecommendationState> recommendation_state_named(const std::string& name) {
    return value_named<RecommendationState>(name, kRecommendationStates);
}

const char* to_string(RecommendationChange change) {
    return name_of(change, kRecommendationChanges);
}

const char* to_string(Format format) {
    return name_of(format, kFormats);
}

const char* to_string(Protocol protocol) {
    return name_of(protocol, kProtocols);
}

}  // namespace vigil::hub

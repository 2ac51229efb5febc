#include "vigil/hub/finding_json.hpp"

#include <nlohmann/json.hpp>

namespace vigil::hub {

nlohmann::json embedded_json(const std::string& text) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    return parsed.is_discarded() ? nlohmann::json(text) : parsed;
}

void to_json(nlohmann::json& out, const Alert& alert) {
    out = {{"id", alert.id},
           {"device_id", alert.device_id},
           {"type", alert.type},
           {"category", to_string(alert.category)},
           {"subject", alert.subject},
           {"severity", to_string(alert.severity)},
           {"state", to_string(alert.state)},
           {"title", alert.title},
           {"description", alert.description},
           {"remediation", alert.remediation},
           {"technique", alert.technique},
           {"first_observed_ms", alert.first_observed_ms},
           {"last_observed_ms", alert.last_observed_ms},
           {"raised_ms", alert.raised_ms},
           {"last_raised_ms", alert.last_raised_ms},
           {"count", alert.count},
           {"changed_ms", alert.changed_ms},
           {"changed_by", alert.changed_by},
           // null when no suppression matched
           {"suppressed_by", alert.suppressed_by != 0 ? nlohmann::json(alert.suppressed_by)
                                                      : nlohmann::json(nullptr)},
           {"evidence", embedded_json(alert.evidence_json)}};
}

void to_json(nlohmann::json& out, const Recommendation& recommendation) {
    const Recommendation& r = recommendation;
    out = {{"id", r.id},
           {"device_id", r.device_id},
           {"kind", r.kind},
           {"subject", r.subject},
           {"state", to_string(r.state)},
           {"severity", to_string(r.severity)},
           {"title", r.title},
           {"rationale", r.rationale},
           {"remediation", r.remediation},
           {"evidence", embedded_json(r.evidence_json)},
           {"evidence_key", r.evidence_key},
           {"first_observed_ms", r.first_observed_ms},
           {"last_observed_ms", r.last_observed_ms},
           {"opened_ms", r.opened_ms},
           {"updated_ms", r.updated_ms},
           {"closed_ms", r.closed_ms},
           {"dismissed_reason", r.dismissed_reason},
           {"dismissed_by", r.dismissed_by},
           {"dismissed_ms", r.dismissed_ms},
           {"dismissed_key", r.dismissed_key}};
}

}  // namespace vigil::hub

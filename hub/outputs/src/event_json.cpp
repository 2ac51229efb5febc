#include "vigil/hub/outputs/event_json.hpp"

#include <nlohmann/json.hpp>

namespace vigil::hub::outputs {

namespace {

// Evidence the store holds is JSON; should it ever not parse, the receiver still gets it, as text.
nlohmann::json evidence_of(const std::string& evidence_json) {
    nlohmann::json evidence = nlohmann::json::parse(evidence_json, nullptr, false);
    if (evidence.is_discarded()) {
        return evidence_json;
    }
    return evidence;
}

// Text from devices may hold invalid UTF-8: replaced, not an exception on the sender thread.
std::string dump(const nlohmann::json& document) {
    return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string event_name(const OutputEvent& event) {
    if (const auto* alert = std::get_if<AlertEvent>(&event)) {
        return std::string("alert.") + to_string(alert->change);
    }
    return std::string("recommendation.") + to_string(std::get<RecommendationEvent>(event).change);
}

std::string event_json(const OutputEvent& event) {
    return std::visit([](const auto& held) { return event_json(held); }, event);
}

std::string event_json(const RecommendationEvent& event) {
    const Recommendation& r = event.recommendation;
    nlohmann::json recommendation = {
        {"id", r.id},
        {"device_id", r.device_id},
        {"kind", r.kind},
        {"subject", r.subject},
        {"state", to_string(r.state)},
        {"severity", to_string(r.severity)},
        {"title", r.title},
        {"rationale", r.rationale},
        {"remediation", r.remediation},
        {"evidence", evidence_of(r.evidence_json)},
        {"evidence_key", r.evidence_key},
        {"first_observed_ms", r.first_observed_ms},
        {"last_observed_ms", r.last_observed_ms},
        {"opened_ms", r.opened_ms},
        {"updated_ms", r.updated_ms},
        {"closed_ms", r.closed_ms},
        {"dismissed_reason", r.dismissed_reason},
        {"dismissed_by", r.dismissed_by},
        {"dismissed_ms", r.dismissed_ms},
    };
    return dump({{"event", event_name(event)},
                 {"change", to_string(event.change)},
                 {"recommendation", recommendation}});
}

std::string event_json(const AlertEvent& event) {
    const Alert& a = event.alert;
    nlohmann::json alert = {
        {"id", a.id},
        {"device_id", a.device_id},
        {"type", a.type},
        {"category", to_string(a.category)},
        {"subject", a.subject},
        {"severity", to_string(a.severity)},
        {"state", to_string(a.state)},
        {"title", a.title},
        {"description", a.description},
        {"remediation", a.remediation},
        {"technique", a.technique},
        {"first_observed_ms", a.first_observed_ms},
        {"last_observed_ms", a.last_observed_ms},
        {"raised_ms", a.raised_ms},
        {"last_raised_ms", a.last_raised_ms},
        {"count", a.count},
        {"evidence", evidence_of(a.evidence_json)},
        {"changed_ms", a.changed_ms},
        {"changed_by", a.changed_by},
    };
    return dump(
        {{"event", event_name(event)}, {"change", to_string(event.change)}, {"alert", alert}});
}

}  // namespace vigil::hub::outputs

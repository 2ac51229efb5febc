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

}  // namespace

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
    const nlohmann::json document = {{"change", to_string(event.change)}, {"alert", alert}};
    // Text from devices may hold invalid UTF-8: replaced, not an exception on the sender thread.
    return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace vigil::hub::outputs

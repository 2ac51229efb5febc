#include "vigil/hub/outputs/event_json.hpp"

#include <nlohmann/json.hpp>

#include "vigil/hub/finding_json.hpp"

namespace vigil::hub::outputs {

namespace {

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
    return dump({{"event", event_name(event)},
                 {"change", to_string(event.change)},
                 {"recommendation", nlohmann::json(event.recommendation)}});
}

std::string event_json(const AlertEvent& event) {
    return dump({{"event", event_name(event)},
                 {"change", to_string(event.change)},
                 {"alert", nlohmann::json(event.alert)}});
}

}  // namespace vigil::hub::outputs

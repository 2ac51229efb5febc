// The JSON form of an alert and of a recommendation, in one place: the API answers with it and
// the outputs (webhooks, MQTT) send it, so a receiver reads the same document either way
// (include <nlohmann/json.hpp> to use them: nlohmann::json(alert)).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/recommendation.hpp"

namespace vigil::hub {

void to_json(nlohmann::json& out, const Alert& alert);
void to_json(nlohmann::json& out, const Recommendation& recommendation);

/// Evidence the store holds is JSON; should it ever not parse, it is given as a string.
nlohmann::json embedded_json(const std::string& text);

}  // namespace vigil::hub

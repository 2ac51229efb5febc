// The JSON the API answers with, one function per store type; field names follow the store's and
// report.hpp, times stay in milliseconds since the epoch.
#pragma once

#include "vigil/hub/finding_json.hpp"

#include <nlohmann/json.hpp>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/device_directory.hpp"
#include "vigil/hub/recommendation_store.hpp"
#include "vigil/hub/suppression.hpp"

namespace vigil::hub::api {

nlohmann::json to_json(const DeviceRow& device);
nlohmann::json to_json(const DeviceDetail& detail);
nlohmann::json to_json(const StoredFlow& flow);
nlohmann::json to_json(const Alert& alert);
nlohmann::json to_json(const Suppression& suppression);
nlohmann::json to_json(const Recommendation& recommendation);
nlohmann::json to_json(const RecommendationKindSummary& summary);

/// Each of `items` through to_json, in order, as one array.
template <typename Items>
nlohmann::json to_json_array(const Items& items) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : items) {
        out.push_back(to_json(item));
    }
    return out;
}

/// A JSON column (details_json, evidence_json) as stored, parsed; an unreadable one comes back as
/// its text.
using vigil::hub::embedded_json;

}  // namespace vigil::hub::api

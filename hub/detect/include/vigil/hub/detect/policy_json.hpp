// The policy as the API shows it: a device's effective settings, and what the file sets besides
// (groups, devices with their own settings, suppressions, outputs). Secrets are never shown,
// only whether there is one.
#pragma once

#include <nlohmann/json.hpp>

#include "vigil/hub/detect/policy.hpp"

namespace vigil::hub::detect {

nlohmann::json to_json(const DeviceSettings& settings);
/// {"source", "groups": {name: effective settings}, "devices": [ids with their own section],
///  "suppressions": [...], "outputs": [...]}
nlohmann::json to_json(const Policy& policy);

}  // namespace vigil::hub::detect

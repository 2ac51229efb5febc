// The JSON every output sends for an alert event: the change and the whole alert, its evidence
// embedded as JSON rather than as a string of JSON.
#pragma once

#include <string>

#include "vigil/hub/alert.hpp"

namespace vigil::hub::outputs {

/// {"change": "opened", "alert": {"id": 7, "device_id": ..., "evidence": {...}, ...}}
std::string event_json(const AlertEvent& event);

}  // namespace vigil::hub::outputs

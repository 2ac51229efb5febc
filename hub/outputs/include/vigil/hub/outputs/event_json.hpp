// The JSON every output sends for an event: its name, the change and the whole alert or
// recommendation, its evidence embedded as JSON rather than as a string of JSON.
#pragma once

#include <string>

#include "vigil/hub/outputs/output.hpp"

namespace vigil::hub::outputs {

/// {"event": "alert.opened", "change": "opened", "alert": {"id": 7, "device_id": ...,
/// "evidence": {...}, ...}}
std::string event_json(const AlertEvent& event);
/// {"event": "recommendation.opened", "change": "opened", "recommendation": {"id": 3, ...}}
std::string event_json(const RecommendationEvent& event);
std::string event_json(const OutputEvent& event);

/// "alert.opened", "recommendation.closed": what receivers tell the events apart by.
std::string event_name(const OutputEvent& event);

}  // namespace vigil::hub::outputs

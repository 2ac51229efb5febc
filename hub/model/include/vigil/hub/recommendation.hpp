// Hygiene findings: what an operator should change on a device, one per device and kind.
#pragma once

#include <cstdint>
#include <string>

namespace vigil::hub {

enum class RecommendationState : uint8_t { Open = 0, Dismissed = 1, Done = 2 };
const char* to_string(RecommendationState state);  ///< "open", "dismissed", "done"

/// A hygiene finding, one per device and kind ("telnet-listening", "outdated-agent").
struct Recommendation {
    std::string device_id, kind;
    RecommendationState state = RecommendationState::Open;
    std::string details_json = "{}";
    int64_t created_ms = 0, updated_ms = 0;
};

}  // namespace vigil::hub

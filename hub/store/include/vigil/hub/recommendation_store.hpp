// Hygiene recommendations, one per device and kind.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/recommendation.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

class RecommendationStore {
  public:
    virtual ~RecommendationStore() = default;

    /// Creates or replaces the recommendation of that device and kind.
    virtual Done put_recommendation(const Recommendation& recommendation) = 0;
    /// Ordered by device id, then kind.
    virtual Fetched<std::vector<Recommendation>> recommendations(
        const std::optional<std::string>& device_id,
        const std::optional<RecommendationState>& state) = 0;
};

}  // namespace vigil::hub

#include "vigil/hub/recommendation.hpp"

namespace vigil::hub {

const char* to_string(RecommendationState state) {
    switch (state) {
        case RecommendationState::Open:
            return "open";
        case RecommendationState::Dismissed:
            return "dismissed";
        case RecommendationState::Done:
            return "done";
    }
    return "unknown";
}

}  // namespace vigil::hub

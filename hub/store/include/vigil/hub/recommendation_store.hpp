// Hygiene recommendations: one per device, kind and subject, opened and closed by the checks'
// scans (committed with the reports through TelemetryWriter::commit_batch), dismissed by people.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/recommendation.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

struct RecommendationFilter {
    std::optional<std::string> device_id;
    std::optional<std::string> group;  ///< devices of this group
    std::optional<std::string> kind;
    std::optional<RecommendationState> state;
    std::optional<Severity> min_severity;
    std::optional<int64_t> before_id;  ///< paging, newest first: ids below this
    uint32_t limit = 100;
};

/// One kind across the fleet (the filter's devices), for the grouped view.
struct RecommendationKindSummary {
    std::string kind;
    Severity severity = Severity::Info;  ///< the highest among its open recommendations
    std::string title;                   ///< of its most recently updated recommendation
    std::string remediation;             ///< idem
    uint64_t open_devices = 0, dismissed_devices = 0, closed_devices = 0;
};

class RecommendationStore {
  public:
    virtual ~RecommendationStore() = default;

    /// Applies one scan as commit_batch applies the scans of DetectionEffects, in its own
    /// transaction: for checks that run on the hub's clock, and for tests.
    virtual Fetched<std::vector<RecommendationEvent>> apply_recommendation_scan(
        const RecommendationScan& scan) = 0;
    /// Newest first.
    virtual Fetched<std::vector<Recommendation>> recommendations(
        const RecommendationFilter& filter) = 0;
    /// value empty when there is no such recommendation.
    virtual Fetched<std::optional<Recommendation>> recommendation(int64_t id) = 0;
    /// By kind, most open devices first; `filter.kind`, `before_id` and `limit` are ignored.
    virtual Fetched<std::vector<RecommendationKindSummary>> recommendation_summary(
        const RecommendationFilter& filter) = 0;
    /// Fails when it does not exist or is closed (nothing to dismiss); dismissing a dismissed
    /// one replaces the reason. `reason` must not be empty.
    virtual Fetched<RecommendationEvent> dismiss_recommendation(int64_t id,
                                                                const std::string& reason,
                                                                const std::string& by,
                                                                int64_t now_ms) = 0;
};

}  // namespace vigil::hub

// Alerts as detection raises them and people act on them, and the suppressions that keep some
// of them from the outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/store_result.hpp"
#include "vigil/hub/suppression.hpp"

namespace vigil::hub {

struct AlertFilter {
    std::optional<std::string> device_id;
    std::optional<std::string> group;  ///< devices of this group
    std::optional<std::string> type;
    std::optional<AlertCategory> category;
    std::optional<AlertState> state;
    std::optional<Severity> min_severity;
    /// Device time: alerts whose evidence reaches into [since, until].
    std::optional<int64_t> observed_since_ms;  ///< last_observed_ms >= this
    std::optional<int64_t> observed_until_ms;  ///< first_observed_ms <= this
    /// Suppressed alerts are left out unless asked for.
    bool include_suppressed = false;
    std::optional<int64_t> before_id;  ///< paging, newest first: ids below this
    uint32_t limit = 100;
};

class AlertStore {
  public:
    virtual ~AlertStore() = default;

    /// Opens the alert, or updates the unresolved one of the same device, type and subject;
    /// a new alert that an unexpired suppression matches is marked with it, and the suppression
    /// counts it. Detection raises its alerts through TelemetryWriter::commit_batch instead,
    /// with the reports that caused them; this is for the hub's own clock (device silence).
    virtual Fetched<AlertEvent> raise_alert(const AlertRaise& alert) = 0;
    /// Resolves the unresolved alert of that device, type and subject, by "detection"; value
    /// empty when there was none.
    virtual Fetched<std::optional<AlertEvent>> clear_alert(const AlertClear& clear) = 0;
    /// Newest first.
    virtual Fetched<std::vector<Alert>> alerts(const AlertFilter& filter) = 0;
    /// value empty when there is no such alert.
    virtual Fetched<std::optional<Alert>> alert(int64_t id) = 0;
    /// Fails when the alert does not exist; states only move forward, so acknowledging a
    /// resolved alert, or resolving it again, changes nothing.
    virtual Done acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;
    virtual Done resolve_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;

    /// Adds an operator's suppression; value is its id. Fails for a name already in use.
    virtual Fetched<int64_t> add_suppression(const Suppression& suppression) = 0;
    /// Fails when there is no such suppression.
    virtual Done remove_suppression(int64_t id) = 0;
    /// Replaces every suppression of the policy file with these, in one transaction (the
    /// counts of those that keep their name are kept).
    virtual Done replace_policy_suppressions(const std::vector<Suppression>& suppressions,
                                             int64_t now_ms) = 0;
    /// Expired ones too, with their counts.
    virtual Fetched<std::vector<Suppression>> suppressions() = 0;
};

}  // namespace vigil::hub

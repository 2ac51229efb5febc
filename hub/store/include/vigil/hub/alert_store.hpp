// Alerts as detection raises them and people act on them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

struct AlertFilter {
    std::optional<std::string> device_id;
    std::optional<std::string> kind;
    std::optional<AlertState> state;
    std::optional<Severity> min_severity;
    std::optional<int64_t> seen_since_ms;  ///< last_seen_ms >= this
    std::optional<int64_t> before_id;      ///< paging, newest first: ids below this
    uint32_t limit = 100;
};

class AlertStore {
  public:
    virtual ~AlertStore() = default;

    /// Opens the alert, or updates the unresolved one of the same device, kind and subject
    /// (count, last seen, the higher severity, details); value is its id. Detection raises its
    /// alerts through TelemetryWriter::commit_batch instead, with the reports that caused them.
    virtual Fetched<int64_t> raise_alert(const AlertRaise& alert) = 0;
    /// Newest first.
    virtual Fetched<std::vector<Alert>> alerts(const AlertFilter& filter) = 0;
    /// Fails when the alert does not exist; resolving a resolved alert changes nothing.
    virtual Done acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;
    virtual Done resolve_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;
};

}  // namespace vigil::hub

// The fleet at a glance, for the dashboard: devices counted by state, enrolment, recency and
// versions, open alerts and recommendations by severity, alerts raised over time, and one
// device's traffic over time. Each answer is a few aggregate queries, never one per device.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

/// Counts indexed by Severity (info, low, medium, high, critical).
using SeverityCounts = std::array<uint64_t, 5>;

struct OverviewQuery {
    int64_t now_ms = 0;  ///< the hub's clock: "seen within the hour and the day" count from it
    /// The alert timeline: alerts raised (hub time) in [from_ms, to_ms), in buckets of step_ms
    /// from from_ms.
    int64_t from_ms = 0, to_ms = 0, step_ms = 1;
};

struct NamedCount {
    std::string name;
    uint64_t count = 0;
};

struct FirmwareCount {
    std::string os;       ///< the OS name and version of the latest system information
    std::string version;  ///< its firmware version
    uint64_t devices = 0;
};

struct AlertBucket {
    int64_t t_ms = 0;  ///< the bucket's start
    SeverityCounts raised{};
};

struct FleetSummary {
    uint64_t devices = 0;
    std::vector<NamedCount> by_state;      ///< the agent's state ("" when it never said)
    std::vector<NamedCount> by_enrolment;  ///< pending, enrolled, blocked; zeros included
    uint64_t seen_hour = 0, seen_day = 0;
    std::vector<NamedCount> agent_versions;  ///< of devices that reported; most devices first
    std::vector<FirmwareCount> firmware;     ///< of devices that sent system information
    /// Alerts and recommendations a suppression kept from the outputs are left out, as the
    /// lists leave them out by default.
    SeverityCounts open_alerts{};
    uint64_t acknowledged_alerts = 0;
    SeverityCounts open_recommendations{};
    std::vector<AlertBucket> timeline;  ///< every bucket of the range, empty ones included
};

struct TrafficSeriesQuery {
    std::string device_id;
    int64_t from_ms = 0, to_ms = 0, step_ms = 1;  ///< window time, as OverviewQuery's
};

/// One bucket of a device's traffic: the flows and the traffic the agent could not itemise
/// (overflow) of the windows that started in it, summed as the device detail sums them.
struct TrafficPoint {
    int64_t t_ms = 0;
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    /// Flows the remote side opened, and flows the device opened (direction_of,
    /// flow_direction.hpp); a flow of undecided direction counts in neither.
    uint64_t connections_in = 0, connections_out = 0;
};

class FleetOverview {
  public:
    virtual ~FleetOverview() = default;

    virtual Fetched<FleetSummary> fleet_summary(const OverviewQuery& query) = 0;
    /// Every bucket of the range, empty ones with zeros; value empty when no device has that id.
    virtual Fetched<std::optional<std::vector<TrafficPoint>>> traffic_series(
        const TrafficSeriesQuery& query) = 0;
};

}  // namespace vigil::hub

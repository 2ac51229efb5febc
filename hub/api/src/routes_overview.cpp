// The dashboard's aggregates: the fleet overview and one device's traffic over time.
#include <algorithm>
#include <array>

#include "http_util.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
// A chart's resolution when the caller names no step.
constexpr int64_t kDefaultBuckets = 48;

struct TimeRange {
    int64_t from_ms = 0, to_ms = 0, step_ms = 1;
};

// from, to and step of the query: the last 24 hours in 48 buckets unless told, at most
// max_buckets. An answer of 400 and nullopt when they make no range.
std::optional<TimeRange> read_range(const HttpRequest& req, HttpResponse& res, int64_t now_ms,
                                    int64_t max_buckets) {
    max_buckets = std::max<int64_t>(max_buckets, 1);
    api::QueryReader params(req, res);
    TimeRange range;
    range.to_ms = params.integer("to", 0, INT64_MAX / 2).value_or(now_ms);
    range.from_ms = params.integer("from", 0, INT64_MAX / 2).value_or(range.to_ms - kDayMs);
    const auto step = params.integer("step", 1, INT64_MAX / 2);
    if (!params.ok()) {
        return std::nullopt;
    }
    if (range.from_ms >= range.to_ms) {
        api::send_error(res, 400, "bad_parameter", "from must be before to");
        return std::nullopt;
    }
    const int64_t span = range.to_ms - range.from_ms;
    range.step_ms = step.value_or((span + kDefaultBuckets - 1) / kDefaultBuckets);
    if ((span + range.step_ms - 1) / range.step_ms > max_buckets) {
        api::send_error(res, 400, "bad_parameter",
                        "step makes more than " + std::to_string(max_buckets) +
                            " buckets of [from, to): take a step of at least " +
                            std::to_string((span + max_buckets - 1) / max_buckets) + " ms");
        return std::nullopt;
    }
    return range;
}

nlohmann::json by_severity(const SeverityCounts& counts) {
    nlohmann::json out = nlohmann::json::object();
    for (const Severity severity :
         {Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info}) {
        out[to_string(severity)] = counts[static_cast<size_t>(severity)];
    }
    return out;
}

nlohmann::json to_object(const std::vector<NamedCount>& counts) {
    nlohmann::json out = nlohmann::json::object();
    for (const NamedCount& count : counts) {
        // A device that never sent a heartbeat has said no state.
        out[count.name.empty() ? "unknown" : count.name] = count.count;
    }
    return out;
}

nlohmann::json to_json(const FleetSummary& summary, const TimeRange& range) {
    nlohmann::json agents = nlohmann::json::array();
    for (const NamedCount& version : summary.agent_versions) {
        agents.push_back({{"version", version.name}, {"devices", version.count}});
    }
    nlohmann::json firmware = nlohmann::json::array();
    for (const FirmwareCount& entry : summary.firmware) {
        firmware.push_back(
            {{"os", entry.os}, {"version", entry.version}, {"devices", entry.devices}});
    }
    nlohmann::json buckets = nlohmann::json::array();
    for (const AlertBucket& bucket : summary.timeline) {
        nlohmann::json entry = by_severity(bucket.raised);
        entry["t_ms"] = bucket.t_ms;
        buckets.push_back(std::move(entry));
    }
    return {{"devices",
             {{"total", summary.devices},
              {"by_state", to_object(summary.by_state)},
              {"by_enrolment", to_object(summary.by_enrolment)},
              {"seen_since", {{"hour", summary.seen_hour}, {"day", summary.seen_day}}}}},
            {"versions", {{"agent", std::move(agents)}, {"firmware", std::move(firmware)}}},
            {"alerts",
             {{"open_by_severity", by_severity(summary.open_alerts)},
              {"acknowledged", summary.acknowledged_alerts}}},
            {"recommendations", {{"open_by_severity", by_severity(summary.open_recommendations)}}},
            {"alert_timeline",
             {{"from_ms", range.from_ms},
              {"to_ms", range.to_ms},
              {"step_ms", range.step_ms},
              {"buckets", std::move(buckets)}}}};
}

}  // namespace

void ApiServer::Impl::add_overview_routes() {
    route("GET", "/api/overview", "/api/overview", &Impl::overview);
    route("GET", "/api/devices/([^/]+)/traffic", "/api/devices/{id}/traffic",
          &Impl::device_traffic);
}

void ApiServer::Impl::overview(const HttpRequest& req, HttpResponse& res) {
    const int64_t now = now_ms();
    const auto range = read_range(req, res, now, settings_.max_buckets);
    if (!range) {
        return;
    }
    const Fetched<FleetSummary> summary =
        store_.overview.fleet_summary({now, range->from_ms, range->to_ms, range->step_ms});
    if (api::store_failed(res, summary)) {
        return;
    }
    api::send_json(res, 200, to_json(summary.value, *range));
}

void ApiServer::Impl::device_traffic(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    if (!id) {
        return;
    }
    const auto range = read_range(req, res, now_ms(), settings_.max_buckets);
    if (!range) {
        return;
    }
    const Fetched<std::optional<std::vector<TrafficPoint>>> series =
        store_.overview.traffic_series({*id, range->from_ms, range->to_ms, range->step_ms});
    if (api::store_failed(res, series)) {
        return;
    }
    if (!series.value) {
        api::send_error(res, 404, "not_found", "no device '" + *id + "'");
        return;
    }
    nlohmann::json points = nlohmann::json::array();
    for (const TrafficPoint& point : *series.value) {
        points.push_back({{"t_ms", point.t_ms},
                          {"bytes_in", point.bytes_in},
                          {"bytes_out", point.bytes_out},
                          {"packets_in", point.packets_in},
                          {"packets_out", point.packets_out},
                          {"connections_in", point.connections_in},
                          {"connections_out", point.connections_out}});
    }
    api::send_json(res, 200,
                   {{"device_id", *id},
                    {"from_ms", range->from_ms},
                    {"to_ms", range->to_ms},
                    {"step_ms", range->step_ms},
                    {"points", std::move(points)}});
}

}  // namespace vigil::hub

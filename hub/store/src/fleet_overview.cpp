// The fleet overview and a device's traffic series: aggregate queries over the devices row, the
// alerts, the recommendations and one device's windows.
#include <algorithm>

#include "sqlite_store_impl.hpp"
#include "vigil/hub/flow_direction.hpp"

namespace vigil::hub::sqlite {

namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

// The bucket of a row's time: the queries select only times in [from, to), so it is in range.
size_t bucket_index(int64_t bucket, size_t buckets) {
    return std::min(static_cast<size_t>(std::max<int64_t>(bucket, 0)), buckets - 1);
}

size_t bucket_count(int64_t from_ms, int64_t to_ms, int64_t step_ms) {
    return to_ms <= from_ms ? 0 : static_cast<size_t>((to_ms - from_ms + step_ms - 1) / step_ms);
}

}  // namespace

Fetched<FleetSummary> SqliteStore::fleet_summary(const OverviewQuery& query) {
    return with_reader<FleetSummary>([&](Connection& reader, Fetched<FleetSummary>& result) {
        Transaction snapshot(reader);
        if (!snapshot.begin("BEGIN", result.error) ||
            !summarise_devices(reader, query, result.value, result.error) ||
            !summarise_findings(reader, query, result.value, result.error)) {
            return;
        }
    });
}

bool SqliteStore::summarise_devices(Connection& reader, const OverviewQuery& query,
                                    FleetSummary& summary, std::string& error) {
    Statement totals = reader.query(
        "SELECT count(*), coalesce(sum(last_seen_ms >= ?1), 0), "
        "coalesce(sum(last_seen_ms >= ?2), 0) FROM devices",
        error, query.now_ms - kHourMs, query.now_ms - kDayMs);
    if (!totals || !totals.only_row("device totals", error)) {
        return false;
    }
    summary.devices = as_counter(totals.integer(0));
    summary.seen_hour = as_counter(totals.integer(1));
    summary.seen_day = as_counter(totals.integer(2));
    Statement states = reader.query(
        "SELECT state, count(*) FROM devices GROUP BY state ORDER BY count(*) DESC, state", error);
    while (states && states.next_row("devices by state", error)) {
        summary.by_state.push_back({states.text(0), as_counter(states.integer(1))});
    }
    SeverityCounts enrolments{};
    Statement enrolled =
        reader.query("SELECT enrolment, count(*) FROM devices GROUP BY enrolment", error);
    while (enrolled && enrolled.next_row("devices by enrolment", error)) {
        const int64_t enrolment = enrolled.integer(0);
        if (enrolment >= 0 && enrolment < 3) {
            enrolments[static_cast<size_t>(enrolment)] = as_counter(enrolled.integer(1));
        }
    }
    for (const Enrolment enrolment :
         {Enrolment::Pending, Enrolment::Enrolled, Enrolment::Blocked}) {
        summary.by_enrolment.push_back(
            {to_string(enrolment), enrolments[static_cast<size_t>(enrolment)]});
    }
    Statement agents = reader.query(
        "SELECT agent_version, count(*) FROM devices WHERE first_seen_ms IS NOT NULL "
        "GROUP BY agent_version ORDER BY count(*) DESC, agent_version",
        error);
    while (agents && agents.next_row("agent versions", error)) {
        summary.agent_versions.push_back({agents.text(0), as_counter(agents.integer(1))});
    }
    Statement firmware = reader.query(
        "SELECT trim(coalesce(body_json ->> 'os_name', '') || ' ' || "
        "coalesce(body_json ->> 'os_version', '')) AS os, "
        "coalesce(body_json ->> 'firmware_version', '') AS version, count(*) "
        "FROM device_latest WHERE part = ?1 "
        "GROUP BY os, version ORDER BY count(*) DESC, os, version",
        error, static_cast<int64_t>(LatestPart::System));
    while (firmware && firmware.next_row("firmware versions", error)) {
        summary.firmware.push_back(
            {firmware.text(0), firmware.text(1), as_counter(firmware.integer(2))});
    }
    return error.empty();
}

bool SqliteStore::summarise_findings(Connection& reader, const OverviewQuery& query,
                                     FleetSummary& summary, std::string& error) {
    const auto severity_of = [](int64_t value) {
        return static_cast<size_t>(std::clamp<int64_t>(value, 0, 4));
    };
    Statement alerts = reader.query(
        "SELECT state, severity, count(*) FROM alerts WHERE state <> ?1 AND suppressed_by = 0 "
        "GROUP BY state, severity",
        error, static_cast<int64_t>(AlertState::Resolved));
    while (alerts && alerts.next_row("alerts by severity", error)) {
        const uint64_t count = as_counter(alerts.integer(2));
        if (alerts.integer(0) == static_cast<int64_t>(AlertState::Open)) {
            summary.open_alerts[severity_of(alerts.integer(1))] += count;
        } else {
            summary.acknowledged_alerts += count;
        }
    }
    Statement recommendations = reader.query(
        "SELECT severity, count(*) FROM recommendations WHERE state = ?1 GROUP BY severity", error,
        static_cast<int64_t>(RecommendationState::Open));
    while (recommendations && recommendations.next_row("recommendations by severity", error)) {
        summary.open_recommendations[severity_of(recommendations.integer(0))] +=
            as_counter(recommendations.integer(1));
    }
    const size_t buckets = bucket_count(query.from_ms, query.to_ms, query.step_ms);
    summary.timeline.resize(buckets);
    for (size_t i = 0; i < buckets; ++i) {
        summary.timeline[i].t_ms = query.from_ms + static_cast<int64_t>(i) * query.step_ms;
    }
    Statement raised = reader.query(
        "SELECT (raised_ms - ?1) / ?3, severity, count(*) FROM alerts "
        "WHERE raised_ms >= ?1 AND raised_ms < ?2 AND suppressed_by = 0 "
        "GROUP BY 1, 2",
        error, query.from_ms, query.to_ms, query.step_ms);
    while (buckets > 0 && raised && raised.next_row("alert timeline", error)) {
        summary.timeline[bucket_index(raised.integer(0), buckets)]
            .raised[severity_of(raised.integer(1))] += as_counter(raised.integer(2));
    }
    return error.empty();
}

Fetched<std::optional<std::vector<TrafficPoint>>> SqliteStore::traffic_series(
    const TrafficSeriesQuery& query) {
    using Series = std::optional<std::vector<TrafficPoint>>;
    return with_reader<Series>([&](Connection& reader, Fetched<Series>& result) {
        Transaction snapshot(reader);
        if (!snapshot.begin("BEGIN", result.error)) {
            return;
        }
        const auto device_key = device_key_of(reader, query.device_id, result.error);
        if (!device_key) {
            return;
        }
        const size_t buckets = bucket_count(query.from_ms, query.to_ms, query.step_ms);
        std::vector<TrafficPoint> points(buckets);
        for (size_t i = 0; i < buckets; ++i) {
            points[i].t_ms = query.from_ms + static_cast<int64_t>(i) * query.step_ms;
        }
        // Bytes and packets are the flows' and the overflow's, as the device detail's summary
        // counts them; packets a format does not count add nothing.
        Statement sums = reader.query(
            "WITH w AS (SELECT id, (time_ms - ?2) / ?4 AS bucket FROM messages "
            "           WHERE device_key = ?1 AND time_ms >= ?2 AND time_ms < ?3), "
            "f AS (SELECT w.bucket AS bucket, f.bytes_in AS bytes_in, f.bytes_out AS bytes_out, "
            "        coalesce(f.packets_in, 0) AS packets_in, "
            "        coalesce(f.packets_out, 0) AS packets_out, "
            "        vigil_flow_direction(f.remote_opened, f.protocol, f.local_port, "
            "                             f.remote_port) AS direction "
            "      FROM w JOIN flows f ON f.message_id = w.id) "
            "SELECT bucket, sum(bytes_in), sum(bytes_out), sum(packets_in), sum(packets_out), "
            "  sum(connections_in), sum(connections_out) FROM ("
            "  SELECT bucket, bytes_in, bytes_out, packets_in, packets_out, "
            "    direction = ?5 AS connections_in, direction = ?6 AS connections_out FROM f "
            "  UNION ALL "
            "  SELECT w.bucket, o.bytes_in, o.bytes_out, o.packets_in, o.packets_out, 0, 0 "
            "  FROM w JOIN flow_overflow o ON o.message_id = w.id) "
            "GROUP BY bucket",
            result.error, *device_key, query.from_ms, query.to_ms, query.step_ms,
            static_cast<int64_t>(FlowDirection::Inbound),
            static_cast<int64_t>(FlowDirection::Outbound));
        while (buckets > 0 && sums && sums.next_row("traffic series", result.error)) {
            TrafficPoint& point = points[bucket_index(sums.integer(0), buckets)];
            point.bytes_in += as_counter(sums.integer(1));
            point.bytes_out += as_counter(sums.integer(2));
            point.packets_in += as_counter(sums.integer(3));
            point.packets_out += as_counter(sums.integer(4));
            point.connections_in += as_counter(sums.integer(5));
            point.connections_out += as_counter(sums.integer(6));
        }
        if (result.error.empty()) {
            result.value = std::move(points);
        }
    });
}

}  // namespace vigil::hub::sqlite

// Alerts: raised (or raised again) by detection, acknowledged and resolved by people.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

Fetched<int64_t> SqliteStore::raise_alert(const AlertRaise& alert) {
    Fetched<int64_t> result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    upsert_alert(alert, result.value, result.error);
    return result;
}

bool SqliteStore::upsert_alert(const AlertRaise& alert, int64_t& id, std::string& error) {
    const auto device_key = known_device_key(writer_, alert.device_id, error);
    if (!device_key) {
        return false;
    }
    Statement raise = writer_.query(
        "INSERT INTO alerts (device_key, kind, subject, severity, state, "
        "first_seen_ms, last_seen_ms, count, details_json) "
        "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5, 1, ?6) "
        "ON CONFLICT (device_key, kind, subject) WHERE state <> 2 DO UPDATE SET "
        "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), count = count + 1, "
        "severity = max(severity, excluded.severity), "
        "details_json = excluded.details_json RETURNING id",
        error, *device_key, alert.kind, alert.subject, static_cast<int64_t>(alert.severity),
        alert.seen_ms, alert.details_json);
    if (!raise || !raise.only_row("raise alert", error)) {
        return false;
    }
    id = raise.integer(0);
    return raise.run("raise alert", error);
}

namespace {

Alert read_alert(const Statement& row) {
    Alert alert;
    alert.id = row.integer(0);
    alert.device_id = row.text(1);
    alert.kind = row.text(2);
    alert.subject = row.text(3);
    alert.severity = static_cast<Severity>(row.integer(4));
    alert.state = static_cast<AlertState>(row.integer(5));
    alert.first_seen_ms = row.integer(6);
    alert.last_seen_ms = row.integer(7);
    alert.count = as_counter(row.integer(8));
    alert.details_json = row.text(9);
    alert.changed_ms = row.integer(10);
    alert.changed_by = row.text(11);
    return alert;
}

}  // namespace

Fetched<std::vector<Alert>> SqliteStore::alerts(const AlertFilter& filter) {
    return with_reader<std::vector<Alert>>(
        [&](Connection& reader, Fetched<std::vector<Alert>>& result) {
            Statement list = reader.query(
                "SELECT a.id, d.id, a.kind, a.subject, a.severity, a.state, a.first_seen_ms, "
                "a.last_seen_ms, a.count, a.details_json, a.changed_ms, a.changed_by "
                "FROM alerts a JOIN devices d ON d.device_key = a.device_key "
                "WHERE (?1 IS NULL OR d.id = ?1) AND (?2 IS NULL OR a.kind = ?2) "
                "AND (?3 IS NULL OR a.state = ?3) AND (?4 IS NULL OR a.severity >= ?4) "
                "AND (?5 IS NULL OR a.last_seen_ms >= ?5) AND (?6 IS NULL OR a.id < ?6) "
                "ORDER BY a.id DESC LIMIT ?7",
                result.error, filter.device_id, filter.kind, filter.state, filter.min_severity,
                filter.seen_since_ms, filter.before_id, static_cast<int64_t>(filter.limit));
            while (list && list.next_row("alerts", result.error)) {
                result.value.push_back(read_alert(list));
            }
        });
}

Done SqliteStore::acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) {
    return change_alert(id, AlertState::Acknowledged, by, now_ms);
}

Done SqliteStore::resolve_alert(int64_t id, const std::string& by, int64_t now_ms) {
    return change_alert(id, AlertState::Resolved, by, now_ms);
}

// States only move forward (open, acknowledged, resolved): repeating a change is harmless.
Done SqliteStore::change_alert(int64_t id, AlertState target, const std::string& by,
                               int64_t now_ms) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    if (!writer_.run("write",
                     "UPDATE alerts SET state = ?2, changed_ms = ?3, changed_by = ?4 "
                     "WHERE id = ?1 AND state < ?2",
                     result.error, id, static_cast<int64_t>(target), now_ms, by) ||
        writer_.changes() != 0) {
        return result;
    }
    Statement exists = writer_.query("SELECT 1 FROM alerts WHERE id = ?1", result.error, id);
    if (!exists) {
        return result;
    }
    if (exists.step() != SQLITE_ROW) {
        result.error = "no alert " + std::to_string(id);
    }
    return result;
}

}  // namespace vigil::hub::sqlite

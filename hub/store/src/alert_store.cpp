// Alerts: raised (or raised again) and cleared by detection, acknowledged and resolved by people,
// and marked by the suppression that matched them when they opened.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

namespace {

#define VIGIL_ALERT_COLUMNS                                                                    \
    "a.id, d.id, a.type, a.category, a.subject, a.severity, a.state, a.title, a.description, " \
    "a.remediation, a.technique, a.first_observed_ms, a.last_observed_ms, a.raised_ms, "       \
    "a.last_raised_ms, a.count, a.evidence_json, a.changed_ms, a.changed_by, a.suppressed_by "

Alert read_alert(const Statement& row) {
    Alert alert;
    alert.id = row.integer(0);
    alert.device_id = row.text(1);
    alert.type = row.text(2);
    alert.category = static_cast<AlertCategory>(row.integer(3));
    alert.subject = row.text(4);
    alert.severity = static_cast<Severity>(row.integer(5));
    alert.state = static_cast<AlertState>(row.integer(6));
    alert.title = row.text(7);
    alert.description = row.text(8);
    alert.remediation = row.text(9);
    alert.technique = row.text(10);
    alert.first_observed_ms = row.integer(11);
    alert.last_observed_ms = row.integer(12);
    alert.raised_ms = row.integer(13);
    alert.last_raised_ms = row.integer(14);
    alert.count = as_counter(row.integer(15));
    alert.evidence_json = row.text(16);
    alert.changed_ms = row.integer(17);
    alert.changed_by = row.text(18);
    alert.suppressed_by = row.integer(19);
    return alert;
}

/// The alert with that id as it is now; nullopt when there is none (error set when the read
/// failed).
std::optional<Alert> find_alert(Connection& connection, int64_t id, std::string& error) {
    Statement found = connection.query(
        "SELECT " VIGIL_ALERT_COLUMNS
        "FROM alerts a JOIN devices d ON d.device_key = a.device_key WHERE a.id = ?1",
        error, id);
    if (found && found.next_row("alert", error)) {
        return read_alert(found);
    }
    return std::nullopt;
}

/// The alert that a write just changed, which must be there.
bool read_changed_alert(Connection& connection, int64_t id, Alert& alert, std::string& error) {
    std::optional<Alert> found = find_alert(connection, id, error);
    if (!found) {
        error = error.empty() ? "alert " + std::to_string(id) + " vanished" : error;
        return false;
    }
    alert = std::move(*found);
    return true;
}

// The first unexpired suppression (oldest first) that covers a new alert: its device or the
// device's group (or every device), its type (or every type), and its subject by GLOB.
std::optional<int64_t> matching_suppression(Connection& connection, const AlertRaise& alert,
                                            std::string& error) {
    Statement match = connection.query(
        "SELECT s.id FROM suppressions s "
        "WHERE (s.expires_ms IS NULL OR s.expires_ms > ?4) "
        "AND (s.type = '' OR s.type = ?2) AND ?3 GLOB s.subject_pattern "
        "AND ((s.device_id = '' AND s.group_name = '') OR s.device_id = ?1 "
        "OR (s.group_name <> '' AND s.group_name = "
        "(SELECT group_name FROM device_groups WHERE device_id = ?1))) "
        "ORDER BY s.id LIMIT 1",
        error, alert.device_id, alert.type, alert.subject, alert.raised_ms);
    if (match && match.next_row("match suppressions", error)) {
        return match.integer(0);
    }
    return std::nullopt;
}

}  // namespace

Fetched<AlertEvent> SqliteStore::raise_alert(const AlertRaise& alert) {
    Fetched<AlertEvent> result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error) ||
        !upsert_alert(alert, result.value, result.error)) {
        return result;
    }
    transaction.commit(result.error);
    return result;
}

bool SqliteStore::upsert_alert(const AlertRaise& alert, AlertEvent& event, std::string& error) {
    const auto device_key = known_device_key(writer_, alert.device_id, error);
    if (!device_key) {
        return false;
    }
    Statement raise = writer_.query(
        "INSERT INTO alerts (device_key, type, category, subject, severity, state, title, "
        "description, remediation, technique, first_observed_ms, last_observed_ms, raised_ms, "
        "last_raised_ms, count, evidence_json) "
        "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, 1, ?13) "
        "ON CONFLICT (device_key, type, subject) WHERE state <> 2 DO UPDATE SET "
        "count = count + 1, "
        "first_observed_ms = min(first_observed_ms, excluded.first_observed_ms), "
        "last_observed_ms = max(last_observed_ms, excluded.last_observed_ms), "
        "last_raised_ms = excluded.last_raised_ms, severity = max(severity, excluded.severity), "
        "description = excluded.description, evidence_json = excluded.evidence_json "
        "RETURNING id, count",
        error, *device_key, alert.type, static_cast<int64_t>(alert.category), alert.subject,
        static_cast<int64_t>(alert.severity), alert.title, alert.description, alert.remediation,
        alert.technique, alert.first_observed_ms, alert.last_observed_ms, alert.raised_ms,
        alert.evidence_json);
    if (!raise || !raise.only_row("raise alert", error)) {
        return false;
    }
    const int64_t id = raise.integer(0);
    const bool opened = raise.integer(1) == 1;
    if (!raise.run("raise alert", error)) {
        return false;
    }
    if (opened && !suppress_if_matched(id, alert, error)) {
        return false;
    }
    event.change = opened ? AlertChange::Opened : AlertChange::Repeated;
    return read_changed_alert(writer_, id, event.alert, error);
}

// Only a new alert is matched: one already open keeps what it was given when it opened.
bool SqliteStore::suppress_if_matched(int64_t alert_id, const AlertRaise& alert,
                                      std::string& error) {
    const std::optional<int64_t> suppression = matching_suppression(writer_, alert, error);
    if (!suppression) {
        return error.empty();
    }
    return writer_.run("suppress alert", "UPDATE alerts SET suppressed_by = ?2 WHERE id = ?1",
                       error, alert_id, *suppression) &&
           writer_.run("count suppressed",
                       "UPDATE suppressions SET suppressed = suppressed + 1 WHERE id = ?1", error,
                       *suppression);
}

Fetched<std::optional<AlertEvent>> SqliteStore::clear_alert(const AlertClear& clear) {
    Fetched<std::optional<AlertEvent>> result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error) ||
        !resolve_cleared(clear, result.value, result.error)) {
        return result;
    }
    transaction.commit(result.error);
    return result;
}

bool SqliteStore::resolve_cleared(const AlertClear& clear, std::optional<AlertEvent>& event,
                                  std::string& error) {
    event.reset();
    Statement resolve = writer_.query(
        "UPDATE alerts SET state = 2, changed_ms = ?4, changed_by = 'detection' "
        "WHERE device_key = (SELECT device_key FROM devices WHERE id = ?1) AND type = ?2 "
        "AND subject = ?3 AND state <> 2 RETURNING id",
        error, clear.device_id, clear.type, clear.subject, clear.cleared_ms);
    if (!resolve) {
        return false;
    }
    std::optional<int64_t> id;
    while (resolve.next_row("clear alert", error)) {
        id = resolve.integer(0);
    }
    if (!error.empty()) {
        return false;
    }
    if (!id) {
        return true;
    }
    event.emplace();
    event->change = AlertChange::Resolved;
    return read_changed_alert(writer_, *id, event->alert, error);
}

Fetched<std::vector<Alert>> SqliteStore::alerts(const AlertFilter& filter) {
    return with_reader<std::vector<Alert>>([&](Connection& reader,
                                               Fetched<std::vector<Alert>>& result) {
        Statement list =
            reader.query("SELECT " VIGIL_ALERT_COLUMNS
                         "FROM alerts a JOIN devices d ON d.device_key = a.device_key "
                         "WHERE (?1 IS NULL OR d.id = ?1) "
                         "AND (?2 IS NULL OR d.id IN "
                         "(SELECT device_id FROM device_groups WHERE group_name = ?2)) "
                         "AND (?3 IS NULL OR a.type = ?3) AND (?4 IS NULL OR a.category = ?4) "
                         "AND (?5 IS NULL OR a.state = ?5) AND (?6 IS NULL OR a.severity >= ?6) "
                         "AND (?7 IS NULL OR a.last_observed_ms >= ?7) "
                         "AND (?8 IS NULL OR a.first_observed_ms <= ?8) "
                         "AND (?9 OR a.suppressed_by = 0) AND (?10 IS NULL OR a.id < ?10) "
                         "ORDER BY a.id DESC LIMIT ?11",
                         result.error, filter.device_id, filter.group, filter.type, filter.category,
                         filter.state, filter.min_severity, filter.observed_since_ms,
                         filter.observed_until_ms, static_cast<int64_t>(filter.include_suppressed),
                         filter.before_id, static_cast<int64_t>(filter.limit));
        while (list && list.next_row("alerts", result.error)) {
            result.value.push_back(read_alert(list));
        }
    });
}

Fetched<std::optional<Alert>> SqliteStore::alert(int64_t id) {
    return with_reader<std::optional<Alert>>(
        [&](Connection& reader, Fetched<std::optional<Alert>>& result) {
            result.value = find_alert(reader, id, result.error);
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

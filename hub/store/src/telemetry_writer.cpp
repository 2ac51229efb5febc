// Ingest's writes: a batch of reports, deduplicated by message key, with the telemetry each
// carries and what detection made of the new ones, in one transaction.
#include <algorithm>

#include "sqlite_store_impl.hpp"

#include "vigil/hub/report_json.hpp"
#include "window_flows.hpp"

namespace vigil::hub::sqlite {

namespace {

// The hub's clock at the batch: the latest receive time among the reports detection saw.
int64_t latest_received_ms(const std::vector<const Report*>& fresh) {
    int64_t latest = 0;
    for (const Report* report : fresh) {
        latest = std::max(latest, report->received_ms);
    }
    return latest;
}

}  // namespace

WriteResult SqliteStore::commit_batch(const std::vector<Report>& reports,
                                      const DetectionStep& detect) {
    WriteResult result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    RowDeltas deltas;
    std::vector<const Report*> fresh;
    fresh.reserve(reports.size());
    for (size_t i = 0; i < reports.size(); ++i) {
        bool duplicate = false;
        if (!write_report(reports[i], duplicate, deltas, result.device_events, result.error)) {
            result.error = "report " + std::to_string(i) + " (device '" + reports[i].device_id +
                           "', message '" + reports[i].message_key + "'): " + result.error;
            return WriteResult{false, 0, 0, {}, {}, {}, result.error};
        }
        if (!duplicate) {
            fresh.push_back(&reports[i]);
        }
    }
    if (detect && !fresh.empty() && !apply_detection(detect, fresh, result)) {
        return WriteResult{false, 0, 0, {}, {}, {}, result.error};
    }
    if (!add_row_counts(writer_, deltas, result.error) || !transaction.commit(result.error)) {
        return WriteResult{false, 0, 0, {}, {}, {}, result.error};
    }
    result.stored = fresh.size();
    result.duplicates = reports.size() - fresh.size();
    result.ok = true;
    return result;
}

// Inside commit_batch()'s transaction: what detection made of the new reports is written with
// them, or the whole batch is rolled back.
bool SqliteStore::apply_detection(const DetectionStep& detect,
                                  const std::vector<const Report*>& fresh, WriteResult& result) {
    const Fetched<DetectionEffects> effects = detect(fresh);
    if (!effects.ok()) {
        result.error = "detection: " + effects.error;
        return false;
    }
    const int64_t now_ms = latest_received_ms(fresh);
    for (const DetectionStateChange& change : effects.value.states) {
        if (!upsert_detection_state(change.device_id, change.state, now_ms, result.error)) {
            result.error = "detection state of '" + change.device_id + "': " + result.error;
            return false;
        }
    }
    for (const AlertRaise& alert : effects.value.alerts) {
        AlertEvent event;
        if (!upsert_alert(alert, event, result.error)) {
            result.error = "alert " + alert.type + " of '" + alert.device_id + "': " + result.error;
            return false;
        }
        result.alert_events.push_back(std::move(event));
    }
    for (const AlertClear& clear : effects.value.clears) {
        std::optional<AlertEvent> event;
        if (!resolve_cleared(clear, event, result.error)) {
            result.error =
                "clearing alert " + clear.type + " of '" + clear.device_id + "': " + result.error;
            return false;
        }
        if (event) {
            result.alert_events.push_back(std::move(*event));
        }
    }
    return apply_scans(effects.value.recommendation_scans, result.recommendation_events,
                       result.error);
}

bool SqliteStore::write_report(const Report& report, bool& duplicate, RowDeltas& deltas,
                               std::vector<DeviceEvent>& events, std::string& error) {
    int64_t device_key = 0;
    bool first_report = false;
    if (!find_or_add_device(report, device_key, first_report, error)) {
        return false;
    }
    if (!writer_.run(
            "write",
            "INSERT INTO messages (device_key, message_key, received_ms, device_time_ms, "
            "time_ms, window_duration_ms, format, payload_bytes) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
            "ON CONFLICT (device_key, message_key) DO NOTHING",
            error, device_key, report.message_key, report.received_ms, report.device_time_ms,
            report.device_time_ms != 0 ? report.device_time_ms : report.received_ms,
            static_cast<int64_t>(report.window_duration_ms), static_cast<int64_t>(report.format),
            static_cast<int64_t>(report.payload_bytes))) {
        return false;
    }
    duplicate = writer_.changes() == 0;
    if (duplicate) {
        return true;
    }
    const int64_t message_id = writer_.last_insert_rowid();
    ++deltas.messages;
    if (first_report) {
        events.push_back({report.device_id, DeviceChange::FirstReport, report.received_ms});
    }
    // The latest message decides format and agent version; a late redelivery does not. A device
    // enrolled before it reported has no times yet (NULL): its first message sets them.
    return writer_.run(
               "write",
               "UPDATE devices SET messages = messages + 1, "
               "first_seen_ms = min(coalesce(first_seen_ms, ?2), ?2), "
               "last_seen_ms = max(coalesce(last_seen_ms, ?2), ?2), "
               "format = CASE WHEN ?2 >= coalesce(last_seen_ms, ?2) THEN ?3 ELSE format END, "
               "agent_version = CASE WHEN ?4 <> '' AND ?2 >= coalesce(last_seen_ms, ?2) "
               "THEN ?4 ELSE agent_version END WHERE device_key = ?1",
               error, device_key, report.received_ms, static_cast<int64_t>(report.format),
               report.agent_version) &&
           write_flows(report, message_id, deltas, error) &&
           write_interface_totals(report, message_id, deltas, error) &&
           write_latest(report, device_key, message_id, deltas, events, error);
}

bool SqliteStore::find_or_add_device(const Report& report, int64_t& device_key, bool& first_report,
                                     std::string& error) {
    // A device enrolled before it reported has a row, never seen.
    Statement find =
        writer_.query("SELECT device_key, first_seen_ms IS NULL FROM devices WHERE id = ?1", error,
                      report.device_id);
    if (find && find.next_row("find device", error)) {
        device_key = find.integer(0);
        first_report = find.integer(1) != 0;
        return true;
    }
    first_report = true;
    if (!error.empty() ||
        !writer_.run("write",
                     "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms) "
                     "VALUES (?1, ?2, ?3, ?3)",
                     error, report.device_id, static_cast<int64_t>(report.format),
                     report.received_ms)) {
        return false;
    }
    device_key = writer_.last_insert_rowid();
    return true;
}

bool SqliteStore::write_flows(const Report& report, int64_t message_id, RowDeltas& deltas,
                              std::string& error) {
    if (!report.flows.empty()) {
        const WindowFlowsText text = encode_window_flows(report.flows, flows_json_, window_locals_);
        Statement flows = writer_.query(
            "INSERT INTO window_flows (message_id, flows, locals) VALUES (?1, ?2, ?3)", error,
            message_id);
        if (!flows) {
            return false;
        }
        flows.bind_text(2, flows_json_.data() + text.locals_end, text.flows_end - text.locals_end);
        flows.bind_text(3, flows_json_.data(), text.locals_end);
        if (!flows.run("write", error)) {
            return false;
        }
        deltas.flows += static_cast<int64_t>(report.flows.size());
    }
    int64_t seq = 0;
    Statement overflow = writer_.statement(
        "INSERT INTO flow_overflow (message_id, seq, family, protocol, bytes_in, "
        "bytes_out, packets_in, packets_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        error);
    if (!overflow) {
        return false;
    }
    seq = 0;
    for (const Overflow& record : report.overflow) {
        overflow.bind_all(message_id, seq++, static_cast<int64_t>(record.family),
                          static_cast<int64_t>(record.protocol), as_integer(record.bytes_in),
                          as_integer(record.bytes_out), as_integer(record.packets_in),
                          as_integer(record.packets_out));
        if (!overflow.run("write", error)) {
            return false;
        }
        overflow.reset();
    }
    deltas.overflow += seq;
    return true;
}

bool SqliteStore::write_interface_totals(const Report& report, int64_t message_id,
                                         RowDeltas& deltas, std::string& error) {
    if (!report.interface_totals) {
        return true;
    }
    const InterfaceTotals& totals = *report.interface_totals;
    if (!writer_.run("write",
                     "INSERT INTO interface_totals (message_id, bytes_in, bytes_out, packets_in, "
                     "packets_out) VALUES (?1, ?2, ?3, ?4, ?5)",
                     error, message_id, as_integer(totals.bytes_in), as_integer(totals.bytes_out),
                     as_integer(totals.packets_in), as_integer(totals.packets_out))) {
        return false;
    }
    ++deltas.interface_totals;
    return true;
}

// The latest system info, ports and status by receive time are kept a part per row, so the API
// reads them at once and no message copies them; the history of ports and heartbeats is kept in
// their own tables until retention.
bool SqliteStore::write_latest(const Report& report, int64_t device_key, int64_t message_id,
                               RowDeltas& deltas, std::vector<DeviceEvent>& events,
                               std::string& error) {
    bool newest = false;
    if (report.system &&
        !write_latest_part(device_key, LatestPart::System, to_json_text(*report.system),
                           report.received_ms, newest, error)) {
        return false;
    }
    if (report.listening_ports) {
        const std::string ports = to_json_text(*report.listening_ports);
        if (!writer_.run("write",
                         "INSERT INTO port_snapshots (message_id, ports_json) VALUES (?1, ?2)",
                         error, message_id, ports) ||
            !write_latest_part(device_key, LatestPart::Ports, ports, report.received_ms, newest,
                               error)) {
            return false;
        }
        ++deltas.port_snapshots;
    }
    if (report.status) {
        if (!write_heartbeat(report, device_key, message_id, events, error)) {
            return false;
        }
        ++deltas.heartbeats;
    }
    return true;
}

// A redelivered older part leaves a newer one in place (newest false).
bool SqliteStore::write_latest_part(int64_t device_key, LatestPart part, const std::string& body,
                                    int64_t received_ms, bool& newest, std::string& error) {
    if (!writer_.run("write",
                     "INSERT INTO device_latest (device_key, part, body_json, received_ms) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_key, part) DO UPDATE SET "
                     "body_json = excluded.body_json, received_ms = excluded.received_ms "
                     "WHERE received_ms <= excluded.received_ms",
                     error, device_key, static_cast<int64_t>(part), body, received_ms)) {
        return false;
    }
    newest = writer_.changes() != 0;
    return true;
}

bool SqliteStore::write_heartbeat(const Report& report, int64_t device_key, int64_t message_id,
                                  std::vector<DeviceEvent>& events, std::string& error) {
    const AgentStatus& status = *report.status;
    if (!writer_.run("write",
                     "INSERT INTO heartbeats (message_id, state, config_version, packets_seen, "
                     "packets_unparsed, packets_ignored, overflow_packets, messages_sent, "
                     "send_failures, messages_dropped, backlog_messages, backlog_bytes, "
                     "rejected_config_version, rejected_config_reason) VALUES "
                     "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                     error, message_id, status.state, static_cast<int64_t>(status.config_version),
                     as_integer(status.packets_seen), as_integer(status.packets_unparsed),
                     as_integer(status.packets_ignored), as_integer(status.overflow_packets),
                     as_integer(status.messages_sent), as_integer(status.send_failures),
                     as_integer(status.messages_dropped),
                     static_cast<int64_t>(status.backlog_messages),
                     static_cast<int64_t>(status.backlog_bytes), status.rejected_config_version,
                     status.rejected_config_reason)) {
        return false;
    }
    bool newest = false;
    if (!write_latest_part(device_key, LatestPart::Status, to_json_text(status), report.received_ms,
                           newest, error)) {
        return false;
    }
    if (!newest) {
        return true;
    }
    // The latest heartbeat names a config version the device did not run before: it applied one
    // (version 0 is the agent's own defaults, no config of the hub's).
    if (!writer_.run("write",
                     "UPDATE devices SET applied_config_version = ?2 WHERE device_key = ?1 "
                     "AND applied_config_version IS NOT ?2",
                     error, device_key, static_cast<int64_t>(status.config_version))) {
        return false;
    }
    if (writer_.changes() != 0 && status.config_version != 0) {
        events.push_back({report.device_id, DeviceChange::ConfigApplied, report.received_ms});
    }
    return writer_.run("write",
                       "UPDATE devices SET state = ?2 WHERE device_key = ?1 AND state IS NOT ?2",
                       error, device_key, status.state);
}

}  // namespace vigil::hub::sqlite

#include "vigil/hub/sqlite/schema.hpp"

namespace vigil::hub::sqlite {

namespace {

// Counters, flags and times are INTEGER (times in ms since the epoch, hub clock unless the name
// says device). Enumerations are stored as the numeric values of their C++ enums: Format, Protocol,
// Enrolment, Severity, AlertState, RecommendationState, ConfigScope. A message carries received_ms
// (the hub's clock, which only moves forward) for retention, and time_ms (the device's window
// time when it gave one, else received_ms) for queries.
constexpr const char* kMigration1 = R"sql(
PRAGMA application_id = 1449748332;

CREATE TABLE devices (
    device_key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    format INTEGER NOT NULL,                -- of the latest message
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    agent_version TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',         -- the agent's, from its latest heartbeat
    enrolment INTEGER NOT NULL DEFAULT 0,   -- the operator's decision
    applied_config_version INTEGER,
    desired_config_version INTEGER,
    messages INTEGER NOT NULL DEFAULT 0,
    system_json TEXT,                       -- latest SystemInfo
    system_received_ms INTEGER,
    ports_json TEXT,                        -- latest listening ports, kept past retention
    ports_received_ms INTEGER,
    status_json TEXT,                       -- latest AgentStatus
    status_received_ms INTEGER
) STRICT;
CREATE INDEX devices_last_seen ON devices (last_seen_ms);

-- One row per stored message: the dedupe key of at-least-once ingest, and the window that its
-- telemetry (flows, overflow, interface totals, ports, heartbeat) belongs to. Telemetry rows are
-- keyed by their message, so they are appended in ingest order and go with it (retention).
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    device_key INTEGER NOT NULL REFERENCES devices ON DELETE CASCADE,
    message_key TEXT NOT NULL CHECK (length(message_key) > 0),
    received_ms INTEGER NOT NULL,
    device_time_ms INTEGER NOT NULL,        -- 0 unknown
    time_ms INTEGER NOT NULL,
    window_duration_ms INTEGER NOT NULL,    -- 0 unknown
    format INTEGER NOT NULL,
    payload_bytes INTEGER NOT NULL,
    UNIQUE (device_key, message_key)
) STRICT;
CREATE INDEX messages_device_time ON messages (device_key, time_ms);

CREATE TABLE flows (
    message_id INTEGER NOT NULL REFERENCES messages ON DELETE CASCADE,
    seq INTEGER NOT NULL,                   -- the flow's place in its window
    local TEXT NOT NULL,
    remote TEXT NOT NULL,
    protocol INTEGER NOT NULL,
    local_port INTEGER NOT NULL,            -- ICMP: the type
    remote_port INTEGER NOT NULL,           -- ICMP: the code
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    packets_in INTEGER,                     -- NULL: the format does not count packets
    packets_out INTEGER,
    remote_opened INTEGER,                  -- NULL: unknown
    handshake TEXT NOT NULL,
    local_interface TEXT NOT NULL,          -- "" when the format does not name it
    PRIMARY KEY (message_id, seq)
) STRICT, WITHOUT ROWID;

-- Traffic the agent could not itemise, per window, family and protocol.
CREATE TABLE flow_overflow (
    message_id INTEGER NOT NULL REFERENCES messages ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    family INTEGER NOT NULL,
    protocol INTEGER NOT NULL,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    packets_in INTEGER NOT NULL,
    packets_out INTEGER NOT NULL,
    PRIMARY KEY (message_id, seq)
) STRICT, WITHOUT ROWID;

-- What all of a device's interfaces carried since its previous report (AWS network_stats).
CREATE TABLE interface_totals (
    message_id INTEGER PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    bytes_in INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    packets_in INTEGER NOT NULL,
    packets_out INTEGER NOT NULL
) STRICT;

CREATE TABLE port_snapshots (
    message_id INTEGER PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    ports_json TEXT NOT NULL  -- [{"protocol":"tcp","port":22,"address":"","interface":""}]
) STRICT;

CREATE TABLE heartbeats (
    message_id INTEGER PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    state TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    packets_seen INTEGER NOT NULL,
    packets_unparsed INTEGER NOT NULL,
    packets_ignored INTEGER NOT NULL,
    overflow_packets INTEGER NOT NULL,
    messages_sent INTEGER NOT NULL,
    send_failures INTEGER NOT NULL,
    messages_dropped INTEGER NOT NULL,
    backlog_messages INTEGER NOT NULL,
    backlog_bytes INTEGER NOT NULL,
    rejected_config_version INTEGER,
    rejected_config_reason TEXT NOT NULL
) STRICT;

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    device_key INTEGER NOT NULL REFERENCES devices ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity INTEGER NOT NULL,
    state INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    details_json TEXT NOT NULL CHECK (json_valid(details_json)),
    changed_ms INTEGER NOT NULL DEFAULT 0,
    changed_by TEXT NOT NULL DEFAULT ''
) STRICT;
-- At most one alert per device, kind and subject is not yet resolved: raising it again updates it.
CREATE UNIQUE INDEX alerts_unresolved ON alerts (device_key, kind, subject) WHERE state <> 2;

CREATE TABLE recommendations (
    device_key INTEGER NOT NULL REFERENCES devices ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state INTEGER NOT NULL,
    details_json TEXT NOT NULL CHECK (json_valid(details_json)),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (device_key, kind)
) STRICT, WITHOUT ROWID;

CREATE TABLE desired_configs (
    scope INTEGER NOT NULL,
    target TEXT NOT NULL,                   -- device id or group name
    version INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, target)
) STRICT, WITHOUT ROWID;

CREATE TABLE detection_state (
    device_key INTEGER PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
    state BLOB NOT NULL,                    -- opaque to the store
    updated_ms INTEGER NOT NULL
) STRICT;
)sql";

// Row counts of the large tables, kept up to date by the writes, so /metrics never counts
// millions of rows. Seeded from what version 1 holds.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE row_counts (
    name TEXT PRIMARY KEY,
    rows INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO row_counts (name, rows)
    SELECT 'messages', count(*) FROM messages
    UNION ALL SELECT 'flows', count(*) FROM flows
    UNION ALL SELECT 'flow_overflow', count(*) FROM flow_overflow
    UNION ALL SELECT 'interface_totals', count(*) FROM interface_totals
    UNION ALL SELECT 'port_snapshots', count(*) FROM port_snapshots
    UNION ALL SELECT 'heartbeats', count(*) FROM heartbeats;
)sql";

// Device groups, by device id rather than device_key: an operator may group a device that has
// not reported yet (its devices row appears with its first message).
constexpr const char* kMigration3 = R"sql(
CREATE TABLE device_groups (
    device_id TEXT PRIMARY KEY CHECK (length(device_id) > 0),
    group_name TEXT NOT NULL CHECK (length(group_name) > 0)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_groups_group ON device_groups (group_name, device_id);
)sql";

// A window's flows in one row instead of one row each: ingest writes a report of 20 flows with
// one insert instead of 20, which was most of its cost. The flows are a JSON array of arrays
// [local, remote, protocol, local_port, remote_port, bytes_in, bytes_out, packets_in,
// packets_out, remote_opened, handshake, local_interface], the flow's place in its window being
// its index; the view "flows" gives them back as the rows of version 3, so every query reads
// them as before.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE window_flows (
    message_id INTEGER PRIMARY KEY REFERENCES messages ON DELETE CASCADE,
    flows TEXT NOT NULL
) STRICT;
-- The subquery's order (the table's key order) is the aggregate's: an aggregate query does not
-- flatten an ordered subquery.
INSERT INTO window_flows (message_id, flows)
    SELECT message_id, json_group_array(json_array(local, remote, protocol, local_port,
        remote_port, bytes_in, bytes_out, packets_in, packets_out, remote_opened, handshake,
        local_interface))
    FROM (SELECT * FROM flows ORDER BY message_id, seq) GROUP BY message_id;
DROP TABLE flows;
CREATE VIEW flows (message_id, seq, local, remote, protocol, local_port, remote_port, bytes_in,
                   bytes_out, packets_in, packets_out, remote_opened, handshake, local_interface)
AS SELECT w.message_id, f.key, f.value ->> 0, f.value ->> 1, f.value ->> 2, f.value ->> 3,
          f.value ->> 4, f.value ->> 5, f.value ->> 6, f.value ->> 7, f.value ->> 8,
          f.value ->> 9, f.value ->> 10, f.value ->> 11
   FROM window_flows w, json_each(w.flows) f;
)sql";

// A device can be enrolled before it reports: its row then has no format and no first or last
// seen time until its first message, so those columns take NULL. SQLite cannot drop a NOT NULL
// constraint in place, and rebuilding the table is not possible inside this transaction: with
// foreign keys on, dropping the old table would delete every message, alert and recommendation
// through their ON DELETE CASCADE. So each column is replaced by a nullable copy (which moves it
// to the end of the row; every query names its columns).
constexpr const char* kMigration5 = R"sql(
DROP INDEX devices_last_seen;
ALTER TABLE devices RENAME COLUMN format TO format_v4;
ALTER TABLE devices RENAME COLUMN first_seen_ms TO first_seen_ms_v4;
ALTER TABLE devices RENAME COLUMN last_seen_ms TO last_seen_ms_v4;
ALTER TABLE devices ADD COLUMN format INTEGER;          -- of the latest message; NULL: none yet
ALTER TABLE devices ADD COLUMN first_seen_ms INTEGER;   -- NULL: never seen
ALTER TABLE devices ADD COLUMN last_seen_ms INTEGER;
UPDATE devices SET format = format_v4, first_seen_ms = first_seen_ms_v4,
                   last_seen_ms = last_seen_ms_v4;
ALTER TABLE devices DROP COLUMN format_v4;
ALTER TABLE devices DROP COLUMN first_seen_ms_v4;
ALTER TABLE devices DROP COLUMN last_seen_ms_v4;
CREATE INDEX devices_last_seen ON devices (last_seen_ms);
)sql";

// Alerts as detection now explains them: a type (the kind renamed) and category, words for
// people, the evidence (the details renamed), and two clocks: observed times are the device's,
// raised times the hub's. Older alerts knew one time per end, which becomes both. Suppressions
// keep chosen alerts from the outputs; an alert they matched names one in suppressed_by (0 none;
// the number stays when the suppression is removed). Renaming a column updates the unresolved
// index and the JSON check with it.
constexpr const char* kMigration6 = R"sql(
ALTER TABLE alerts RENAME COLUMN kind TO type;
ALTER TABLE alerts RENAME COLUMN details_json TO evidence_json;
ALTER TABLE alerts RENAME COLUMN first_seen_ms TO first_observed_ms;   -- device time
ALTER TABLE alerts RENAME COLUMN last_seen_ms TO last_observed_ms;
ALTER TABLE alerts ADD COLUMN category INTEGER NOT NULL DEFAULT 10;   -- AlertCategory::Threshold
ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN remediation TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN technique TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN raised_ms INTEGER NOT NULL DEFAULT 0;       -- hub time
ALTER TABLE alerts ADD COLUMN last_raised_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN suppressed_by INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET title = type, raised_ms = first_observed_ms, last_raised_ms = last_observed_ms;

CREATE TABLE suppressions (
    id INTEGER PRIMARY KEY,
    source INTEGER NOT NULL,                -- SuppressionSource
    name TEXT NOT NULL CHECK (length(name) > 0),
    device_id TEXT NOT NULL,                -- '' any device (of the group, when one is named)
    group_name TEXT NOT NULL,               -- '' any group
    type TEXT NOT NULL,                     -- '' every type
    subject_pattern TEXT NOT NULL,          -- GLOB over the alert's subject
    expires_ms INTEGER,                     -- hub time; NULL until removed
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,  -- alerts it has suppressed
    UNIQUE (source, name)
) STRICT;
)sql";

// Recommendations as the hygiene checks make them: one per device, kind and subject (its own id,
// so the API and people can name it), words for people, the evidence and the key a dismissal
// holds to, and two clocks as alerts have (observed times the device's, the others the hub's).
// Version 6 kept one per device and kind: each becomes the row of subject '', its details the
// evidence, "done" closed (state 2 both), its creation and update times both clocks'.
constexpr const char* kMigration7 = R"sql(
ALTER TABLE recommendations RENAME TO recommendations_v6;
CREATE TABLE recommendations (
    id INTEGER PRIMARY KEY,
    device_key INTEGER NOT NULL REFERENCES devices ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (length(kind) > 0),
    subject TEXT NOT NULL,
    state INTEGER NOT NULL,                 -- RecommendationState
    severity INTEGER NOT NULL,
    title TEXT NOT NULL,
    rationale TEXT NOT NULL,
    remediation TEXT NOT NULL,
    evidence_json TEXT NOT NULL CHECK (json_valid(evidence_json)),
    evidence_key TEXT NOT NULL,
    first_observed_ms INTEGER NOT NULL,     -- device time
    last_observed_ms INTEGER NOT NULL,
    opened_ms INTEGER NOT NULL,             -- hub time
    updated_ms INTEGER NOT NULL,
    closed_ms INTEGER NOT NULL DEFAULT 0,   -- 0 unless closed
    dismissed_reason TEXT NOT NULL DEFAULT '',
    dismissed_by TEXT NOT NULL DEFAULT '',
    dismissed_ms INTEGER NOT NULL DEFAULT 0,
    dismissed_key TEXT NOT NULL DEFAULT '',
    UNIQUE (device_key, kind, subject)
) STRICT;
CREATE INDEX recommendations_kind_state ON recommendations (kind, state);
INSERT INTO recommendations (device_key, kind, subject, state, severity, title, rationale,
                             remediation, evidence_json, evidence_key, first_observed_ms,
                             last_observed_ms, opened_ms, updated_ms, closed_ms, dismissed_ms)
    SELECT device_key, kind, '', state, 2, kind, '', '', details_json, '', created_ms,
           updated_ms, created_ms, updated_ms, CASE state WHEN 2 THEN updated_ms ELSE 0 END,
           CASE state WHEN 1 THEN updated_ms ELSE 0 END
    FROM recommendations_v6 ORDER BY device_key, kind;
DROP TABLE recommendations_v6;
)sql";

// The latest system information, listening ports and agent status of a device, a row per part.
// They were columns of the device row, which every message rewrites (its count and seen times),
// so each message copied the device's system information, most of the row, for nothing.
constexpr const char* kMigration8 = R"sql(
CREATE TABLE device_latest (
    device_key INTEGER NOT NULL REFERENCES devices ON DELETE CASCADE,
    part INTEGER NOT NULL CHECK (part BETWEEN 0 AND 2),  -- LatestPart
    body_json TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (device_key, part)
) STRICT;
INSERT INTO device_latest (device_key, part, body_json, received_ms)
    SELECT device_key, 0, system_json, system_received_ms FROM devices
    WHERE system_json IS NOT NULL
    UNION ALL
    SELECT device_key, 1, ports_json, ports_received_ms FROM devices WHERE ports_json IS NOT NULL
    UNION ALL
    SELECT device_key, 2, status_json, status_received_ms FROM devices
    WHERE status_json IS NOT NULL;
ALTER TABLE devices DROP COLUMN system_json;
ALTER TABLE devices DROP COLUMN system_received_ms;
ALTER TABLE devices DROP COLUMN ports_json;
ALTER TABLE devices DROP COLUMN ports_received_ms;
ALTER TABLE devices DROP COLUMN status_json;
ALTER TABLE devices DROP COLUMN status_received_ms;
)sql";

// A window's local ends (address and interface) once each instead of in every flow, and a
// handshake the decoders name as its code (0 completed, 1 unanswered, 2 refused, 3 reset; any
// other stays text): most of a window's flows share one local end and have a handshake, and the
// text written for each message is most of what ingest costs the store (its write-ahead log and
// checkpoints). Rows written before keep their form (locals NULL, each flow naming its local end,
// handshakes as words); the view reads both.
constexpr const char* kMigration9 = R"sql(
ALTER TABLE window_flows ADD COLUMN locals TEXT;  -- [[address, interface], ...]; NULL: old form
DROP VIEW flows;
CREATE VIEW flows (message_id, seq, local, remote, protocol, local_port, remote_port, bytes_in,
                   bytes_out, packets_in, packets_out, remote_opened, handshake, local_interface)
AS SELECT w.message_id, f.key,
          CASE WHEN w.locals IS NULL THEN f.value ->> 0
               ELSE w.locals -> (f.value ->> 0) ->> 0 END,
          f.value ->> 1, f.value ->> 2, f.value ->> 3, f.value ->> 4, f.value ->> 5,
          f.value ->> 6, f.value ->> 7, f.value ->> 8, f.value ->> 9,
          CASE WHEN json_type(f.value, '$[10]') = 'integer'
               THEN CASE f.value ->> 10 WHEN 0 THEN 'completed' WHEN 1 THEN 'unanswered'
                                        WHEN 2 THEN 'refused' WHEN 3 THEN 'reset' END
               ELSE f.value ->> 10 END,
          CASE WHEN w.locals IS NULL THEN f.value ->> 11
               ELSE w.locals -> (f.value ->> 0) ->> 1 END
   FROM window_flows w, json_each(w.flows) f;
)sql";

constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3,
                                       kMigration4, kMigration5, kMigration6,
                                       kMigration7, kMigration8, kMigration9};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion);

int read_integer_pragma(Connection& connection, const char* sql, std::string& error) {
    sqlite3_stmt* prepared = connection.prepare(sql, error);
    if (!prepared) {
        return -1;
    }
    Statement statement(prepared);
    if (statement.step() != SQLITE_ROW) {
        error = connection.describe(sql);
        return -1;
    }
    return static_cast<int>(statement.integer(0));
}

// Checked inside the migration's write transaction, so two hubs opening a new file at once agree.
bool check_is_ours(Connection& connection, int version, std::string& error) {
    if (version > kSchemaVersion) {
        error = "the database has schema version " + std::to_string(version) +
                ", newer than this vigil-hub knows (" + std::to_string(kSchemaVersion) +
                "): upgrade vigil-hub";
        return false;
    }
    if (version > 0) {
        const int application_id = read_integer_pragma(connection, "PRAGMA application_id", error);
        if (application_id != kApplicationId) {
            error = error.empty() ? "the database belongs to another program" : error;
            return false;
        }
        return true;
    }
    const int tables = read_integer_pragma(
        connection, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'", error);
    if (tables != 0) {
        error = error.empty() ? "the database holds tables but is not a Vigil store" : error;
        return false;
    }
    return true;
}

bool apply_one(Connection& connection, int target_version, bool& done, std::string& error) {
    if (!connection.execute("BEGIN IMMEDIATE", error)) {
        return false;
    }
    std::string ignored;
    const int version = schema_version(connection, error);
    if (version < 0 || !check_is_ours(connection, version, error)) {
        connection.execute("ROLLBACK", ignored);
        return false;
    }
    if (version >= target_version) {
        done = true;
        return connection.execute("COMMIT", error);
    }
    const std::string set_version = "PRAGMA user_version = " + std::to_string(version + 1);
    if (!connection.execute(kMigrations[version], error) ||
        !connection.execute(set_version.c_str(), error) || !connection.execute("COMMIT", error)) {
        error = "schema migration to version " + std::to_string(version + 1) + ": " + error;
        connection.execute("ROLLBACK", ignored);
        return false;
    }
    return true;
}

}  // namespace

int schema_version(Connection& connection, std::string& error) {
    return read_integer_pragma(connection, "PRAGMA user_version", error);
}

bool migrate(Connection& connection, int target_version, std::string& error) {
    bool done = false;
    while (!done) {
        if (!apply_one(connection, target_version, done, error)) {
            return false;
        }
    }
    return true;
}

}  // namespace vigil::hub::sqlite

// Schema versions: files written by an older store upgrade in place, newer or foreign files are
// refused without being touched.
#include <sqlite3.h>

#include <fstream>

#include "store_fixture.hpp"
#include "vigil/hub/report_json.hpp"
#include "vigil/hub/sqlite/schema.hpp"

namespace vigil::hub::testing {
namespace {

class Schema : public ::testing::Test {
  protected:
    // Runs sql on the file with a plain connection, as another program (or an older hub) would.
    void execute(const std::string& sql) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
        char* message = nullptr;
        const int status = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
        EXPECT_EQ(status, SQLITE_OK) << (message ? message : "");
        sqlite3_free(message);
        sqlite3_close(db);
    }

    int64_t query_integer(const std::string& sql) {
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
        sqlite3_stmt* statement = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK);
        EXPECT_EQ(sqlite3_step(statement), SQLITE_ROW);
        const int64_t value = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
        sqlite3_close(db);
        return value;
    }

    // Creates the file at an older schema version, as that version of the store left it.
    void create_at_version(int version, bool foreign_keys) {
        sqlite::Connection connection;
        std::string error;
        ASSERT_TRUE(connection.open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error));
        if (foreign_keys) {
            ASSERT_TRUE(connection.execute("PRAGMA foreign_keys = ON", error)) << error;
        }
        ASSERT_TRUE(sqlite::migrate(connection, version, error)) << error;
        EXPECT_EQ(sqlite::schema_version(connection, error), version);
    }

    std::unique_ptr<Store> open(std::string& error) {
        SqliteOptions options;
        options.path = path_;
        return open_sqlite_store(options, error);
    }

    TempDir dir_;
    std::string path_ = dir_.file("hub.db");
};

TEST_F(Schema, Open_createsTheCurrentVersion) {
    std::string error;
    ASSERT_TRUE(open(error)) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    EXPECT_EQ(query_integer("PRAGMA application_id"), sqlite::kApplicationId);
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
              1);
}

// A file as version 1 of the store left it, with data, upgrades to the current version: the data
// stays and the row counts that version 2 keeps start from what was there.
TEST_F(Schema, Open_upgradesAVersion1File) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(1, /*foreign_keys=*/false));
    execute(
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms, messages) "
        "VALUES ('old-1', 0, 10, 20, 2);"
        "INSERT INTO messages (device_key, message_key, received_ms, device_time_ms, time_ms, "
        "window_duration_ms, format, payload_bytes) "
        "VALUES (1, 'b:1', 10, 9, 9, 10000, 0, 50), (1, 'b:2', 20, 19, 19, 10000, 0, 50);"
        "INSERT INTO flows (message_id, seq, local, remote, protocol, local_port, remote_port, "
        "bytes_in, bytes_out, handshake, local_interface) "
        "VALUES (1, 0, 'a', 'b', 0, 1, 2, 3, 4, '', '');");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    const auto stats = store->stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.devices, 1u);
    EXPECT_EQ(stats.value.messages, 2u);
    EXPECT_EQ(stats.value.flows, 1u);
    // Dedupe keys written by version 1 still count.
    Report redelivered = make_report("old-1", "b:2", 30);
    const WriteResult result = store->write_batch({redelivered});
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.duplicates, 1u);
    EXPECT_EQ(store->flows(flow_query("old-1")).value.flows.size(), 1u);
}

// Version 5 lets a device's format and seen times be NULL (enrolled, never seen). A version 4
// file keeps its devices, their messages and what hangs off them (nothing is cascaded away).
TEST_F(Schema, Open_upgradesAVersion4FileToNullableSeenTimes) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(4, /*foreign_keys=*/true));
    execute(
        "PRAGMA foreign_keys = ON;"
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms, enrolment, messages) "
        "VALUES ('old-1', 2, 10, 20, 1, 2);"
        "INSERT INTO messages (device_key, message_key, received_ms, device_time_ms, time_ms, "
        "window_duration_ms, format, payload_bytes) "
        "VALUES (1, 'b:1', 10, 9, 9, 10000, 2, 50), (1, 'b:2', 20, 19, 19, 10000, 2, 50);"
        "INSERT INTO window_flows (message_id, flows) "
        "VALUES (1, '[[\"a\",\"b\",0,1,2,3,4,null,null,null,\"\",\"\"]]');"
        "INSERT INTO alerts (device_key, kind, subject, severity, state, first_seen_ms, "
        "last_seen_ms, count, details_json) VALUES (1, 'port-scan', 'x', 2, 0, 10, 20, 1, '{}');"
        "UPDATE row_counts SET rows = 2 WHERE name = 'messages';"
        "UPDATE row_counts SET rows = 1 WHERE name = 'flows';");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    for (const char* column : {"format", "first_seen_ms", "last_seen_ms"}) {
        EXPECT_EQ(query_integer(std::string("SELECT \"notnull\" FROM pragma_table_info('devices') "
                                            "WHERE name = '") +
                                column + "'"),
                  0)
            << column;
    }
    EXPECT_EQ(query_integer("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                            "name = 'devices_last_seen'"),
              1);
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
    const auto devices = store->list_devices({});
    ASSERT_TRUE(devices.ok()) << devices.error;
    ASSERT_EQ(devices.value.devices.size(), 1u);
    const DeviceRow& old = devices.value.devices[0];
    EXPECT_EQ(old.id, "old-1");
    EXPECT_EQ(old.format, Format::AwsDefender);
    EXPECT_EQ(old.first_seen_ms, 10);
    EXPECT_EQ(old.last_seen_ms, 20);
    EXPECT_EQ(old.enrolment, Enrolment::Enrolled);
    EXPECT_EQ(old.messages, 2u);
    EXPECT_EQ(store->flows(flow_query("old-1")).value.flows.size(), 1u);
    EXPECT_EQ(store->alerts({}).value.size(), 1u);
    EXPECT_EQ(store->stats().value.messages, 2u);
    DeviceFilter seen;
    seen.seen_since_ms = 15;
    EXPECT_EQ(store->list_devices(seen).value.devices.size(), 1u);

    // What version 5 is for: a device without messages, and its first one.
    ASSERT_TRUE(store->set_enrolment("new-1", Enrolment::Enrolled).ok());
    EXPECT_EQ(query_integer("SELECT count(*) FROM devices WHERE id = 'new-1' AND "
                            "last_seen_ms IS NULL AND format IS NULL"),
              1);
    ASSERT_TRUE(store->write_batch({make_report("new-1", "k1", 30)}).ok);
    EXPECT_EQ(query_integer("SELECT last_seen_ms FROM devices WHERE id = 'new-1'"), 30);
    // And the old device's next message still updates it.
    ASSERT_TRUE(store->write_batch({make_report("old-1", "b:3", 40)}).ok);
    EXPECT_EQ(query_integer("SELECT last_seen_ms FROM devices WHERE id = 'old-1'"), 40);
    EXPECT_EQ(query_integer("SELECT first_seen_ms FROM devices WHERE id = 'old-1'"), 10);
}

// Version 6 gives alerts types, categories, words for people, evidence and two clocks, and adds
// suppressions. A version 5 file's alerts keep their ids, states and counts: the kind becomes
// the type (and the title), the details the evidence, and each seen time both the observed and
// the raised one; the one-unresolved rule still holds for them.
TEST_F(Schema, Open_upgradesVersion5AlertsToTypesEvidenceAndTwoClocks) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(5, /*foreign_keys=*/true));
    execute(
        "PRAGMA foreign_keys = ON;"
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms) "
        "VALUES ('old-1', 0, 10, 20);"
        "INSERT INTO alerts (device_key, kind, subject, severity, state, first_seen_ms, "
        "last_seen_ms, count, details_json, changed_ms, changed_by) VALUES "
        "(1, 'port-scan', '203.0.113.9', 3, 0, 100, 200, 4, '{\"ports\":40}', 0, ''), "
        "(1, 'port-scan', 'gone', 2, 2, 50, 60, 1, '{}', 70, 'token:ops');");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    AlertFilter all;
    all.state = AlertState::Open;
    const auto open_alerts = store->alerts(all);
    ASSERT_TRUE(open_alerts.ok()) << open_alerts.error;
    ASSERT_EQ(open_alerts.value.size(), 1u);
    const Alert& old = open_alerts.value[0];
    EXPECT_EQ(old.id, 1);
    EXPECT_EQ(old.device_id, "old-1");
    EXPECT_EQ(old.type, "port-scan");
    EXPECT_EQ(old.title, "port-scan");
    EXPECT_EQ(old.category, AlertCategory::Threshold);
    EXPECT_EQ(old.severity, Severity::High);
    EXPECT_EQ(old.count, 4u);
    EXPECT_EQ(old.evidence_json, R"({"ports":40})");
    EXPECT_EQ(old.first_observed_ms, 100);
    EXPECT_EQ(old.last_observed_ms, 200);
    EXPECT_EQ(old.raised_ms, 100);
    EXPECT_EQ(old.last_raised_ms, 200);
    EXPECT_EQ(old.suppressed_by, 0);
    const auto resolved = store->alert(2);
    ASSERT_TRUE(resolved.value.has_value());
    EXPECT_EQ(resolved.value->state, AlertState::Resolved);
    EXPECT_EQ(resolved.value->changed_by, "token:ops");

    // The migrated open alert is the one a new raise of it updates; evidence is still checked.
    AlertRaise again;
    again.device_id = "old-1";
    again.type = "port-scan";
    again.subject = "203.0.113.9";
    again.raised_ms = 300;
    const auto raised = store->raise_alert(again);
    ASSERT_TRUE(raised.ok()) << raised.error;
    EXPECT_EQ(raised.value.change, AlertChange::Repeated);
    EXPECT_EQ(raised.value.alert.id, 1);
    EXPECT_EQ(raised.value.alert.count, 5u);
    again.evidence_json = "{";
    again.subject = "new";
    EXPECT_FALSE(store->raise_alert(again).ok());
    EXPECT_TRUE(store->suppressions().value.empty());
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

// Version 7 keeps recommendations per device, kind and subject, with words, evidence, two clocks
// and dismissals. A version 6 file's recommendations each become the one of subject "", their
// details the evidence, "done" closed (at its last update), and the scans of their kind find
// them again.
TEST_F(Schema, Open_upgradesVersion6RecommendationsToSubjectsEvidenceAndClosed) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(6, /*foreign_keys=*/true));
    execute(
        "PRAGMA foreign_keys = ON;"
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms) "
        "VALUES ('old-1', 0, 10, 20), ('old-2', 0, 10, 20);"
        "INSERT INTO recommendations (device_key, kind, state, details_json, created_ms, "
        "updated_ms) VALUES "
        "(1, 'telnet-listening', 0, '{\"port\":23}', 100, 200), "
        "(1, 'outdated-agent', 2, '{}', 110, 210), "
        "(2, 'telnet-listening', 1, '{}', 120, 220);");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    EXPECT_EQ(query_integer("SELECT count(*) FROM sqlite_schema WHERE name = "
                            "'recommendations_v6'"),
              0);
    const auto all = store->recommendations({});
    ASSERT_TRUE(all.ok()) << all.error;
    ASSERT_EQ(all.value.size(), 3u);
    const Recommendation& open_one = all.value[1];  // newest first, in (device, kind) order
    EXPECT_EQ(open_one.device_id, "old-1");
    EXPECT_EQ(open_one.kind, "telnet-listening");
    EXPECT_EQ(open_one.subject, "");
    EXPECT_EQ(open_one.state, RecommendationState::Open);
    EXPECT_EQ(open_one.title, "telnet-listening");
    EXPECT_EQ(open_one.evidence_json, R"({"port":23})");
    EXPECT_EQ(open_one.first_observed_ms, 100);
    EXPECT_EQ(open_one.last_observed_ms, 200);
    EXPECT_EQ(open_one.opened_ms, 100);
    EXPECT_EQ(open_one.updated_ms, 200);
    EXPECT_EQ(open_one.closed_ms, 0);
    const Recommendation& done = all.value[2];
    EXPECT_EQ(done.kind, "outdated-agent");
    EXPECT_EQ(done.state, RecommendationState::Closed);
    EXPECT_EQ(done.closed_ms, 210);
    const Recommendation& dismissed = all.value[0];
    EXPECT_EQ(dismissed.device_id, "old-2");
    EXPECT_EQ(dismissed.state, RecommendationState::Dismissed);
    EXPECT_EQ(dismissed.dismissed_ms, 220);

    // A scan of the kind finds the migrated one again (same id), or closes it.
    RecommendationScan again;
    again.device_id = "old-1";
    again.kind = "telnet-listening";
    again.findings.push_back({"telnet-listening", "", Severity::High, "t", "r", "m", "{}", ""});
    again.observed_ms = 300;
    again.scanned_ms = 301;
    const auto refreshed = store->apply_recommendation_scan(again);
    ASSERT_TRUE(refreshed.ok()) << refreshed.error;
    EXPECT_TRUE(refreshed.value.empty());
    EXPECT_EQ(store->recommendation(open_one.id).value->last_observed_ms, 300);
    again.findings.clear();
    const auto closed = store->apply_recommendation_scan(again);
    ASSERT_EQ(closed.value.size(), 1u);
    EXPECT_EQ(closed.value[0].recommendation.id, open_one.id);
    EXPECT_EQ(closed.value[0].change, RecommendationChange::Closed);
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

// Version 8 keeps a device's latest system information, ports and status a part per row instead
// of in the device row: a version 7 file's parts move there, and the device detail reads them.
TEST_F(Schema, Open_upgradesVersion7LatestPartsToTheirOwnRows) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(7, /*foreign_keys=*/true));
    SystemInfo system;
    system.os_name = "ThreadX";
    system.board = "b";
    ListeningPort telnet;
    telnet.port = 23;
    AgentStatus status;
    status.state = "active";
    status.config_version = 4;
    execute(
        "PRAGMA foreign_keys = ON;"
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms, state, system_json, "
        "system_received_ms, ports_json, ports_received_ms, status_json, status_received_ms) "
        "VALUES ('old-1', 0, 10, 20, 'active', '" +
        to_json_text(system) + "', 11, '" + to_json_text(std::vector{telnet}) + "', 12, '" +
        to_json_text(status) +
        "', 13), ('old-2', 0, 10, 20, '', NULL, NULL, NULL, NULL, NULL, NULL);");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_table_info('devices') WHERE name LIKE "
                            "'%_json' OR name LIKE '%_received_ms'"),
              0);
    EXPECT_EQ(query_integer("SELECT count(*) FROM device_latest"), 3);
    DeviceDirectory& directory = *store;
    const auto old_one = directory.device_detail(detail_query("old-1"));
    ASSERT_TRUE(old_one.ok() && old_one.value) << old_one.error;
    ASSERT_TRUE(old_one.value->system);
    EXPECT_EQ(old_one.value->system->os_name, "ThreadX");
    EXPECT_EQ(old_one.value->system->board, "b");
    EXPECT_EQ(old_one.value->system_received_ms, 11);
    ASSERT_TRUE(old_one.value->listening_ports);
    ASSERT_EQ(old_one.value->listening_ports->size(), 1u);
    EXPECT_EQ(old_one.value->listening_ports->front().port, 23);
    EXPECT_EQ(old_one.value->ports_received_ms, 12);
    ASSERT_TRUE(old_one.value->status);
    EXPECT_EQ(old_one.value->status->config_version, 4u);
    EXPECT_EQ(old_one.value->status_received_ms, 13);
    const auto without = directory.device_detail(detail_query("old-2"));
    ASSERT_TRUE(without.ok() && without.value) << without.error;
    EXPECT_FALSE(without.value->system);
    EXPECT_FALSE(without.value->listening_ports);
    EXPECT_FALSE(without.value->status);
    EXPECT_EQ(query_integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

// Version 9 names a window's local ends once (window_flows.locals). Rows a version 8 store wrote
// keep their form, and the flows view reads them beside the new ones.
TEST_F(Schema, Open_readsVersion8WindowsBesideTheNewForm) {
    ASSERT_NO_FATAL_FAILURE(create_at_version(8, /*foreign_keys=*/true));
    execute(
        "PRAGMA foreign_keys = ON;"
        "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms) VALUES ('dev-1', 0, 10, 20);"
        "INSERT INTO messages (device_key, message_key, received_ms, device_time_ms, time_ms, "
        "window_duration_ms, format, payload_bytes) VALUES (1, 'b:1', 10, 9, 9, 10000, 0, 50);"
        "INSERT INTO window_flows (message_id, flows) VALUES (1, "
        "'[[\"198.51.100.2\",\"203.0.113.1\",0,40000,443,1,2,3,4,0,\"completed\",\"eth0\"]]');");

    std::string error;
    auto store = open(error);
    ASSERT_TRUE(store) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), sqlite::kSchemaVersion);
    Report report = make_report("dev-1", "b:2", 1'000'000, 2);
    report.flows[1].local = "2001:db8::2";
    report.flows[1].local_interface = "wlan0";
    const WriteResult written = store->write_batch({report});
    ASSERT_TRUE(written.ok) << written.error;
    EXPECT_EQ(query_integer("SELECT count(*) FROM window_flows WHERE locals IS NULL"), 1);

    DeviceDirectory& directory = *store;
    const auto page = directory.flows(flow_query("dev-1"));
    ASSERT_TRUE(page.ok()) << page.error;
    ASSERT_EQ(page.value.flows.size(), 3u);
    const Flow& old_one = page.value.flows[0].flow;
    EXPECT_EQ(old_one.local, "198.51.100.2");
    EXPECT_EQ(old_one.remote, "203.0.113.1");
    EXPECT_EQ(old_one.local_interface, "eth0");
    EXPECT_EQ(old_one.handshake, "completed");
    EXPECT_EQ(old_one.bytes_in, 1u);
    EXPECT_EQ(flow_fields(page.value.flows[1].flow), flow_fields(report.flows[0]));
    EXPECT_EQ(flow_fields(page.value.flows[2].flow), flow_fields(report.flows[1]));
}

TEST_F(Schema, Open_refusesANewerSchemaAndLeavesItAlone) {
    {
        std::string error;
        auto store = open(error);
        ASSERT_TRUE(store) << error;
        ASSERT_TRUE(store->write_batch({make_report("dev-1", "k1", 1'000)}).ok);
    }
    execute("PRAGMA user_version = 99");
    std::string error;
    EXPECT_FALSE(open(error));
    EXPECT_NE(error.find("schema version 99"), std::string::npos) << error;
    EXPECT_NE(error.find("newer"), std::string::npos) << error;
    EXPECT_EQ(query_integer("PRAGMA user_version"), 99);
    EXPECT_EQ(query_integer("SELECT count(*) FROM flows"), 3);
}

TEST_F(Schema, Open_refusesAnotherProgramsDatabase) {
    execute("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x');");
    std::string error;
    EXPECT_FALSE(open(error));
    EXPECT_NE(error.find("not a Vigil store"), std::string::npos) << error;
    EXPECT_EQ(query_integer("SELECT count(*) FROM contacts"), 1);
}

TEST_F(Schema, Open_refusesAFileThatIsNotADatabase) {
    {
        std::ofstream garbage(path_, std::ios::binary);
        for (int i = 0; i < 8192; ++i) {
            garbage.put(static_cast<char>((i * 7919) & 0xff));
        }
    }
    std::string error;
    EXPECT_FALSE(open(error));
    EXPECT_NE(error.find("not a database"), std::string::npos) << error;
    EXPECT_NE(error.find(path_), std::string::npos) << error;
}

}  // namespace
}  // namespace vigil::hub::testing

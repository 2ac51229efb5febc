// The SQLite store's behaviour through the Store interface: what goes in comes back out.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, WriteBatch_roundTripsNetworkWindow) {
    Report report = make_report("dev-1", "boot1:1", 1'000'000, 4);
    report.flows[1].protocol = Protocol::Icmp;
    report.flows[1].local_port = 8;
    report.flows[1].remote_port = 0;
    report.flows[2].bytes_in = (1ull << 62) + 5;
    report.flows[3].remote_opened = true;
    report.flows[3].handshake = "refused";
    report.flows[3].local_interface = "wlan0";
    // Flows are kept as JSON text: what needs escaping there, and counters past int64.
    report.flows[0].local_interface = "br\"0\\\x01\té";
    report.flows[0].handshake = "[\"],";
    report.flows[0].bytes_out = ~0ull;
    write_ok({report});

    const auto page = store_->flows(flow_query("dev-1"));
    ASSERT_TRUE(page.ok()) << page.error;
    ASSERT_EQ(page.value.flows.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        const StoredFlow& stored = page.value.flows[i];
        const Flow& expected = report.flows[i];
        EXPECT_EQ(stored.time_ms, report.device_time_ms);
        EXPECT_EQ(stored.received_ms, report.received_ms);
        EXPECT_EQ(stored.window_duration_ms, 10000u);
        EXPECT_EQ(stored.flow.local, expected.local);
        EXPECT_EQ(stored.flow.remote, expected.remote);
        EXPECT_EQ(stored.flow.protocol, expected.protocol);
        EXPECT_EQ(stored.flow.local_port, expected.local_port);
        EXPECT_EQ(stored.flow.remote_port, expected.remote_port);
        EXPECT_EQ(stored.flow.bytes_in, expected.bytes_in);
        EXPECT_EQ(stored.flow.bytes_out, expected.bytes_out);
        EXPECT_EQ(stored.flow.packets_in, expected.packets_in);
        EXPECT_EQ(stored.flow.packets_out, expected.packets_out);
        EXPECT_EQ(stored.flow.remote_opened, expected.remote_opened);
        EXPECT_EQ(stored.flow.handshake, expected.handshake);
        EXPECT_EQ(stored.flow.local_interface, expected.local_interface);
    }
    EXPECT_FALSE(page.value.next);
}

TEST_F(SqliteStore, WriteBatch_roundTripsSystemPortsAndStatus) {
    Report report = make_report("dev-1", "boot1:1", 1'000'000, 0);
    report.system = SystemInfo{"0.1.0",
                               "Linux",
                               "6.1",
                               "lwIP",
                               "2.1.3",
                               "fw-7",
                               "rpi-4",
                               {"198.51.100.2", "2001:db8::2"},
                               {"02:00:00:00:00:02"}};
    report.listening_ports = std::vector<ListeningPort>{{Protocol::Tcp, 22, "", ""},
                                                        {Protocol::Udp, 53, "127.0.0.1", "eth0"}};
    AgentStatus status;
    status.state = "active";
    status.config_version = 3;
    status.packets_seen = 1'000'000'000'000;
    status.packets_unparsed = 2;
    status.packets_ignored = 3;
    status.overflow_packets = 4;
    status.messages_sent = 5;
    status.send_failures = 6;
    status.messages_dropped = 7;
    status.backlog_messages = 8;
    status.backlog_bytes = 9;
    status.rejected_config_version = 4;
    status.rejected_config_reason = "unknown collector";
    report.status = status;
    report.overflow.push_back({6, Protocol::Udp, 100, 50, 3, 2});
    write_ok({report});

    const auto detail = store_->device_detail(detail_query("dev-1"));
    ASSERT_TRUE(detail.ok()) << detail.error;
    ASSERT_TRUE(detail.value);
    const DeviceDetail& device = *detail.value;
    ASSERT_TRUE(device.system);
    EXPECT_EQ(device.system->os_name, "Linux");
    EXPECT_EQ(device.system->board, "rpi-4");
    EXPECT_EQ(device.system->addresses, report.system->addresses);
    EXPECT_EQ(device.system->macs, report.system->macs);
    ASSERT_TRUE(device.listening_ports);
    ASSERT_EQ(device.listening_ports->size(), 2u);
    EXPECT_EQ((*device.listening_ports)[1].protocol, Protocol::Udp);
    EXPECT_EQ((*device.listening_ports)[1].port, 53);
    EXPECT_EQ((*device.listening_ports)[1].address, "127.0.0.1");
    EXPECT_EQ((*device.listening_ports)[1].interface_name, "eth0");
    ASSERT_TRUE(device.status);
    EXPECT_EQ(device.status->packets_seen, status.packets_seen);
    EXPECT_EQ(device.status->backlog_bytes, 9u);
    EXPECT_EQ(device.status->rejected_config_version, 4u);
    EXPECT_EQ(device.status->rejected_config_reason, "unknown collector");
    EXPECT_EQ(device.status_received_ms, 1'000'000);
    EXPECT_EQ(device.device.state, "active");
    EXPECT_EQ(device.device.applied_config_version, 3u);
    EXPECT_EQ(device.device.agent_version, "0.1.0");
    EXPECT_EQ(device.traffic.overflow_bytes, 150u);
    EXPECT_EQ(device.traffic.bytes_in, 100u);
    EXPECT_EQ(device.traffic.packets_out, 2u);

    const auto stats = store_->stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.heartbeats, 1u);
    EXPECT_EQ(stats.value.port_snapshots, 1u);
    EXPECT_EQ(stats.value.overflow, 1u);
}

TEST_F(SqliteStore, WriteBatch_roundTripsEveryFormat) {
    Report legacy = make_report("legacy-1", "event-guid-1", 2'000, 1);
    legacy.format = Format::LegacyDefender;
    legacy.flows[0].packets_in.reset();
    legacy.flows[0].packets_out.reset();
    Report aws = make_report("aws-1", "1700000000", 3'000, 2);
    aws.format = Format::AwsDefender;
    aws.device_time_ms = 0;  // unknown: the window is placed at its receive time
    aws.interface_totals = InterfaceTotals{5000, 6000, 50, 60};
    write_ok({legacy, aws});

    const auto devices = store_->list_devices({});
    ASSERT_TRUE(devices.ok()) << devices.error;
    ASSERT_EQ(devices.value.devices.size(), 2u);
    EXPECT_EQ(devices.value.devices[0].id, "aws-1");
    EXPECT_EQ(devices.value.devices[0].format, Format::AwsDefender);
    EXPECT_EQ(devices.value.devices[1].format, Format::LegacyDefender);
    const auto aws_flows = store_->flows(flow_query("aws-1"));
    ASSERT_EQ(aws_flows.value.flows.size(), 2u);
    EXPECT_EQ(aws_flows.value.flows[0].time_ms, 3'000);
    const auto legacy_flows = store_->flows(flow_query("legacy-1"));
    ASSERT_EQ(legacy_flows.value.flows.size(), 1u);
    EXPECT_FALSE(legacy_flows.value.flows[0].flow.packets_in);
    const auto aws_detail = store_->device_detail(detail_query("aws-1"));
    EXPECT_EQ(aws_detail.value->traffic.interfaces.bytes_out, 6000u);
    EXPECT_EQ(aws_detail.value->traffic.interfaces.packets_in, 50u);
    EXPECT_EQ(store_->stats().value.interface_totals, 1u);
}

TEST_F(SqliteStore, WriteBatch_skipsDuplicatesWithinOneBatch) {
    const Report report = make_report("dev-1", "boot1:1", 1'000);
    const WriteResult result = store_->write_batch({report, report, report});
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.stored, 1u);
    EXPECT_EQ(result.duplicates, 2u);
    EXPECT_EQ(store_->flows(flow_query("dev-1")).value.flows.size(), 3u);
}

TEST_F(SqliteStore, WriteBatch_skipsDuplicatesAcrossBatchesAndReopens) {
    write_ok({make_report("dev-1", "boot1:1", 1'000), make_report("dev-1", "boot1:2", 2'000)});
    store_ = open();
    const WriteResult again = store_->write_batch({make_report("dev-1", "boot1:2", 5'000),
                                                   make_report("dev-1", "boot1:3", 6'000),
                                                   make_report("dev-2", "boot1:2", 6'000)});
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.stored, 2u);  // the same key on another device is another message
    EXPECT_EQ(again.duplicates, 1u);
    const auto stats = store_->stats();
    EXPECT_EQ(stats.value.messages, 4u);
    EXPECT_EQ(stats.value.flows, 12u);
    const auto device = store_->device_detail(detail_query("dev-1"));
    EXPECT_EQ(device.value->device.messages, 3u);
    EXPECT_EQ(device.value->device.last_seen_ms, 6'000);
    EXPECT_EQ(device.value->device.first_seen_ms, 1'000);
}

// A report the schema refuses (a device id must not be empty) in the middle of a batch: the
// reports before it, already inserted in the transaction, must go too.
TEST_F(SqliteStore, WriteBatch_failureMidBatchWritesNothing) {
    write_ok({make_report("dev-1", "boot1:1", 1'000)});
    const WriteResult result = store_->write_batch(
        {make_report("dev-1", "boot1:2", 2'000), make_report("dev-new", "boot1:1", 2'000),
         make_report("", "x", 2'000), make_report("dev-1", "boot1:3", 2'000)});
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.stored, 0u);
    EXPECT_NE(result.error.find("report 2"), std::string::npos) << result.error;
    EXPECT_NE(result.error.find("CHECK constraint failed"), std::string::npos) << result.error;

    const auto stats = store_->stats();
    EXPECT_EQ(stats.value.devices, 1u);
    EXPECT_EQ(stats.value.messages, 1u);
    EXPECT_EQ(stats.value.flows, 3u);
    EXPECT_EQ(store_->device_detail(detail_query("dev-1")).value->device.messages, 1u);
    // The failed reports were not remembered as seen: retried alone, they are stored.
    const WriteResult retry = store_->write_batch({make_report("dev-1", "boot1:2", 2'000)});
    EXPECT_EQ(retry.stored, 1u);
}

TEST_F(SqliteStore, ListDevices_filtersAndPages) {
    std::vector<Report> reports;
    for (int i = 0; i < 25; ++i) {
        Report report = make_report("dev-" + std::to_string(100 + i), "k", 1'000 + i, 0);
        report.format = i % 5 == 0 ? Format::AwsDefender : Format::Vigil;
        if (i % 2 == 0) {
            report.status = AgentStatus{};
            report.status->state = "active";
        }
        reports.push_back(report);
    }
    write_ok(reports);

    DeviceFilter filter;
    filter.limit = 10;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 10; ++pages) {
        const auto page = store_->list_devices(filter);
        ASSERT_TRUE(page.ok()) << page.error;
        for (const DeviceRow& device : page.value.devices) {
            seen.push_back(device.id);
        }
        if (page.value.next_after.empty()) {
            break;
        }
        filter.after = page.value.next_after;
    }
    ASSERT_EQ(seen.size(), 25u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

    DeviceFilter active;
    active.state = "active";
    active.format = Format::Vigil;
    active.seen_since_ms = 1'010;
    const auto page = store_->list_devices(active);
    ASSERT_TRUE(page.ok());
    // i in [10, 25), even, not a multiple of 5: 12, 14, 16, 18, 22, 24.
    ASSERT_EQ(page.value.devices.size(), 6u);
    EXPECT_EQ(page.value.devices[0].id, "dev-112");

    ASSERT_TRUE(store_->set_enrolment("dev-112", Enrolment::Blocked).ok());
    DeviceFilter blocked;
    blocked.enrolment = Enrolment::Blocked;
    EXPECT_EQ(store_->list_devices(blocked).value.devices.size(), 1u);
}

TEST_F(SqliteStore, Enrolment_aDeviceEnrolledBeforeItReportsIsListedNeverSeen) {
    ASSERT_TRUE(store_->set_enrolment("dev-new", Enrolment::Enrolled).ok());
    const auto listed = store_->list_devices({});
    ASSERT_TRUE(listed.ok()) << listed.error;
    ASSERT_EQ(listed.value.devices.size(), 1u);
    const DeviceRow& device = listed.value.devices[0];
    EXPECT_EQ(device.id, "dev-new");
    EXPECT_EQ(device.enrolment, Enrolment::Enrolled);
    EXPECT_EQ(device.messages, 0u);
    EXPECT_FALSE(device.format.has_value());
    EXPECT_FALSE(device.first_seen_ms.has_value());
    EXPECT_FALSE(device.last_seen_ms.has_value());
    EXPECT_TRUE(device.agent_version.empty());
    EXPECT_TRUE(device.state.empty());
    const auto detail = store_->device_detail(detail_query("dev-new"));
    ASSERT_TRUE(detail.ok()) << detail.error;
    ASSERT_TRUE(detail.value.has_value());
    EXPECT_EQ(detail.value->traffic.flows, 0u);

    // Never seen is neither recent nor old, and has no format.
    DeviceFilter recent;
    recent.seen_since_ms = 0;
    EXPECT_TRUE(store_->list_devices(recent).value.devices.empty());
    DeviceFilter stale;
    stale.seen_before_ms = INT64_MAX;
    EXPECT_TRUE(store_->list_devices(stale).value.devices.empty());
    DeviceFilter vigil_format;
    vigil_format.format = Format::Vigil;
    EXPECT_TRUE(store_->list_devices(vigil_format).value.devices.empty());
    DeviceFilter enrolled;
    enrolled.enrolment = Enrolment::Enrolled;
    EXPECT_EQ(store_->count_devices(enrolled).value, 1u);
    EXPECT_EQ(store_->stats().value.devices, 1u);
}

TEST_F(SqliteStore, Enrolment_theFirstMessageFillsTheRowAndKeepsTheEnrolment) {
    ASSERT_TRUE(store_->set_enrolment("dev-new", Enrolment::Enrolled).ok());
    Report first = make_report("dev-new", "k1", 5'000);
    first.format = Format::LegacyDefender;
    first.agent_version = "2.1";
    write_ok({first});
    write_ok({make_report("dev-new", "k0", 4'000)});  // older, arriving late
    const auto listed = store_->list_devices({});
    ASSERT_EQ(listed.value.devices.size(), 1u);
    const DeviceRow& device = listed.value.devices[0];
    EXPECT_EQ(device.enrolment, Enrolment::Enrolled);
    EXPECT_EQ(device.messages, 2u);
    EXPECT_EQ(device.format, Format::LegacyDefender);
    EXPECT_EQ(device.agent_version, "2.1");
    EXPECT_EQ(device.first_seen_ms, 4'000);
    EXPECT_EQ(device.last_seen_ms, 5'000);
    EXPECT_EQ(store_->flows(flow_query("dev-new")).value.flows.size(), 6u);
}

TEST_F(SqliteStore, Enrolment_blockingANeverSeenDeviceAndUnenrolledReporters) {
    // Revoked before it ever reported: listed as blocked, and stays so when a message that the
    // broker accepted before the revocation still arrives.
    ASSERT_TRUE(store_->set_enrolment("dev-cut", Enrolment::Blocked).ok());
    EXPECT_EQ(store_->list_devices({}).value.devices.at(0).enrolment, Enrolment::Blocked);
    write_ok({make_report("dev-cut", "k1", 1'000)});
    // A device that reports without having been enrolled here (an external broker) is pending.
    write_ok({make_report("dev-other", "k1", 2'000)});
    const auto listed = store_->list_devices({});
    ASSERT_EQ(listed.value.devices.size(), 2u);
    EXPECT_EQ(listed.value.devices[0].id, "dev-cut");
    EXPECT_EQ(listed.value.devices[0].enrolment, Enrolment::Blocked);
    EXPECT_EQ(listed.value.devices[0].messages, 1u);
    EXPECT_EQ(listed.value.devices[1].id, "dev-other");
    EXPECT_EQ(listed.value.devices[1].enrolment, Enrolment::Pending);
    // Enrolling it later marks its existing row and keeps its history.
    ASSERT_TRUE(store_->set_enrolment("dev-other", Enrolment::Enrolled).ok());
    const auto after = store_->list_devices({});
    EXPECT_EQ(after.value.devices[1].enrolment, Enrolment::Enrolled);
    EXPECT_EQ(after.value.devices[1].last_seen_ms, 2'000);
    EXPECT_EQ(after.value.devices.size(), 2u);
    // An id the schema refuses is an error, not a row.
    EXPECT_FALSE(store_->set_enrolment("", Enrolment::Enrolled).ok());
}

TEST_F(SqliteStore, Flows_pagesThroughATimeRange) {
    std::vector<Report> reports;
    for (int i = 0; i < 10; ++i) {
        reports.push_back(make_report("dev-1", "k" + std::to_string(i), 10'000 * (i + 1), 7));
    }
    write_ok(reports);

    FlowQuery query =
        flow_query("dev-1", 30'000, 80'000);  // windows 3..7 by device time (received - 500)
    query.limit = 4;
    std::set<std::pair<int64_t, uint32_t>> ids;
    size_t returned = 0;
    int64_t previous_time = 0;
    for (int pages = 0; pages < 20; ++pages) {
        const auto page = store_->flows(query);
        ASSERT_TRUE(page.ok()) << page.error;
        for (const StoredFlow& flow : page.value.flows) {
            EXPECT_GE(flow.time_ms, 30'000);
            EXPECT_LT(flow.time_ms, 80'000);
            EXPECT_GE(flow.time_ms, previous_time);
            previous_time = flow.time_ms;
            ids.insert({flow.message_id, flow.index});
            ++returned;
        }
        if (!page.value.next) {
            break;
        }
        query.after = page.value.next;
    }
    EXPECT_EQ(returned, 35u);
    EXPECT_EQ(ids.size(), 35u);
    EXPECT_TRUE(store_->flows(flow_query("unknown")).value.flows.empty());
}

TEST_F(SqliteStore, DeviceDetail_summarisesTrafficAndTopRemotes) {
    Report report = make_report("dev-1", "k1", 10'000, 0);
    auto flow_to = [](const std::string& remote, uint64_t bytes) {
        Flow flow = make_flow(1);
        flow.remote = remote;
        flow.bytes_in = bytes;
        flow.bytes_out = 0;
        return flow;
    };
    report.flows = {flow_to("a", 10), flow_to("b", 500), flow_to("c", 40), flow_to("b", 5)};
    Report later = make_report("dev-1", "k2", 100'000, 0);
    later.flows = {flow_to("a", 1'000'000)};
    write_ok({report, later});

    DetailQuery query = detail_query("dev-1", 0, 50'000, 2);
    const auto detail = store_->device_detail(query);
    ASSERT_TRUE(detail.ok()) << detail.error;
    const TrafficSummary& traffic = detail.value->traffic;
    EXPECT_EQ(traffic.flows, 4u);
    EXPECT_EQ(traffic.bytes_in, 555u);
    ASSERT_EQ(traffic.top_remotes.size(), 2u);
    EXPECT_EQ(traffic.top_remotes[0].remote, "b");
    EXPECT_EQ(traffic.top_remotes[0].bytes_in, 505u);
    EXPECT_EQ(traffic.top_remotes[0].flows, 2u);
    EXPECT_EQ(traffic.top_remotes[1].remote, "c");
    EXPECT_FALSE(store_->device_detail(detail_query("nobody")).value);
}

// Filter values travel as bound parameters: SQL in them is data, matches nothing, breaks nothing.
TEST_F(SqliteStore, Filters_injectionStringsAreInert) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    const std::vector<std::string> attacks = {
        "' OR '1'='1",
        "dev-1' --",
        "x'; DROP TABLE devices; --",
        "\" OR 1=1 --",
        "%",
        "' UNION SELECT id, 1, 1, 1, '', '', 0, 0, 0, 0 FROM devices --"};
    for (const std::string& attack : attacks) {
        DeviceFilter filter;
        filter.state = attack;
        EXPECT_TRUE(store_->list_devices(filter).value.devices.empty()) << attack;
        filter = {};
        filter.after = attack;
        EXPECT_TRUE(store_->list_devices(filter).ok()) << attack;
        EXPECT_TRUE(store_->flows(flow_query(attack)).value.flows.empty()) << attack;
        EXPECT_FALSE(store_->device_detail(detail_query(attack)).value) << attack;
        AlertFilter alerts;
        alerts.device_id = attack;
        alerts.kind = attack;
        EXPECT_TRUE(store_->alerts(alerts).value.empty()) << attack;
        EXPECT_TRUE(store_->recommendations(attack, std::nullopt).value.empty()) << attack;
        EXPECT_FALSE(store_->load_detection_state(attack).value) << attack;
        EXPECT_FALSE(store_->desired_config(ConfigScope::Group, attack).value) << attack;
    }
    // A device whose id is an attack string is just a device with an odd name.
    write_ok({make_report("x'; DROP TABLE flows; --", "k1", 2'000)});
    const auto stats = store_->stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.devices, 2u);
    EXPECT_EQ(stats.value.flows, 6u);
    EXPECT_EQ(store_->flows(flow_query("x'; DROP TABLE flows; --")).value.flows.size(), 3u);
}

TEST_F(SqliteStore, Alerts_raiseUpdateAcknowledgeResolve) {
    write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000)});
    AlertRaise scan{"dev-1",          "port-scan", "203.0.113.9",
                    Severity::Medium, 5'000,       R"({"ports":40})"};
    const auto first = store_->raise_alert(scan);
    ASSERT_TRUE(first.ok()) << first.error;
    scan.seen_ms = 6'000;
    scan.severity = Severity::High;
    scan.details_json = R"({"ports":90})";
    const auto again = store_->raise_alert(scan);
    EXPECT_EQ(again.value, first.value);  // still open: the same alert
    ASSERT_TRUE(store_->raise_alert({"dev-2", "beaconing", "", Severity::Low, 5'500, "{}"}).ok());
    EXPECT_FALSE(store_->raise_alert({"nobody", "x", "", Severity::Low, 1, "{}"}).ok());
    EXPECT_FALSE(store_->raise_alert({"dev-1", "x", "", Severity::Low, 1, "not json"}).ok());

    AlertFilter open_on_dev1;
    open_on_dev1.device_id = "dev-1";
    open_on_dev1.state = AlertState::Open;
    auto listed = store_->alerts(open_on_dev1);
    ASSERT_TRUE(listed.ok()) << listed.error;
    ASSERT_EQ(listed.value.size(), 1u);
    const Alert& alert = listed.value[0];
    EXPECT_EQ(alert.count, 2u);
    EXPECT_EQ(alert.first_seen_ms, 5'000);
    EXPECT_EQ(alert.last_seen_ms, 6'000);
    EXPECT_EQ(alert.severity, Severity::High);
    EXPECT_EQ(alert.details_json, R"({"ports":90})");

    ASSERT_TRUE(store_->acknowledge_alert(first.value, "alice", 7'000).ok());
    EXPECT_TRUE(store_->alerts(open_on_dev1).value.empty());
    ASSERT_TRUE(store_->resolve_alert(first.value, "bob", 8'000).ok());
    EXPECT_TRUE(store_->acknowledge_alert(first.value, "carol", 9'000).ok());  // no change
    EXPECT_FALSE(store_->resolve_alert(12345, "bob", 8'000).ok());
    AlertFilter all;
    listed = store_->alerts(all);
    ASSERT_EQ(listed.value.size(), 2u);
    EXPECT_EQ(listed.value[1].state, AlertState::Resolved);
    EXPECT_EQ(listed.value[1].changed_by, "bob");

    // Resolved, the same finding opens a new alert.
    const auto reopened = store_->raise_alert(scan);
    EXPECT_NE(reopened.value, first.value);
    AlertFilter severe;
    severe.min_severity = Severity::Medium;
    EXPECT_EQ(store_->alerts(severe).value.size(), 2u);
    AlertFilter page;
    page.limit = 1;
    page.before_id = reopened.value;
    ASSERT_EQ(store_->alerts(page).value.size(), 1u);
    EXPECT_LT(store_->alerts(page).value[0].id, reopened.value);
    EXPECT_EQ(store_->stats().value.open_alerts, 2u);
}

TEST_F(SqliteStore, Recommendations_putReplacesPerDeviceAndKind) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-1", "telnet-listening", RecommendationState::Open,
                                          R"({"port":23})", 1'000, 1'000})
                    .ok());
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-1", "telnet-listening", RecommendationState::Done,
                                          R"({"port":23})", 2'000, 2'000})
                    .ok());
    EXPECT_FALSE(
        store_->put_recommendation({"nobody", "k", RecommendationState::Open, "{}", 1, 1}).ok());
    const auto listed = store_->recommendations(std::string("dev-1"), std::nullopt);
    ASSERT_TRUE(listed.ok()) << listed.error;
    ASSERT_EQ(listed.value.size(), 1u);
    EXPECT_EQ(listed.value[0].state, RecommendationState::Done);
    EXPECT_EQ(listed.value[0].created_ms, 1'000);
    EXPECT_EQ(listed.value[0].updated_ms, 2'000);
    EXPECT_TRUE(store_->recommendations(std::nullopt, RecommendationState::Open).value.empty());
}

TEST_F(SqliteStore, DesiredConfig_versionsOnlyIncrease) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    const DesiredConfig config{ConfigScope::Device, "dev-1",      2,
                               "application/cbor",  {0xa1, 1, 2}, 5'000};
    ASSERT_TRUE(store_->set_desired_config(config).ok());
    DesiredConfig older = config;
    older.version = 2;
    older.body = {0};
    EXPECT_FALSE(store_->set_desired_config(older).ok());
    const auto stored = store_->desired_config(ConfigScope::Device, "dev-1");
    ASSERT_TRUE(stored.ok() && stored.value) << stored.error;
    EXPECT_EQ(stored.value->body, config.body);
    EXPECT_EQ(stored.value->version, 2u);
    EXPECT_EQ(store_->device_detail(detail_query("dev-1")).value->device.desired_config_version,
              2u);

    const DesiredConfig group{ConfigScope::Group, "cameras", 1, "application/json", {}, 6'000};
    ASSERT_TRUE(store_->set_desired_config(group).ok());
    const auto stored_group = store_->desired_config(ConfigScope::Group, "cameras");
    ASSERT_TRUE(stored_group.value);
    EXPECT_TRUE(stored_group.value->body.empty());
    EXPECT_FALSE(store_->desired_config(ConfigScope::Device, "cameras").value);
}

TEST_F(SqliteStore, DetectionState_savesAndLoads) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    EXPECT_FALSE(store_->load_detection_state("dev-1").value);
    const std::vector<uint8_t> state = {0, 1, 2, 0, 255};
    ASSERT_TRUE(store_->save_detection_state("dev-1", state, 2'000).ok());
    ASSERT_TRUE(store_->save_detection_state("dev-1", {9}, 3'000).ok());
    EXPECT_FALSE(store_->save_detection_state("nobody", state, 3'000).ok());
    store_ = open();  // another worker picks the device up
    const auto loaded = store_->load_detection_state("dev-1");
    ASSERT_TRUE(loaded.ok() && loaded.value) << loaded.error;
    EXPECT_EQ(*loaded.value, std::vector<uint8_t>{9});
}

TEST_F(SqliteStore, ApplyRetention_deletesOldTelemetryInChunks) {
    SqliteOptions options;
    options.retention_ms = 100'000;
    options.retention_chunk_messages = 2;
    store_ = open(options);
    std::vector<Report> reports;
    for (int i = 0; i < 20; ++i) {
        Report report = make_report("dev-1", "k" + std::to_string(i), 10'000 * (i + 1), 5);
        report.status = AgentStatus{};
        report.listening_ports = std::vector<ListeningPort>{{Protocol::Tcp, 22, "", ""}};
        report.overflow.push_back({4, Protocol::Tcp, 1, 1, 1, 1});
        report.interface_totals = InterfaceTotals{1, 1, 1, 1};
        reports.push_back(report);
    }
    write_ok(reports);

    // Cut-off 100'000: received 10'000 .. 90'000 go (9 reports), 100'000 .. 200'000 stay.
    const RetentionResult result = store_->apply_retention(200'000);
    ASSERT_TRUE(result.error.empty()) << result.error;
    EXPECT_EQ(result.flows, 45u);
    EXPECT_EQ(result.overflow, 9u);
    EXPECT_EQ(result.heartbeats, 9u);
    EXPECT_EQ(result.interface_totals, 9u);
    EXPECT_EQ(result.port_snapshots, 9u);
    EXPECT_EQ(result.messages, 9u);
    EXPECT_EQ(result.chunks, 5u);  // 9 messages, 2 per transaction
    const auto stats = store_->stats();
    EXPECT_EQ(stats.value.flows, 55u);
    EXPECT_EQ(stats.value.messages, 11u);
    const auto flows = store_->flows(flow_query("dev-1"));
    ASSERT_EQ(flows.value.flows.size(), 55u);
    EXPECT_EQ(flows.value.flows.front().received_ms, 100'000);
    // The latest ports and status stay on the device past retention.
    const auto detail = store_->device_detail(detail_query("dev-1"));
    EXPECT_TRUE(detail.value->listening_ports);
    EXPECT_TRUE(detail.value->status);
    EXPECT_EQ(store_->apply_retention(200'000).flows, 0u);
}

// WAL: a reader sees only committed batches, whole, while the writer keeps committing.
TEST_F(SqliteStore, ConcurrentReaders_seeWholeBatchesDuringWrites) {
    constexpr int kBatches = 150;
    constexpr int kReportsPerBatch = 10;
    std::atomic<bool> writing{true};
    std::atomic<int> reads{0};
    std::atomic<int> torn{0};
    std::atomic<int> failures{0};
    auto read_loop = [&] {
        while (writing.load()) {
            const auto stats = store_->stats();
            const auto devices = store_->list_devices({});
            if (!stats.ok() || !devices.ok()) {
                ++failures;
                continue;
            }
            if (stats.value.messages % kReportsPerBatch != 0 ||
                stats.value.flows != stats.value.messages * 3) {
                ++torn;
            }
            ++reads;
        }
    };
    std::thread reader_a(read_loop);
    std::thread reader_b(read_loop);
    for (int batch = 0; batch < kBatches; ++batch) {
        std::vector<Report> reports;
        for (int i = 0; i < kReportsPerBatch; ++i) {
            reports.push_back(make_report("dev-" + std::to_string(i), "k" + std::to_string(batch),
                                          1'000 + batch));
        }
        write_ok(reports);
    }
    writing = false;
    reader_a.join();
    reader_b.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(store_->stats().value.messages, static_cast<uint64_t>(kBatches * kReportsPerBatch));
}

uintmax_t file_bytes(const std::string& path) {
    std::error_code ignored;
    const uintmax_t size = std::filesystem::file_size(path, ignored);
    return size == static_cast<uintmax_t>(-1) ? 0 : size;
}

// The writer's commits leave checkpoints to the store's own thread: the WAL is copied into the
// database file while the store stays open, and what is there survives a reopen.
TEST_F(StoreTest, Checkpoints_copyTheWalIntoTheDatabaseWhileOpen) {
    store_.reset();
    SqliteOptions options;
    options.checkpoint_frames = 20;
    store_ = open(options);
    const uintmax_t empty = file_bytes(path_);
    for (int batch = 0; batch < 40; ++batch) {
        std::vector<Report> reports;
        for (int i = 0; i < 50; ++i) {
            reports.push_back(make_report("dev-" + std::to_string(i),
                                          std::to_string(batch) + ":" + std::to_string(i),
                                          1'700'000'000'000 + batch, 20));
        }
        write_ok(reports);
    }
    bool copied = false;
    for (int i = 0; i < 500 && !copied; ++i) {
        copied = file_bytes(path_) > empty + 512 * 1024;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(copied) << "database file " << file_bytes(path_) << " bytes, WAL "
                        << file_bytes(path_ + "-wal");
    store_.reset();
    store_ = open();
    const auto stats = store_->stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.messages, 2000u);
    EXPECT_EQ(stats.value.flows, 40000u);
}

}  // namespace
}  // namespace vigil::hub::testing

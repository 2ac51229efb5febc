// DeviceDirectory: listing, enrolment, flows and detail of the devices the reports created.
#include <algorithm>
#include <set>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

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
        const auto page = directory().list_devices(filter);
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
    const auto page = directory().list_devices(active);
    ASSERT_TRUE(page.ok());
    // i in [10, 25), even, not a multiple of 5: 12, 14, 16, 18, 22, 24.
    ASSERT_EQ(page.value.devices.size(), 6u);
    EXPECT_EQ(page.value.devices[0].id, "dev-112");

    ASSERT_TRUE(directory().set_enrolment("dev-112", Enrolment::Blocked).ok());
    DeviceFilter blocked;
    blocked.enrolment = Enrolment::Blocked;
    EXPECT_EQ(directory().list_devices(blocked).value.devices.size(), 1u);
}

TEST_F(SqliteStore, Enrolment_aDeviceEnrolledBeforeItReportsIsListedNeverSeen) {
    ASSERT_TRUE(directory().set_enrolment("dev-new", Enrolment::Enrolled).ok());
    const auto listed = directory().list_devices({});
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
    const auto detail = directory().device_detail(detail_query("dev-new"));
    ASSERT_TRUE(detail.ok()) << detail.error;
    ASSERT_TRUE(detail.value.has_value());
    EXPECT_EQ(detail.value->traffic.flows, 0u);

    // Never seen is neither recent nor old, and has no format.
    DeviceFilter recent;
    recent.seen_since_ms = 0;
    EXPECT_TRUE(directory().list_devices(recent).value.devices.empty());
    DeviceFilter stale;
    stale.seen_before_ms = INT64_MAX;
    EXPECT_TRUE(directory().list_devices(stale).value.devices.empty());
    DeviceFilter vigil_format;
    vigil_format.format = Format::Vigil;
    EXPECT_TRUE(directory().list_devices(vigil_format).value.devices.empty());
    DeviceFilter enrolled;
    enrolled.enrolment = Enrolment::Enrolled;
    EXPECT_EQ(directory().count_devices(enrolled).value, 1u);
    EXPECT_EQ(maintenance().stats().value.devices, 1u);
}

TEST_F(SqliteStore, Enrolment_theFirstMessageFillsTheRowAndKeepsTheEnrolment) {
    ASSERT_TRUE(directory().set_enrolment("dev-new", Enrolment::Enrolled).ok());
    Report first = make_report("dev-new", "k1", 5'000);
    first.format = Format::LegacyDefender;
    first.agent_version = "2.1";
    write_ok({first});
    write_ok({make_report("dev-new", "k0", 4'000)});  // older, arriving late
    const auto listed = directory().list_devices({});
    ASSERT_EQ(listed.value.devices.size(), 1u);
    const DeviceRow& device = listed.value.devices[0];
    EXPECT_EQ(device.enrolment, Enrolment::Enrolled);
    EXPECT_EQ(device.messages, 2u);
    EXPECT_EQ(device.format, Format::LegacyDefender);
    EXPECT_EQ(device.agent_version, "2.1");
    EXPECT_EQ(device.first_seen_ms, 4'000);
    EXPECT_EQ(device.last_seen_ms, 5'000);
    EXPECT_EQ(directory().flows(flow_query("dev-new")).value.flows.size(), 6u);
}

TEST_F(SqliteStore, Enrolment_blockingANeverSeenDeviceAndUnenrolledReporters) {
    // Revoked before it ever reported: listed as blocked, and stays so when a message that the
    // broker accepted before the revocation still arrives.
    ASSERT_TRUE(directory().set_enrolment("dev-cut", Enrolment::Blocked).ok());
    EXPECT_EQ(directory().list_devices({}).value.devices.at(0).enrolment, Enrolment::Blocked);
    write_ok({make_report("dev-cut", "k1", 1'000)});
    // A device that reports without having been enrolled here (an external broker) is pending.
    write_ok({make_report("dev-other", "k1", 2'000)});
    const auto listed = directory().list_devices({});
    ASSERT_EQ(listed.value.devices.size(), 2u);
    EXPECT_EQ(listed.value.devices[0].id, "dev-cut");
    EXPECT_EQ(listed.value.devices[0].enrolment, Enrolment::Blocked);
    EXPECT_EQ(listed.value.devices[0].messages, 1u);
    EXPECT_EQ(listed.value.devices[1].id, "dev-other");
    EXPECT_EQ(listed.value.devices[1].enrolment, Enrolment::Pending);
    // Enrolling it later marks its existing row and keeps its history.
    ASSERT_TRUE(directory().set_enrolment("dev-other", Enrolment::Enrolled).ok());
    const auto after = directory().list_devices({});
    EXPECT_EQ(after.value.devices[1].enrolment, Enrolment::Enrolled);
    EXPECT_EQ(after.value.devices[1].last_seen_ms, 2'000);
    EXPECT_EQ(after.value.devices.size(), 2u);
    // An id the schema refuses is an error, not a row.
    EXPECT_FALSE(directory().set_enrolment("", Enrolment::Enrolled).ok());
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
        const auto page = directory().flows(query);
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
    EXPECT_TRUE(directory().flows(flow_query("unknown")).value.flows.empty());
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
    const auto detail = directory().device_detail(query);
    ASSERT_TRUE(detail.ok()) << detail.error;
    const TrafficSummary& traffic = detail.value->traffic;
    EXPECT_EQ(traffic.flows, 4u);
    EXPECT_EQ(traffic.bytes_in, 555u);
    ASSERT_EQ(traffic.top_remotes.size(), 2u);
    EXPECT_EQ(traffic.top_remotes[0].remote, "b");
    EXPECT_EQ(traffic.top_remotes[0].bytes_in, 505u);
    EXPECT_EQ(traffic.top_remotes[0].flows, 2u);
    EXPECT_EQ(traffic.top_remotes[1].remote, "c");
    EXPECT_FALSE(directory().device_detail(detail_query("nobody")).value);
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
        EXPECT_TRUE(directory().list_devices(filter).value.devices.empty()) << attack;
        filter = {};
        filter.after = attack;
        EXPECT_TRUE(directory().list_devices(filter).ok()) << attack;
        EXPECT_TRUE(directory().flows(flow_query(attack)).value.flows.empty()) << attack;
        EXPECT_FALSE(directory().device_detail(detail_query(attack)).value) << attack;
        AlertFilter alerts;
        alerts.device_id = attack;
        alerts.type = attack;
        alerts.group = attack;
        EXPECT_TRUE(alert_store().alerts(alerts).value.empty()) << attack;
        RecommendationFilter recommendations;
        recommendations.device_id = attack;
        recommendations.group = attack;
        recommendations.kind = attack;
        EXPECT_TRUE(recommendation_store().recommendations(recommendations).value.empty())
            << attack;
        EXPECT_TRUE(recommendation_store().recommendation_summary(recommendations).value.empty())
            << attack;
        EXPECT_FALSE(detection_state_store().load_detection_state(attack).value) << attack;
        EXPECT_FALSE(config_store().desired_config(ConfigScope::Group, attack).value) << attack;
    }
    // A device whose id is an attack string is just a device with an odd name.
    write_ok({make_report("x'; DROP TABLE flows; --", "k1", 2'000)});
    const auto stats = maintenance().stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.devices, 2u);
    EXPECT_EQ(stats.value.flows, 6u);
    EXPECT_EQ(directory().flows(flow_query("x'; DROP TABLE flows; --")).value.flows.size(), 3u);
}

}  // namespace
}  // namespace vigil::hub::testing

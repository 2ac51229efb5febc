// AlertStore: one unresolved alert per device, type and subject; repeats update it; clears and
// people resolve it; states only move forward; the filters.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

AlertRaise port_scan(const std::string& device, const std::string& subject, int64_t observed_ms,
                     int64_t raised_ms) {
    AlertRaise alert;
    alert.device_id = device;
    alert.type = "scan.port_inbound";
    alert.category = AlertCategory::PortScanInbound;
    alert.subject = subject;
    alert.severity = Severity::Medium;
    alert.title = "Inbound port scan from " + subject;
    alert.description = "40 ports probed";
    alert.remediation = "Block the source at the firewall";
    alert.technique = "T0846 Remote System Discovery";
    alert.first_observed_ms = observed_ms - 100;
    alert.last_observed_ms = observed_ms;
    alert.raised_ms = raised_ms;
    alert.evidence_json = R"({"ports":40})";
    return alert;
}

TEST_F(SqliteStore, Alerts_raiseOpensThenRepeatsUpdateTheSameAlert) {
    write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000)});
    const auto first = alert_store().raise_alert(port_scan("dev-1", "203.0.113.9", 5'000, 50'000));
    ASSERT_TRUE(first.ok()) << first.error;
    EXPECT_EQ(first.value.change, AlertChange::Opened);
    const Alert& opened = first.value.alert;
    EXPECT_GT(opened.id, 0);
    EXPECT_EQ(opened.device_id, "dev-1");
    EXPECT_EQ(opened.type, "scan.port_inbound");
    EXPECT_EQ(opened.category, AlertCategory::PortScanInbound);
    EXPECT_EQ(opened.title, "Inbound port scan from 203.0.113.9");
    EXPECT_EQ(opened.remediation, "Block the source at the firewall");
    EXPECT_EQ(opened.technique, "T0846 Remote System Discovery");
    EXPECT_EQ(opened.first_observed_ms, 4'900);
    EXPECT_EQ(opened.last_observed_ms, 5'000);
    EXPECT_EQ(opened.raised_ms, 50'000);
    EXPECT_EQ(opened.last_raised_ms, 50'000);
    EXPECT_EQ(opened.count, 1u);
    EXPECT_EQ(opened.state, AlertState::Open);
    EXPECT_EQ(opened.suppressed_by, 0);

    // A repeat observed earlier than the latest (a late report) keeps the latest observed time;
    // severity only rises; description and evidence are the latest raise's.
    AlertRaise again = port_scan("dev-1", "203.0.113.9", 4'000, 60'000);
    again.severity = Severity::High;
    again.description = "90 ports probed";
    again.evidence_json = R"({"ports":90})";
    const auto repeated = alert_store().raise_alert(again);
    ASSERT_TRUE(repeated.ok()) << repeated.error;
    EXPECT_EQ(repeated.value.change, AlertChange::Repeated);
    const Alert& updated = repeated.value.alert;
    EXPECT_EQ(updated.id, opened.id);
    EXPECT_EQ(updated.count, 2u);
    EXPECT_EQ(updated.first_observed_ms, 3'900);
    EXPECT_EQ(updated.last_observed_ms, 5'000);
    EXPECT_EQ(updated.raised_ms, 50'000);
    EXPECT_EQ(updated.last_raised_ms, 60'000);
    EXPECT_EQ(updated.severity, Severity::High);
    EXPECT_EQ(updated.description, "90 ports probed");
    EXPECT_EQ(updated.evidence_json, R"({"ports":90})");
    again.severity = Severity::Low;
    EXPECT_EQ(alert_store().raise_alert(again).value.alert.severity, Severity::High);

    const auto stored = alert_store().alert(opened.id);
    ASSERT_TRUE(stored.ok()) << stored.error;
    ASSERT_TRUE(stored.value.has_value());
    EXPECT_EQ(stored.value->count, 3u);
    EXPECT_FALSE(alert_store().alert(opened.id + 1000).value.has_value());

    // Another subject, another device: other alerts. Unknown devices and bad evidence fail.
    EXPECT_NE(alert_store().raise_alert(port_scan("dev-1", "x", 1, 1)).value.alert.id, opened.id);
    EXPECT_NE(alert_store().raise_alert(port_scan("dev-2", "203.0.113.9", 1, 1)).value.alert.id,
              opened.id);
    EXPECT_FALSE(alert_store().raise_alert(port_scan("nobody", "x", 1, 1)).ok());
    AlertRaise bad = port_scan("dev-1", "y", 1, 1);
    bad.evidence_json = "not json";
    EXPECT_FALSE(alert_store().raise_alert(bad).ok());
    EXPECT_EQ(maintenance().stats().value.alerts, 3u);
}

TEST_F(SqliteStore, Alerts_acknowledgeResolveAndReopen) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    const AlertRaise scan = port_scan("dev-1", "203.0.113.9", 5'000, 50'000);
    const int64_t id = alert_store().raise_alert(scan).value.alert.id;
    ASSERT_TRUE(alert_store().acknowledge_alert(id, "alice", 7'000).ok());
    EXPECT_EQ(alert_store().alert(id).value->state, AlertState::Acknowledged);
    // Acknowledged is still unresolved: a repeat updates it.
    EXPECT_EQ(alert_store().raise_alert(scan).value.alert.id, id);
    ASSERT_TRUE(alert_store().resolve_alert(id, "bob", 8'000).ok());
    EXPECT_TRUE(alert_store().acknowledge_alert(id, "carol", 9'000).ok());  // no change
    const Alert resolved = *alert_store().alert(id).value;
    EXPECT_EQ(resolved.state, AlertState::Resolved);
    EXPECT_EQ(resolved.changed_by, "bob");
    EXPECT_EQ(resolved.changed_ms, 8'000);
    EXPECT_FALSE(alert_store().resolve_alert(12345, "bob", 8'000).ok());

    // Resolved, the same finding opens a new alert.
    const auto reopened = alert_store().raise_alert(scan);
    EXPECT_EQ(reopened.value.change, AlertChange::Opened);
    EXPECT_NE(reopened.value.alert.id, id);
    EXPECT_EQ(maintenance().stats().value.open_alerts, 1u);
}

TEST_F(SqliteStore, Alerts_clearResolvesTheUnresolvedAlertByDetection) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    const int64_t id =
        alert_store().raise_alert(port_scan("dev-1", "203.0.113.9", 5'000, 50'000)).value.alert.id;
    const auto nothing = alert_store().clear_alert({"dev-1", "scan.port_inbound", "other", 1, 2});
    ASSERT_TRUE(nothing.ok()) << nothing.error;
    EXPECT_FALSE(nothing.value.has_value());
    EXPECT_FALSE(alert_store().clear_alert({"nobody", "scan.port_inbound", "", 1, 2}).value);

    const auto cleared =
        alert_store().clear_alert({"dev-1", "scan.port_inbound", "203.0.113.9", 6'000, 70'000});
    ASSERT_TRUE(cleared.ok()) << cleared.error;
    ASSERT_TRUE(cleared.value.has_value());
    EXPECT_EQ(cleared.value->change, AlertChange::Resolved);
    EXPECT_EQ(cleared.value->alert.id, id);
    EXPECT_EQ(cleared.value->alert.state, AlertState::Resolved);
    EXPECT_EQ(cleared.value->alert.changed_by, "detection");
    EXPECT_EQ(cleared.value->alert.changed_ms, 70'000);
    // Cleared again: nothing left to resolve.
    EXPECT_FALSE(alert_store()
                     .clear_alert({"dev-1", "scan.port_inbound", "203.0.113.9", 6'000, 71'000})
                     .value);
}

TEST_F(SqliteStore, Alerts_filtersAndPages) {
    write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000),
              make_report("dev-3", "k1", 1'000)});
    ASSERT_TRUE(directory().set_device_group("dev-1", "lab").ok());
    ASSERT_TRUE(directory().set_device_group("dev-2", "lab").ok());
    AlertRaise beacon = port_scan("dev-2", "198.51.100.7", 20'000, 60'000);
    beacon.type = "beacon.periodic";
    beacon.category = AlertCategory::Beaconing;
    beacon.severity = Severity::High;
    const int64_t scan1 =
        alert_store().raise_alert(port_scan("dev-1", "a", 10'000, 1)).value.alert.id;
    const int64_t beacon2 = alert_store().raise_alert(beacon).value.alert.id;
    const int64_t scan3 =
        alert_store().raise_alert(port_scan("dev-3", "b", 30'000, 1)).value.alert.id;
    ASSERT_TRUE(alert_store().acknowledge_alert(scan3, "ops", 2).ok());

    const auto ids = [this](const AlertFilter& filter) {
        const auto found = alert_store().alerts(filter);
        EXPECT_TRUE(found.ok()) << found.error;
        std::vector<int64_t> out;
        for (const Alert& alert : found.value) {
            out.push_back(alert.id);
        }
        return out;
    };
    using Ids = std::vector<int64_t>;
    EXPECT_EQ(ids({}), (Ids{scan3, beacon2, scan1}));  // newest first
    AlertFilter filter;
    filter.group = "lab";
    EXPECT_EQ(ids(filter), (Ids{beacon2, scan1}));
    filter = {};
    filter.device_id = "dev-3";
    EXPECT_EQ(ids(filter), (Ids{scan3}));
    filter = {};
    filter.type = "beacon.periodic";
    EXPECT_EQ(ids(filter), (Ids{beacon2}));
    filter = {};
    filter.category = AlertCategory::PortScanInbound;
    EXPECT_EQ(ids(filter), (Ids{scan3, scan1}));
    filter = {};
    filter.state = AlertState::Acknowledged;
    EXPECT_EQ(ids(filter), (Ids{scan3}));
    filter = {};
    filter.min_severity = Severity::High;
    EXPECT_EQ(ids(filter), (Ids{beacon2}));
    // Observed windows: [9'900, 10'000], [19'900, 20'000], [29'900, 30'000] (device time).
    filter = {};
    filter.observed_since_ms = 20'000;
    EXPECT_EQ(ids(filter), (Ids{scan3, beacon2}));
    filter.observed_until_ms = 19'900;
    EXPECT_EQ(ids(filter), (Ids{beacon2}));
    filter = {};
    filter.observed_until_ms = 9'899;
    EXPECT_TRUE(ids(filter).empty());
    filter = {};
    filter.limit = 1;
    filter.before_id = scan3;
    EXPECT_EQ(ids(filter), (Ids{beacon2}));
}

}  // namespace
}  // namespace vigil::hub::testing

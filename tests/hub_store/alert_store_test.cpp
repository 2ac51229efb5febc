// AlertStore: one unresolved alert per device, kind and subject; states only move forward.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, Alerts_raiseUpdateAcknowledgeResolve) {
    write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000)});
    AlertRaise scan{"dev-1",          "port-scan", "203.0.113.9",
                    Severity::Medium, 5'000,       R"({"ports":40})"};
    const auto first = alert_store().raise_alert(scan);
    ASSERT_TRUE(first.ok()) << first.error;
    scan.seen_ms = 6'000;
    scan.severity = Severity::High;
    scan.details_json = R"({"ports":90})";
    const auto again = alert_store().raise_alert(scan);
    EXPECT_EQ(again.value, first.value);  // still open: the same alert
    ASSERT_TRUE(
        alert_store().raise_alert({"dev-2", "beaconing", "", Severity::Low, 5'500, "{}"}).ok());
    EXPECT_FALSE(alert_store().raise_alert({"nobody", "x", "", Severity::Low, 1, "{}"}).ok());
    EXPECT_FALSE(alert_store().raise_alert({"dev-1", "x", "", Severity::Low, 1, "not json"}).ok());

    AlertFilter open_on_dev1;
    open_on_dev1.device_id = "dev-1";
    open_on_dev1.state = AlertState::Open;
    auto listed = alert_store().alerts(open_on_dev1);
    ASSERT_TRUE(listed.ok()) << listed.error;
    ASSERT_EQ(listed.value.size(), 1u);
    const Alert& alert = listed.value[0];
    EXPECT_EQ(alert.count, 2u);
    EXPECT_EQ(alert.first_seen_ms, 5'000);
    EXPECT_EQ(alert.last_seen_ms, 6'000);
    EXPECT_EQ(alert.severity, Severity::High);
    EXPECT_EQ(alert.details_json, R"({"ports":90})");

    ASSERT_TRUE(alert_store().acknowledge_alert(first.value, "alice", 7'000).ok());
    EXPECT_TRUE(alert_store().alerts(open_on_dev1).value.empty());
    ASSERT_TRUE(alert_store().resolve_alert(first.value, "bob", 8'000).ok());
    EXPECT_TRUE(alert_store().acknowledge_alert(first.value, "carol", 9'000).ok());  // no change
    EXPECT_FALSE(alert_store().resolve_alert(12345, "bob", 8'000).ok());
    AlertFilter all;
    listed = alert_store().alerts(all);
    ASSERT_EQ(listed.value.size(), 2u);
    EXPECT_EQ(listed.value[1].state, AlertState::Resolved);
    EXPECT_EQ(listed.value[1].changed_by, "bob");

    // Resolved, the same finding opens a new alert.
    const auto reopened = alert_store().raise_alert(scan);
    EXPECT_NE(reopened.value, first.value);
    AlertFilter severe;
    severe.min_severity = Severity::Medium;
    EXPECT_EQ(alert_store().alerts(severe).value.size(), 2u);
    AlertFilter page;
    page.limit = 1;
    page.before_id = reopened.value;
    ASSERT_EQ(alert_store().alerts(page).value.size(), 1u);
    EXPECT_LT(alert_store().alerts(page).value[0].id, reopened.value);
    EXPECT_EQ(maintenance().stats().value.open_alerts, 2u);
}

}  // namespace
}  // namespace vigil::hub::testing

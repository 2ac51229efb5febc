// TelemetryWriter::commit_batch: reports and the detection effects they caused commit together or
// not at all, detection sees each report once, and a redelivered batch changes nothing.
#include <stdexcept>
#include <string>
#include <vector>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

std::vector<uint8_t> bytes(const std::string& text) {
    return std::vector<uint8_t>(text.begin(), text.end());
}

AlertRaise port_scan(const std::string& device, int64_t seen_ms, const std::string& subject) {
    AlertRaise alert;
    alert.device_id = device;
    alert.type = "scan.port_inbound";
    alert.category = AlertCategory::PortScanInbound;
    alert.subject = subject;
    alert.severity = Severity::High;
    alert.first_observed_ms = alert.last_observed_ms = seen_ms;
    alert.raised_ms = seen_ms + 5;
    return alert;
}

std::vector<int64_t> event_ids(const WriteResult& result) {
    std::vector<int64_t> ids;
    for (const AlertEvent& event : result.alert_events) {
        ids.push_back(event.alert.id);
    }
    return ids;
}

// A stand-in for a detection engine: per device, its state is the message keys it has seen, and
// every report raises (or raises again) one alert per device. It records what it was shown.
struct CountingDetection {
    std::vector<std::string> shown;  // "device/key", in the order shown

    DetectionStep step(DetectionStateStore& states) {
        return [this, &states](const std::vector<const Report*>& fresh) {
            Fetched<DetectionEffects> effects;
            for (const Report* report : fresh) {
                shown.push_back(report->device_id + "/" + report->message_key);
                // Reading from the store inside the step sees the state before this batch.
                const auto saved = states.load_detection_state(report->device_id);
                if (!saved.ok()) {
                    effects.error = saved.error;
                    return effects;
                }
                std::string state = saved.value
                                        ? std::string(saved.value->begin(), saved.value->end())
                                        : std::string();
                for (const DetectionStateChange& change : effects.value.states) {
                    if (change.device_id == report->device_id) {
                        state.assign(change.state.begin(), change.state.end());
                    }
                }
                state += report->message_key + ";";
                effects.value.states.push_back({report->device_id, bytes(state)});
                effects.value.alerts.push_back(
                    port_scan(report->device_id, report->received_ms, "203.0.113.9"));
            }
            return effects;
        };
    }
};

// Whether a batch was committed, storing `stored` reports and skipping `duplicates` redelivered.
::testing::AssertionResult committed(const WriteResult& result, size_t stored, size_t duplicates) {
    if (!result.ok) {
        return ::testing::AssertionFailure() << result.error;
    }
    if (result.stored != stored || result.duplicates != duplicates) {
        return ::testing::AssertionFailure()
               << "stored " << result.stored << " with " << result.duplicates
               << " duplicates; expected " << stored << " with " << duplicates;
    }
    return ::testing::AssertionSuccess();
}

std::string state_of(DetectionStateStore& states, const std::string& device) {
    const auto saved = states.load_detection_state(device);
    EXPECT_TRUE(saved.ok()) << saved.error;
    return saved.value ? std::string(saved.value->begin(), saved.value->end()) : "<none>";
}

std::vector<Alert> alerts_of(AlertStore& alerts, const std::string& device) {
    AlertFilter filter;
    filter.device_id = device;
    const auto found = alerts.alerts(filter);
    EXPECT_TRUE(found.ok()) << found.error;
    return found.value;
}

TEST_F(SqliteStore, CommitBatch_writesReportsStateAndAlertsInOneCommit) {
    CountingDetection detection;
    const WriteResult result = writer().commit_batch(
        {make_report("dev-1", "boot1:1", 1'000), make_report("dev-2", "boot1:1", 1'500),
         make_report("dev-1", "boot1:2", 2'000)},
        detection.step(detection_state_store()));
    ASSERT_TRUE(committed(result, 3, 0));
    EXPECT_EQ(detection.shown,
              (std::vector<std::string>{"dev-1/boot1:1", "dev-2/boot1:1", "dev-1/boot1:2"}));

    EXPECT_EQ(state_of(detection_state_store(), "dev-1"), "boot1:1;boot1:2;");
    EXPECT_EQ(state_of(detection_state_store(), "dev-2"), "boot1:1;");
    // One open alert per device, type and subject, counting each raise.
    const std::vector<Alert> alerts = alerts_of(alert_store(), "dev-1");
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].count, 2u);
    EXPECT_EQ(alerts[0].first_observed_ms, 1'000);
    EXPECT_EQ(alerts[0].last_observed_ms, 2'000);
    EXPECT_EQ(alerts[0].severity, Severity::High);
    EXPECT_EQ(event_ids(result),
              (std::vector<int64_t>{alerts[0].id, alerts_of(alert_store(), "dev-2").at(0).id,
                                    alerts[0].id}));
    ASSERT_EQ(result.alert_events.size(), 3u);
    EXPECT_EQ(result.alert_events[0].change, AlertChange::Opened);
    EXPECT_EQ(result.alert_events[0].alert.count, 1u);
    EXPECT_EQ(result.alert_events[2].change, AlertChange::Repeated);
    EXPECT_EQ(result.alert_events[2].alert.count, 2u);  // as it is after the change
    EXPECT_EQ(result.alert_events[2].alert.last_raised_ms, 2'005);
    EXPECT_EQ(maintenance().stats().value.messages, 3u);
}

// A batch delivered again (the hub died before the broker got its acknowledgement) changes neither
// the state nor the alert counts: detection is not even asked.
TEST_F(SqliteStore, CommitBatch_redeliveredBatchChangesNeitherStateNorAlerts) {
    const std::vector<Report> batch = {make_report("dev-1", "boot1:1", 1'000),
                                       make_report("dev-1", "boot1:2", 2'000)};
    CountingDetection detection;
    ASSERT_TRUE(writer().commit_batch(batch, detection.step(detection_state_store())).ok);
    store_ = open();  // as after a restart

    CountingDetection again;
    const WriteResult result = writer().commit_batch(batch, again.step(detection_state_store()));
    ASSERT_TRUE(committed(result, 0, 2));
    EXPECT_TRUE(result.alert_events.empty());
    EXPECT_TRUE(again.shown.empty());
    EXPECT_EQ(state_of(detection_state_store(), "dev-1"), "boot1:1;boot1:2;");
    const std::vector<Alert> alerts = alerts_of(alert_store(), "dev-1");
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].count, 2u);
    EXPECT_EQ(alerts[0].last_observed_ms, 2'000);
}

// A batch that mixes redelivered and new reports: detection sees only the new ones, in order,
// and its state and alerts count each report once.
TEST_F(SqliteStore, CommitBatch_detectionSeesOnlyTheNewReports) {
    CountingDetection detection;
    ASSERT_TRUE(writer()
                    .commit_batch({make_report("dev-1", "boot1:1", 1'000)},
                                  detection.step(detection_state_store()))
                    .ok);
    const WriteResult result = writer().commit_batch(
        {make_report("dev-1", "boot1:1", 1'000), make_report("dev-1", "boot1:2", 2'000),
         make_report("dev-1", "boot1:2", 2'000), make_report("dev-1", "boot1:3", 3'000)},
        detection.step(detection_state_store()));
    ASSERT_TRUE(committed(result, 2, 2));
    EXPECT_EQ(detection.shown,
              (std::vector<std::string>{"dev-1/boot1:1", "dev-1/boot1:2", "dev-1/boot1:3"}));
    EXPECT_EQ(state_of(detection_state_store(), "dev-1"), "boot1:1;boot1:2;boot1:3;");
    EXPECT_EQ(alerts_of(alert_store(), "dev-1").at(0).count, 3u);
}

// Detection failing rolls the reports back with it: nothing of the batch is stored, so the same
// batch retried later is new again, and then counted once.
TEST_F(SqliteStore, CommitBatch_detectionErrorRollsBackTheReports) {
    write_ok({make_report("dev-1", "boot1:1", 1'000)});
    const std::vector<Report> batch = {make_report("dev-1", "boot1:2", 2'000),
                                       make_report("dev-2", "boot1:1", 2'000)};
    const WriteResult failed = writer().commit_batch(batch, [](const std::vector<const Report*>&) {
        Fetched<DetectionEffects> effects;
        effects.error = "policy not loaded";
        return effects;
    });
    EXPECT_FALSE(failed.ok);
    EXPECT_EQ(failed.stored, 0u);
    EXPECT_NE(failed.error.find("policy not loaded"), std::string::npos) << failed.error;
    const auto stats = maintenance().stats();
    EXPECT_EQ(stats.value.devices, 1u);
    EXPECT_EQ(stats.value.messages, 1u);
    EXPECT_EQ(stats.value.flows, 3u);

    CountingDetection detection;
    const WriteResult retry = writer().commit_batch(batch, detection.step(detection_state_store()));
    ASSERT_TRUE(retry.ok) << retry.error;
    EXPECT_EQ(retry.stored, 2u);
    EXPECT_EQ(state_of(detection_state_store(), "dev-1"), "boot1:2;");
    EXPECT_EQ(alerts_of(alert_store(), "dev-1").at(0).count, 1u);
}

// A detection step that throws leaves the store as it was, and usable: the transaction and the
// writer's lock go with the exception.
TEST_F(SqliteStore, CommitBatch_throwingDetectionRollsBackAndReleasesTheWriter) {
    const std::vector<Report> batch = {make_report("dev-1", "boot1:1", 1'000)};
    EXPECT_THROW(
        writer().commit_batch(batch,
                              [](const std::vector<const Report*>&) -> Fetched<DetectionEffects> {
                                  throw std::runtime_error("rule crashed");
                              }),
        std::runtime_error);
    EXPECT_EQ(maintenance().stats().value.messages, 0u);
    const WriteResult retry = writer().write_batch(batch);
    ASSERT_TRUE(retry.ok) << retry.error;
    EXPECT_EQ(retry.stored, 1u);
}

// An effect the store refuses (an alert for a device it does not know), after a state change and
// an alert it accepted: the reports, the state and the first alert all roll back.
TEST_F(SqliteStore, CommitBatch_failingEffectRollsBackReportsStateAndAlerts) {
    const WriteResult failed = writer().commit_batch(
        {make_report("dev-1", "boot1:1", 1'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.states.push_back({"dev-1", bytes("seen")});
            effects.value.alerts.push_back(port_scan("dev-1", 1'000, "a"));
            effects.value.alerts.push_back(port_scan("dev-unknown", 1'000, "b"));
            return effects;
        });
    EXPECT_FALSE(failed.ok);
    EXPECT_TRUE(failed.alert_events.empty());
    EXPECT_NE(failed.error.find("dev-unknown"), std::string::npos) << failed.error;

    const auto stats = maintenance().stats();
    EXPECT_EQ(stats.value.devices, 0u);
    EXPECT_EQ(stats.value.messages, 0u);
    EXPECT_EQ(stats.value.alerts, 0u);
    EXPECT_EQ(state_of(detection_state_store(), "dev-1"), "<none>");

    // A state for a device that is neither in the batch nor stored fails the same way.
    const WriteResult unknown_state = writer().commit_batch(
        {make_report("dev-1", "boot1:1", 1'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.states.push_back({"dev-unknown", bytes("seen")});
            return effects;
        });
    EXPECT_FALSE(unknown_state.ok);
    EXPECT_EQ(maintenance().stats().value.messages, 0u);
}

// Alerts raised through a batch follow raise_alert's rules: a resolved alert is not reopened, a
// new one is; severity only rises.
TEST_F(SqliteStore, CommitBatch_alertsFollowRaiseAlertRules) {
    write_ok({make_report("dev-1", "boot1:1", 1'000)});
    const auto first = alert_store().raise_alert(port_scan("dev-1", 1'000, "x"));
    ASSERT_TRUE(first.ok()) << first.error;
    ASSERT_TRUE(alert_store().resolve_alert(first.value.alert.id, "ops", 1'100).ok());

    const WriteResult result = writer().commit_batch(
        {make_report("dev-1", "boot1:2", 2'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            AlertRaise low = port_scan("dev-1", 2'000, "x");
            low.severity = Severity::Low;
            effects.value.alerts = {port_scan("dev-1", 2'000, "x"), low};
            return effects;
        });
    ASSERT_TRUE(result.ok) << result.error;
    const std::vector<int64_t> ids = event_ids(result);
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_NE(ids[0], first.value.alert.id);
    EXPECT_EQ(ids[0], ids[1]);
    const std::vector<Alert> alerts = alerts_of(alert_store(), "dev-1");
    ASSERT_EQ(alerts.size(), 2u);
    EXPECT_EQ(alerts[0].id, ids[0]);  // newest first
    EXPECT_EQ(alerts[0].state, AlertState::Open);
    EXPECT_EQ(alerts[0].count, 2u);
    EXPECT_EQ(alerts[0].severity, Severity::High);
    EXPECT_EQ(alerts[1].state, AlertState::Resolved);
    EXPECT_EQ(alerts[1].count, 1u);
}

}  // namespace
}  // namespace vigil::hub::testing

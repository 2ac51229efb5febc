// RecommendationStore: one recommendation per device, kind and subject, opened, updated,
// reopened and closed by the checks' scans (alone or with a batch), dismissed by people.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

RecommendationFinding cleartext(const std::string& subject, const std::string& key,
                                Severity severity = Severity::High) {
    RecommendationFinding finding;
    finding.kind = "service.cleartext";
    finding.subject = subject;
    finding.severity = severity;
    finding.title = "Telnet listens on " + subject;
    finding.rationale = "Anyone on the path reads the password.";
    finding.remediation = "Turn telnet off; use SSH.";
    finding.evidence_json = R"({"port":")" + subject + R"(","key":")" + key + R"("})";
    finding.evidence_key = key;
    return finding;
}

RecommendationScan scan(const std::string& device, int64_t observed_ms,
                        std::vector<RecommendationFinding> findings,
                        const std::string& kind = "service.cleartext") {
    RecommendationScan result;
    result.device_id = device;
    result.kind = kind;
    result.findings = std::move(findings);
    result.observed_ms = observed_ms;
    result.scanned_ms = observed_ms + 7;
    return result;
}

std::vector<std::pair<RecommendationChange, std::string>> changes(
    const std::vector<RecommendationEvent>& events) {
    std::vector<std::pair<RecommendationChange, std::string>> result;
    for (const RecommendationEvent& event : events) {
        result.emplace_back(event.change, event.recommendation.subject);
    }
    return result;
}

class Recommendations : public StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000)});
    }

    std::vector<RecommendationEvent> apply(const RecommendationScan& applied) {
        auto result = recommendation_store().apply_recommendation_scan(applied);
        EXPECT_TRUE(result.ok()) << result.error;
        return result.value;
    }

    Recommendation only(const std::string& device, const std::string& subject) {
        RecommendationFilter filter;
        filter.device_id = device;
        for (const Recommendation& found : recommendation_store().recommendations(filter).value) {
            if (found.subject == subject) {
                return found;
            }
        }
        ADD_FAILURE() << "no recommendation " << device << "/" << subject;
        return {};
    }
};

using Change = RecommendationChange;
using State = RecommendationState;

TEST_F(Recommendations, Scan_opensOnePerSubjectWithItsWordsEvidenceAndBothClocks) {
    const auto events = apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].change, Change::Opened);
    const Recommendation& opened = events[0].recommendation;
    EXPECT_GT(opened.id, 0);
    EXPECT_EQ(opened.device_id, "dev-1");
    EXPECT_EQ(opened.kind, "service.cleartext");
    EXPECT_EQ(opened.subject, "tcp/23");
    EXPECT_EQ(opened.state, State::Open);
    EXPECT_EQ(opened.severity, Severity::High);
    EXPECT_EQ(opened.title, "Telnet listens on tcp/23");
    EXPECT_EQ(opened.rationale, "Anyone on the path reads the password.");
    EXPECT_EQ(opened.remediation, "Turn telnet off; use SSH.");
    EXPECT_EQ(opened.evidence_json, R"({"port":"tcp/23","key":"telnet"})");
    EXPECT_EQ(opened.evidence_key, "telnet");
    EXPECT_EQ(opened.first_observed_ms, 5'000);
    EXPECT_EQ(opened.last_observed_ms, 5'000);
    EXPECT_EQ(opened.opened_ms, 5'007);
    EXPECT_EQ(opened.updated_ms, 5'007);
    EXPECT_EQ(opened.closed_ms, 0);
    const auto read = recommendation_store().recommendation(opened.id);
    ASSERT_TRUE(read.ok()) << read.error;
    ASSERT_TRUE(read.value.has_value());
    EXPECT_EQ(read.value->evidence_json, opened.evidence_json);
    EXPECT_FALSE(recommendation_store().recommendation(opened.id + 100).value.has_value());
}

// Found again with the same evidence key: no event, only the latest evidence and observation.
TEST_F(Recommendations, Scan_sameKeyRefreshesSilentlyAndAnotherKeyUpdates) {
    const int64_t id =
        apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}))[0].recommendation.id;
    RecommendationFinding again = cleartext("tcp/23", "telnet");
    again.evidence_json = R"({"flows":3})";
    EXPECT_TRUE(apply(scan("dev-1", 6'000, {again})).empty());
    Recommendation now = only("dev-1", "tcp/23");
    EXPECT_EQ(now.id, id);
    EXPECT_EQ(now.evidence_json, R"({"flows":3})");
    EXPECT_EQ(now.first_observed_ms, 5'000);
    EXPECT_EQ(now.last_observed_ms, 6'000);
    EXPECT_EQ(now.updated_ms, 5'007);

    const auto events =
        apply(scan("dev-1", 7'000, {cleartext("tcp/23", "telnet busybox", Severity::Critical)}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].change, Change::Updated);
    EXPECT_EQ(events[0].recommendation.id, id);
    EXPECT_EQ(events[0].recommendation.evidence_key, "telnet busybox");
    EXPECT_EQ(events[0].recommendation.severity, Severity::Critical);
    EXPECT_EQ(events[0].recommendation.first_observed_ms, 5'000);
    EXPECT_EQ(events[0].recommendation.last_observed_ms, 7'000);
    EXPECT_EQ(events[0].recommendation.opened_ms, 5'007);
    EXPECT_EQ(events[0].recommendation.updated_ms, 7'007);
}

// A finding whose key holds all its evidence shows (a release and its CVEs) keeps the evidence
// of the report that opened it, open or dismissed; another key still updates it.
TEST_F(Recommendations, Scan_sameKeyKeepsTheEvidenceOfAFindingThatSaysSo) {
    RecommendationFinding first = cleartext("tcp/23", "telnet");
    first.refresh_evidence = false;
    first.evidence_json = R"({"message_key":"b:1"})";
    const int64_t id = apply(scan("dev-1", 5'000, {first}))[0].recommendation.id;
    RecommendationFinding again = first;
    again.evidence_json = R"({"message_key":"b:2"})";
    again.title = "not shown";
    EXPECT_TRUE(apply(scan("dev-1", 6'000, {again})).empty());
    Recommendation now = only("dev-1", "tcp/23");
    EXPECT_EQ(now.evidence_json, R"({"message_key":"b:1"})");
    EXPECT_EQ(now.title, first.title);
    EXPECT_EQ(now.last_observed_ms, 6'000);
    EXPECT_EQ(now.updated_ms, 5'007);

    ASSERT_TRUE(recommendation_store().dismiss_recommendation(id, "bench", "ops", 6'500).ok());
    EXPECT_TRUE(apply(scan("dev-1", 7'000, {again})).empty());
    now = only("dev-1", "tcp/23");
    EXPECT_EQ(now.state, State::Dismissed);
    EXPECT_EQ(now.evidence_json, R"({"message_key":"b:1"})");
    EXPECT_EQ(now.last_observed_ms, 7'000);

    RecommendationFinding changed = again;
    changed.evidence_key = "telnet busybox";
    const auto events = apply(scan("dev-1", 8'000, {changed}));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].change, Change::Reopened);
    EXPECT_EQ(events[0].recommendation.evidence_json, R"({"message_key":"b:2"})");
}

// A scan is the device's whole answer for its kind: subjects it no longer shows close, other
// kinds and other devices are left alone, and the closed one reopens when found again.
TEST_F(Recommendations, Scan_closesWhatItNoLongerShowsAndReopensWhatReturns) {
    apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet"), cleartext("tcp/21", "ftp")}));
    apply(scan("dev-2", 5'000, {cleartext("tcp/23", "telnet")}));
    RecommendationFinding firmware = cleartext("netxduo", "netxduo 6.1");
    firmware.kind = "firmware.vulnerable";
    apply(scan("dev-1", 5'000, {firmware}, "firmware.vulnerable"));

    const auto closed = apply(scan("dev-1", 8'000, {cleartext("tcp/21", "ftp")}));
    ASSERT_EQ(changes(closed),
              (std::vector<std::pair<Change, std::string>>{{Change::Closed, "tcp/23"}}));
    EXPECT_EQ(closed[0].recommendation.state, State::Closed);
    EXPECT_EQ(closed[0].recommendation.closed_ms, 8'007);
    EXPECT_EQ(only("dev-1", "tcp/21").state, State::Open);
    EXPECT_EQ(only("dev-1", "netxduo").state, State::Open);
    EXPECT_EQ(only("dev-2", "tcp/23").state, State::Open);
    // Closing again changes nothing.
    EXPECT_TRUE(apply(scan("dev-1", 8'500, {cleartext("tcp/21", "ftp")})).empty());

    const auto reopened = apply(scan("dev-1", 9'000, {cleartext("tcp/23", "telnet")}));
    ASSERT_EQ(changes(reopened), (std::vector<std::pair<Change, std::string>>{
                                     {Change::Reopened, "tcp/23"}, {Change::Closed, "tcp/21"}}));
    const Recommendation& back = reopened[0].recommendation;
    EXPECT_EQ(back.id, closed[0].recommendation.id);
    EXPECT_EQ(back.state, State::Open);
    EXPECT_EQ(back.closed_ms, 0);
    EXPECT_EQ(back.first_observed_ms, 9'000);
    EXPECT_EQ(back.opened_ms, 9'007);

    // An empty scan: the device is clear of the kind.
    const auto clear = apply(scan("dev-1", 10'000, {}));
    EXPECT_EQ(changes(clear),
              (std::vector<std::pair<Change, std::string>>{{Change::Closed, "tcp/23"}}));
}

// A dismissal holds to its evidence: found again with the key it was dismissed with, it stays
// dismissed; with another key, it reopens; no longer found, it closes. The reason stays.
TEST_F(Recommendations, Dismissed_staysForTheSameEvidenceReopensForNewAndCloses) {
    const int64_t id =
        apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}))[0].recommendation.id;
    const auto dismissed =
        recommendation_store().dismiss_recommendation(id, "lab device", "token:ops", 5'500);
    ASSERT_TRUE(dismissed.ok()) << dismissed.error;
    EXPECT_EQ(dismissed.value.change, Change::Dismissed);
    EXPECT_EQ(dismissed.value.recommendation.state, State::Dismissed);
    EXPECT_EQ(dismissed.value.recommendation.dismissed_reason, "lab device");
    EXPECT_EQ(dismissed.value.recommendation.dismissed_by, "token:ops");
    EXPECT_EQ(dismissed.value.recommendation.dismissed_ms, 5'500);
    EXPECT_EQ(dismissed.value.recommendation.dismissed_key, "telnet");
    EXPECT_EQ(dismissed.value.recommendation.updated_ms, 5'500);

    EXPECT_TRUE(apply(scan("dev-1", 6'000, {cleartext("tcp/23", "telnet")})).empty());
    EXPECT_EQ(only("dev-1", "tcp/23").state, State::Dismissed);
    EXPECT_EQ(only("dev-1", "tcp/23").last_observed_ms, 6'000);

    const auto reopened = apply(scan("dev-1", 7'000, {cleartext("tcp/23", "telnet v2")}));
    ASSERT_EQ(reopened.size(), 1u);
    EXPECT_EQ(reopened[0].change, Change::Reopened);
    EXPECT_EQ(reopened[0].recommendation.state, State::Open);
    EXPECT_EQ(reopened[0].recommendation.evidence_key, "telnet v2");
    EXPECT_EQ(reopened[0].recommendation.dismissed_reason, "lab device");
    EXPECT_EQ(reopened[0].recommendation.dismissed_key, "telnet");

    // Dismissed again (a new reason replaces the old), then no longer found: closed.
    ASSERT_TRUE(recommendation_store().dismiss_recommendation(id, "first", "token:a", 7'100).ok());
    const auto replaced =
        recommendation_store().dismiss_recommendation(id, "second", "token:b", 7'200);
    ASSERT_TRUE(replaced.ok()) << replaced.error;
    EXPECT_EQ(replaced.value.recommendation.dismissed_reason, "second");
    EXPECT_EQ(replaced.value.recommendation.dismissed_key, "telnet v2");
    const auto closed = apply(scan("dev-1", 8'000, {}));
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].change, Change::Closed);
    EXPECT_EQ(closed[0].recommendation.closed_ms, 8'007);
}

TEST_F(Recommendations, Dismiss_refusesMissingClosedAndWithoutReason) {
    const int64_t id =
        apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}))[0].recommendation.id;
    const auto no_reason = recommendation_store().dismiss_recommendation(id, "", "token:ops", 1);
    EXPECT_FALSE(no_reason.ok());
    EXPECT_NE(no_reason.error.find("reason"), std::string::npos) << no_reason.error;
    const auto missing =
        recommendation_store().dismiss_recommendation(id + 1, "why", "token:ops", 1);
    EXPECT_FALSE(missing.ok());
    EXPECT_NE(missing.error.find("no recommendation"), std::string::npos) << missing.error;
    apply(scan("dev-1", 6'000, {}));
    const auto closed = recommendation_store().dismiss_recommendation(id, "why", "token:ops", 1);
    EXPECT_FALSE(closed.ok());
    EXPECT_NE(closed.error.find("closed"), std::string::npos) << closed.error;
    EXPECT_EQ(only("dev-1", "tcp/23").state, State::Closed);
    EXPECT_EQ(only("dev-1", "tcp/23").dismissed_reason, "");
}

TEST_F(Recommendations, Scan_refusesAnUnknownDeviceAndAFindingOfAnotherKind) {
    EXPECT_FALSE(recommendation_store()
                     .apply_recommendation_scan(scan("nobody", 1, {cleartext("tcp/23", "t")}))
                     .ok());
    RecommendationFinding other = cleartext("tcp/23", "t");
    other.kind = "firmware.vulnerable";
    const auto mixed = recommendation_store().apply_recommendation_scan(
        scan("dev-1", 1, {cleartext("tcp/21", "ftp"), other}));
    EXPECT_FALSE(mixed.ok());
    EXPECT_TRUE(mixed.value.empty());
    // Nothing of the refused scan stays.
    EXPECT_TRUE(recommendation_store().recommendations({}).value.empty());
    RecommendationFinding bad_json = cleartext("tcp/23", "t");
    bad_json.evidence_json = "{";
    EXPECT_FALSE(
        recommendation_store().apply_recommendation_scan(scan("dev-1", 1, {bad_json})).ok());
}

TEST_F(Recommendations, List_filtersAndPagesNewestFirst) {
    ASSERT_TRUE(directory().set_device_group("dev-2", "cameras").ok());
    apply(scan("dev-1", 5'000,
               {cleartext("tcp/23", "telnet"), cleartext("tcp/21", "ftp", Severity::Low)}));
    apply(scan("dev-2", 5'000, {cleartext("tcp/23", "telnet", Severity::Medium)}));
    RecommendationFinding firmware = cleartext("netxduo", "netxduo 6.1", Severity::Critical);
    firmware.kind = "firmware.vulnerable";
    apply(scan("dev-2", 5'000, {firmware}, "firmware.vulnerable"));
    const int64_t dismissed = only("dev-1", "tcp/21").id;
    ASSERT_TRUE(
        recommendation_store().dismiss_recommendation(dismissed, "why", "token:ops", 6'000).ok());

    auto subjects = [&](const RecommendationFilter& filter) {
        std::vector<std::string> result;
        const auto listed = recommendation_store().recommendations(filter);
        EXPECT_TRUE(listed.ok()) << listed.error;
        for (const Recommendation& found : listed.value) {
            result.push_back(found.device_id + "/" + found.subject);
        }
        return result;
    };
    using Subjects = std::vector<std::string>;
    EXPECT_EQ(subjects({}),
              (Subjects{"dev-2/netxduo", "dev-2/tcp/23", "dev-1/tcp/21", "dev-1/tcp/23"}));
    RecommendationFilter filter;
    filter.device_id = "dev-1";
    EXPECT_EQ(subjects(filter), (Subjects{"dev-1/tcp/21", "dev-1/tcp/23"}));
    filter = {};
    filter.group = "cameras";
    EXPECT_EQ(subjects(filter), (Subjects{"dev-2/netxduo", "dev-2/tcp/23"}));
    filter = {};
    filter.kind = "service.cleartext";
    filter.state = State::Open;
    EXPECT_EQ(subjects(filter), (Subjects{"dev-2/tcp/23", "dev-1/tcp/23"}));
    filter = {};
    filter.min_severity = Severity::High;
    EXPECT_EQ(subjects(filter), (Subjects{"dev-2/netxduo", "dev-1/tcp/23"}));
    filter = {};
    filter.limit = 3;
    const auto first = recommendation_store().recommendations(filter).value;
    ASSERT_EQ(first.size(), 3u);
    filter.before_id = first.back().id;
    EXPECT_EQ(subjects(filter), (Subjects{"dev-1/tcp/23"}));
}

// By kind: how many devices each state has, the highest severity among the open ones, the words
// of the latest, most open devices first.
TEST_F(Recommendations, Summary_countsDevicesPerStateByKind) {
    write_ok({make_report("dev-3", "k1", 1'000)});
    ASSERT_TRUE(directory().set_device_group("dev-3", "cameras").ok());
    apply(scan("dev-1", 5'000,
               {cleartext("tcp/23", "telnet", Severity::Medium), cleartext("tcp/21", "ftp")}));
    apply(scan("dev-2", 5'000, {cleartext("tcp/23", "telnet", Severity::Low)}));
    apply(scan("dev-3", 5'000, {cleartext("tcp/23", "telnet", Severity::Medium)}));
    apply(scan("dev-3", 6'000, {}));
    RecommendationFinding firmware = cleartext("netxduo", "netxduo 6.1", Severity::Critical);
    firmware.kind = "firmware.vulnerable";
    firmware.title = "NetX Duo 6.1 has 9 published vulnerabilities";
    apply(scan("dev-2", 5'000, {firmware}, "firmware.vulnerable"));
    ASSERT_TRUE(recommendation_store()
                    .dismiss_recommendation(only("dev-2", "netxduo").id, "isolated", "token:o", 1)
                    .ok());

    const auto summary = recommendation_store().recommendation_summary({});
    ASSERT_TRUE(summary.ok()) << summary.error;
    ASSERT_EQ(summary.value.size(), 2u);
    const RecommendationKindSummary& services = summary.value[0];
    EXPECT_EQ(services.kind, "service.cleartext");
    EXPECT_EQ(services.open_devices, 2u);  // dev-1 has two, counted once
    EXPECT_EQ(services.dismissed_devices, 0u);
    EXPECT_EQ(services.closed_devices, 1u);
    EXPECT_EQ(services.severity, Severity::High);
    EXPECT_EQ(services.title, "Telnet listens on tcp/23");  // dev-3's, closed last
    const RecommendationKindSummary& firmwares = summary.value[1];
    EXPECT_EQ(firmwares.kind, "firmware.vulnerable");
    EXPECT_EQ(firmwares.open_devices, 0u);
    EXPECT_EQ(firmwares.dismissed_devices, 1u);
    EXPECT_EQ(firmwares.severity, Severity::Info);  // nothing open
    EXPECT_EQ(firmwares.title, "NetX Duo 6.1 has 9 published vulnerabilities");

    RecommendationFilter cameras;
    cameras.group = "cameras";
    cameras.kind = "ignored";
    const auto grouped = recommendation_store().recommendation_summary(cameras);
    ASSERT_EQ(grouped.value.size(), 1u);
    EXPECT_EQ(grouped.value[0].closed_devices, 1u);
    EXPECT_EQ(grouped.value[0].open_devices, 0u);
}

// commit_batch applies the scans after the alerts' clears, in the batch's transaction, and
// answers their events; a batch that rolls back changes no recommendation.
TEST_F(Recommendations, CommitBatch_appliesScansWithTheBatchOrNotAtAll) {
    const int64_t id =
        apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}))[0].recommendation.id;
    const WriteResult written = writer().commit_batch(
        {make_report("dev-1", "k2", 9'000), make_report("dev-3", "k1", 9'000)},
        [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.recommendation_scans.push_back(
                scan("dev-1", 8'500, {cleartext("tcp/21", "ftp")}));
            // A device whose first report is in this very batch.
            effects.value.recommendation_scans.push_back(
                scan("dev-3", 8'500, {cleartext("tcp/23", "telnet")}));
            return effects;
        });
    ASSERT_TRUE(written.ok) << written.error;
    EXPECT_TRUE(written.alert_events.empty());
    std::vector<std::string> seen;
    for (const RecommendationEvent& event : written.recommendation_events) {
        seen.push_back(std::string(to_string(event.change)) + " " + event.recommendation.device_id +
                       "/" + event.recommendation.subject);
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"opened dev-1/tcp/21", "closed dev-1/tcp/23",
                                              "opened dev-3/tcp/23"}));

    const WriteResult failed = writer().commit_batch(
        {make_report("dev-1", "k3", 10'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.recommendation_scans.push_back(
                scan("dev-1", 9'500, {cleartext("tcp/23", "telnet")}));
            effects.value.recommendation_scans.push_back(
                scan("dev-unknown", 9'500, {cleartext("tcp/23", "telnet")}));
            return effects;
        });
    EXPECT_FALSE(failed.ok);
    EXPECT_TRUE(failed.recommendation_events.empty());
    EXPECT_NE(failed.error.find("dev-unknown"), std::string::npos) << failed.error;
    EXPECT_EQ(recommendation_store().recommendation(id).value->state, State::Closed);
    EXPECT_EQ(only("dev-1", "tcp/21").state, State::Open);
    EXPECT_EQ(maintenance().stats().value.messages, 4u);  // k3 rolled back too
}

// A scan that finds nothing closes what is open of its kind, also in a batch where an earlier
// scan of the same device opened it; where nothing is open it changes nothing.
TEST_F(Recommendations, CommitBatch_emptyScansCloseWhatIsOpenEvenWhenTheBatchOpenedIt) {
    apply(scan("dev-1", 5'000, {cleartext("tcp/23", "telnet")}));
    const WriteResult written = writer().commit_batch(
        {make_report("dev-1", "k2", 9'000), make_report("dev-2", "k2", 9'000)},
        [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            auto& scans = effects.value.recommendation_scans;
            scans.push_back(scan("dev-1", 8'100, {}));  // closes tcp/23
            scans.push_back(scan("dev-2", 8'100, {}));  // nothing open: nothing to do
            scans.push_back(scan("dev-2", 8'200, {cleartext("tcp/21", "ftp")}));
            scans.push_back(scan("dev-2", 8'300, {}));  // closes what the batch opened
            scans.push_back(scan("dev-2", 8'400, {}, "identity.shared"));
            return effects;
        });
    ASSERT_TRUE(written.ok) << written.error;
    std::vector<std::string> seen;
    for (const RecommendationEvent& event : written.recommendation_events) {
        seen.push_back(std::string(to_string(event.change)) + " " + event.recommendation.device_id +
                       "/" + event.recommendation.subject);
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"closed dev-1/tcp/23", "opened dev-2/tcp/21",
                                              "closed dev-2/tcp/21"}));
    EXPECT_EQ(only("dev-1", "tcp/23").state, State::Closed);
    EXPECT_EQ(only("dev-2", "tcp/21").state, State::Closed);
}

}  // namespace
}  // namespace vigil::hub::testing

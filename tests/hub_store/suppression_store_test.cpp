// Suppressions: which new alerts they match (device or group, type, subject glob, expiry), the
// count they keep, the policy file's replaced whole, and patterns meant to hurt.
#include <chrono>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Suppressions : public StoreTest {
  protected:
    void SetUp() override {
        StoreTest::SetUp();
        write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k1", 1'000),
                  make_report("dev-3", "k1", 1'000)});
        ASSERT_TRUE(directory().set_device_group("dev-1", "lab").ok());
        ASSERT_TRUE(directory().set_device_group("dev-2", "lab").ok());
    }

    static AlertRaise raise(const std::string& device, const std::string& type,
                            const std::string& subject, int64_t raised_ms = 10'000) {
        AlertRaise alert;
        alert.device_id = device;
        alert.type = type;
        alert.subject = subject;
        alert.first_observed_ms = alert.last_observed_ms = raised_ms - 1'000;
        alert.raised_ms = raised_ms;
        return alert;
    }

    int64_t add(Suppression suppression) {
        suppression.created_ms = 1;
        const auto added = alert_store().add_suppression(suppression);
        EXPECT_TRUE(added.ok()) << added.error;
        return added.value;
    }

    /// What suppressed a new alert of that raise: 0 none.
    int64_t suppressed_by(const AlertRaise& alert) {
        const auto raised = alert_store().raise_alert(alert);
        EXPECT_TRUE(raised.ok()) << raised.error;
        EXPECT_EQ(raised.value.change, AlertChange::Opened) << alert.type << " " << alert.subject;
        return raised.value.alert.suppressed_by;
    }

    uint64_t count_of(int64_t id) {
        for (const Suppression& suppression : alert_store().suppressions().value) {
            if (suppression.id == id) {
                return suppression.suppressed;
            }
        }
        ADD_FAILURE() << "no suppression " << id;
        return 0;
    }

    static Suppression named(const std::string& name) {
        Suppression suppression;
        suppression.name = name;
        return suppression;
    }
};

TEST_F(Suppressions, DeviceTypeAndSubjectGlobMatchNewAlertsAndCountThem) {
    Suppression scanner = named("scanner");
    scanner.device_id = "dev-1";
    scanner.type = "scan.port_inbound";
    scanner.subject_pattern = "203.0.113.*";
    scanner.reason = "the vulnerability scanner";
    scanner.created_by = "token:ops";
    const int64_t id = add(scanner);

    EXPECT_EQ(suppressed_by(raise("dev-1", "scan.port_inbound", "203.0.113.9")), id);
    EXPECT_EQ(suppressed_by(raise("dev-1", "scan.port_inbound", "198.51.100.1")), 0);  // subject
    EXPECT_EQ(suppressed_by(raise("dev-2", "scan.port_inbound", "203.0.113.9")), 0);   // device
    EXPECT_EQ(suppressed_by(raise("dev-1", "beacon.periodic", "203.0.113.9")), 0);     // type
    EXPECT_EQ(count_of(id), 1u);

    // A repeat of the suppressed alert is the same alert: not counted again, still suppressed.
    const auto repeat =
        alert_store().raise_alert(raise("dev-1", "scan.port_inbound", "203.0.113.9"));
    EXPECT_EQ(repeat.value.change, AlertChange::Repeated);
    EXPECT_EQ(repeat.value.alert.suppressed_by, id);
    EXPECT_EQ(count_of(id), 1u);

    // Kept, but out of the list unless asked for.
    AlertFilter filter;
    filter.device_id = "dev-1";
    EXPECT_EQ(alert_store().alerts(filter).value.size(), 2u);
    filter.include_suppressed = true;
    EXPECT_EQ(alert_store().alerts(filter).value.size(), 3u);

    const std::vector<Suppression> listed = alert_store().suppressions().value;
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].source, SuppressionSource::Operator);
    EXPECT_EQ(listed[0].reason, "the vulnerability scanner");
    EXPECT_EQ(listed[0].created_by, "token:ops");
    EXPECT_EQ(listed[0].subject_pattern, "203.0.113.*");
    EXPECT_FALSE(listed[0].expires_ms.has_value());
}

TEST_F(Suppressions, GroupEveryDeviceAndEveryTypeMatch) {
    Suppression lab = named("lab");
    lab.group = "lab";
    lab.type = "beacon.periodic";
    const int64_t lab_id = add(lab);
    EXPECT_EQ(suppressed_by(raise("dev-2", "beacon.periodic", "x")), lab_id);
    EXPECT_EQ(suppressed_by(raise("dev-3", "beacon.periodic", "x")), 0);  // in no group

    Suppression everything = named("everything");
    everything.subject_pattern = "noisy-?";
    const int64_t all_id = add(everything);
    EXPECT_EQ(suppressed_by(raise("dev-3", "anything", "noisy-1")), all_id);
    EXPECT_EQ(suppressed_by(raise("dev-3", "anything", "noisy-10")), 0);
    // The oldest matching suppression counts it.
    EXPECT_EQ(suppressed_by(raise("dev-1", "beacon.periodic", "noisy-2")), lab_id);
    EXPECT_EQ(count_of(lab_id), 2u);
    EXPECT_EQ(count_of(all_id), 1u);
}

TEST_F(Suppressions, ExpiredOnesMatchNothingButAreListed) {
    Suppression brief = named("brief");
    brief.expires_ms = 10'000;
    const int64_t id = add(brief);
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "before", 9'999)), id);
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "at", 10'000)), 0);
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "after", 20'000)), 0);
    const std::vector<Suppression> listed = alert_store().suppressions().value;
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].expires_ms, 10'000);
    EXPECT_EQ(listed[0].suppressed, 1u);
}

TEST_F(Suppressions, NamesAreUniqueAndRemovalStopsMatching) {
    const int64_t id = add(named("once"));
    EXPECT_FALSE(alert_store().add_suppression(named("once")).ok());
    EXPECT_FALSE(alert_store().add_suppression(named("")).ok());
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "a")), id);
    ASSERT_TRUE(alert_store().remove_suppression(id).ok());
    EXPECT_FALSE(alert_store().remove_suppression(id).ok());
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "b")), 0);
    // The alert it suppressed still names it.
    AlertFilter filter;
    filter.include_suppressed = true;
    filter.type = "t";
    const auto found = alert_store().alerts(filter);
    ASSERT_EQ(found.value.size(), 2u);
    EXPECT_EQ(found.value[1].suppressed_by, id);
}

TEST_F(Suppressions, PolicyReplacementKeepsIdsAndCountsOfTheNamesItKeeps) {
    Suppression keep = named("keep");
    keep.type = "t";
    Suppression drop = named("drop");
    drop.type = "other";
    ASSERT_TRUE(alert_store().replace_policy_suppressions({keep, drop}, 100).ok());
    const int64_t operator_id = add(named("operator's"));
    std::vector<Suppression> listed = alert_store().suppressions().value;
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[0].source, SuppressionSource::Policy);
    EXPECT_EQ(listed[0].created_ms, 100);
    const int64_t keep_id = listed[0].id;
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "a")), keep_id);

    keep.subject_pattern = "b*";
    Suppression added = named("added");
    ASSERT_TRUE(alert_store().replace_policy_suppressions({keep, added}, 200).ok());
    listed = alert_store().suppressions().value;
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[0].id, keep_id);
    EXPECT_EQ(listed[0].suppressed, 1u);
    EXPECT_EQ(listed[0].subject_pattern, "b*");
    EXPECT_EQ(listed[0].created_ms, 100);
    EXPECT_EQ(listed[1].id, operator_id);  // an operator's is not the policy's to replace
    EXPECT_EQ(listed[2].name, "added");
    EXPECT_EQ(listed[2].source, SuppressionSource::Policy);

    // A policy naming one suppression twice is refused whole.
    EXPECT_FALSE(alert_store().replace_policy_suppressions({keep, keep}, 300).ok());
    EXPECT_EQ(alert_store().suppressions().value.size(), 3u);
    ASSERT_TRUE(alert_store().replace_policy_suppressions({}, 400).ok());
    EXPECT_EQ(alert_store().suppressions().value.size(), 1u);
}

// Patterns are GLOB over every new alert: one built to backtrack stays cheap, a malformed one
// matches nothing rather than failing the raise, and an over-long one is refused.
TEST_F(Suppressions, HostilePatternsStayCheapAndHarmless) {
    Suppression backtracking = named("backtracking");
    for (int i = 0; i < 120; ++i) {
        backtracking.subject_pattern += "*a";
    }
    backtracking.subject_pattern += "*b";
    add(backtracking);
    Suppression malformed = named("malformed");
    malformed.subject_pattern = "[";
    add(malformed);
    Suppression too_long = named("too long");
    too_long.subject_pattern = std::string(4096, '*');
    EXPECT_FALSE(alert_store().add_suppression(too_long).ok());

    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(suppressed_by(raise("dev-1", "t", std::string(1000, 'a') + std::to_string(i))),
                  0);
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(5));
    EXPECT_EQ(suppressed_by(raise("dev-1", "t", "[")), 0);
}

// Inside a batch the mark and the count commit with the reports, or roll back with them.
TEST_F(Suppressions, CommitBatchMarksAndCountsInItsTransaction) {
    const int64_t id = add(named("all"));
    const WriteResult failed = writer().commit_batch(
        {make_report("dev-1", "k2", 2'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.alerts = {raise("dev-1", "t", "a"), raise("dev-unknown", "t", "b")};
            return effects;
        });
    EXPECT_FALSE(failed.ok);
    EXPECT_EQ(count_of(id), 0u);

    const WriteResult result = writer().commit_batch(
        {make_report("dev-1", "k2", 2'000)}, [](const std::vector<const Report*>&) {
            Fetched<DetectionEffects> effects;
            effects.value.alerts = {raise("dev-1", "t", "a")};
            effects.value.clears = {{"dev-1", "t", "a", 9'500, 10'500},
                                    {"dev-1", "t", "never raised", 9'500, 10'500}};
            return effects;
        });
    ASSERT_TRUE(result.ok) << result.error;
    ASSERT_EQ(result.alert_events.size(), 2u);
    EXPECT_EQ(result.alert_events[0].change, AlertChange::Opened);
    EXPECT_EQ(result.alert_events[0].alert.suppressed_by, id);
    EXPECT_EQ(result.alert_events[1].change, AlertChange::Resolved);
    EXPECT_EQ(result.alert_events[1].alert.changed_by, "detection");
    EXPECT_EQ(count_of(id), 1u);
}

}  // namespace
}  // namespace vigil::hub::testing

// The engine between ingest and the store: states loaded from the store and held aside until the
// batch commits, reports applied in each device's own order, and a new engine on the same store
// carrying on where the old one stopped.
#include <gtest/gtest.h>

#include <map>

#include "report_builder.hpp"
#include "vigil/hub/detect/engine.hpp"
#include "vigil/hub/detect/silence.hpp"

namespace vigil::hub::detect {
namespace {

using test::ReportBuilder;

/// The store's side of detection state, in memory.
class MemoryStates : public DetectionStateStore {
  public:
    Done save_detection_state(const std::string& device_id, const std::vector<uint8_t>& state,
                              int64_t) override {
        saved[device_id] = state;
        return {};
    }
    Fetched<std::optional<std::vector<uint8_t>>> load_detection_state(
        const std::string& device_id) override {
        Fetched<std::optional<std::vector<uint8_t>>> result;
        ++loads;
        if (fail) {
            result.error = "disk on fire";
        } else if (const auto found = saved.find(device_id); found != saved.end()) {
            result.value = found->second;
        }
        return result;
    }
    Fetched<std::map<std::string, std::vector<uint8_t>>> load_detection_states(
        const std::vector<std::string>& device_ids) override {
        Fetched<std::map<std::string, std::vector<uint8_t>>> result;
        ++loads;
        if (fail) {
            result.error = "disk on fire";
            return result;
        }
        for (const std::string& device_id : device_ids) {
            if (const auto found = saved.find(device_id); found != saved.end()) {
                result.value[device_id] = found->second;
            }
        }
        return result;
    }
    /// What a committed batch leaves in the store.
    void commit(const DetectionEffects& effects) {
        for (const DetectionStateChange& change : effects.states) {
            saved[change.device_id] = change.state;
        }
    }

    std::map<std::string, std::vector<uint8_t>> saved;
    int loads = 0;
    bool fail = false;
};

EngineSources sources_for(MemoryStates& states) {
    EngineSources sources;
    sources.states = &states;
    sources.now_ms = [] { return int64_t{7}; };
    return sources;
}

std::vector<Report> scan_windows(int first, int count, uint16_t first_port) {
    std::vector<Report> reports;
    for (int i = 0; i < count; ++i) {
        reports.push_back(
            ReportBuilder(first + i).inbound("203.0.113.9", static_cast<uint16_t>(first_port + i)));
    }
    return reports;
}

std::vector<const Report*> pointers(const std::vector<Report>& reports) {
    std::vector<const Report*> out;
    for (const Report& report : reports) {
        out.push_back(&report);
    }
    return out;
}

TEST(Engine, ABatchThatRolledBackLeavesTheEngineAsItWas) {
    MemoryStates states;
    Engine engine(sources_for(states));
    const auto first = scan_windows(0, 10, 1);
    ASSERT_TRUE(engine.step(pointers(first)).ok());
    engine.settle(false);  // the commit failed: the broker redelivers the same batch
    const auto again = engine.step(pointers(first));
    ASSERT_TRUE(again.ok());
    engine.settle(true);
    states.commit(again.value);
    const auto rest = scan_windows(10, 5, 11);
    const auto alerts = engine.step(pointers(rest));
    ASSERT_TRUE(alerts.ok());
    ASSERT_EQ(alerts.value.alerts.size(), 1u) << "10 + 5 ports, counted once each";
    EXPECT_EQ(alerts.value.alerts[0].type, "scan.port_inbound");
}

TEST(Engine, ANewEngineOnTheSameStoreCarriesOn) {
    MemoryStates states;
    {
        Engine engine(sources_for(states));
        const auto first = scan_windows(0, 10, 1);
        const auto effects = engine.step(pointers(first));
        ASSERT_TRUE(effects.ok());
        engine.settle(true);
        states.commit(effects.value);
    }
    Engine restarted(sources_for(states));
    const auto rest = scan_windows(10, 5, 11);
    const auto effects = restarted.step(pointers(rest));
    ASSERT_TRUE(effects.ok());
    EXPECT_EQ(effects.value.alerts.size(), 1u);
    EXPECT_EQ(states.loads, 2);
}

TEST(Engine, AppliesEachDevicesReportsInItsOwnOrder) {
    MemoryStates in_order_states, shuffled_states;
    Engine in_order(sources_for(in_order_states)), shuffled(sources_for(shuffled_states));
    auto reports = scan_windows(0, 20, 1);
    reports.push_back(ReportBuilder(3, "dev-2").inbound("192.0.2.1", 80));
    const auto expected = in_order.step(pointers(reports));
    std::vector<Report> reversed(reports.rbegin(), reports.rend());
    const auto actual = shuffled.step(pointers(reversed));
    ASSERT_TRUE(expected.ok() && actual.ok());
    ASSERT_EQ(expected.value.alerts.size(), actual.value.alerts.size());
    for (size_t i = 0; i < expected.value.alerts.size(); ++i) {
        EXPECT_EQ(expected.value.alerts[i].evidence_json, actual.value.alerts[i].evidence_json);
    }
    ASSERT_EQ(actual.value.states.size(), 2u);
}

TEST(Engine, AStoreThatCannotLoadAStateFailsTheBatch) {
    MemoryStates states;
    states.fail = true;
    Engine engine(sources_for(states));
    const auto reports = scan_windows(0, 1, 1);
    const auto effects = engine.step(pointers(reports));
    EXPECT_FALSE(effects.ok());
    EXPECT_NE(effects.error.find("disk on fire"), std::string::npos);
}

TEST(Engine, ADamagedStateStartsTheDeviceAfresh) {
    MemoryStates states;
    states.saved[test::kDevice] = {0xFF, 0x01};
    Engine engine(sources_for(states));
    const auto reports = scan_windows(0, 1, 1);
    const auto effects = engine.step(pointers(reports));
    ASSERT_TRUE(effects.ok());
    EXPECT_TRUE(decode_state(effects.value.states.at(0).state).has_value());
}

TEST(Engine, ASilentDevicesNextReportClearsItsSilence) {
    MemoryStates states;
    Engine engine(sources_for(states));
    engine.note_silent(test::kDevice);
    const auto reports = scan_windows(0, 1, 1);
    const auto effects = engine.step(pointers(reports));
    ASSERT_TRUE(effects.ok());
    ASSERT_EQ(effects.value.clears.size(), 1u);
    EXPECT_EQ(effects.value.clears[0].type, kSilenceType);
    engine.settle(true);
    EXPECT_FALSE(engine.is_silent(test::kDevice));
}

TEST(Silence, ADeviceQuietForThreeLowIntervalsIsSilent) {
    const Policy policy;  // 3 x 60 s
    const std::vector<DeviceLiveness> devices = {{"quiet", "", 1'000'000, 0},
                                                 {"talking", "", 1'150'000, 0},
                                                 {"never", "", 0, 0},
                                                 {"slow", "", 1'000'000, 600}};
    const auto alerts = silent_devices(policy, devices, 1'000'000 + 181'000);
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(alerts[0].device_id, "quiet");
    EXPECT_EQ(alerts[0].category, AlertCategory::DeviceSilence);
    EXPECT_EQ(alerts[0].type, kSilenceType);
}

}  // namespace
}  // namespace vigil::hub::detect

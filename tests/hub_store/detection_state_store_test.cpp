// DetectionStateStore: opaque per-device state, saved and loaded.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, DetectionState_savesAndLoads) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    EXPECT_FALSE(detection_state_store().load_detection_state("dev-1").value);
    const std::vector<uint8_t> state = {0, 1, 2, 0, 255};
    ASSERT_TRUE(detection_state_store().save_detection_state("dev-1", state, 2'000).ok());
    ASSERT_TRUE(detection_state_store().save_detection_state("dev-1", {9}, 3'000).ok());
    EXPECT_FALSE(detection_state_store().save_detection_state("nobody", state, 3'000).ok());
    store_ = open();  // another worker picks the device up
    const auto loaded = detection_state_store().load_detection_state("dev-1");
    ASSERT_TRUE(loaded.ok() && loaded.value) << loaded.error;
    EXPECT_EQ(*loaded.value, std::vector<uint8_t>{9});
}

TEST_F(SqliteStore, DetectionState_loadsSeveralDevicesInOneGo) {
    write_ok({make_report("dev-1", "k1", 1'000), make_report("dev-2", "k2", 1'000),
              make_report("dev-3", "k3", 1'000)});
    ASSERT_TRUE(detection_state_store().save_detection_state("dev-1", {1}, 2'000).ok());
    ASSERT_TRUE(detection_state_store().save_detection_state("dev-3", {3, 3}, 2'000).ok());
    const auto loaded =
        detection_state_store().load_detection_states({"dev-1", "dev-2", "dev-3", "nobody"});
    ASSERT_TRUE(loaded.ok()) << loaded.error;
    const std::map<std::string, std::vector<uint8_t>> expected = {{"dev-1", {1}},
                                                                  {"dev-3", {3, 3}}};
    EXPECT_EQ(loaded.value, expected);
    EXPECT_TRUE(detection_state_store().load_detection_states({}).value.empty());
    // The reader is left usable: the next load sees a later save.
    ASSERT_TRUE(detection_state_store().save_detection_state("dev-2", {2}, 3'000).ok());
    EXPECT_EQ(detection_state_store().load_detection_states({"dev-2"}).value.at("dev-2"),
              std::vector<uint8_t>{2});
}

}  // namespace
}  // namespace vigil::hub::testing

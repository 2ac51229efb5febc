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

}  // namespace
}  // namespace vigil::hub::testing

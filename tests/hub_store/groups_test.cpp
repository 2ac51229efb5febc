// Device groups and device counts: the store methods the HTTP API's group configs and /metrics
// stand on.
#include <gtest/gtest.h>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Groups : public StoreTest {};

TEST_F(Groups, SetDeviceGroup_placesReplacesAndRemoves) {
    ASSERT_TRUE(directory().set_device_group("dev-b", "lab").ok());
    ASSERT_TRUE(directory().set_device_group("dev-a", "lab").ok());
    ASSERT_TRUE(directory().set_device_group("dev-c", "floor").ok());
    const auto lab = directory().group_members("lab");
    ASSERT_TRUE(lab.ok()) << lab.error;
    EXPECT_EQ(lab.value, (std::vector<std::string>{"dev-a", "dev-b"}));

    ASSERT_TRUE(directory().set_device_group("dev-a", "floor").ok());
    EXPECT_EQ(directory().group_members("lab").value, (std::vector<std::string>{"dev-b"}));
    EXPECT_EQ(directory().device_group("dev-a").value, std::optional<std::string>("floor"));

    ASSERT_TRUE(directory().set_device_group("dev-a", "").ok());
    EXPECT_EQ(directory().device_group("dev-a").value, std::nullopt);
    EXPECT_TRUE(directory().group_members("nobody").value.empty());
    EXPECT_FALSE(directory().set_device_group("", "lab").ok());
}

// Membership does not wait for the device's first message, and survives reopening the file.
TEST_F(Groups, SetDeviceGroup_beforeFirstMessageAndAcrossReopen) {
    ASSERT_TRUE(directory().set_device_group("not-seen-yet", "lab").ok());
    store_.reset();
    store_ = open();
    EXPECT_EQ(directory().group_members("lab").value, (std::vector<std::string>{"not-seen-yet"}));
}

TEST_F(Groups, GroupMembers_injectionStringIsInert) {
    ASSERT_TRUE(directory().set_device_group("dev-a", "lab").ok());
    const auto members = directory().group_members("' OR 1=1 --");
    ASSERT_TRUE(members.ok()) << members.error;
    EXPECT_TRUE(members.value.empty());
    ASSERT_TRUE(directory().set_device_group("dev-b", "x'); DROP TABLE devices; --").ok());
    EXPECT_EQ(directory().group_members("x'); DROP TABLE devices; --").value,
              (std::vector<std::string>{"dev-b"}));
    EXPECT_TRUE(maintenance().stats().ok());
}

TEST_F(Groups, CountDevices_appliesTheFilter) {
    write_ok({make_report("dev-1", "k1", 1000), make_report("dev-2", "k2", 5000),
              make_report("dev-3", "k3", 9000)});
    EXPECT_EQ(directory().count_devices({}).value, 3u);
    DeviceFilter recent;
    recent.seen_since_ms = 5000;
    EXPECT_EQ(directory().count_devices(recent).value, 2u);
    // Paging fields do not limit a count.
    recent.limit = 1;
    recent.after = "dev-9";
    EXPECT_EQ(directory().count_devices(recent).value, 2u);
}

}  // namespace
}  // namespace vigil::hub::testing

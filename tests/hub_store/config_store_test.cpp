// ConfigStore: desired configs whose versions only increase.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, DesiredConfig_versionsOnlyIncrease) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    const DesiredConfig config{ConfigScope::Device, "dev-1",      2,
                               "application/cbor",  {0xa1, 1, 2}, 5'000};
    ASSERT_TRUE(config_store().set_desired_config(config).ok());
    DesiredConfig older = config;
    older.version = 2;
    older.body = {0};
    EXPECT_FALSE(config_store().set_desired_config(older).ok());
    const auto stored = config_store().desired_config(ConfigScope::Device, "dev-1");
    ASSERT_TRUE(stored.ok() && stored.value) << stored.error;
    EXPECT_EQ(stored.value->body, config.body);
    EXPECT_EQ(stored.value->version, 2u);
    EXPECT_EQ(directory().device_detail(detail_query("dev-1")).value->device.desired_config_version,
              2u);

    const DesiredConfig group{ConfigScope::Group, "cameras", 1, "application/json", {}, 6'000};
    ASSERT_TRUE(config_store().set_desired_config(group).ok());
    const auto stored_group = config_store().desired_config(ConfigScope::Group, "cameras");
    ASSERT_TRUE(stored_group.value);
    EXPECT_TRUE(stored_group.value->body.empty());
    EXPECT_FALSE(config_store().desired_config(ConfigScope::Device, "cameras").value);
}

}  // namespace
}  // namespace vigil::hub::testing

// RecommendationStore: one recommendation per device and kind.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, Recommendations_putReplacesPerDeviceAndKind) {
    write_ok({make_report("dev-1", "k1", 1'000)});
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-1", "telnet-listening", RecommendationState::Open,
                                          R"({"port":23})", 1'000, 1'000})
                    .ok());
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-1", "telnet-listening", RecommendationState::Done,
                                          R"({"port":23})", 2'000, 2'000})
                    .ok());
    EXPECT_FALSE(recommendation_store()
                     .put_recommendation({"nobody", "k", RecommendationState::Open, "{}", 1, 1})
                     .ok());
    const auto listed = recommendation_store().recommendations(std::string("dev-1"), std::nullopt);
    ASSERT_TRUE(listed.ok()) << listed.error;
    ASSERT_EQ(listed.value.size(), 1u);
    EXPECT_EQ(listed.value[0].state, RecommendationState::Done);
    EXPECT_EQ(listed.value[0].created_ms, 1'000);
    EXPECT_EQ(listed.value[0].updated_ms, 2'000);
    EXPECT_TRUE(recommendation_store()
                    .recommendations(std::nullopt, RecommendationState::Open)
                    .value.empty());
}

}  // namespace
}  // namespace vigil::hub::testing

// Alerts and recommendations over HTTP: filters, paging, acknowledge and resolve.
#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Alerts : public ApiTest {
  protected:
    void SetUp() override {
        ApiTest::SetUp();
        write({report("dev-a", "k1", kNowMs - 1000), report("dev-b", "k2", kNowMs - 1000)});
        const Severity severities[] = {Severity::Low, Severity::High, Severity::Critical};
        for (int i = 0; i < 3; ++i) {
            AlertRaise raise;
            raise.device_id = i == 2 ? "dev-b" : "dev-a";
            raise.kind = i == 0 ? "outdated-agent" : "port-scan";
            raise.subject = "203.0.113." + std::to_string(i);
            raise.severity = severities[i];
            raise.seen_ms = kNowMs - 1000 + i;
            const auto id = store_->raise_alert(raise);
            ASSERT_TRUE(id.ok()) << id.error;
            ids_.push_back(id.value);
        }
    }
    std::vector<int64_t> ids_;
};

std::vector<int64_t> alert_ids(const Reply& reply) {
    std::vector<int64_t> out;
    for (const auto& alert : reply.body["alerts"]) {
        out.push_back(alert["id"]);
    }
    return out;
}

TEST_F(Alerts, List_filtersByDeviceStateSeverityAndKind) {
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts")).size(), 3u);
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?device=dev-b")), std::vector<int64_t>{ids_[2]});
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?severity=high")).size(), 2u);
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?kind=outdated-agent")),
              std::vector<int64_t>{ids_[0]});
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?state=resolved")).size(), 0u);
    EXPECT_EQ(call("GET", "/api/alerts?severity=urgent").status, 400);
    EXPECT_EQ(call("GET", "/api/alerts?kind=%27%20OR%20%27%27%3D%27").body["alerts"].size(), 0u);
}

TEST_F(Alerts, List_pagesNewestFirst) {
    const Reply first = call("GET", "/api/alerts?limit=2");
    ASSERT_EQ(alert_ids(first), (std::vector<int64_t>{ids_[2], ids_[1]}));
    const int64_t before = first.body["next_before"];
    const Reply second = call("GET", "/api/alerts?limit=2&before=" + std::to_string(before));
    EXPECT_EQ(alert_ids(second), std::vector<int64_t>{ids_[0]});
    EXPECT_TRUE(second.body["next_before"].is_null());
}

TEST_F(Alerts, AckAndResolve_changeTheStateAndSayWho) {
    const std::string id = std::to_string(ids_[1]);
    const Reply ack = call("POST", "/api/alerts/" + id + "/ack");
    ASSERT_EQ(ack.status, 200) << ack.text;
    EXPECT_EQ(ack.body["state"], "acknowledged");
    EXPECT_EQ(ack.body["changed_by"], "token:admin");
    EXPECT_EQ(ack.body["changed_ms"], kNowMs);
    const Reply resolved = call("POST", "/api/alerts/" + id + "/resolve");
    EXPECT_EQ(resolved.body["state"], "resolved");
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?state=resolved")), std::vector<int64_t>{ids_[1]});
    EXPECT_EQ(call("POST", "/api/alerts/999999/ack").status, 404);
    EXPECT_EQ(call("POST", "/api/alerts/99999999999999999999/ack").status, 400);
    EXPECT_EQ(call("POST", "/api/alerts/abc/ack").status, 404);  // no such route
}

TEST_F(Alerts, Recommendations_filterByDevice) {
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-a", "telnet-listening", RecommendationState::Open,
                                          R"({"port":23})", kNowMs, kNowMs})
                    .ok());
    ASSERT_TRUE(store_
                    ->put_recommendation({"dev-b", "outdated-agent", RecommendationState::Open,
                                          "{}", kNowMs, kNowMs})
                    .ok());
    EXPECT_EQ(call("GET", "/api/recommendations").body["recommendations"].size(), 2u);
    const Reply a = call("GET", "/api/recommendations?device=dev-a");
    ASSERT_EQ(a.body["recommendations"].size(), 1u);
    EXPECT_EQ(a.body["recommendations"][0]["kind"], "telnet-listening");
    EXPECT_EQ(a.body["recommendations"][0]["details"]["port"], 23);
    EXPECT_EQ(call("GET", "/api/recommendations?state=maybe").status, 400);
}

}  // namespace
}  // namespace vigil::hub::testing

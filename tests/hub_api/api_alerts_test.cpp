// Alerts over HTTP: filters, paging, acknowledge and resolve.
#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

// Device time, far from the hub's: the filters by time read the device's clock.
constexpr int64_t kDeviceMs = 1'600'000'000'000;

class Alerts : public ApiTest {
  protected:
    void SetUp() override {
        ApiTest::SetUp();
        write({report("dev-a", "k1", kNowMs - 1000), report("dev-b", "k2", kNowMs - 1000)});
        const Severity severities[] = {Severity::Low, Severity::High, Severity::Critical};
        for (int i = 0; i < 3; ++i) {
            AlertRaise raise;
            raise.device_id = i == 2 ? "dev-b" : "dev-a";
            raise.type = i == 0 ? "agent.outdated" : "scan.port_inbound";
            raise.category = i == 0 ? AlertCategory::AgentHealth : AlertCategory::PortScanInbound;
            raise.subject = "203.0.113." + std::to_string(i);
            raise.severity = severities[i];
            raise.title = "finding " + std::to_string(i);
            raise.first_observed_ms = kDeviceMs + 1000 * i;
            raise.last_observed_ms = kDeviceMs + 1000 * i + 500;
            raise.raised_ms = kNowMs - 1000 + i;
            raise.evidence_json = R"({"ports":[22,23],"window_ms":10000})";
            const auto id = store_->raise_alert(raise);
            ASSERT_TRUE(id.ok()) << id.error;
            ids_.push_back(id.value.alert.id);
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

TEST_F(Alerts, List_filtersByEachParameter) {
    using Ids = std::vector<int64_t>;
    ASSERT_EQ(call("PUT", "/api/devices/dev-b/group", R"({"group":"lab"})").status, 200);
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts")), (Ids{ids_[2], ids_[1], ids_[0]}));
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?device=dev-b")), Ids{ids_[2]});
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?group=lab")), Ids{ids_[2]});
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?severity=high")), (Ids{ids_[2], ids_[1]}));
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?type=agent.outdated")), Ids{ids_[0]});
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?category=port_scan_inbound")),
              (Ids{ids_[2], ids_[1]}));
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?state=resolved")), Ids{});
    const std::string since = std::to_string(kDeviceMs + 1000);
    const std::string until = std::to_string(kDeviceMs + 1000);
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?since=" + since)), (Ids{ids_[2], ids_[1]}));
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?since=" + since + "&until=" + until)),
              Ids{ids_[1]});
    // Hub time is not what they filter by.
    EXPECT_EQ(alert_ids(call("GET", "/api/alerts?since=" + std::to_string(kNowMs - 2000))), Ids{});
    EXPECT_EQ(call("GET", "/api/alerts?type=%27%20OR%20%27%27%3D%27").body["alerts"].size(), 0u);
}

TEST_F(Alerts, List_refusesBadValuesSayingWhich) {
    for (const char* query : {"severity=urgent", "category=scan", "state=closed", "since=yesterday",
                              "until=-1", "suppressed=yes", "limit=0", "limit=1001", "before=x"}) {
        const Reply reply = call("GET", std::string("/api/alerts?") + query);
        EXPECT_EQ(reply.status, 400) << query;
        EXPECT_EQ(reply.body["error"], "bad_parameter") << query;
        const std::string name = std::string(query).substr(0, std::string(query).find('='));
        EXPECT_NE(reply.body.value("detail", "").find(name), std::string::npos) << reply.text;
    }
}

TEST_F(Alerts, Get_answersTheWholeAlertWithItsEvidence) {
    const Reply reply = call("GET", "/api/alerts/" + std::to_string(ids_[1]));
    ASSERT_EQ(reply.status, 200) << reply.text;
    const nlohmann::json& alert = reply.body;
    EXPECT_EQ(alert["id"], ids_[1]);
    EXPECT_EQ(alert["device_id"], "dev-a");
    EXPECT_EQ(alert["type"], "scan.port_inbound");
    EXPECT_EQ(alert["category"], "port_scan_inbound");
    EXPECT_EQ(alert["subject"], "203.0.113.1");
    EXPECT_EQ(alert["severity"], "high");
    EXPECT_EQ(alert["state"], "open");
    EXPECT_EQ(alert["title"], "finding 1");
    EXPECT_EQ(alert["first_observed_ms"], kDeviceMs + 1000);
    EXPECT_EQ(alert["last_observed_ms"], kDeviceMs + 1500);
    EXPECT_EQ(alert["raised_ms"], kNowMs - 999);
    EXPECT_EQ(alert["last_raised_ms"], kNowMs - 999);
    EXPECT_EQ(alert["count"], 1);
    EXPECT_TRUE(alert["suppressed_by"].is_null());
    EXPECT_EQ(alert["evidence"]["ports"], (nlohmann::json{22, 23}));  // embedded, not a string
    for (const char* field :
         {"description", "remediation", "technique", "changed_ms", "changed_by"}) {
        EXPECT_TRUE(alert.contains(field)) << field;
    }
    EXPECT_EQ(call("GET", "/api/alerts/999999").status, 404);
    EXPECT_EQ(call("GET", "/api/alerts/99999999999999999999").status, 400);
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

}  // namespace
}  // namespace vigil::hub::testing

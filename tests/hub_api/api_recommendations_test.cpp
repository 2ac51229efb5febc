// Recommendations over HTTP: filters, paging, one, the summary by kind, and dismissal.
#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

constexpr int64_t kDeviceMs = 1'600'000'000'000;

RecommendationFinding finding(const std::string& kind, const std::string& subject,
                              Severity severity, const std::string& key) {
    return {kind,
            subject,
            severity,
            kind + " on " + subject,
            "why it matters",
            "what to change",
            R"({"subject":")" + subject + R"("})",
            key};
}

class Recommendations : public ApiTest {
  protected:
    void SetUp() override {
        ApiTest::SetUp();
        write({report("dev-a", "k1", kNowMs - 1000), report("dev-b", "k2", kNowMs - 1000)});
        scan("dev-a", "service.cleartext",
             {finding("service.cleartext", "tcp/23", Severity::High, "telnet"),
              finding("service.cleartext", "tcp/21", Severity::Low, "ftp")});
        scan("dev-b", "service.cleartext",
             {finding("service.cleartext", "tcp/23", Severity::Medium, "telnet")});
        scan("dev-b", "firmware.vulnerable",
             {finding("firmware.vulnerable", "netxduo", Severity::Critical, "netxduo 6.1")});
    }

    void scan(const std::string& device, const std::string& kind,
              std::vector<RecommendationFinding> findings) {
        RecommendationScan scan;
        scan.device_id = device;
        scan.kind = kind;
        scan.findings = std::move(findings);
        scan.observed_ms = kDeviceMs;
        scan.scanned_ms = kNowMs - 500;
        const auto applied = store_->apply_recommendation_scan(scan);
        ASSERT_TRUE(applied.ok()) << applied.error;
        for (const RecommendationEvent& event : applied.value) {
            ids_.push_back(event.recommendation.id);
        }
    }

    std::vector<int64_t> ids(const std::string& path) {
        const Reply reply = call("GET", path);
        EXPECT_EQ(reply.status, 200) << path << ": " << reply.text;
        std::vector<int64_t> out;
        for (const auto& recommendation : reply.body["recommendations"]) {
            out.push_back(recommendation["id"]);
        }
        return out;
    }

    std::vector<int64_t> ids_;  // dev-a tcp/23, dev-a tcp/21, dev-b tcp/23, dev-b netxduo
};

using Ids = std::vector<int64_t>;

TEST_F(Recommendations, List_filtersByEachParameterNewestFirst) {
    ASSERT_EQ(call("PUT", "/api/devices/dev-b/group", R"({"group":"lab"})").status, 200);
    EXPECT_EQ(ids("/api/recommendations"), (Ids{ids_[3], ids_[2], ids_[1], ids_[0]}));
    EXPECT_EQ(ids("/api/recommendations?device=dev-a"), (Ids{ids_[1], ids_[0]}));
    EXPECT_EQ(ids("/api/recommendations?group=lab"), (Ids{ids_[3], ids_[2]}));
    EXPECT_EQ(ids("/api/recommendations?kind=firmware.vulnerable"), Ids{ids_[3]});
    EXPECT_EQ(ids("/api/recommendations?severity=high"), (Ids{ids_[3], ids_[0]}));
    EXPECT_EQ(ids("/api/recommendations?state=closed"), Ids{});
    EXPECT_EQ(ids("/api/recommendations?state=open&device=dev-b&kind=service.cleartext"),
              Ids{ids_[2]});
    for (const char* bad :
         {"state=done", "severity=loud", "limit=0", "limit=1001", "before=0", "before=x"}) {
        const Reply reply = call("GET", std::string("/api/recommendations?") + bad);
        EXPECT_EQ(reply.status, 400) << bad;
        EXPECT_EQ(reply.body["error"], "bad_parameter") << bad;
    }
    // An injection string is a value that matches nothing.
    EXPECT_EQ(ids("/api/recommendations?device=x%27%20OR%201%3D1%20--"), Ids{});
}

TEST_F(Recommendations, List_pagesWithNextBefore) {
    const Reply first = call("GET", "/api/recommendations?limit=3");
    ASSERT_EQ(first.body["recommendations"].size(), 3u);
    EXPECT_EQ(first.body["next_before"], ids_[1]);
    const Reply last =
        call("GET", "/api/recommendations?limit=3&before=" + first.body["next_before"].dump());
    ASSERT_EQ(last.body["recommendations"].size(), 1u);
    EXPECT_EQ(last.body["recommendations"][0]["id"], ids_[0]);
    EXPECT_TRUE(last.body["next_before"].is_null());
}

TEST_F(Recommendations, Get_showsEveryFieldAndTheEvidence) {
    const Reply one = call("GET", "/api/recommendations/" + std::to_string(ids_[0]));
    ASSERT_EQ(one.status, 200) << one.text;
    EXPECT_EQ(one.body["id"], ids_[0]);
    EXPECT_EQ(one.body["device_id"], "dev-a");
    EXPECT_EQ(one.body["kind"], "service.cleartext");
    EXPECT_EQ(one.body["subject"], "tcp/23");
    EXPECT_EQ(one.body["state"], "open");
    EXPECT_EQ(one.body["severity"], "high");
    EXPECT_EQ(one.body["title"], "service.cleartext on tcp/23");
    EXPECT_EQ(one.body["rationale"], "why it matters");
    EXPECT_EQ(one.body["remediation"], "what to change");
    EXPECT_EQ(one.body["evidence"]["subject"], "tcp/23");
    EXPECT_EQ(one.body["evidence_key"], "telnet");
    EXPECT_EQ(one.body["first_observed_ms"], kDeviceMs);
    EXPECT_EQ(one.body["opened_ms"], kNowMs - 500);
    EXPECT_EQ(one.body["closed_ms"], 0);
    EXPECT_EQ(call("GET", "/api/recommendations/999999").status, 404);
    EXPECT_EQ(call("GET", "/api/recommendations/99999999999999999999").status, 400);
}

TEST_F(Recommendations, Summary_countsDevicesByKind) {
    ASSERT_EQ(call("PUT", "/api/devices/dev-b/group", R"({"group":"lab"})").status, 200);
    const Reply all = call("GET", "/api/recommendations/summary");
    ASSERT_EQ(all.status, 200) << all.text;
    ASSERT_EQ(all.body["kinds"].size(), 2u);
    EXPECT_EQ(all.body["kinds"][0]["kind"], "service.cleartext");
    EXPECT_EQ(all.body["kinds"][0]["open_devices"], 2);
    EXPECT_EQ(all.body["kinds"][0]["dismissed_devices"], 0);
    EXPECT_EQ(all.body["kinds"][0]["closed_devices"], 0);
    EXPECT_EQ(all.body["kinds"][0]["severity"], "high");
    EXPECT_EQ(all.body["kinds"][1]["kind"], "firmware.vulnerable");
    EXPECT_EQ(all.body["kinds"][1]["severity"], "critical");
    const Reply lab = call("GET", "/api/recommendations/summary?group=lab");
    ASSERT_EQ(lab.body["kinds"].size(), 2u);
    EXPECT_EQ(lab.body["kinds"][0]["open_devices"], 1);
    EXPECT_EQ(call("GET", "/api/recommendations/summary?state=done").status, 400);
}

TEST_F(Recommendations, Dismiss_recordsTheReasonAndWhoWithAWriteToken) {
    const std::string path = "/api/recommendations/" + std::to_string(ids_[0]) + "/dismiss";
    const Reply refused = call("POST", path, R"({"reason":"lab"})", read_token());
    EXPECT_EQ(refused.status, 403);
    const Reply dismissed = call("POST", path, R"({"reason":"isolated lab device"})");
    ASSERT_EQ(dismissed.status, 200) << dismissed.text;
    EXPECT_EQ(dismissed.body["state"], "dismissed");
    EXPECT_EQ(dismissed.body["dismissed_reason"], "isolated lab device");
    EXPECT_EQ(dismissed.body["dismissed_by"], "token:admin");
    EXPECT_EQ(dismissed.body["dismissed_ms"], kNowMs);
    EXPECT_EQ(dismissed.body["dismissed_key"], "telnet");
    EXPECT_EQ(ids("/api/recommendations?state=dismissed"), Ids{ids_[0]});
    EXPECT_EQ(call("GET", "/api/recommendations/summary").body["kinds"][0]["dismissed_devices"], 1);
}

TEST_F(Recommendations, Dismiss_refusesBadReasonsMissingAndClosed) {
    const std::string path = "/api/recommendations/" + std::to_string(ids_[0]) + "/dismiss";
    const std::string too_long = nlohmann::json{{"reason", std::string(1001, 'x')}}.dump();
    for (const std::string& body :
         {std::string(R"({})"), std::string(R"({"reason":""})"), std::string(R"({"reason":7})"),
          std::string(R"({"reason":"ok","by":"someone else"})"), std::string(R"(["reason"])"),
          std::string(R"({"reason":"line\nbreak"})"), too_long}) {
        const Reply reply = call("POST", path, body);
        EXPECT_EQ(reply.status, 400) << body;
        EXPECT_EQ(reply.body["error"], "bad_request") << body;
    }
    EXPECT_EQ(call("POST", path, "").body["error"], "malformed_json");
    EXPECT_EQ(call("POST", path, nlohmann::json{{"reason", std::string(1000, 'x')}}.dump()).status,
              200);
    EXPECT_EQ(call("POST", "/api/recommendations/999999/dismiss", R"({"reason":"x"})").status, 404);
    scan("dev-a", "service.cleartext", {});  // dev-a shows neither any more: both close
    const Reply closed = call("POST", path, R"({"reason":"x"})");
    EXPECT_EQ(closed.status, 409);
    EXPECT_EQ(closed.body["error"], "recommendation_closed");
    EXPECT_EQ(call("GET", "/api/recommendations/" + std::to_string(ids_[0])).body["state"],
              "closed");
}

}  // namespace
}  // namespace vigil::hub::testing

// Suppressions over HTTP: suppressing an alert's finding (its device or group, type and exact
// subject), the list with counts, an operator's added and removed, the policy's left alone.
#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Suppress : public ApiTest {
  protected:
    void SetUp() override {
        ApiTest::SetUp();
        write({report("dev-a", "k1", kNowMs - 1000), report("dev-b", "k1", kNowMs - 1000)});
    }

    AlertEvent raise(const std::string& device, const std::string& subject) {
        AlertRaise alert;
        alert.device_id = device;
        alert.type = "scan.port_inbound";
        alert.subject = subject;
        alert.raised_ms = kNowMs;
        const auto raised = store_->raise_alert(alert);
        EXPECT_TRUE(raised.ok()) << raised.error;
        return raised.value;
    }

    Reply suppress(int64_t id, const std::string& body) {
        return call("POST", "/api/alerts/" + std::to_string(id) + "/suppress", body);
    }
};

// Glob characters in a subject are taken literally: the suppression is for that subject alone.
TEST_F(Suppress, Alert_suppressesItsDeviceTypeAndExactSubjectResolvingNothing) {
    const std::string subject = "a*[b]?";
    const int64_t id = raise("dev-a", subject).alert.id;
    const Reply reply = suppress(id, R"({"duration_s": 3600, "reason": "scanner"})");
    ASSERT_EQ(reply.status, 201) << reply.text;
    EXPECT_EQ(reply.body["source"], "operator");
    EXPECT_EQ(reply.body["device_id"], "dev-a");
    EXPECT_EQ(reply.body["group"], "");
    EXPECT_EQ(reply.body["type"], "scan.port_inbound");
    EXPECT_EQ(reply.body["expires_ms"], kNowMs + 3'600'000);
    EXPECT_EQ(reply.body["reason"], "scanner");
    EXPECT_EQ(reply.body["created_by"], "token:admin");
    const int64_t suppression = reply.body["id"];
    EXPECT_EQ(call("GET", "/api/alerts/" + std::to_string(id)).body["state"], "open");

    ASSERT_EQ(call("POST", "/api/alerts/" + std::to_string(id) + "/resolve").status, 200);
    EXPECT_EQ(raise("dev-a", subject).alert.suppressed_by, suppression);
    EXPECT_EQ(raise("dev-a", "aXX[b]Y").alert.suppressed_by, 0);
    EXPECT_EQ(raise("dev-b", subject).alert.suppressed_by, 0);

    // Left out of the list unless asked for.
    EXPECT_EQ(call("GET", "/api/alerts?device=dev-a&state=open").body["alerts"].size(), 1u);
    const Reply with = call("GET", "/api/alerts?device=dev-a&state=open&suppressed=true");
    ASSERT_EQ(with.body["alerts"].size(), 2u);
    EXPECT_EQ(with.body["alerts"][1]["suppressed_by"], suppression);

    const nlohmann::json listed =
        listed_entry("/api/suppressions", "suppressions", "reason", "scanner");
    ASSERT_FALSE(listed.is_null());
    EXPECT_EQ(listed["suppressed"], 1);
    EXPECT_EQ(listed["active"], true);
}

TEST_F(Suppress, Alert_groupScopeNeedsAGroupAndEmptyBodyMeansUntilRemoved) {
    const int64_t id = raise("dev-a", "x").alert.id;
    const Reply no_group = suppress(id, R"({"scope": "group"})");
    EXPECT_EQ(no_group.status, 409) << no_group.text;
    EXPECT_NE(no_group.body.value("detail", "").find("no group"), std::string::npos);
    ASSERT_EQ(call("PUT", "/api/devices/dev-a/group", R"({"group":"lab"})").status, 200);
    ASSERT_EQ(call("PUT", "/api/devices/dev-b/group", R"({"group":"lab"})").status, 200);
    const Reply grouped = suppress(id, R"({"scope": "group"})");
    ASSERT_EQ(grouped.status, 201) << grouped.text;
    EXPECT_EQ(grouped.body["group"], "lab");
    EXPECT_EQ(grouped.body["device_id"], "");
    EXPECT_EQ(raise("dev-b", "x").alert.suppressed_by, grouped.body["id"]);

    const Reply forever = suppress(id, "");
    ASSERT_EQ(forever.status, 201) << forever.text;
    EXPECT_TRUE(forever.body["expires_ms"].is_null());
    EXPECT_EQ(suppress(999999, "{}").status, 404);
    const Reply too_long = suppress(raise("dev-a", std::string(600, '*')).alert.id, "{}");
    EXPECT_EQ(too_long.status, 409) << too_long.text;
    EXPECT_EQ(too_long.body["error"], "subject_too_long");
}

TEST_F(Suppress, Alert_refusesBadBodies) {
    const int64_t id = raise("dev-a", "x").alert.id;
    for (const char* body :
         {R"({"duration_s": -1})", R"({"duration_s": 0})", R"({"duration_s": "1h"})",
          R"({"duration_s": 1.5})", R"({"duration_s": 99999999999})", R"({"scope": "world"})",
          R"({"reason": 5})", R"({"until": 5})", R"([])", R"({"reason": )"}) {
        const Reply reply = suppress(id, body);
        EXPECT_EQ(reply.status, 400) << body << ": " << reply.text;
        EXPECT_FALSE(reply.body.value("detail", "").empty()) << body;
    }
    EXPECT_EQ(call("GET", "/api/suppressions").body["suppressions"].size(), 0u);
}

TEST_F(Suppress, Suppressions_addListAndRemove) {
    const Reply added = call("POST", "/api/suppressions",
                             R"({"name": "lab scans", "group": "lab", "type": "scan.port_inbound",
                                 "subject_pattern": "203.0.113.*", "duration_s": 60,
                                 "reason": "pentest"})");
    ASSERT_EQ(added.status, 201) << added.text;
    EXPECT_EQ(added.body["name"], "lab scans");
    EXPECT_EQ(added.body["subject_pattern"], "203.0.113.*");
    EXPECT_EQ(added.body["expires_ms"], kNowMs + 60'000);
    const int64_t id = added.body["id"];
    EXPECT_EQ(call("POST", "/api/suppressions", R"({"name": "lab scans"})").status, 409);
    EXPECT_EQ(call("POST", "/api/suppressions",
                   nlohmann::json{{"subject_pattern", std::string(5000, '*')}}.dump())
                  .status,
              400);
    EXPECT_EQ(call("POST", "/api/suppressions", R"({"type": 3})").status, 400);
    EXPECT_EQ(
        call("POST", "/api/suppressions", nlohmann::json{{"reason", std::string(1001, 'r')}}.dump())
            .status,
        400);
    EXPECT_EQ(call("POST", "/api/suppressions", R"({"scope": "x"})").status, 400);
    EXPECT_EQ(call("POST", "/api/suppressions", "not json").status, 400);
    // A read token lists them but changes nothing.
    const std::string reader = read_token();
    EXPECT_EQ(call("GET", "/api/suppressions", "", reader).status, 200);
    EXPECT_EQ(call("POST", "/api/suppressions", R"({"name": "r"})", reader).status, 403);
    EXPECT_EQ(call("DELETE", "/api/suppressions/" + std::to_string(id), "", reader).status, 403);

    // The policy's are listed, and removed only with the policy.
    Suppression policy;
    policy.name = "from policy";
    ASSERT_TRUE(store_->replace_policy_suppressions({policy}, kNowMs).ok());
    const nlohmann::json from_policy =
        listed_entry("/api/suppressions", "suppressions", "name", "from policy");
    ASSERT_FALSE(from_policy.is_null());
    EXPECT_EQ(from_policy["source"], "policy");
    const Reply refused =
        call("DELETE", "/api/suppressions/" + std::to_string(from_policy["id"].get<int64_t>()));
    EXPECT_EQ(refused.status, 409) << refused.text;

    EXPECT_EQ(call("DELETE", "/api/suppressions/" + std::to_string(id)).status, 200);
    EXPECT_EQ(call("DELETE", "/api/suppressions/" + std::to_string(id)).status, 404);
    EXPECT_EQ(call("GET", "/api/suppressions").body["suppressions"].size(), 1u);
}

}  // namespace
}  // namespace vigil::hub::testing

// Desired configs: checked like the agent checks them, versions that only go up, CBOR the agent's
// own decoder accepts, group pushes that reach every member.
#include "api_fixture.hpp"
#include "vigil/protocol/wire.h"

namespace vigil::hub::testing {
namespace {

class Config : public ApiTest {};

constexpr char kFull[] = R"({"intervals":{"high":5,"medium":20,"low":120},
  "collectors":{"network":{"enabled":true,"priority":"high"},
                "listening_ports":{"enabled":false,"priority":"low"}},
  "unicast_only":false,"pending_timeout_s":600,"retry_s":7})";

wire::ConfigFields decode(const std::vector<uint8_t>& bytes, uint32_t& version) {
    wire::ConfigFields config;  // the agent's build defaults, version 0
    EXPECT_EQ(wire::decode_config(bytes.data(), bytes.size(), config, version),
              wire::ConfigError::None);
    return config;
}

TEST_F(Config, PutDevice_publishesCborTheAgentAccepts) {
    const Reply reply = call("PUT", "/api/devices/dev-1/config", kFull);
    ASSERT_EQ(reply.status, 200) << reply.text;
    EXPECT_EQ(reply.body["version"], 1);
    ASSERT_EQ(control_.published.size(), 1u);
    EXPECT_EQ(control_.published[0].device_id, "dev-1");
    uint32_t version = 0;
    const wire::ConfigFields config = decode(control_.published[0].config, version);
    EXPECT_EQ(version, 1u);
    EXPECT_EQ(config.interval_s[0], 5u);
    EXPECT_EQ(config.interval_s[1], 20u);
    EXPECT_EQ(config.interval_s[2], 120u);
    EXPECT_FALSE(config.collectors[3].enabled);
    EXPECT_EQ(config.collectors[3].priority, wire::Priority::Low);
    EXPECT_FALSE(config.unicast_only);
    EXPECT_EQ(config.pending_timeout_s, 600u);
    EXPECT_EQ(config.retry_s, 7u);
}

TEST_F(Config, PutDevice_sendsOnlyTheGivenKeys) {
    ASSERT_EQ(call("PUT", "/api/devices/dev-1/config", R"({"retry_s":9})").status, 200);
    uint32_t version = 0;
    const wire::ConfigFields config = decode(control_.published[0].config, version);
    const wire::ConfigFields defaults;
    EXPECT_EQ(config.retry_s, 9u);
    EXPECT_EQ(config.interval_s[0], defaults.interval_s[0]);
    EXPECT_EQ(config.pending_timeout_s, defaults.pending_timeout_s);
    // Two keys: version and retry.
    EXPECT_EQ(control_.published[0].config[0], 0xA2);
}

TEST_F(Config, PutDevice_versionsIncreaseAndPassTheAppliedOne) {
    write({heartbeat("dev-1", "hb1", kNowMs - 1000, "active", 41)});
    ASSERT_EQ(call("PUT", "/api/devices/dev-1/config", R"({"retry_s":5})").body["version"], 42);
    ASSERT_EQ(call("PUT", "/api/devices/dev-1/config", R"({"retry_s":6})").body["version"], 43);
    write({heartbeat("dev-1", "hb2", kNowMs - 500, "active", 43)});
    const Reply shown = call("GET", "/api/devices/dev-1/config");
    ASSERT_EQ(shown.status, 200) << shown.text;
    EXPECT_EQ(shown.body["desired_version"], 43);
    EXPECT_EQ(shown.body["applied_version"], 43);
    EXPECT_EQ(shown.body["in_sync"], true);
    EXPECT_EQ(shown.body["desired"]["settings"]["retry_s"], 6);
    EXPECT_EQ(call("GET", "/api/devices/dev-1").body["config"]["desired_version"], 43);
    EXPECT_EQ(call("GET", "/api/devices/nobody/config").status, 404);
}

TEST_F(Config, PutDevice_refusesWhatTheAgentWouldRefuse) {
    const char* bad[] = {
        R"({"intervals":{"high":0,"medium":30,"low":60}})",
        R"({"intervals":{"high":10,"medium":30,"low":86401}})",
        R"({"intervals":{"high":10,"medium":30}})",
        R"({"intervals":{"high":10.5,"medium":30,"low":60}})",
        R"({"collectors":{"network":{"enabled":true,"priority":"urgent"}}})",
        R"({"collectors":{"gps":{"enabled":true,"priority":"high"}}})",
        R"({"collectors":{"network":{"enabled":"yes","priority":"high"}}})",
        R"({"pending_timeout_s":0})",
        R"({"retry_s":3601})",
        R"({"retry_s":-1})",
        R"({"unicast_only":1})",
        R"({"colour":"blue"})",
        R"({})",
        R"([])",
    };
    for (const char* body : bad) {
        const Reply reply = call("PUT", "/api/devices/dev-1/config", body);
        EXPECT_EQ(reply.status, 400) << body;
        EXPECT_EQ(reply.body["error"], "bad_config") << body;
        EXPECT_FALSE(reply.body["detail"].get<std::string>().empty());
    }
    EXPECT_TRUE(control_.published.empty());
    EXPECT_EQ(call("PUT", "/api/devices/bad%20id/config", R"({"retry_s":5})").status, 400);
}

TEST_F(Config, PutDevice_aPublishFailureIs502AndTheNextPushMovesOn) {
    control_.refuse_publish = true;
    const Reply failed = call("PUT", "/api/devices/dev-1/config", R"({"retry_s":5})");
    EXPECT_EQ(failed.status, 502);
    EXPECT_EQ(failed.body["error"], "publish_failed");
    control_.refuse_publish = false;
    EXPECT_EQ(call("PUT", "/api/devices/dev-1/config", R"({"retry_s":5})").body["version"], 2);
}

TEST_F(Config, PutGroup_reachesEveryMemberWithOneAcceptableVersion) {
    write({heartbeat("dev-a", "hb", kNowMs - 1000, "active", 7)});
    for (const char* device : {"dev-a", "dev-b", "dev-c"}) {
        const Reply joined =
            call("PUT", std::string("/api/devices/") + device + "/group", R"({"group":"lab"})");
        ASSERT_EQ(joined.status, 200) << joined.text;
    }
    ASSERT_EQ(call("PUT", "/api/devices/dev-other/group", R"({"group":"floor"})").status, 200);
    ASSERT_EQ(call("PUT", "/api/devices/dev-b/config", R"({"retry_s":5})").status, 200);
    control_.published.clear();

    const Reply reply = call("PUT", "/api/groups/lab/config", kFull);
    ASSERT_EQ(reply.status, 200) << reply.text;
    EXPECT_EQ(reply.body["version"], 8);  // above dev-a's applied 7
    ASSERT_EQ(control_.published.size(), 3u);
    std::vector<std::string> reached;
    for (const auto& published : control_.published) {
        reached.push_back(published.device_id);
        uint32_t version = 0;
        const wire::ConfigFields config = decode(published.config, version);
        EXPECT_EQ(version, 8u);
        EXPECT_EQ(config.interval_s[2], 120u);
    }
    EXPECT_EQ(reached, (std::vector<std::string>{"dev-a", "dev-b", "dev-c"}));
    const Reply group = call("GET", "/api/groups/lab/config");
    EXPECT_EQ(group.body["members"].size(), 3u);
    EXPECT_EQ(group.body["desired"]["version"], 8);
    EXPECT_EQ(call("GET", "/api/devices/dev-c/config").body["desired_version"], 8);
    EXPECT_EQ(call("PUT", "/api/devices/dev-b/config", R"({"retry_s":5})").body["version"], 9);
}

TEST_F(Config, PutGroup_joiningAGroupWithAConfigGetsIt) {
    ASSERT_EQ(call("PUT", "/api/groups/lab/config", R"({"retry_s":11})").status, 200);
    EXPECT_TRUE(control_.published.empty());  // no members yet
    const Reply joined = call("PUT", "/api/devices/dev-late/group", R"({"group":"lab"})");
    ASSERT_EQ(joined.status, 200) << joined.text;
    EXPECT_EQ(joined.body["config_version"], 1);
    ASSERT_EQ(control_.published.size(), 1u);
    uint32_t version = 0;
    EXPECT_EQ(decode(control_.published[0].config, version).retry_s, 11u);
    const Reply left = call("PUT", "/api/devices/dev-late/group", R"({"group":null})");
    EXPECT_EQ(left.status, 200);
    EXPECT_TRUE(call("GET", "/api/groups/lab/config").body["members"].empty());
    EXPECT_EQ(call("PUT", "/api/devices/dev-late/group", R"({"group":"a b"})").status, 400);
    EXPECT_EQ(call("PUT", "/api/devices/dev-late/group", R"({"team":"lab"})").status, 400);
    EXPECT_EQ(call("GET", "/api/groups/nothing/config").status, 404);
}

TEST_F(Config, PutGroup_reportsMembersThatWereNotReached) {
    ASSERT_EQ(call("PUT", "/api/devices/dev-a/group", R"({"group":"lab"})").status, 200);
    control_.refuse_publish = true;
    const Reply reply = call("PUT", "/api/groups/lab/config", R"({"retry_s":5})");
    EXPECT_EQ(reply.status, 502);
    EXPECT_EQ(reply.body["devices"][0]["published"], false);
}

}  // namespace
}  // namespace vigil::hub::testing

// Devices over HTTP: list with filters and paging, detail, enrolment, revocation, flows.
#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Devices : public ApiTest {
  protected:
    void fill() {
        std::vector<Report> reports;
        for (int i = 1; i <= 5; ++i) {
            reports.push_back(
                report("dev-" + std::to_string(i), "k" + std::to_string(i), kNowMs - 60000 * i));
        }
        reports.push_back(heartbeat("dev-2", "hb", kNowMs - 1000, "active", 3));
        Report aws = report("thing-1", "r1", kNowMs - 500);
        aws.format = Format::AwsDefender;
        reports.push_back(aws);
        write(reports);
        // They reported through the hub's broker, so it holds their accounts.
        for (const Report& r : reports) {
            control_.accounts.insert(r.device_id);
        }
    }

    nlohmann::json listed(const std::string& id) {
        return listed_entry("/api/devices", "devices", "id", id);
    }
};

std::vector<std::string> ids(const nlohmann::json& body) {
    std::vector<std::string> out;
    for (const auto& device : body["devices"]) {
        out.push_back(device["id"]);
    }
    return out;
}

TEST_F(Devices, List_filtersByStateFormatAndSeenSince) {
    fill();
    EXPECT_EQ(ids(call("GET", "/api/devices").body).size(), 6u);
    EXPECT_EQ(ids(call("GET", "/api/devices?state=active").body),
              std::vector<std::string>{"dev-2"});
    EXPECT_EQ(ids(call("GET", "/api/devices?format=aws-defender").body),
              std::vector<std::string>{"thing-1"});
    const std::string since = std::to_string(kNowMs - 150000);
    EXPECT_EQ(ids(call("GET", "/api/devices?seen_since=" + since).body),
              (std::vector<std::string>{"dev-1", "dev-2", "thing-1"}));
    EXPECT_EQ(ids(call("GET", "/api/devices?enrolment=blocked").body).size(), 0u);
}

TEST_F(Devices, List_pagesWithAfter) {
    fill();
    std::vector<std::string> seen;
    std::string path = "/api/devices?limit=2";
    for (int pages = 0; pages < 10; ++pages) {
        const Reply page = call("GET", path);
        ASSERT_EQ(page.status, 200) << page.text;
        EXPECT_LE(page.body["devices"].size(), 2u);
        for (const std::string& id : ids(page.body)) {
            seen.push_back(id);
        }
        if (page.body["next_after"].is_null()) {
            break;
        }
        path = "/api/devices?limit=2&after=" + page.body["next_after"].get<std::string>();
    }
    EXPECT_EQ(seen,
              (std::vector<std::string>{"dev-1", "dev-2", "dev-3", "dev-4", "dev-5", "thing-1"}));
}

TEST_F(Devices, List_badParametersAre400) {
    for (const char* query : {"state=sleeping", "format=xml", "limit=0", "limit=5000",
                              "seen_since=yesterday", "limit=1e3", "seen_since=-5"}) {
        const Reply reply = call("GET", std::string("/api/devices?") + query);
        EXPECT_EQ(reply.status, 400) << query;
        EXPECT_EQ(reply.body["error"], "bad_parameter") << query;
    }
}

TEST_F(Devices, List_injectionStringsAreInert) {
    fill();
    const Reply state = call("GET", "/api/devices?state=active%27%20OR%201%3D1%20--");
    EXPECT_EQ(state.status, 400);
    const Reply after = call("GET", "/api/devices?after=%27%20OR%201%3D1%20--");
    EXPECT_EQ(after.status, 200);
    EXPECT_EQ(ids(after.body).size(), 6u);  // every id sorts after a quote, none is matched by SQL
    const Reply alerts = call("GET", "/api/alerts?device=x%27%3B%20DROP%20TABLE%20devices%3B%20--");
    EXPECT_EQ(alerts.status, 200);
    EXPECT_TRUE(alerts.body["alerts"].empty());
    EXPECT_EQ(ids(call("GET", "/api/devices").body).size(), 6u);
}

TEST_F(Devices, Detail_showsSystemPortsTrafficAndConfig) {
    Report full = report("dev-7", "k1", kNowMs - 10000, 3);
    SystemInfo system;
    system.os_name = "Zephyr";
    system.board = "nrf52";
    full.system = system;
    full.listening_ports = std::vector<ListeningPort>{{Protocol::Tcp, 23, "", ""}};
    write({full, heartbeat("dev-7", "hb", kNowMs - 5000, "active", 4)});
    const Reply reply = call("GET", "/api/devices/dev-7");
    ASSERT_EQ(reply.status, 200) << reply.text;
    EXPECT_EQ(reply.body["device"]["id"], "dev-7");
    EXPECT_EQ(reply.body["system"]["os_name"], "Zephyr");
    EXPECT_EQ(reply.body["listening_ports"][0]["port"], 23);
    EXPECT_EQ(reply.body["traffic"]["flows"], 3);
    EXPECT_EQ(reply.body["traffic"]["bytes_in"], 3000);
    EXPECT_EQ(reply.body["traffic"]["top_remotes"].size(), 3u);
    EXPECT_EQ(reply.body["config"]["applied_version"], 4);
    EXPECT_TRUE(reply.body["config"]["desired_version"].is_null());
    // A range that misses the window counts nothing.
    const Reply empty = call("GET", "/api/devices/dev-7?from=0&to=1000");
    EXPECT_EQ(empty.body["traffic"]["flows"], 0);
}

TEST_F(Devices, Detail_unknownIs404AndABadIdIs400) {
    const Reply unknown = call("GET", "/api/devices/nobody");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.body["error"], "not_found");
    EXPECT_EQ(call("GET", "/api/devices/bad%20id%27").status, 400);
    EXPECT_EQ(call("GET", "/api/devices/dev-1?top=1000").status, 400);
}

TEST_F(Devices, Enrol_returnsTheCredentialsOnce) {
    const Reply reply = call("POST", "/api/devices", R"({"id":"dev-new"})");
    ASSERT_EQ(reply.status, 201) << reply.text;
    EXPECT_EQ(reply.body["username"], "dev-new");
    EXPECT_EQ(reply.body["password"], "secret-of-dev-new");
    EXPECT_EQ(control_.added, std::vector<std::string>{"dev-new"});
    const Reply again = call("POST", "/api/devices", R"({"id":"dev-new"})");
    EXPECT_EQ(again.status, 409);
    EXPECT_NE(again.body["detail"].get<std::string>().find("already"), std::string::npos);
    EXPECT_EQ(call("POST", "/api/devices", R"({"id":"a/b#"})").status, 400);
    EXPECT_EQ(call("POST", "/api/devices", R"({"name":"x"})").status, 400);
    EXPECT_EQ(call("POST", "/api/devices", R"({"id":42})").status, 400);
}

TEST_F(Devices, Revoke_cutsTheDeviceOffAndMarksItBlocked) {
    fill();
    const Reply reply = call("DELETE", "/api/devices/dev-3");
    EXPECT_EQ(reply.status, 204);
    EXPECT_EQ(control_.revoked, std::vector<std::string>{"dev-3"});
    EXPECT_EQ(call("GET", "/api/devices/dev-3").body["device"]["enrolment"], "blocked");
    EXPECT_EQ(ids(call("GET", "/api/devices?enrolment=blocked").body),
              std::vector<std::string>{"dev-3"});
    control_.refuse_revoke = true;
    EXPECT_EQ(call("DELETE", "/api/devices/nobody").status, 404);
    EXPECT_EQ(call("DELETE", "/api/devices/dev-1").status, 502);
}

TEST_F(Devices, Enrol_listsTheDeviceAtOnceNeverSeen) {
    ASSERT_EQ(call("POST", "/api/devices", R"({"id":"dev-new"})").status, 201);
    const nlohmann::json device = listed("dev-new");
    ASSERT_TRUE(device.is_object()) << call("GET", "/api/devices").text;
    EXPECT_EQ(device["enrolment"], "enrolled");
    EXPECT_EQ(device["messages"], 0);
    EXPECT_TRUE(device["format"].is_null()) << device;
    EXPECT_TRUE(device["first_seen_ms"].is_null()) << device;
    EXPECT_TRUE(device["last_seen_ms"].is_null()) << device;
    EXPECT_EQ(device["state"], "");
    EXPECT_EQ(ids(call("GET", "/api/devices?enrolment=enrolled").body),
              std::vector<std::string>{"dev-new"});
    // Never seen: not among the devices seen since any time, nor of any format.
    EXPECT_TRUE(ids(call("GET", "/api/devices?seen_since=0").body).empty());
    EXPECT_TRUE(ids(call("GET", "/api/devices?format=vigil").body).empty());
    const Reply detail = call("GET", "/api/devices/dev-new");
    ASSERT_EQ(detail.status, 200) << detail.text;
    EXPECT_EQ(detail.body["device"]["enrolment"], "enrolled");
    EXPECT_EQ(detail.body["traffic"]["flows"], 0);
    EXPECT_TRUE(detail.body["status"].is_null());
    const Reply flows = call("GET", "/api/devices/dev-new/flows");
    EXPECT_EQ(flows.status, 200);
    EXPECT_TRUE(flows.body["flows"].empty());
}

TEST_F(Devices, Enrol_thenItsFirstMessageFillsTheRowAndKeepsEnrolled) {
    ASSERT_EQ(call("POST", "/api/devices", R"({"id":"dev-new"})").status, 201);
    Report first = report("dev-new", "k1", kNowMs - 2000);
    first.format = Format::AwsDefender;
    write({first});
    const nlohmann::json device = listed("dev-new");
    EXPECT_EQ(device["enrolment"], "enrolled");
    EXPECT_EQ(device["messages"], 1);
    EXPECT_EQ(device["format"], "aws-defender");
    EXPECT_EQ(device["first_seen_ms"], kNowMs - 2000);
    EXPECT_EQ(device["last_seen_ms"], kNowMs - 2000);
    EXPECT_EQ(device["agent_version"], "0.1.0");
    // A device that reports without having been enrolled here (another broker) is pending.
    write({report("dev-elsewhere", "k1", kNowMs - 1000)});
    EXPECT_EQ(listed("dev-elsewhere")["enrolment"], "pending");
    EXPECT_EQ(ids(call("GET", "/api/devices").body).size(), 2u);
}

TEST_F(Devices, Revoke_aDeviceThatNeverReportedIsListedBlocked) {
    ASSERT_EQ(call("POST", "/api/devices", R"({"id":"dev-quiet"})").status, 201);
    ASSERT_EQ(call("DELETE", "/api/devices/dev-quiet").status, 204);
    EXPECT_EQ(listed("dev-quiet")["enrolment"], "blocked");
    EXPECT_EQ(listed("dev-quiet")["messages"], 0);
    // Enrolled at the broker before the hub kept rows for enrolments: no row until now.
    control_.accounts.insert("dev-older");
    ASSERT_EQ(call("DELETE", "/api/devices/dev-older").status, 204);
    const nlohmann::json older = listed("dev-older");
    ASSERT_TRUE(older.is_object());
    EXPECT_EQ(older["enrolment"], "blocked");
    EXPECT_TRUE(older["last_seen_ms"].is_null());
    EXPECT_EQ(ids(call("GET", "/api/devices?enrolment=blocked").body),
              (std::vector<std::string>{"dev-older", "dev-quiet"}));
}

TEST_F(Devices, Revoke_twiceSucceedsAndStaysBlocked) {
    ASSERT_EQ(call("POST", "/api/devices", R"({"id":"dev-twice"})").status, 201);
    ASSERT_EQ(call("DELETE", "/api/devices/dev-twice").status, 204);
    const Reply again = call("DELETE", "/api/devices/dev-twice");
    EXPECT_EQ(again.status, 204) << again.text;
    EXPECT_EQ(listed("dev-twice")["enrolment"], "blocked");
    EXPECT_EQ(control_.revoked, std::vector<std::string>{"dev-twice"});
}

TEST_F(Devices, Revoke_anUnknownIdIsA404AndLeavesNoRow) {
    const Reply reply = call("DELETE", "/api/devices/nobody");
    EXPECT_EQ(reply.status, 404) << reply.text;
    EXPECT_EQ(reply.body["error"], "not_found");
    EXPECT_NE(reply.body["detail"].get<std::string>().find("nobody"), std::string::npos);
    EXPECT_EQ(call("GET", "/api/devices/nobody").status, 404);
    EXPECT_TRUE(ids(call("GET", "/api/devices").body).empty());
    EXPECT_TRUE(control_.revoked.empty());
}

TEST_F(Devices, Flows_pageThroughARange) {
    write({report("dev-f", "k1", kNowMs - 30000, 3), report("dev-f", "k2", kNowMs - 20000, 3),
           report("dev-f", "k3", kNowMs - 10000, 3)});
    size_t total = 0;
    std::string path = "/api/devices/dev-f/flows?limit=4";
    for (int pages = 0; pages < 10; ++pages) {
        const Reply page = call("GET", path);
        ASSERT_EQ(page.status, 200) << page.text;
        total += page.body["flows"].size();
        if (page.body["next"].is_null()) {
            break;
        }
        path = "/api/devices/dev-f/flows?limit=4&after=" + page.body["next"].get<std::string>();
    }
    EXPECT_EQ(total, 9u);
    const std::string range =
        "from=" + std::to_string(kNowMs - 25000) + "&to=" + std::to_string(kNowMs - 15000);
    const Reply ranged = call("GET", "/api/devices/dev-f/flows?" + range);
    EXPECT_EQ(ranged.body["flows"].size(), 3u);
    EXPECT_EQ(ranged.body["flows"][0]["remote"], "203.0.113.1");
    EXPECT_EQ(call("GET", "/api/devices/dev-f/flows?after=1:2").status, 400);
    EXPECT_EQ(call("GET", "/api/devices/dev-f/flows?after=1%3A2%3A3%27--").status, 400);
    EXPECT_EQ(call("GET", "/api/devices/nobody/flows").status, 404);
}

}  // namespace
}  // namespace vigil::hub::testing

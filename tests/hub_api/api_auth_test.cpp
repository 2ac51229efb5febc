// Tokens and the checks in front of every route: 401 without a valid token, 403 for a read token
// that tries to change something, and the bodies the server refuses before any handler.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

class Auth : public ApiTest {};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST_F(Auth, Start_createsTheAdminTokenOncePrivateAndHashed) {
    EXPECT_NE(announced_.find(admin_token_), std::string::npos) << announced_;
    EXPECT_EQ(admin_token_.size(), 6u + 64u);  // "vigil_" and 32 random bytes in hex
    struct stat token_file {};
    ASSERT_EQ(stat(dir_.file("admin.token").c_str(), &token_file), 0);
    EXPECT_EQ(token_file.st_mode & 0777, 0600u);
    struct stat hashes {};
    ASSERT_EQ(stat(dir_.file("api-tokens.json").c_str(), &hashes), 0);
    EXPECT_EQ(hashes.st_mode & 0777, 0600u);
    const std::string stored = slurp(dir_.file("api-tokens.json"));
    EXPECT_EQ(stored.find(admin_token_), std::string::npos) << "a token is stored in clear";
    EXPECT_EQ(stored.find(admin_token_.substr(6)), std::string::npos);

    // A restart keeps the token and announces nothing.
    server_.reset();
    announced_.clear();
    start_server();
    EXPECT_TRUE(announced_.empty()) << announced_;
    EXPECT_EQ(call("GET", "/api/devices").status, 200);
}

TEST_F(Auth, Routes_needAToken) {
    const Reply missing = call("GET", "/api/devices", "", std::string());
    EXPECT_EQ(missing.status, 401);
    EXPECT_EQ(missing.body["error"], "unauthorized");
    EXPECT_FALSE(missing.body["detail"].get<std::string>().empty());
    const Reply wrong =
        call("GET", "/api/devices", "", std::string("vigil_") + std::string(64, 'a'));
    EXPECT_EQ(wrong.status, 401);
    // One character off the real token.
    std::string near = admin_token_;
    near.back() = near.back() == 'a' ? 'b' : 'a';
    EXPECT_EQ(call("GET", "/api/devices", "", near).status, 401);
    EXPECT_EQ(call("DELETE", "/api/devices/dev-1", "", std::string()).status, 401);
    // An unknown route does not tell strangers whether it exists.
    EXPECT_EQ(call("GET", "/api/nothing-here", "", std::string()).status, 401);
}

TEST_F(Auth, ReadToken_mayOnlyGet) {
    const std::string reader = read_token();
    ASSERT_FALSE(reader.empty());
    EXPECT_EQ(call("GET", "/api/devices", "", reader).status, 200);
    EXPECT_EQ(call("GET", "/api/alerts", "", reader).status, 200);
    const Reply enrol = call("POST", "/api/devices", R"({"id":"dev-9"})", reader);
    EXPECT_EQ(enrol.status, 403);
    EXPECT_EQ(enrol.body["error"], "forbidden");
    EXPECT_EQ(call("DELETE", "/api/devices/dev-9", "", reader).status, 403);
    EXPECT_EQ(call("POST", "/api/alerts/1/ack", "", reader).status, 403);
    EXPECT_EQ(call("PUT", "/api/devices/dev-9/config", R"({"retry_s":5})", reader).status, 403);
    EXPECT_EQ(call("POST", "/api/tokens", R"({"name":"x","role":"admin"})", reader).status, 403);
    EXPECT_TRUE(control_.added.empty());
    EXPECT_TRUE(control_.published.empty());
}

TEST_F(Auth, CreateToken_adminTokensWorkAndRolesAreChecked) {
    const Reply created = call("POST", "/api/tokens", R"({"name":"ops","role":"admin"})");
    ASSERT_EQ(created.status, 201) << created.text;
    EXPECT_EQ(created.body["role"], "admin");
    const std::string second = created.body["token"];
    EXPECT_NE(second, admin_token_);
    EXPECT_EQ(call("POST", "/api/tokens", R"({"name":"ro","role":"read"})", second).status, 201);
    const Reply bad_role = call("POST", "/api/tokens", R"({"name":"x","role":"root"})");
    EXPECT_EQ(bad_role.status, 400);
    EXPECT_EQ(bad_role.body["error"], "bad_request");
}

TEST_F(Auth, OpenRoutes_needNoToken) {
    EXPECT_EQ(call("GET", "/healthz", "", std::string()).status, 200);
    EXPECT_EQ(call("GET", "/metrics", "", std::string()).status, 200);
}

TEST_F(Auth, MetricsNeedToken_whenTheSettingsSaySo) {
    server_.reset();
    ApiSettings settings;
    settings.metrics_need_token = true;
    start_server(settings);
    EXPECT_EQ(call("GET", "/metrics", "", std::string()).status, 401);
    EXPECT_EQ(call("GET", "/metrics", "", read_token()).status, 200);
}

TEST_F(Auth, Body_malformedJsonIsRefusedWithAReason) {
    const Reply broken = call("POST", "/api/devices", R"({"id": "dev-1")");
    EXPECT_EQ(broken.status, 400);
    EXPECT_EQ(broken.body["error"], "malformed_json");
    EXPECT_NE(broken.body["detail"].get<std::string>().find("parse error"), std::string::npos)
        << broken.text;
    EXPECT_EQ(call("POST", "/api/devices", "").status, 400);
    EXPECT_EQ(call("POST", "/api/devices", R"(["dev-1"])").status, 400);
    const Reply deep =
        call("POST", "/api/devices", std::string(10000, '[') + std::string(10000, ']'));
    EXPECT_EQ(deep.status, 400);
    EXPECT_EQ(deep.body["error"], "malformed_json");
    EXPECT_TRUE(control_.added.empty());
}

TEST_F(Auth, Body_overOneMebibyteIsRefused) {
    const std::string big = R"({"id":")" + std::string(1024 * 1024 + 10, 'a') + R"("})";
    const Reply reply = call("POST", "/api/devices", big);
    EXPECT_EQ(reply.status, 413);
    EXPECT_EQ(reply.body["error"], "payload_too_large");
    EXPECT_TRUE(control_.added.empty());
    // The server still answers afterwards.
    EXPECT_EQ(call("GET", "/api/devices").status, 200);
}

TEST_F(Auth, UnknownRoute_isAJson404) {
    const Reply reply = call("GET", "/api/nothing-here");
    EXPECT_EQ(reply.status, 404);
    EXPECT_EQ(reply.body["error"], "not_found");
}

TEST_F(Auth, Start_refusesATakenPortAndAMissingDataDir) {
    ApiSettings settings;
    settings.port = server_->port();
    settings.data_dir = dir_.path();
    ApiServer second(settings, *store_, control_);
    EXPECT_FALSE(second.start().ok());
    settings.port = 0;
    settings.data_dir = dir_.file("missing");
    ApiServer third(settings, *store_, control_);
    EXPECT_FALSE(third.start().ok());
}

}  // namespace
}  // namespace vigil::hub::testing

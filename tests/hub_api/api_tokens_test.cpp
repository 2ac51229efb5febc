// API tokens over HTTP: listing, creating and revoking, who may do it, and the token file across
// restarts and damage.
#include <openssl/evp.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

// The token file records SHA-256 of each secret in lowercase hex; computed here on its own,
// so the test does not take the server's word for what the hash is.
std::string sha256_hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 0xf];
    }
    return hex;
}

class Tokens : public ApiTest {
  protected:
    std::string slurp(const std::string& name) {
        std::ifstream in(dir_.file(name));
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    void overwrite(const std::string& name, const std::string& content) {
        std::ofstream out(dir_.file(name), std::ios::trunc);
        out << content;
    }

    Reply create(const std::string& body, const std::optional<std::string>& token = std::nullopt) {
        return call("POST", "/api/tokens", body, token);
    }

    nlohmann::json listed(const std::string& name) {
        return listed_entry("/api/tokens", "tokens", "name", name);
    }

    /// start() of a second server on the same directory; the error when it fails.
    std::string start_error() {
        ApiSettings settings;
        settings.bind_address = "127.0.0.1";
        settings.port = 0;
        settings.data_dir = dir_.path();
        settings.announce = [](const std::string&) {};
        ApiServer other(settings, *store_, control_);
        return other.start().error;
    }
};

TEST_F(Tokens, List_showsNamesRolesAndTimesButNoSecret) {
    const std::string reader = make_token("read", "ci.reader_1");
    const Reply reply = call("GET", "/api/tokens");
    ASSERT_EQ(reply.status, 200) << reply.text;
    ASSERT_EQ(reply.body["tokens"].size(), 2u) << reply.text;
    const auto& first = reply.body["tokens"][0];
    EXPECT_EQ(first["name"], "admin");
    EXPECT_EQ(first["role"], "admin");
    EXPECT_EQ(first["created_ms"], kNowMs);
    EXPECT_EQ(first["last_used_ms"], kNowMs);  // this very request
    const auto& second = reply.body["tokens"][1];
    EXPECT_EQ(second["name"], "ci.reader_1");
    EXPECT_EQ(second["role"], "read");
    EXPECT_TRUE(second["last_used_ms"].is_null()) << reply.text;
    for (const std::string& secret : {admin_token_, reader}) {
        EXPECT_EQ(reply.text.find(secret), std::string::npos);
        EXPECT_EQ(reply.text.find(secret.substr(6)), std::string::npos);
        EXPECT_EQ(reply.text.find(sha256_hex(secret)), std::string::npos);
    }
    EXPECT_EQ(reply.text.find("sha256"), std::string::npos);
    EXPECT_EQ(call("GET", "/api/devices", "", reader).status, 200);
    EXPECT_EQ(listed("ci.reader_1")["last_used_ms"], kNowMs);
}

TEST_F(Tokens, Create_showsTheSecretOnceAndItWorksWithItsRole) {
    const Reply reply = create(R"({"name":"grafana","role":"read"})");
    ASSERT_EQ(reply.status, 201) << reply.text;
    EXPECT_EQ(reply.body["name"], "grafana");
    EXPECT_EQ(reply.body["role"], "read");
    EXPECT_EQ(reply.body["created_ms"], kNowMs);
    const std::string secret = reply.body["token"];
    EXPECT_EQ(secret.rfind("vigil_", 0), 0u);
    EXPECT_EQ(secret.size(), 70u);
    EXPECT_EQ(slurp("api-tokens.json").find(secret.substr(6)), std::string::npos);
    EXPECT_EQ(call("GET", "/api/devices", "", secret).status, 200);
    EXPECT_EQ(call("POST", "/api/devices", R"({"id":"d"})", secret).status, 403);

    const Reply admin = create(R"({"name":"ops-2","role":"admin"})");
    ASSERT_EQ(admin.status, 201) << admin.text;
    const std::string ops = admin.body["token"];
    EXPECT_EQ(call("POST", "/api/devices", R"({"id":"d"})", ops).status, 201);
    EXPECT_EQ(create(R"({"name":"by-ops","role":"read"})", ops).status, 201);
    // What an admin token does is recorded under its name.
    write({report("dev-1", "k1", kNowMs)});
    AlertRaise raise;
    raise.device_id = "dev-1";
    raise.type = "scan.port_inbound";
    raise.title = "Inbound port scan";
    raise.raised_ms = kNowMs;
    const auto id = store_->raise_alert(raise);
    ASSERT_TRUE(id.ok()) << id.error;
    const Reply ack =
        call("POST", "/api/alerts/" + std::to_string(id.value.alert.id) + "/ack", "", ops);
    EXPECT_EQ(ack.body["changed_by"], "token:ops-2") << ack.text;
}

TEST_F(Tokens, Create_refusesBadNamesRolesAndBodies) {
    for (const char* body :
         {R"({"name":"","role":"read"})", R"({"name":"has space","role":"read"})",
          R"({"name":"a/b","role":"read"})", R"({"name":"ünï","role":"read"})",
          R"({"name":"semi;colon","role":"read"})", R"({"name":42,"role":"read"})",
          R"({"role":"read"})", R"({"name":null,"role":"read"})"}) {
        const Reply reply = create(body);
        EXPECT_EQ(reply.status, 400) << body;
        EXPECT_EQ(reply.body["error"], "bad_token_name") << body;
        EXPECT_FALSE(reply.body["detail"].get<std::string>().empty());
    }
    const std::string longest(64, 'n');
    EXPECT_EQ(create(R"({"name":")" + longest + R"(","role":"read"})").status, 201);
    const Reply too_long = create(R"({"name":")" + longest + R"(x","role":"read"})");
    EXPECT_EQ(too_long.status, 400);
    for (const char* body : {R"({"name":"x","role":"root"})", R"({"name":"x"})",
                             R"({"name":"x","role":1})", R"({"name":"x","role":"Admin"})"}) {
        const Reply reply = create(body);
        EXPECT_EQ(reply.status, 400) << body;
        EXPECT_EQ(reply.body["error"], "bad_request") << body;
        EXPECT_NE(reply.body["detail"].get<std::string>().find("role"), std::string::npos);
    }
    const Reply unknown = create(R"({"name":"x","role":"read","expires":"never"})");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body["detail"].get<std::string>().find("expires"), std::string::npos);
    for (const char* body : {R"({"name":"x","role":)", "", "not json", R"(["x","read"])"}) {
        const Reply reply = create(body);
        EXPECT_EQ(reply.status, 400) << body;
    }
    EXPECT_EQ(create(R"({"name":"x","role":)").body["error"], "malformed_json");
    // Nothing of that was created.
    EXPECT_EQ(call("GET", "/api/tokens").body["tokens"].size(), 2u);
}

TEST_F(Tokens, Create_aNameTakenIs409) {
    ASSERT_EQ(create(R"({"name":"ci","role":"read"})").status, 201);
    const Reply again = create(R"({"name":"ci","role":"admin"})");
    EXPECT_EQ(again.status, 409);
    EXPECT_EQ(again.body["error"], "token_exists");
    EXPECT_EQ(create(R"({"name":"admin","role":"admin"})").status, 409);
    EXPECT_EQ(listed("ci")["role"], "read");
}

TEST_F(Tokens, Routes_needAnAdminToken) {
    const std::string reader = read_token();
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/tokens"}, {"POST", "/api/tokens"}, {"DELETE", "/api/tokens/admin"}}) {
        const std::string body = method == "POST" ? R"({"name":"x","role":"admin"})" : "";
        const Reply without = call(method, path, body, std::string());
        EXPECT_EQ(without.status, 401) << method << " " << path;
        EXPECT_EQ(without.body["error"], "unauthorized");
        EXPECT_EQ(call(method, path, body, "vigil_" + std::string(64, '0')).status, 401);
        const Reply forbidden = call(method, path, body, reader);
        EXPECT_EQ(forbidden.status, 403) << method << " " << path;
        EXPECT_EQ(forbidden.body["error"], "forbidden");
        EXPECT_NE(forbidden.body["detail"].get<std::string>().find("admin"), std::string::npos);
    }
    EXPECT_EQ(listed("x"), nullptr);
    EXPECT_TRUE(listed("admin").is_object());
}

TEST_F(Tokens, Revoke_takesEffectOnTheNextRequest) {
    const std::string reader = make_token("read", "ci");
    ASSERT_EQ(call("GET", "/api/devices", "", reader).status, 200);
    const Reply revoked = call("DELETE", "/api/tokens/ci");
    EXPECT_EQ(revoked.status, 204) << revoked.text;
    const Reply after = call("GET", "/api/devices", "", reader);
    EXPECT_EQ(after.status, 401);
    EXPECT_EQ(after.body["error"], "unauthorized");
    EXPECT_EQ(listed("ci"), nullptr);
    const Reply again = call("DELETE", "/api/tokens/ci");
    EXPECT_EQ(again.status, 404);
    EXPECT_EQ(again.body["error"], "not_found");
    EXPECT_EQ(call("DELETE", "/api/tokens/nobody").status, 404);
    EXPECT_EQ(call("DELETE", "/api/tokens/bad%20name").status, 404);
    // The name is free again, for a new secret.
    const std::string renewed = make_token("read", "ci");
    EXPECT_NE(renewed, reader);
    EXPECT_EQ(call("GET", "/api/devices", "", renewed).status, 200);
    EXPECT_EQ(call("GET", "/api/devices", "", reader).status, 401);
}

TEST_F(Tokens, Revoke_theLastAdminTokenIsRefused) {
    const std::string reader = read_token();
    const Reply last = call("DELETE", "/api/tokens/admin");
    EXPECT_EQ(last.status, 409) << last.text;
    EXPECT_EQ(last.body["error"], "last_admin_token");
    EXPECT_EQ(call("GET", "/api/tokens").status, 200);

    // With a second admin token the first may go, even by its own hand; admin.token held it, so
    // that file goes too rather than point the command line at a dead token.
    const std::string ops = make_token("admin", "ops");
    EXPECT_EQ(call("DELETE", "/api/tokens/admin").status, 204);
    EXPECT_FALSE(std::filesystem::exists(dir_.file("admin.token")));
    EXPECT_EQ(call("GET", "/api/tokens").status, 401);
    const Reply now_last = call("DELETE", "/api/tokens/ops", "", ops);
    EXPECT_EQ(now_last.status, 409);
    EXPECT_EQ(now_last.body["error"], "last_admin_token");
    // Read tokens do not count as a way in: the reader may still go.
    EXPECT_EQ(call("DELETE", "/api/tokens/reader-1", "", ops).status, 204);
    EXPECT_EQ(call("GET", "/api/tokens", "", ops).body["tokens"].size(), 1u);
}

TEST_F(Tokens, File_survivesARestartWithTheSameTokens) {
    const std::string reader = make_token("read", "grafana");
    const std::string ops = make_token("admin", "ops");
    const std::string gone = make_token("read", "gone");
    ASSERT_EQ(call("DELETE", "/api/tokens/gone").status, 204);
    ASSERT_EQ(call("GET", "/api/devices", "", reader).status, 200);

    server_.reset();
    announced_.clear();
    start_server();
    EXPECT_TRUE(announced_.empty()) << "no new admin token: " << announced_;
    EXPECT_EQ(call("GET", "/api/devices", "", reader).status, 200);
    EXPECT_EQ(call("POST", "/api/devices", R"({"id":"d"})", reader).status, 403);
    EXPECT_EQ(call("GET", "/api/tokens", "", ops).status, 200);
    EXPECT_EQ(call("GET", "/api/tokens").status, 200);
    EXPECT_EQ(call("GET", "/api/devices", "", gone).status, 401);
    const Reply list = call("GET", "/api/tokens");
    ASSERT_EQ(list.body["tokens"].size(), 3u) << list.text;
    EXPECT_EQ(list.body["tokens"][1]["name"], "grafana");
    // Last use was written out when the server stopped.
    EXPECT_EQ(list.body["tokens"][1]["last_used_ms"], kNowMs);

    struct stat file {};
    ASSERT_EQ(stat(dir_.file("api-tokens.json").c_str(), &file), 0);
    EXPECT_EQ(file.st_mode & 0777, 0600u);
    // Every rewrite went through a temporary file that is gone.
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
        const std::string name = entry.path().filename();
        EXPECT_TRUE(name == "api-tokens.json" || name == "admin.token" ||
                    name.rfind("hub.db", 0) == 0)
            << name;
    }
}

TEST_F(Tokens, File_damagedIsAnErrorNamingItAndIsLeftAlone) {
    server_.reset();
    const std::string path = dir_.file("api-tokens.json");
    const std::string good = slurp("api-tokens.json");
    auto entry = nlohmann::json::parse(good)["tokens"][0];
    const auto with = [&entry](const char* key, const nlohmann::json& value) {
        nlohmann::json changed = entry;
        changed[key] = value;
        return nlohmann::json{{"tokens", {changed}}}.dump();
    };
    const std::vector<std::pair<std::string, std::string>> damages = {
        {"", "not valid JSON"},
        {good.substr(0, good.size() / 2), "not valid JSON"},
        {"{\"tokens\": {}}", "not a token file"},
        {"[]", "not a token file"},
        {with("sha256", "abc"), "sha256"},
        {with("role", "root"), "role"},
        {with("name", "a b"), "name"},
        {with("created_ms", "yesterday"), "created_ms"},
        {nlohmann::json{{"tokens", {entry, entry}}}.dump(), "two tokens"},
        {nlohmann::json{{"tokens", nlohmann::json::array()}}.dump(), "no admin token"},
        {with("role", "read"), "no admin token"},
    };
    for (const auto& [content, reason] : damages) {
        overwrite("api-tokens.json", content);
        const std::string error = start_error();
        EXPECT_NE(error.find(path), std::string::npos) << error;
        EXPECT_NE(error.find(reason), std::string::npos) << reason << ": " << error;
        EXPECT_EQ(slurp("api-tokens.json"), content) << "the damaged file was changed";
    }
    // Not readable as a file at all.
    std::filesystem::remove(path);
    std::filesystem::create_directory(path);
    const std::string error = start_error();
    EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
    EXPECT_NE(error.find(path), std::string::npos) << error;
    std::filesystem::remove(path);

    // Restored, the hub starts with the same token.
    overwrite("api-tokens.json", good);
    start_server();
    EXPECT_EQ(call("GET", "/api/tokens").status, 200);
}

TEST_F(Tokens, File_ofAnOlderHubWithIdsLoads) {
    server_.reset();
    const std::string secret = "vigil_" + std::string(64, '7');
    const nlohmann::json older = {
        {"tokens",
         {{{"id", "t1"}, {"role", "admin"}, {"sha256", sha256_hex(secret)}, {"created_ms", 5}}}}};
    overwrite("api-tokens.json", older.dump());
    start_server();
    const Reply list = call("GET", "/api/tokens", "", secret);
    ASSERT_EQ(list.status, 200) << list.text;
    EXPECT_EQ(list.body["tokens"][0]["name"], "t1");
    EXPECT_EQ(list.body["tokens"][0]["created_ms"], 5);
    // The next write uses names.
    ASSERT_EQ(create(R"({"name":"ci","role":"read"})", secret).status, 201);
    const auto rewritten = nlohmann::json::parse(slurp("api-tokens.json"));
    EXPECT_EQ(rewritten["tokens"][0]["name"], "t1");
    EXPECT_FALSE(rewritten["tokens"][0].contains("id"));
}

TEST_F(Tokens, Create_concurrentlyKeepsEveryToken) {
    constexpr int kThreads = 4, kEach = 5;
    std::vector<std::thread> threads;
    std::vector<std::vector<int>> statuses(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t, &statuses] {
            for (int i = 0; i < kEach; ++i) {
                const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
                statuses[static_cast<size_t>(t)].push_back(
                    create(R"({"name":")" + name + R"(","role":"read"})").status);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& each : statuses) {
        EXPECT_EQ(each, std::vector<int>(kEach, 201));
    }
    const auto stored = nlohmann::json::parse(slurp("api-tokens.json"));
    EXPECT_EQ(stored["tokens"].size(), 1u + kThreads * kEach);
}

}  // namespace
}  // namespace vigil::hub::testing

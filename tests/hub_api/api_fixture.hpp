// What the API tests share: a real SQLite store in a fresh directory, a HubControl double that
// records what the API asked of it, and a real ApiServer on a free loopback port with an HTTP
// client that talks to it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "vigil/hub/api_server.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::testing {

constexpr int64_t kNowMs = 1'700'000'000'000;

using vigil::test::TempDir;

class RecordingControl : public HubControl {
  public:
    struct Published {
        std::string device_id;
        std::vector<uint8_t> config;
    };

    bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                    std::string& error) override {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const std::string& known : added) {
            if (known == device_id) {
                error = "device '" + device_id + "' is already enrolled";
                return false;
            }
        }
        added.push_back(device_id);
        accounts.insert(device_id);
        out.device_id = out.username = device_id;
        out.password = "secret-of-" + device_id;
        out.broker_host = "127.0.0.1";
        out.broker_port = 1883;
        return true;
    }
    bool revoke_device(const std::string& device_id, std::string& error) override {
        std::lock_guard<std::mutex> lock(mutex_);
        // As the broker: only an account it holds can be revoked.
        if (refuse_revoke || accounts.erase(device_id) == 0) {
            error = "Client not found";
            return false;
        }
        revoked.push_back(device_id);
        return true;
    }
    bool publish_config(const std::string& device_id, const std::vector<uint8_t>& config,
                        std::string& error) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (refuse_publish) {
            error = "broker unreachable";
            return false;
        }
        published.push_back({device_id, config});
        return true;
    }
    std::string ingest_metrics_text() override {
        return "# HELP vigil_ingest_messages_total Messages ingested.\n"
               "# TYPE vigil_ingest_messages_total counter\n"
               "vigil_ingest_messages_total{format=\"vigil\"} 12\n";
    }
    std::vector<std::string> health_problems() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!healthy) {
            return {"ingest: not connected to the broker"};
        }
        return {};
    }
    std::string detection_policy_json(const std::string& device_id) override {
        return nlohmann::json{{"policy", {{"source", "test"}}},
                              {"errors", nlohmann::json::array()},
                              {"device", device_id}}
            .dump();
    }

    std::mutex mutex_;
    std::vector<std::string> added, revoked;
    std::set<std::string> accounts;  ///< broker accounts: the added ones and any a test sets up
    std::vector<Published> published;
    bool healthy = true, refuse_revoke = false, refuse_publish = false;
};

/// What a command run through the shell printed on stdout, and how it exited.
struct CommandRun {
    int exit_code = -1;
    std::string output;
};

inline CommandRun run_command(const std::string& command) {
    CommandRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "cannot run " << command;
        return run;
    }
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        run.output.append(buffer, n);
    }
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

struct Reply {
    int status = 0;
    nlohmann::json body;
    std::string text;
    std::string content_type;
};

class ApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        SqliteOptions options;
        options.path = dir_.file("hub.db");
        std::string error;
        store_ = open_sqlite_store(options, error);
        ASSERT_NE(store_, nullptr) << error;
        start_server();
    }

    /// port 0: any free one.
    void start_server(ApiSettings settings = {}, uint16_t port = 0) {
        settings.bind_address = "127.0.0.1";
        settings.port = port;
        settings.data_dir = dir_.path();
        settings.threads = 4;
        settings.clock = [] { return kNowMs; };
        settings.announce = [this](const std::string& text) { announced_ += text + "\n"; };
        server_ = std::make_unique<ApiServer>(settings, *store_, control_);
        const ApiResult started = server_->start();
        ASSERT_TRUE(started.ok()) << started.error;
        std::ifstream in(dir_.file("admin.token"));
        std::getline(in, admin_token_);
        ASSERT_FALSE(admin_token_.empty());
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

    /// An inbound port scan on dev-a from `subject` raised in the store (a second one with the
    /// same subject repeats it). Its event, for a test to publish.
    AlertEvent raise_scan_alert(const std::string& subject, const std::string& title = "",
                                Severity severity = Severity::Medium) {
        AlertRaise alert;
        alert.device_id = "dev-a";
        alert.type = "scan.port_inbound";
        alert.category = AlertCategory::PortScanInbound;
        alert.severity = severity;
        alert.subject = subject;
        alert.title = title.empty() ? "Inbound port scan from " + subject : title;
        alert.raised_ms = kNowMs;
        alert.evidence_json = R"({"ports":[22,23]})";
        const auto raised = store_->raise_alert(alert);
        EXPECT_TRUE(raised.ok()) << raised.error;
        return raised.value;
    }

    /// A recommendation opened in the store for `device` as the hygiene checks open one: telnet
    /// listening. Its event, for a test to publish.
    RecommendationEvent open_telnet_recommendation(const std::string& device) {
        RecommendationScan scan;
        scan.device_id = device;
        scan.kind = "service.cleartext";
        scan.findings.push_back({"service.cleartext", "tcp/23", Severity::High, "Telnet listens",
                                 "Passwords in clear", "Turn it off", R"({"port":23})", "telnet"});
        scan.observed_ms = kNowMs - 500;
        scan.scanned_ms = kNowMs;
        const auto opened = store_->apply_recommendation_scan(scan);
        EXPECT_TRUE(opened.ok()) << opened.error;
        EXPECT_EQ(opened.value.size(), 1u);
        return opened.ok() && !opened.value.empty() ? opened.value[0] : RecommendationEvent{};
    }

    /// The entry of GET `path`'s array `list` whose `key` is `value`; null when none is.
    nlohmann::json listed_entry(const std::string& path, const char* list, const char* key,
                                const std::string& value) {
        const Reply reply = call("GET", path);
        for (const auto& entry : reply.body[list]) {
            if (entry[key] == value) {
                return entry;
            }
        }
        return nullptr;
    }

    Reply call(const std::string& method, const std::string& path, const std::string& body = "",
               const std::optional<std::string>& token = std::nullopt) {
        httplib::Client client(url());
        client.set_read_timeout(20, 0);
        httplib::Headers headers;
        const std::string bearer = token.value_or(admin_token_);
        if (!bearer.empty()) {
            headers.emplace("Authorization", "Bearer " + bearer);
        }
        httplib::Result result =
            method == "GET"    ? client.Get(path, headers)
            : method == "POST" ? client.Post(path, headers, body, "application/json")
            : method == "PUT"  ? client.Put(path, headers, body, "application/json")
                               : client.Delete(path, headers);
        Reply reply;
        if (!result) {
            ADD_FAILURE() << method << " " << path << ": " << httplib::to_string(result.error());
            return reply;
        }
        reply.status = result->status;
        reply.text = result->body;
        reply.content_type = result->get_header_value("Content-Type");
        reply.body = nlohmann::json::parse(result->body, nullptr, false);
        return reply;
    }

    /// A token made through the API (named reader-1, reader-2, ... unless named).
    std::string make_token(const std::string& role = "read", std::string name = "") {
        if (name.empty()) {
            name = "reader-" + std::to_string(++tokens_made_);
        }
        const Reply reply =
            call("POST", "/api/tokens", nlohmann::json{{"name", name}, {"role", role}}.dump());
        EXPECT_EQ(reply.status, 201) << reply.text;
        return reply.body.value("token", "");
    }
    std::string read_token() { return make_token("read"); }

    void write(const std::vector<Report>& reports) {
        const WriteResult result = store_->write_batch(reports);
        ASSERT_TRUE(result.ok) << result.error;
    }

    static Report report(const std::string& device, const std::string& key, int64_t received_ms,
                         int flows = 2) {
        Report r;
        r.format = Format::Vigil;
        r.device_id = device;
        r.message_key = key;
        r.agent_version = "0.1.0";
        r.device_time_ms = received_ms;
        r.received_ms = received_ms;
        r.window_duration_ms = 10000;
        r.has_network = true;
        for (int i = 0; i < flows; ++i) {
            Flow flow;
            flow.local = "198.51.100.2";
            flow.remote = "203.0.113." + std::to_string(i + 1);
            flow.local_port = static_cast<uint16_t>(40000 + i);
            flow.remote_port = 443;
            flow.bytes_in = 1000;
            flow.bytes_out = 100;
            r.flows.push_back(flow);
        }
        r.payload_bytes = 100;
        return r;
    }

    static Report heartbeat(const std::string& device, const std::string& key, int64_t received_ms,
                            const std::string& state, uint32_t config_version) {
        Report r = report(device, key, received_ms, 0);
        r.has_network = false;
        AgentStatus status;
        status.state = state;
        status.config_version = config_version;
        r.status = status;
        return r;
    }

    TempDir dir_;
    std::unique_ptr<Store> store_;
    RecordingControl control_;
    std::unique_ptr<ApiServer> server_;
    std::string admin_token_;
    std::string announced_;
    int tokens_made_ = 0;
};

}  // namespace vigil::hub::testing

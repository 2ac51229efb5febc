// The vigil command line, run as a program against a real API server, and its local decoder on
// files of all three formats.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api_fixture.hpp"
#include "vigil/hub/outputs/alert_events.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub::testing {
namespace {

using CliRun = CommandRun;  // stdout and stderr together

class Cli : public ApiTest {
  protected:
    /// Runs vigil with `args` (already shell-quoted where needed) and `env` in front.
    CliRun vigil(const std::string& args, const std::string& env = "") {
        const std::string command = "env -u VIGIL_TOKEN -u VIGIL_HUB VIGIL_DATA=" + dir_.path() +
                                    " " + env + " " + VIGIL_CLI + " --hub " + url() + " " + args +
                                    " 2>&1";
        return run_command(command);
    }

    /// Whether vigil with `args` fails (exit status 1) with each of `expected` in what it prints.
    ::testing::AssertionResult fails_saying(const std::string& args,
                                            const std::vector<std::string>& expected,
                                            const std::string& env = "") {
        const CliRun run = vigil(args, env);
        if (run.exit_code != 1) {
            return ::testing::AssertionFailure()
                   << "vigil " << args << " exited " << run.exit_code << ", not 1:\n"
                   << run.output;
        }
        for (const std::string& text : expected) {
            if (run.output.find(text) == std::string::npos) {
                return ::testing::AssertionFailure()
                       << "vigil " << args << " does not say \"" << text << "\":\n"
                       << run.output;
            }
        }
        return ::testing::AssertionSuccess();
    }
};

TEST_F(Cli, Devices_listsATableAndJson) {
    write({report("dev-1", "k1", kNowMs - 1000), heartbeat("dev-2", "hb", kNowMs, "active", 2)});
    const CliRun table = vigil("devices");  // the token comes from <data>/admin.token
    EXPECT_EQ(table.exit_code, 0) << table.output;
    EXPECT_NE(table.output.find("ID"), std::string::npos);
    EXPECT_NE(table.output.find("dev-1"), std::string::npos);
    EXPECT_NE(table.output.find("active"), std::string::npos);
    const CliRun json = vigil("devices --json");
    ASSERT_EQ(json.exit_code, 0) << json.output;
    const auto parsed = nlohmann::json::parse(json.output);
    EXPECT_EQ(parsed["devices"].size(), 2u);
    const CliRun one = vigil("device dev-2");
    EXPECT_EQ(one.exit_code, 0) << one.output;
    EXPECT_NE(one.output.find("applied 2"), std::string::npos) << one.output;
    EXPECT_EQ(vigil("device nobody").exit_code, 1);
}

TEST_F(Cli, AddAndRevoke_printTheCredentialsAndCutOff) {
    const CliRun added = vigil("devices add dev-new");
    EXPECT_EQ(added.exit_code, 0) << added.output;
    EXPECT_NE(added.output.find("secret-of-dev-new"), std::string::npos) << added.output;
    EXPECT_TRUE(fails_saying("devices add dev-new", {"already enrolled"}));
    const CliRun revoked = vigil("devices revoke dev-new");
    EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
    EXPECT_EQ(control_.revoked, std::vector<std::string>{"dev-new"});
}

TEST_F(Cli, AddThenList_showsTheDeviceAtOnceNeverSeen) {
    ASSERT_EQ(vigil("devices add dev-new").exit_code, 0);
    const CliRun table = vigil("devices");
    ASSERT_EQ(table.exit_code, 0) << table.output;
    std::string row;
    std::istringstream lines(table.output);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("dev-new", 0) == 0) {
            row = line;
        }
    }
    EXPECT_NE(row.find("enrolled"), std::string::npos) << table.output;
    EXPECT_NE(row.find("never"), std::string::npos) << table.output;
    EXPECT_NE(row.find("  0  "), std::string::npos) << table.output;  // messages
    const CliRun json = vigil("devices --json");
    const auto parsed = nlohmann::json::parse(json.output);
    ASSERT_EQ(parsed["devices"].size(), 1u) << json.output;
    EXPECT_EQ(parsed["devices"][0]["messages"], 0);
    EXPECT_TRUE(parsed["devices"][0]["last_seen_ms"].is_null());
    const CliRun one = vigil("device dev-new");
    EXPECT_EQ(one.exit_code, 0) << one.output;
    EXPECT_NE(one.output.find("last seen    never"), std::string::npos) << one.output;

    write({report("dev-new", "k1", kNowMs)});
    const auto after = nlohmann::json::parse(vigil("devices --json").output);
    EXPECT_EQ(after["devices"][0]["enrolment"], "enrolled");
    EXPECT_EQ(after["devices"][0]["messages"], 1);

    ASSERT_EQ(vigil("devices revoke dev-new").exit_code, 0);
    EXPECT_NE(vigil("devices").output.find("blocked"), std::string::npos);
    EXPECT_TRUE(fails_saying("devices revoke nobody", {"404", "nobody"}));
}

TEST_F(Cli, Tokens_listAddAndRevoke) {
    const CliRun table = vigil("tokens");
    ASSERT_EQ(table.exit_code, 0) << table.output;
    EXPECT_NE(table.output.find("NAME"), std::string::npos) << table.output;
    EXPECT_NE(table.output.find("admin"), std::string::npos) << table.output;

    const CliRun added = vigil("tokens add grafana --role read");
    ASSERT_EQ(added.exit_code, 0) << added.output;
    const size_t at = added.output.find("vigil_");
    ASSERT_NE(at, std::string::npos) << added.output;
    const std::string secret = added.output.substr(at, 70);
    EXPECT_NE(added.output.find("only this once"), std::string::npos);
    EXPECT_EQ(vigil("devices --token " + secret).exit_code, 0);
    // A read token may not list tokens.
    EXPECT_TRUE(fails_saying("tokens --token " + secret, {"403", "admin token"}));

    const CliRun json = vigil("tokens --json");
    ASSERT_EQ(json.exit_code, 0) << json.output;
    const auto parsed = nlohmann::json::parse(json.output);
    ASSERT_EQ(parsed["tokens"].size(), 2u);
    EXPECT_EQ(parsed["tokens"][1]["name"], "grafana");
    EXPECT_EQ(parsed["tokens"][1]["role"], "read");
    EXPECT_EQ(json.output.find(secret), std::string::npos);

    EXPECT_TRUE(fails_saying("tokens add grafana --role admin", {"409"}));
    EXPECT_TRUE(fails_saying("tokens add 'a b' --role read", {"400"}));
    EXPECT_EQ(vigil("tokens add x --role root").exit_code, 2);
    EXPECT_EQ(vigil("tokens add x").exit_code, 2);

    const CliRun revoked = vigil("tokens revoke grafana");
    EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
    EXPECT_NE(revoked.output.find("revoked"), std::string::npos);
    EXPECT_TRUE(fails_saying("devices --token " + secret, {"401"}));
    EXPECT_TRUE(fails_saying("tokens revoke grafana", {"404"}));
    EXPECT_TRUE(fails_saying("tokens revoke admin", {"last admin"}));
}

TEST_F(Cli, AlertsAckResolve) {
    write({report("dev-1", "k1", kNowMs - 1000)});
    AlertRaise raise;
    raise.device_id = "dev-1";
    raise.type = "scan.port_inbound";
    raise.title = "Inbound port scan";
    raise.subject = "203.0.113.9";
    raise.raised_ms = kNowMs;
    const auto id = store_->raise_alert(raise);
    ASSERT_TRUE(id.ok());
    const std::string alert_id = std::to_string(id.value.alert.id);
    const CliRun list = vigil("alerts list --device dev-1");
    EXPECT_EQ(list.exit_code, 0) << list.output;
    EXPECT_NE(list.output.find("Inbound port scan"), std::string::npos) << list.output;
    const CliRun bare = vigil("alerts");
    EXPECT_NE(bare.output.find("Inbound port scan"), std::string::npos) << bare.output;
    const CliRun ack = vigil("alerts ack " + alert_id);
    EXPECT_EQ(ack.exit_code, 0) << ack.output;
    EXPECT_NE(ack.output.find("acknowledged"), std::string::npos);
    EXPECT_EQ(vigil("alerts resolve " + alert_id).exit_code, 0);
    EXPECT_TRUE(fails_saying("alerts ack 424242", {"404"}));
}

TEST_F(Cli, AlertsListFiltersShowAndSuppress) {
    write({report("dev-1", "k1", kNowMs - 1000), report("dev-2", "k1", kNowMs - 1000)});
    ASSERT_EQ(call("PUT", "/api/devices/dev-2/group", R"({"group":"lab"})").status, 200);
    AlertRaise raise;
    raise.device_id = "dev-1";
    raise.type = "beacon.periodic";
    raise.category = AlertCategory::Beaconing;
    raise.title = "Beaconing to 198.51.100.7";
    raise.subject = "198.51.100.7";
    raise.severity = Severity::High;
    raise.description = "Every 60 s for an hour";
    raise.remediation = "Find the process that connects";
    raise.first_observed_ms = 1'000;
    raise.last_observed_ms = 2'000;
    raise.raised_ms = kNowMs;
    raise.evidence_json = R"({"interval_s":60,"connections":61})";
    const int64_t beacon = store_->raise_alert(raise).value.alert.id;
    raise.device_id = "dev-2";
    raise.type = "scan.port_inbound";
    raise.category = AlertCategory::PortScanInbound;
    raise.title = "Inbound port scan";
    raise.severity = Severity::Low;
    raise.first_observed_ms = 5'000;
    raise.last_observed_ms = 6'000;
    ASSERT_TRUE(store_->raise_alert(raise).ok());

    const auto listed = [this](const std::string& filters) {
        const CliRun run = vigil("alerts list " + filters);
        EXPECT_EQ(run.exit_code, 0) << filters << ": " << run.output;
        return run.output;
    };
    EXPECT_NE(listed("--category beaconing").find("Beaconing"), std::string::npos);
    EXPECT_EQ(listed("--category beaconing").find("Inbound"), std::string::npos);
    EXPECT_EQ(listed("--group lab").find("Beaconing"), std::string::npos);
    EXPECT_NE(listed("--group lab").find("Inbound"), std::string::npos);
    EXPECT_EQ(listed("--severity high").find("Inbound"), std::string::npos);
    EXPECT_EQ(listed("--type scan.port_inbound").find("Beaconing"), std::string::npos);
    EXPECT_EQ(listed("--since 5000").find("Beaconing"), std::string::npos);
    EXPECT_EQ(listed("--until 4000").find("Inbound"), std::string::npos);
    EXPECT_EQ(listed("--state resolved --device dev-1").find("Beaconing"), std::string::npos);
    EXPECT_TRUE(fails_saying("alerts list --category nonsense", {"400", "category"}));
    EXPECT_EQ(vigil("alerts list --since yesterday").exit_code, 2);

    const CliRun shown = vigil("alerts show " + std::to_string(beacon));
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    for (const char* part :
         {"Beaconing to 198.51.100.7", "beacon.periodic", "beaconing", "Every 60 s for an hour",
          "Find the process that connects", "\"interval_s\": 60"}) {
        EXPECT_NE(shown.output.find(part), std::string::npos) << part << " in\n" << shown.output;
    }
    EXPECT_TRUE(fails_saying("alerts show 999999", {"404"}));

    const CliRun suppressed =
        vigil("alerts suppress " + std::to_string(beacon) + " --for 24h --reason 'NTP server'");
    ASSERT_EQ(suppressed.exit_code, 0) << suppressed.output;
    EXPECT_NE(suppressed.output.find("suppression 1"), std::string::npos) << suppressed.output;
    EXPECT_EQ(vigil("alerts suppress " + std::to_string(beacon) + " --for soon").exit_code, 2);
    EXPECT_TRUE(fails_saying("alerts suppress " + std::to_string(beacon) + " --group",
                             {"409", "no group"}));
    const CliRun suppressions = vigil("suppressions list");
    ASSERT_EQ(suppressions.exit_code, 0) << suppressions.output;
    EXPECT_NE(suppressions.output.find("NTP server"), std::string::npos) << suppressions.output;
    EXPECT_NE(suppressions.output.find("device dev-1"), std::string::npos) << suppressions.output;
    const CliRun removed = vigil("suppressions remove 1");
    EXPECT_EQ(removed.exit_code, 0) << removed.output;
    EXPECT_TRUE(fails_saying("suppressions remove 1", {"404"}));
}

TEST_F(Cli, RecommendationsListShowSummaryAndDismiss) {
    write({report("dev-1", "k1", kNowMs - 1000), report("dev-2", "k1", kNowMs - 1000)});
    ASSERT_EQ(call("PUT", "/api/devices/dev-2/group", R"({"group":"lab"})").status, 200);
    std::vector<int64_t> ids;
    for (const std::string device : {"dev-1", "dev-2"}) {
        RecommendationScan scan;
        scan.device_id = device;
        scan.kind = "service.cleartext";
        scan.findings.push_back({"service.cleartext", "tcp/23",
                                 device == "dev-1" ? Severity::High : Severity::Low,
                                 "Telnet listens on " + device, "Passwords cross in clear",
                                 "Turn telnet off", R"({"port":23,"seen_in":"ports"})", "telnet"});
        scan.observed_ms = 1'000;
        scan.scanned_ms = kNowMs;
        const auto applied = store_->apply_recommendation_scan(scan);
        ASSERT_TRUE(applied.ok()) << applied.error;
        ids.push_back(applied.value.at(0).recommendation.id);
    }
    const auto listed = [this](const std::string& args) {
        const CliRun run = vigil("recommendations " + args);
        EXPECT_EQ(run.exit_code, 0) << args << ": " << run.output;
        return run.output;
    };
    EXPECT_NE(listed("list").find("Telnet listens on dev-1"), std::string::npos);
    EXPECT_NE(listed("").find("Telnet listens on dev-2"), std::string::npos);
    EXPECT_EQ(listed("list --group lab").find("dev-1"), std::string::npos);
    EXPECT_EQ(listed("list --device dev-1").find("dev-2"), std::string::npos);
    EXPECT_EQ(listed("list --severity high").find("dev-2"), std::string::npos);
    EXPECT_EQ(listed("list --kind firmware.vulnerable").find("Telnet"), std::string::npos);
    EXPECT_TRUE(fails_saying("recommendations list --state done", {"400", "state"}));

    const std::string shown = listed("show " + std::to_string(ids[0]));
    for (const char* part :
         {"Telnet listens on dev-1", "service.cleartext", "tcp/23", "Passwords cross in clear",
          "Turn telnet off", "\"seen_in\": \"ports\""}) {
        EXPECT_NE(shown.find(part), std::string::npos) << part << " in\n" << shown;
    }
    EXPECT_TRUE(fails_saying("recommendations show 999999", {"404"}));

    const std::string summary = listed("summary");
    EXPECT_NE(summary.find("OPEN"), std::string::npos) << summary;
    EXPECT_NE(summary.find("service.cleartext"), std::string::npos) << summary;
    EXPECT_NE(summary.find("high"), std::string::npos) << summary;
    const CliRun json = vigil("--json recommendations summary --group lab");
    ASSERT_EQ(json.exit_code, 0) << json.output;
    EXPECT_EQ(nlohmann::json::parse(json.output)["kinds"][0]["open_devices"], 1);

    const CliRun dismissed =
        vigil("recommendations dismiss " + std::to_string(ids[1]) + " --reason 'lab only'");
    ASSERT_EQ(dismissed.exit_code, 0) << dismissed.output;
    EXPECT_NE(dismissed.output.find("dismissed"), std::string::npos) << dismissed.output;
    EXPECT_NE(listed("show " + std::to_string(ids[1])).find("\"lab only\" by token:admin"),
              std::string::npos);
    EXPECT_EQ(vigil("recommendations dismiss " + std::to_string(ids[0])).exit_code, 2);
    EXPECT_EQ(vigil("recommendations dismiss " + std::to_string(ids[0]) + " --reason ''").exit_code,
              2);
    EXPECT_TRUE(fails_saying("recommendations dismiss 999999 --reason x", {"404"}));
}

// vigil watch: one line per change (repeats left out), what a device wrote made harmless for a
// terminal, and the stream taken up again when the hub comes back on its port.
TEST_F(Cli, Watch_printsOneLinePerChangeAndComesBackAfterTheHub) {
    write({report("dev-a", "k1", kNowMs - 1000)});
    AlertEvents events;
    ApiSettings settings;
    settings.alert_events = &events;
    settings.alert_stream_keepalive_ms = 100;
    server_.reset();
    start_server(settings);
    const uint16_t port = server_->port();
    const auto streams_open = [&] {
        for (int i = 0; i < 100; ++i) {
            if (call("GET", "/metrics").text.find("\nvigil_api_alert_streams 1") !=
                std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };
    const auto raise = [&](const std::string& subject, const std::string& title,
                           Severity severity = Severity::High) {
        events.publish(raise_scan_alert(subject, title, severity));
    };

    CliRun run;
    EXPECT_EQ(vigil("watch --severity loud").exit_code, 2);
    std::thread watcher([&] { run = vigil("watch --severity medium", "timeout -s INT 6"); });
    ASSERT_TRUE(streams_open());
    raise("192.0.2.1", "A quiet finding", Severity::Low);
    raise("203.0.113.9", "Inbound port scan from 203.0.113.9 \x1b[2J");
    raise("203.0.113.9", "Inbound port scan from 203.0.113.9 \x1b[2J");  // a repeat
    events.publish(open_telnet_recommendation("dev-a"));
    // Let the watcher read those before its hub goes away.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server_.reset();
    start_server(settings, port);
    ASSERT_TRUE(streams_open());
    raise("198.51.100.7", "Inbound port scan from 198.51.100.7");
    watcher.join();
    server_.reset();

    EXPECT_EQ(run.output.find('\x1b'), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("ALERT   opened       high     dev-a            Inbound port scan "
                              "from 203.0.113.9 ?[2J  [alert 2]"),
              std::string::npos)
        << run.output;
    EXPECT_EQ(run.output.find("repeated"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("A quiet finding"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("hygiene opened       high     dev-a            Telnet listens"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("the hub ended the stream; trying again in 1 s"), std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("Inbound port scan from 198.51.100.7  [alert 3]"), std::string::npos)
        << run.output;
}

TEST_F(Cli, ConfigPush_toADeviceAndAGroup) {
    const CliRun pushed = vigil(
        "config push dev-1 --high 5 --medium 20 --low 60 --retry 9 "
        "--collector network=on:high --collector system=off");
    EXPECT_EQ(pushed.exit_code, 0) << pushed.output;
    EXPECT_NE(pushed.output.find("config version 1"), std::string::npos) << pushed.output;
    ASSERT_EQ(control_.published.size(), 1u);
    ASSERT_EQ(call("PUT", "/api/devices/dev-2/group", R"({"group":"lab"})").status, 200);
    EXPECT_EQ(vigil("config push --group lab --retry 4").exit_code, 0);
    EXPECT_EQ(control_.published.size(), 2u);
    EXPECT_EQ(vigil("config push dev-1 --high 5").exit_code, 2);  // intervals go together
    EXPECT_EQ(vigil("config push").exit_code, 2);
    EXPECT_TRUE(fails_saying("config push dev-1 --retry 99999", {"retry_s"}));
}

TEST_F(Cli, Errors_sayWhatToDo) {
    EXPECT_TRUE(fails_saying("devices --token vigil_nope", {"401", "--token"}));
    const std::string reader = read_token();
    EXPECT_TRUE(fails_saying("devices add dev-x", {"admin token"}, "VIGIL_TOKEN=" + reader));
    EXPECT_EQ(vigil("devices", "VIGIL_TOKEN=" + reader).exit_code, 0);
    const CliRun usage = vigil("frobnicate");
    EXPECT_EQ(usage.exit_code, 2);
    // A hub that is not there: the port of a server that was stopped.
    server_->stop();
    EXPECT_TRUE(fails_saying("devices", {"cannot reach the hub"}));
}

void expect_decodes(const CliRun& run, const std::string& format) {
    EXPECT_EQ(run.exit_code, 0) << run.output;
    const auto parsed = nlohmann::json::parse(run.output, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << run.output;
    EXPECT_EQ(parsed["format"], format) << run.output;
}

TEST_F(Cli, Decode_readsAllThreeFormatsWithoutAHub) {
    server_->stop();
    protocol::Message message;
    message.boot_id = 7;
    message.sequence = 1;
    wire::HeartbeatFields heartbeat;
    heartbeat.state = wire::AgentState::Active;
    message.heartbeat = heartbeat;
    const std::vector<uint8_t> bytes = protocol::encode_message(message);
    const std::string vigil_file = dir_.file("message.cbor");
    std::ofstream(vigil_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));

    expect_decodes(vigil("decode " + vigil_file + " --format vigil"), "vigil");
    expect_decodes(vigil("decode " + vigil_file), "vigil");
    expect_decodes(
        vigil(std::string("decode ") + HUB_DECODE_DEFENDER_DIR + "/network.bin --format defender"),
        "legacy-defender");
    expect_decodes(vigil(std::string("decode ") + HUB_DECODE_AWS_SOURCE_DIR +
                         "/long_keys.json --format aws-json"),
                   "aws-defender");
    expect_decodes(vigil(std::string("decode ") + HUB_DECODE_AWS_CBOR_DIR +
                         "/short_keys.cbor --format aws-cbor"),
                   "aws-defender");

    // --json: the same report on one line (JSON Lines), wherever the flag stands.
    const CliRun indented = vigil("decode " + vigil_file);
    for (const std::string& args : {"decode --json " + vigil_file, "--json decode " + vigil_file}) {
        const CliRun line = vigil(args);
        expect_decodes(line, "vigil");
        EXPECT_EQ(line.output.find('\n'), line.output.size() - 1) << line.output;
        EXPECT_EQ(nlohmann::json::parse(line.output), nlohmann::json::parse(indented.output));
    }
    EXPECT_NE(indented.output.find('\n'), indented.output.size() - 1) << indented.output;

    EXPECT_TRUE(fails_saying("decode " + vigil_file + " --format aws-json", {"malformed"}));
    EXPECT_EQ(vigil("decode " + dir_.file("missing.bin")).exit_code, 1);
    EXPECT_EQ(vigil("decode " + vigil_file + " --format xml").exit_code, 2);
}

}  // namespace
}  // namespace vigil::hub::testing

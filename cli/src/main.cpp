// vigil: the command line for people. Queries the hub's HTTP API (devices, alerts, configs,
// tokens) and decodes saved messages locally. Exit codes: 0 done, 1 the hub or the input refused
// (or could not be reached), 2 the command line itself was wrong.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub_client.hpp"
#include "vigil/hub/decode.hpp"

namespace vigil::cli {
namespace {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Globals {
    HubOptions hub;
    std::string data_dir;
    std::string token_flag;
    bool json = false;
};

int fail(const std::string& message) {
    std::cerr << "vigil: " << message << "\n";
    return kFailed;
}

int usage(const std::string& message) {
    std::cerr << "vigil: " << message << "\n";
    return kUsage;
}

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// --token, then VIGIL_TOKEN, then <data>/admin.token (the file the hub writes on first start).
void resolve_token(Globals& globals) {
    if (!globals.token_flag.empty()) {
        globals.hub.token = globals.token_flag;
        globals.hub.token_source = "--token";
        return;
    }
    if (!env("VIGIL_TOKEN").empty()) {
        globals.hub.token = env("VIGIL_TOKEN");
        globals.hub.token_source = "VIGIL_TOKEN";
        return;
    }
    const std::string path = globals.data_dir + "/admin.token";
    std::ifstream in(path);
    std::string token;
    if (in && std::getline(in, token) && !token.empty()) {
        globals.hub.token = token;
        globals.hub.token_source = path;
    }
}

std::string time_text(const nlohmann::json& ms) {
    if (!ms.is_number_integer() || ms.get<int64_t>() <= 0) {
        return "-";
    }
    const std::time_t seconds = static_cast<std::time_t>(ms.get<int64_t>() / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buffer;
}

/// A device that has sent nothing yet (enrolled, never seen) has no times.
std::string seen_text(const nlohmann::json& ms) {
    return ms.is_null() ? "never" : time_text(ms);
}

std::string text(const nlohmann::json& value) {
    if (value.is_null()) {
        return "-";
    }
    if (value.is_string()) {
        const std::string s = value.get<std::string>();
        return s.empty() ? "-" : s;
    }
    return value.dump();
}

/// Columns padded to their widest cell.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const std::string& cell : header) {
        widths.push_back(cell.size());
    }
    for (const auto& row : rows) {
        for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    const auto print_row = [&widths](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - row[i].size() + 2, ' ');
            }
        }
        std::cout << line << "\n";
    };
    print_row(header);
    for (const auto& row : rows) {
        print_row(row);
    }
}

/// Runs one request; prints JSON with --json, else hands the body to `human`.
template <typename Human>
int request(const Globals& globals, const std::string& method, const std::string& path,
            const std::string& body, Human human) {
    const Answer answer = call_hub(globals.hub, method, path, body);
    if (!answer.ok) {
        return fail(answer.message);
    }
    if (globals.json) {
        std::cout << (answer.body.is_null() ? "{}" : answer.body.dump(2)) << "\n";
        return kOk;
    }
    human(answer.body);
    return kOk;
}

int list_devices(const Globals& globals) {
    return request(globals, "GET", "/api/devices?limit=1000", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& device : body["devices"]) {
            rows.push_back({text(device["id"]), text(device["format"]), text(device["state"]),
                            text(device["enrolment"]), seen_text(device["last_seen_ms"]),
                            text(device["messages"]),
                            text(device["applied_config_version"]) + "/" +
                                text(device["desired_config_version"])});
        }
        print_table({"ID", "FORMAT", "STATE", "ENROLMENT", "LAST SEEN", "MESSAGES",
                     "CONFIG (applied/desired)"},
                    rows);
    });
}

void print_detail(const nlohmann::json& body) {
    const auto& device = body["device"];
    std::cout << "device       " << text(device["id"]) << "\n"
              << "format       " << text(device["format"]) << "\n"
              << "state        " << text(device["state"]) << "\n"
              << "enrolment    " << text(device["enrolment"]) << "\n"
              << "agent        " << text(device["agent_version"]) << "\n"
              << "first seen   " << seen_text(device["first_seen_ms"]) << "\n"
              << "last seen    " << seen_text(device["last_seen_ms"]) << "\n"
              << "messages     " << text(device["messages"]) << "\n"
              << "config       applied " << text(body["config"]["applied_version"]) << ", desired "
              << text(body["config"]["desired_version"]) << ", group "
              << text(body["config"]["group"]) << "\n";
    if (body["system"].is_object()) {
        const auto& system = body["system"];
        std::cout << "system       " << text(system["os_name"]) << " " << text(system["os_version"])
                  << ", " << text(system["stack_name"]) << ", board " << text(system["board"])
                  << "\n";
    }
    if (body["listening_ports"].is_array()) {
        std::string ports;
        for (const auto& port : body["listening_ports"]) {
            ports += (ports.empty() ? "" : " ") + text(port["protocol"]) + "/" + text(port["port"]);
        }
        std::cout << "listening    " << (ports.empty() ? "-" : ports) << "\n";
    }
    const auto& traffic = body["traffic"];
    std::cout << "traffic      " << text(traffic["flows"]) << " flows, "
              << text(traffic["bytes_in"]) << " bytes in, " << text(traffic["bytes_out"])
              << " bytes out\n";
    for (const auto& remote : traffic["top_remotes"]) {
        std::cout << "  " << text(remote["remote"]) << "  " << text(remote["bytes_in"]) << " in, "
                  << text(remote["bytes_out"]) << " out, " << text(remote["flows"]) << " flows\n";
    }
}

int list_tokens(const Globals& globals) {
    return request(globals, "GET", "/api/tokens", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& token : body["tokens"]) {
            rows.push_back(
                {text(token["name"]), text(token["role"]), time_text(token["created_ms"]),
                 token["last_used_ms"].is_null() ? "never" : time_text(token["last_used_ms"])});
        }
        print_table({"NAME", "ROLE", "CREATED", "LAST USED"}, rows);
    });
}

int print_alerts(const Globals& globals, const std::string& query) {
    return request(globals, "GET", "/api/alerts" + query, "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& alert : body["alerts"]) {
            rows.push_back({text(alert["id"]), text(alert["severity"]), text(alert["state"]),
                            text(alert["device_id"]), text(alert["kind"]), text(alert["subject"]),
                            text(alert["count"]), time_text(alert["last_seen_ms"])});
        }
        print_table({"ID", "SEVERITY", "STATE", "DEVICE", "KIND", "SUBJECT", "COUNT", "LAST SEEN"},
                    rows);
    });
}

int decode_file_command(const std::string& path, const std::string& format_name, bool json) {
    (void)json;  // decode always prints JSON: it is the report's only form
    const auto format =
        hub::parse_file_format(format_name == "defender" ? "legacy-defender" : format_name);
    if (!format) {
        return usage("unknown --format '" + format_name +
                     "' (auto, vigil, defender, aws-json, aws-cbor)");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail("cannot read " + path);
    }
    const std::vector<uint8_t> payload((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
    const hub::DecodeOutcome outcome = hub::decode_file(payload, *format);
    if (!outcome.ok) {
        return fail(path + " does not decode as " + format_name + ": " + outcome.reason +
                    (outcome.detail.empty() ? "" : " (" + outcome.detail + ")"));
    }
    std::cout << hub::to_json(outcome.report) << "\n";
    return kOk;
}

struct PushOptions {
    std::string target, group;
    std::optional<uint32_t> high, medium, low, pending_timeout, retry;
    std::optional<std::string> unicast_only;
    std::vector<std::string> collectors;  ///< name=on|off[:priority]
};

bool collector_setting(const std::string& spec, nlohmann::json& collectors, std::string& error) {
    const size_t equals = spec.find('=');
    if (equals == std::string::npos) {
        error = "--collector takes name=on|off[:high|medium|low], not '" + spec + "'";
        return false;
    }
    const std::string name = spec.substr(0, equals);
    std::string state = spec.substr(equals + 1), priority = "high";
    const size_t colon = state.find(':');
    if (colon != std::string::npos) {
        priority = state.substr(colon + 1);
        state = state.substr(0, colon);
    }
    if (state != "on" && state != "off") {
        error = "--collector " + name + ": say on or off";
        return false;
    }
    collectors[name] = {{"enabled", state == "on"}, {"priority", priority}};
    return true;
}

int config_push(const Globals& globals, const PushOptions& push) {
    if (push.target.empty() == push.group.empty()) {
        return usage("config push takes a device id or --group <name> (one of the two)");
    }
    nlohmann::json body = nlohmann::json::object();
    if (push.high || push.medium || push.low) {
        if (!push.high || !push.medium || !push.low) {
            return usage("--high, --medium and --low go together");
        }
        body["intervals"] = {{"high", *push.high}, {"medium", *push.medium}, {"low", *push.low}};
    }
    for (const std::string& spec : push.collectors) {
        std::string error;
        if (!collector_setting(spec, body["collectors"], error)) {
            return usage(error);
        }
    }
    if (push.unicast_only) {
        body["unicast_only"] = *push.unicast_only == "true" || *push.unicast_only == "on";
    }
    if (push.pending_timeout) {
        body["pending_timeout_s"] = *push.pending_timeout;
    }
    if (push.retry) {
        body["retry_s"] = *push.retry;
    }
    const std::string path = push.group.empty()
                                 ? "/api/devices/" + url_encode(push.target) + "/config"
                                 : "/api/groups/" + url_encode(push.group) + "/config";
    return request(globals, "PUT", path, body.dump(), [&push](const nlohmann::json& answer) {
        const std::string target =
            push.group.empty() ? "device " + push.target : "group " + push.group;
        std::cout << "config version " << text(answer["version"]) << " published to " << target
                  << "\n";
        if (answer.contains("devices")) {
            for (const auto& device : answer["devices"]) {
                std::cout << "  " << text(device["device_id"]) << "\n";
            }
        }
    });
}

}  // namespace
}  // namespace vigil::cli

int main(int argc, char** argv) {
    using namespace vigil::cli;
    Globals globals;
    CLI::App app{"vigil: query the Vigil hub, decode security messages"};
    app.require_subcommand(1);
    // Global options may come after the command too (vigil devices --json).
    app.fallthrough();
    globals.hub.url = env("VIGIL_HUB").empty() ? "http://127.0.0.1:8080" : env("VIGIL_HUB");
    globals.data_dir = env("VIGIL_DATA").empty() ? "/var/lib/vigil" : env("VIGIL_DATA");
    app.add_option("--hub", globals.hub.url, "The hub's API URL (VIGIL_HUB)");
    app.add_option("--token", globals.token_flag,
                   "API token (else VIGIL_TOKEN, else <data>/admin.token)");
    app.add_option("--data", globals.data_dir, "The hub's data directory (VIGIL_DATA)");
    app.add_option("--timeout", globals.hub.timeout_s, "Seconds to wait for the hub")
        ->check(CLI::Range(1, 600));
    app.add_flag("--json", globals.json, "Machine-readable output");

    auto* devices = app.add_subcommand("devices", "List devices (or add/revoke one)");
    std::string add_id, revoke_id;
    auto* add = devices->add_subcommand("add", "Enrol a device and print its credentials");
    add->add_option("id", add_id, "Device id")->required();
    auto* revoke = devices->add_subcommand("revoke", "Revoke a device at the broker");
    revoke->add_option("id", revoke_id, "Device id")->required();

    auto* tokens = app.add_subcommand("tokens", "List API tokens (or add/revoke one)");
    std::string token_add_name, token_role, token_revoke_name;
    auto* token_add = tokens->add_subcommand("add", "Create a token and print it (once)");
    token_add->add_option("name", token_add_name, "1-64 characters of A-Z a-z 0-9 . _ -")
        ->required();
    token_add->add_option("--role", token_role, "read or admin")
        ->required()
        ->check(CLI::IsMember({"read", "admin"}));
    auto* token_revoke = tokens->add_subcommand("revoke", "Revoke a token at once");
    token_revoke->add_option("name", token_revoke_name, "The token's name")->required();

    std::string device_id;
    auto* device = app.add_subcommand("device", "Show one device");
    device->add_option("id", device_id, "Device id")->required();

    std::string alert_device, alert_state, alert_severity, alert_kind;
    auto* alerts = app.add_subcommand("alerts", "List alerts");
    alerts->add_option("--device", alert_device, "Only this device's");
    alerts->add_option("--state", alert_state, "open, acknowledged or resolved");
    alerts->add_option("--severity", alert_severity, "At least: info, low, medium, high, critical");
    alerts->add_option("--kind", alert_kind, "Only this rule's");

    int64_t ack_id = 0, resolve_id = 0;
    auto* ack = app.add_subcommand("ack", "Acknowledge an alert");
    ack->add_option("alert-id", ack_id, "Alert id")->required();
    auto* resolve = app.add_subcommand("resolve", "Resolve an alert");
    resolve->add_option("alert-id", resolve_id, "Alert id")->required();

    std::string decode_path, decode_format = "auto";
    auto* decode = app.add_subcommand("decode", "Decode a saved message locally (no hub)");
    decode->add_option("file", decode_path, "The payload file")->required();
    decode->add_option("--format", decode_format,
                       "auto, vigil, defender, aws-json or aws-cbor (default auto)");

    PushOptions push;
    auto* config = app.add_subcommand("config", "Desired configuration");
    config->require_subcommand(1);
    auto* config_push_command = config->add_subcommand("push", "Set and publish a config");
    config_push_command->add_option("device", push.target, "Device id");
    config_push_command->add_option("--group", push.group, "Every device of this group");
    config_push_command->add_option("--high", push.high, "High-priority interval, s");
    config_push_command->add_option("--medium", push.medium, "Medium-priority interval, s");
    config_push_command->add_option("--low", push.low, "Low-priority interval, s");
    config_push_command->add_option("--collector", push.collectors,
                                    "name=on|off[:high|medium|low], repeatable");
    config_push_command->add_option("--unicast-only", push.unicast_only, "true or false");
    config_push_command->add_option("--pending-timeout", push.pending_timeout, "Seconds");
    config_push_command->add_option("--retry", push.retry, "Seconds");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? kOk : kUsage;
    }
    resolve_token(globals);

    if (*add) {
        nlohmann::json body = {{"id", add_id}};
        return request(globals, "POST", "/api/devices", body.dump(), [](const nlohmann::json& c) {
            std::cout << "device    " << text(c["device_id"]) << "\nusername  "
                      << text(c["username"]) << "\npassword  " << text(c["password"])
                      << "\nbroker    " << text(c["broker_host"]) << ":" << text(c["broker_port"])
                      << "\n(the password is shown only this once)\n";
        });
    }
    if (*revoke) {
        return request(globals, "DELETE", "/api/devices/" + url_encode(revoke_id), "",
                       [&revoke_id](const nlohmann::json&) {
                           std::cout << "device " << revoke_id << " revoked\n";
                       });
    }
    if (*devices) {
        return list_devices(globals);
    }
    if (*token_add) {
        const nlohmann::json body = {{"name", token_add_name}, {"role", token_role}};
        return request(globals, "POST", "/api/tokens", body.dump(), [](const nlohmann::json& t) {
            std::cout << "name   " << text(t["name"]) << "\nrole   " << text(t["role"])
                      << "\ntoken  " << text(t["token"])
                      << "\n(the token is shown only this once)\n";
        });
    }
    if (*token_revoke) {
        return request(globals, "DELETE", "/api/tokens/" + url_encode(token_revoke_name), "",
                       [&token_revoke_name](const nlohmann::json&) {
                           std::cout << "token " << token_revoke_name << " revoked\n";
                       });
    }
    if (*tokens) {
        return list_tokens(globals);
    }
    if (*device) {
        return request(globals, "GET", "/api/devices/" + url_encode(device_id), "", print_detail);
    }
    if (*alerts) {
        std::string query;
        const std::pair<const char*, std::string*> filters[] = {{"device", &alert_device},
                                                                {"state", &alert_state},
                                                                {"severity", &alert_severity},
                                                                {"kind", &alert_kind}};
        for (const auto& [name, value] : filters) {
            if (!value->empty()) {
                query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(*value);
            }
        }
        return print_alerts(globals, query);
    }
    if (*ack || *resolve) {
        const int64_t id = *ack ? ack_id : resolve_id;
        const std::string verb = *ack ? "ack" : "resolve";
        return request(globals, "POST", "/api/alerts/" + std::to_string(id) + "/" + verb, "",
                       [](const nlohmann::json& alert) {
                           std::cout << "alert " << text(alert["id"]) << " is now "
                                     << text(alert["state"]) << "\n";
                       });
    }
    if (*decode) {
        return decode_file_command(decode_path, decode_format, globals.json);
    }
    if (*config_push_command) {
        return config_push(globals, push);
    }
    return usage("no command given (--help lists them)");
}

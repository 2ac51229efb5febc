// config push: set a device's or a group's desired config and publish it.
#include <memory>
#include <optional>
#include <vector>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

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

int config_push(const Context& context, const PushOptions& push) {
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
    return request(context, "PUT", path, body.dump(), [&push](const nlohmann::json& answer) {
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

void add_config_commands(CLI::App& app, Context& context) {
    const auto push = std::make_shared<PushOptions>();
    CLI::App* config = app.add_subcommand("config", "Desired configuration");
    config->require_subcommand(1);
    CLI::App* command = config->add_subcommand("push", "Set and publish a config");
    command->add_option("device", push->target, "Device id");
    command->add_option("--group", push->group, "Every device of this group");
    command->add_option("--high", push->high, "High-priority interval, s");
    command->add_option("--medium", push->medium, "Medium-priority interval, s");
    command->add_option("--low", push->low, "Low-priority interval, s");
    command->add_option("--collector", push->collectors,
                        "name=on|off[:high|medium|low], repeatable");
    command->add_option("--unicast-only", push->unicast_only, "true or false");
    command->add_option("--pending-timeout", push->pending_timeout, "Seconds");
    command->add_option("--retry", push->retry, "Seconds");
    command->callback([&context, push] { context.exit_code = config_push(context, *push); });
}

}  // namespace vigil::cli

// rules validate: a policy file checked offline, with the hub's own parser, before it is put
// in place. Errors print as FILE:LINE:COL: message, one a line, as compilers print them.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "commands.hpp"
#include "vigil/hub/detect/policy_parse.hpp"

namespace vigil::cli {

namespace {

/// Rules each section of the file defines, overrides of inherited rules included.
size_t rules_defined(const hub::detect::Policy& policy) {
    const auto count = [](const hub::detect::SettingsLayer& layer) {
        hub::detect::DeviceSettings alone;
        layer.apply(alone);
        return alone.rules.size();
    };
    size_t rules = count(policy.defaults);
    for (const auto& [name, layer] : policy.groups) {
        rules += count(layer);
    }
    for (const auto& [id, layer] : policy.devices) {
        rules += count(layer);
    }
    return rules;
}

std::string counted(size_t count, const char* one, const char* many) {
    return std::to_string(count) + " " + (count == 1 ? one : many);
}

int validate(const Context& context, const std::string& path) {
    // Not /dev/zero, a FIFO or a disk image: the parser would refuse them anyway, once read.
    std::error_code stat_error;
    if (!std::filesystem::is_regular_file(path, stat_error)) {
        return fail("cannot read " + path + ": not a regular file");
    }
    if (std::filesystem::file_size(path, stat_error) > hub::detect::kMaxPolicyBytes) {
        return fail(path + " is larger than a policy can be (" +
                    std::to_string(hub::detect::kMaxPolicyBytes) + " bytes)");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return fail("cannot read " + path);
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const hub::detect::PolicyParse parsed = hub::detect::parse_policy(text, path);
    if (context.json) {
        nlohmann::json errors = nlohmann::json::array();
        for (const auto& error : parsed.errors) {
            errors.push_back(
                {{"line", error.line}, {"column", error.column}, {"message", error.message}});
        }
        nlohmann::json answer = {{"file", path}, {"valid", parsed.ok()}, {"errors", errors}};
        if (parsed.ok()) {
            answer["groups"] = parsed.policy->groups.size();
            answer["devices"] = parsed.policy->devices.size();
            answer["rules"] = rules_defined(*parsed.policy);
            answer["suppressions"] = parsed.policy->suppressions.size();
            answer["outputs"] = parsed.policy->outputs.size();
        }
        std::cout << answer.dump(2) << "\n";
        return parsed.ok() ? kOk : kFailed;
    }
    if (!parsed.ok()) {
        for (const auto& error : parsed.errors) {
            std::cerr << hub::detect::format_error(path, error) << "\n";
        }
        std::cerr << path << ": refused, " << counted(parsed.errors.size(), "error", "errors")
                  << "\n";
        return kFailed;
    }
    const hub::detect::Policy& policy = *parsed.policy;
    std::cout << path << ": valid: " << counted(policy.groups.size(), "group", "groups") << ", "
              << counted(policy.devices.size(), "device", "devices") << ", "
              << counted(rules_defined(policy), "rule", "rules") << ", "
              << counted(policy.outputs.size(), "output", "outputs") << ", "
              << counted(policy.suppressions.size(), "suppression", "suppressions") << "\n";
    return kOk;
}

}  // namespace

void add_rules_commands(CLI::App& app, Context& context) {
    CLI::App* rules = app.add_subcommand("rules", "The detection policy file");
    rules->require_subcommand(1);
    const auto path = std::make_shared<std::string>();
    CLI::App* check = rules->add_subcommand(
        "validate", "Check a policy file offline (no hub): every error with its line");
    check->add_option("file", *path, "The policy file (TOML)")->required();
    check->callback([&context, path] { context.exit_code = validate(context, *path); });
}

}  // namespace vigil::cli

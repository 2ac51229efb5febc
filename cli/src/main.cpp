// vigil: the command line for people. Queries the hub's HTTP API (devices, alerts,
// recommendations, configs, tokens), decodes saved messages and checks policy files locally. Exit
// codes: 0 done, 1 the hub or the input refused (or could not be reached), 2 the command line
// itself was wrong.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>

#include "commands.hpp"
#include "context.hpp"

namespace {

std::string env_or(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace vigil::cli;
    Context context;
    CLI::App app{"vigil: query the Vigil hub, decode security messages"};
    app.require_subcommand(1);
    // Global options may come after the command too (vigil devices --json).
    app.fallthrough();
    context.hub.url = env_or("VIGIL_HUB", "http://127.0.0.1:8080");
    context.data_dir = env_or("VIGIL_DATA", "/var/lib/vigil");
    app.add_option("--hub", context.hub.url, "The hub's API URL (VIGIL_HUB)");
    app.add_option("--token", context.token_flag,
                   "API token (else VIGIL_TOKEN, else <data>/admin.token)");
    app.add_option("--data", context.data_dir, "The hub's data directory (VIGIL_DATA)");
    app.add_option("--timeout", context.hub.timeout_s, "Seconds to wait for the hub")
        ->check(CLI::Range(1, 600));
    app.add_flag("--json", context.json, "Machine-readable output");
    // Runs once the command line is parsed, before the command's own callback.
    app.parse_complete_callback([&context] { resolve_token(context); });

    add_device_commands(app, context);
    add_token_commands(app, context);
    add_alert_commands(app, context);
    add_recommendation_commands(app, context);
    add_vulns_commands(app, context);
    add_watch_command(app, context);
    add_decode_command(app, context);
    add_config_commands(app, context);
    add_rules_commands(app, context);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? kOk : kUsage;
    }
    return context.exit_code;
}

// The command line's resources, one file each (commands_<resource>.cpp). Each adds its
// subcommands to the app with a CLI11 callback that runs the command and sets
// context.exit_code; CLI11 runs the callback of the subcommand given, after the whole command
// line (global options included, wherever they stand) has been parsed.
#pragma once

#include <CLI/CLI.hpp>

#include "context.hpp"

namespace vigil::cli {

/// devices [add <id> | revoke <id>], device <id>
void add_device_commands(CLI::App& app, Context& context);
/// tokens [add <name> --role read|admin | revoke <name>]
void add_token_commands(CLI::App& app, Context& context);
/// alerts [list [filters] | show <id> | ack <id> | resolve <id> | suppress <id> [--for ...]],
/// suppressions [list | remove <id>]
void add_alert_commands(CLI::App& app, Context& context);
/// recommendations [list [filters] | show <id> | summary [filters] | dismiss <id> --reason ...]
void add_recommendation_commands(CLI::App& app, Context& context);
/// vulns [list | update <file> [--name <drop-in>.toml]]
void add_vulns_commands(CLI::App& app, Context& context);
/// watch [--all] [--suppressed]: alerts and recommendations as they change, until interrupted
void add_watch_command(CLI::App& app, Context& context);
/// config push (<device> | --group <name>) [settings]
void add_config_commands(CLI::App& app, Context& context);
/// decode <file> [--format ...]: local, no hub
void add_decode_command(CLI::App& app, Context& context);
/// rules validate <file>: local, no hub
void add_rules_commands(CLI::App& app, Context& context);

}  // namespace vigil::cli

// alerts: list them with filters, show one with its evidence, move one along its states (ack,
// resolve) or suppress what it found; suppressions: list them, remove one.
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

struct AlertFilters {
    std::string device, group, type, category, state, severity, since, until, before;
    bool suppressed = false;
};

struct AlertAction {
    int64_t id = 0;
    std::string duration, reason;
    bool group = false;
};

/// "90s", "15m", "24h", "7d" in seconds; nullopt for anything else.
std::optional<int64_t> duration_seconds(const std::string& text) {
    if (text.size() < 2) {
        return std::nullopt;
    }
    char* end = nullptr;
    const long long count = std::strtoll(text.c_str(), &end, 10);
    if (end != text.c_str() + text.size() - 1 || count <= 0 || count > 366LL * 24 * 3600) {
        return std::nullopt;
    }
    switch (text.back()) {
        case 's':
            return count;
        case 'm':
            return count * 60;
        case 'h':
            return count * 3600;
        case 'd':
            return count * 86400;
        default:
            return std::nullopt;
    }
}

/// A time filter as the API takes it (ms since 1970): given so, or as an age ("24h": that long
/// ago). nullopt when it is neither.
std::optional<std::string> since_epoch_ms(const std::string& text) {
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
        return text;
    }
    const std::optional<int64_t> age = duration_seconds(text);
    if (!age) {
        return std::nullopt;
    }
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    return std::to_string(now_ms - *age * 1000);
}

int list_alerts(const Context& context, const AlertFilters& filters) {
    QueryString query;
    query.add("device", filters.device);
    query.add("group", filters.group);
    query.add("type", filters.type);
    query.add("category", filters.category);
    query.add("state", filters.state);
    query.add("severity", filters.severity);
    for (const auto& [name, value] :
         {std::pair{"since", &filters.since}, std::pair{"until", &filters.until}}) {
        if (value->empty()) {
            continue;
        }
        const std::optional<std::string> ms = since_epoch_ms(*value);
        if (!ms) {
            return usage(std::string("--") + name + " takes ms since 1970 or an age (90s, 15m, " +
                         "24h, 7d), not '" + *value + "'");
        }
        query.add(name, *ms);
    }
    query.add("suppressed", filters.suppressed ? "true" : "");
    query.add("before", filters.before);
    return request(
        context, "GET", "/api/alerts" + query.text(), "", [](const nlohmann::json& body) {
            std::vector<std::vector<std::string>> rows;
            for (const auto& alert : body["alerts"]) {
                rows.push_back(
                    {text(alert["id"]), text(alert["severity"]),
                     text(alert["state"]) + (alert["suppressed_by"].is_null() ? "" : "*"),
                     text(alert["device_id"]), text(alert["category"]), text(alert["title"]),
                     text(alert["count"]), time_text(alert["last_observed_ms"])});
            }
            print_table({"ID", "SEVERITY", "STATE", "DEVICE", "CATEGORY", "TITLE", "COUNT",
                         "LAST OBSERVED"},
                        rows);
            if (!body["next_before"].is_null()) {
                std::cout << "(more: --before " << text(body["next_before"]) << ")\n";
            }
        });
}

void print_alert(const nlohmann::json& alert) {
    const std::pair<const char*, std::string> lines[] = {
        {"id", text(alert["id"])},
        {"title", text(alert["title"])},
        {"device", text(alert["device_id"])},
        {"type", text(alert["type"])},
        {"category", text(alert["category"])},
        {"subject", text(alert["subject"])},
        {"severity", text(alert["severity"])},
        {"state", text(alert["state"]) + (alert["changed_by"] == ""
                                              ? std::string()
                                              : " (by " + text(alert["changed_by"]) + " at " +
                                                    time_text(alert["changed_ms"]) + ")")},
        {"suppressed by", text(alert["suppressed_by"])},
        {"technique", text(alert["technique"])},
        {"observed", time_text(alert["first_observed_ms"]) + " .. " +
                         time_text(alert["last_observed_ms"]) + " (device time)"},
        {"raised", time_text(alert["raised_ms"]) + " .. " + time_text(alert["last_raised_ms"]) +
                       ", " + text(alert["count"]) + " times"},
        {"description", text(alert["description"])},
        {"remediation", text(alert["remediation"])},
    };
    for (const auto& [label, value] : lines) {
        std::cout << label << std::string(15 - std::string(label).size(), ' ') << value << "\n";
    }
    std::cout << "evidence\n" << alert["evidence"].dump(2) << "\n";
}

int show_alert(const Context& context, int64_t id) {
    return request(context, "GET", "/api/alerts/" + std::to_string(id), "", print_alert);
}

/// verb: "ack" or "resolve", the last segment of the API's path.
int change_alert(const Context& context, int64_t id, const std::string& verb) {
    return request(context, "POST", "/api/alerts/" + std::to_string(id) + "/" + verb, "",
                   [](const nlohmann::json& alert) {
                       std::cout << "alert " << text(alert["id"]) << " is now "
                                 << text(alert["state"]) << "\n";
                   });
}

int suppress_alert(const Context& context, const AlertAction& action) {
    nlohmann::json body = {{"reason", action.reason}, {"scope", action.group ? "group" : "device"}};
    if (!action.duration.empty()) {
        const std::optional<int64_t> seconds = duration_seconds(action.duration);
        if (!seconds) {
            return usage("--for takes a duration (90s, 15m, 24h, 7d), not '" + action.duration +
                         "'");
        }
        body["duration_s"] = *seconds;
    }
    return request(context, "POST", "/api/alerts/" + std::to_string(action.id) + "/suppress",
                   body.dump(), [](const nlohmann::json& suppression) {
                       std::cout << "suppression " << text(suppression["id"]) << " ("
                                 << text(suppression["name"]) << ") until "
                                 << (suppression["expires_ms"].is_null()
                                         ? std::string("removed")
                                         : time_text(suppression["expires_ms"]))
                                 << "\n";
                   });
}

int list_suppressions(const Context& context) {
    return request(context, "GET", "/api/suppressions", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : body["suppressions"]) {
            const std::string scope = s["device_id"] != "" ? "device " + text(s["device_id"])
                                      : s["group"] != ""   ? "group " + text(s["group"])
                                                           : "every device";
            rows.push_back(
                {text(s["id"]), text(s["source"]), text(s["name"]), scope,
                 s["type"] == "" ? "every type" : text(s["type"]), text(s["subject_pattern"]),
                 s["expires_ms"].is_null() ? "never" : time_text(s["expires_ms"]),
                 s["active"] == true ? "yes" : "no", text(s["suppressed"]), text(s["reason"])});
        }
        print_table({"ID", "SOURCE", "NAME", "SCOPE", "TYPE", "SUBJECT", "EXPIRES", "ACTIVE",
                     "SUPPRESSED", "REASON"},
                    rows);
    });
}

int remove_suppression(const Context& context, int64_t id) {
    return request(
        context, "DELETE", "/api/suppressions/" + std::to_string(id), "",
        [id](const nlohmann::json&) { std::cout << "suppression " << id << " removed\n"; });
}

void add_change_command(CLI::App& alerts, Context& context, const std::string& verb,
                        const std::string& description) {
    const auto id = std::make_shared<int64_t>(0);
    CLI::App* command = alerts.add_subcommand(verb, description);
    command->add_option("alert-id", *id, "Alert id")->required();
    command->callback(
        [&context, id, verb] { context.exit_code = change_alert(context, *id, verb); });
}

}  // namespace

void add_alert_commands(CLI::App& app, Context& context) {
    CLI::App* alerts = app.add_subcommand("alerts",
                                          "List alerts (or show, ack, resolve, "
                                          "suppress one)");
    alerts->require_subcommand(0, 1);

    const auto filters = std::make_shared<AlertFilters>();
    CLI::App* list = alerts->add_subcommand("list", "List alerts, newest first");
    list->add_option("--device", filters->device, "Only this device's");
    list->add_option("--group", filters->group, "Only of devices in this group");
    list->add_option("--type", filters->type, "Only of this type (scan.port_inbound, ...)");
    list->add_option("--category", filters->category,
                     "Only of this category (malicious_ip, port_scan_inbound, ...)");
    list->add_option("--state", filters->state, "open, acknowledged or resolved");
    list->add_option("--severity", filters->severity,
                     "At least: info, low, medium, high, critical");
    list->add_option("--since", filters->since,
                     "Observed at or after: ms since 1970, or an age (24h)");
    list->add_option("--until", filters->until,
                     "Observed at or before: ms since 1970, or an age (24h)");
    list->add_option("--before", filters->before, "Ids below this (the next page)");
    list->add_flag("--suppressed", filters->suppressed, "Include suppressed alerts (marked *)");
    list->callback([&context, filters] { context.exit_code = list_alerts(context, *filters); });

    const auto action = std::make_shared<AlertAction>();
    CLI::App* show = alerts->add_subcommand("show", "Show one alert with its evidence");
    show->add_option("alert-id", action->id, "Alert id")->required();
    show->callback([&context, action] { context.exit_code = show_alert(context, action->id); });

    add_change_command(*alerts, context, "ack", "Acknowledge an alert");
    add_change_command(*alerts, context, "resolve", "Resolve an alert");

    CLI::App* suppress = alerts->add_subcommand(
        "suppress", "Stop alerting on what this alert found (its device, type and subject)");
    suppress->add_option("alert-id", action->id, "Alert id")->required();
    suppress->add_option("--for", action->duration,
                         "For how long (24h, 7d); default: until removed");
    suppress->add_option("--reason", action->reason, "Why, for the record");
    suppress->add_flag("--group", action->group, "For every device of the alert's device's group");
    suppress->callback(
        [&context, action] { context.exit_code = suppress_alert(context, *action); });

    // A subcommand's callback runs before its parent's: the list when none was given.
    alerts->callback([&context, alerts, filters] {
        if (alerts->get_subcommands().empty()) {
            context.exit_code = list_alerts(context, *filters);
        }
    });

    const auto suppression_id = std::make_shared<int64_t>(0);
    CLI::App* suppressions =
        app.add_subcommand("suppressions", "List suppressions (or remove one)");
    suppressions->require_subcommand(0, 1);
    CLI::App* listed = suppressions->add_subcommand("list", "List suppressions and their counts");
    listed->callback([&context] { context.exit_code = list_suppressions(context); });
    CLI::App* remove = suppressions->add_subcommand("remove", "Remove an operator's suppression");
    remove->add_option("suppression-id", *suppression_id, "Suppression id")->required();
    remove->callback([&context, suppression_id] {
        context.exit_code = remove_suppression(context, *suppression_id);
    });
    suppressions->callback([&context, suppressions] {
        if (suppressions->get_subcommands().empty()) {
            context.exit_code = list_suppressions(context);
        }
    });
}

}  // namespace vigil::cli

// alerts: list them with filters; ack and resolve: move one alert along its states.
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

struct AlertFilters {
    std::string device, state, severity, kind;
};

int list_alerts(const Context& context, const AlertFilters& filters) {
    std::string query;
    const std::pair<const char*, const std::string*> given[] = {{"device", &filters.device},
                                                                {"state", &filters.state},
                                                                {"severity", &filters.severity},
                                                                {"kind", &filters.kind}};
    for (const auto& [name, value] : given) {
        if (!value->empty()) {
            query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(*value);
        }
    }
    return request(context, "GET", "/api/alerts" + query, "", [](const nlohmann::json& body) {
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

/// verb: "ack" or "resolve", the last segment of the API's path.
int change_alert(const Context& context, int64_t id, const std::string& verb) {
    return request(context, "POST", "/api/alerts/" + std::to_string(id) + "/" + verb, "",
                   [](const nlohmann::json& alert) {
                       std::cout << "alert " << text(alert["id"]) << " is now "
                                 << text(alert["state"]) << "\n";
                   });
}

void add_change_command(CLI::App& app, Context& context, const std::string& verb,
                        const std::string& description) {
    const auto id = std::make_shared<int64_t>(0);
    CLI::App* command = app.add_subcommand(verb, description);
    command->add_option("alert-id", *id, "Alert id")->required();
    command->callback(
        [&context, id, verb] { context.exit_code = change_alert(context, *id, verb); });
}

}  // namespace

void add_alert_commands(CLI::App& app, Context& context) {
    const auto filters = std::make_shared<AlertFilters>();
    CLI::App* alerts = app.add_subcommand("alerts", "List alerts");
    alerts->add_option("--device", filters->device, "Only this device's");
    alerts->add_option("--state", filters->state, "open, acknowledged or resolved");
    alerts->add_option("--severity", filters->severity,
                       "At least: info, low, medium, high, critical");
    alerts->add_option("--kind", filters->kind, "Only this rule's");
    alerts->callback([&context, filters] { context.exit_code = list_alerts(context, *filters); });

    add_change_command(app, context, "ack", "Acknowledge an alert");
    add_change_command(app, context, "resolve", "Resolve an alert");
}

}  // namespace vigil::cli

// recommendations: list them with filters, show one with its evidence, sum them up by kind, or
// dismiss one with a reason.
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

struct RecommendationFilters {
    std::string device, group, kind, state, severity, before;
};

struct Dismissal {
    int64_t id = 0;
    std::string reason;
};

/// "?device=...&state=..." of the filters given; `with_list` adds those only the list takes.
std::string filter_query(const RecommendationFilters& filters, bool with_list) {
    QueryString query;
    query.add("device", filters.device);
    query.add("group", filters.group);
    query.add("state", filters.state);
    query.add("severity", filters.severity);
    if (with_list) {
        query.add("kind", filters.kind);
        query.add("before", filters.before);
    }
    return query.text();
}

int list_recommendations(const Context& context, const RecommendationFilters& filters) {
    return request(context, "GET", "/api/recommendations" + filter_query(filters, true), "",
                   [](const nlohmann::json& body) {
                       std::vector<std::vector<std::string>> rows;
                       for (const auto& r : body["recommendations"]) {
                           rows.push_back({text(r["id"]), text(r["severity"]), text(r["state"]),
                                           text(r["device_id"]), text(r["kind"]), text(r["title"]),
                                           time_text(r["last_observed_ms"])});
                       }
                       print_table(
                           {"ID", "SEVERITY", "STATE", "DEVICE", "KIND", "TITLE", "LAST OBSERVED"},
                           rows);
                       if (!body["next_before"].is_null()) {
                           std::cout << "(more: --before " << text(body["next_before"]) << ")\n";
                       }
                   });
}

void print_recommendation(const nlohmann::json& r) {
    std::string state = text(r["state"]);
    if (r["state"] == "closed") {
        state += " at " + time_text(r["closed_ms"]);
    }
    const bool was_dismissed = r["dismissed_reason"] != "";
    const std::pair<const char*, std::string> lines[] = {
        {"id", text(r["id"])},
        {"title", text(r["title"])},
        {"device", text(r["device_id"])},
        {"kind", text(r["kind"])},
        {"subject", text(r["subject"])},
        {"severity", text(r["severity"])},
        {"state", state},
        {"dismissed", was_dismissed
                          ? "\"" + text(r["dismissed_reason"]) + "\" by " +
                                text(r["dismissed_by"]) + " at " + time_text(r["dismissed_ms"])
                          : "-"},
        {"observed", time_text(r["first_observed_ms"]) + " .. " + time_text(r["last_observed_ms"]) +
                         " (device time)"},
        {"opened", time_text(r["opened_ms"]) + ", updated " + time_text(r["updated_ms"])},
        {"rationale", text(r["rationale"])},
        {"remediation", text(r["remediation"])},
        {"evidence key", text(r["evidence_key"])},
    };
    for (const auto& [label, value] : lines) {
        std::cout << label << std::string(15 - std::string(label).size(), ' ') << value << "\n";
    }
    std::cout << "evidence\n" << r["evidence"].dump(2) << "\n";
}

int show_recommendation(const Context& context, int64_t id) {
    return request(context, "GET", "/api/recommendations/" + std::to_string(id), "",
                   print_recommendation);
}

int summarise_recommendations(const Context& context, const RecommendationFilters& filters) {
    return request(
        context, "GET", "/api/recommendations/summary" + filter_query(filters, false), "",
        [](const nlohmann::json& body) {
            std::vector<std::vector<std::string>> rows;
            for (const auto& k : body["kinds"]) {
                rows.push_back({text(k["kind"]), text(k["severity"]), text(k["open_devices"]),
                                text(k["dismissed_devices"]), text(k["closed_devices"]),
                                text(k["title"])});
            }
            print_table({"KIND", "SEVERITY", "OPEN", "DISMISSED", "CLOSED", "LATEST"}, rows);
        });
}

int dismiss_recommendation(const Context& context, const Dismissal& dismissal) {
    if (dismissal.reason.empty()) {
        return usage("dismiss needs --reason: why the recommendation does not apply");
    }
    const nlohmann::json body = {{"reason", dismissal.reason}};
    return request(context, "POST",
                   "/api/recommendations/" + std::to_string(dismissal.id) + "/dismiss", body.dump(),
                   [](const nlohmann::json& r) {
                       std::cout << "recommendation " << text(r["id"]) << " is now "
                                 << text(r["state"]) << "\n";
                   });
}

void add_filter_options(CLI::App& command, RecommendationFilters& filters) {
    command.add_option("--device", filters.device, "Only this device's");
    command.add_option("--group", filters.group, "Only of devices in this group");
    command.add_option("--state", filters.state, "open, dismissed or closed");
    command.add_option("--severity", filters.severity,
                       "At least: info, low, medium, high, critical");
}

}  // namespace

void add_recommendation_commands(CLI::App& app, Context& context) {
    CLI::App* recommendations = app.add_subcommand(
        "recommendations", "List hygiene recommendations (or show, sum up, dismiss)");
    recommendations->require_subcommand(0, 1);

    const auto filters = std::make_shared<RecommendationFilters>();
    CLI::App* list = recommendations->add_subcommand("list", "List recommendations, newest first");
    add_filter_options(*list, *filters);
    list->add_option("--kind", filters->kind, "Only of this kind (firmware.vulnerable, ...)");
    list->add_option("--before", filters->before, "Ids below this (the next page)");
    list->callback(
        [&context, filters] { context.exit_code = list_recommendations(context, *filters); });

    const auto summary_filters = std::make_shared<RecommendationFilters>();
    CLI::App* summary = recommendations->add_subcommand(
        "summary", "Each kind with the number of devices open, dismissed and closed");
    add_filter_options(*summary, *summary_filters);
    summary->callback([&context, summary_filters] {
        context.exit_code = summarise_recommendations(context, *summary_filters);
    });

    const auto dismissal = std::make_shared<Dismissal>();
    CLI::App* show = recommendations->add_subcommand("show", "Show one with its evidence");
    show->add_option("recommendation-id", dismissal->id, "Recommendation id")->required();
    show->callback(
        [&context, dismissal] { context.exit_code = show_recommendation(context, dismissal->id); });

    CLI::App* dismiss = recommendations->add_subcommand(
        "dismiss", "Dismiss one; it reopens if its evidence changes");
    dismiss->add_option("recommendation-id", dismissal->id, "Recommendation id")->required();
    dismiss->add_option("--reason", dismissal->reason, "Why it does not apply, for the record")
        ->required();
    dismiss->callback(
        [&context, dismissal] { context.exit_code = dismiss_recommendation(context, *dismissal); });

    // A subcommand's callback runs before its parent's: the list when none was given.
    recommendations->callback([&context, recommendations, filters] {
        if (recommendations->get_subcommands().empty()) {
            context.exit_code = list_recommendations(context, *filters);
        }
    });
}

}  // namespace vigil::cli

// watch: follows the hub's alert stream and prints one line per alert or recommendation as it
// changes, reconnecting when the hub goes away, until interrupted.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

struct WatchOptions {
    bool every_change = false;
    bool suppressed = false;
    std::string least_severity;  ///< "" shows every severity
};

/// The severities from the given one up, as the hub names them; empty when the name is not one.
std::vector<std::string> severities_from(const std::string& least) {
    static const char* const kOrder[] = {"info", "low", "medium", "high", "critical"};
    std::vector<std::string> shown;
    for (const char* name : kOrder) {
        if (name == least || !shown.empty()) {
            shown.emplace_back(name);
        }
    }
    return shown;
}

// Titles and subjects can carry what a device reported; a terminal must not take any of it as a
// control sequence.
std::string printable(const std::string& text) {
    std::string out = text;
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = '?';
        }
    }
    return out;
}

std::string padded(std::string text, size_t width) {
    if (text.size() < width) {
        text.append(width - text.size(), ' ');
    }
    return text;
}

/// "15:42:07" of a time in ms since 1970 (UTC), from the same text the tables print.
std::string clock_text(const nlohmann::json& ms) {
    const std::string full = time_text(ms);
    return full.size() >= 19 ? full.substr(11, 8) : full;
}

/// The member, or null when the event lacks it (a hub of another version).
nlohmann::json field(const nlohmann::json& object, const char* name) {
    const auto found = object.find(name);
    return found == object.end() ? nlohmann::json(nullptr) : *found;
}

/// When the hub made the change the event tells of: the latest of the finding's times.
int64_t changed_ms(const nlohmann::json& finding, bool recommendation) {
    static const char* const kRecommendationTimes[] = {"updated_ms", "closed_ms", "dismissed_ms"};
    static const char* const kAlertTimes[] = {"last_raised_ms", "changed_ms"};
    const auto latest_of = [&finding](const auto& names) {
        int64_t latest = 0;
        for (const char* name : names) {
            const nlohmann::json value = field(finding, name);
            if (value.is_number_integer()) {
                latest = std::max(latest, value.get<int64_t>());
            }
        }
        return latest;
    };
    return recommendation ? latest_of(kRecommendationTimes) : latest_of(kAlertTimes);
}

/// The line for one event, or "" when it is not shown: repeats and updates only with --all, and
/// events of other kinds (device changes) not at all.
std::string event_line(const StreamEvent& event, const nlohmann::json& body, bool every_change,
                       const std::vector<std::string>& severities) {
    if (!body.is_object()) {
        return "";
    }
    const nlohmann::json severity = field(body, "severity");
    if (!severities.empty() &&
        (!severity.is_string() || std::find(severities.begin(), severities.end(),
                                            severity.get<std::string>()) == severities.end())) {
        return "";
    }
    const std::string recommendation_prefix = "recommendation.";
    const bool recommendation = event.name.rfind(recommendation_prefix, 0) == 0;
    const std::string change =
        recommendation ? event.name.substr(recommendation_prefix.size()) : event.name;
    const bool alert_change = change == "opened" || change == "repeated" ||
                              change == "acknowledged" || change == "resolved";
    const bool recommendation_change = change == "opened" || change == "updated" ||
                                       change == "closed" || change == "reopened" ||
                                       change == "dismissed";
    if (recommendation ? !recommendation_change : !alert_change) {
        return "";
    }
    if (!every_change && (change == "repeated" || change == "updated")) {
        return "";
    }
    return clock_text(changed_ms(body, recommendation)) + "  " +
           padded(recommendation ? "hygiene" : "ALERT", 7) + " " + padded(change, 12) + " " +
           padded(printable(text(field(body, "severity"))), 8) + " " +
           padded(printable(text(field(body, "device_id"))), 16) + " " +
           printable(text(field(body, "title"))) + "  [" +
           (recommendation ? "recommendation " : "alert ") + text(field(body, "id")) + "]";
}

int watch(const Context& context, const WatchOptions& options) {
    const std::vector<std::string> severities = options.least_severity.empty()
                                                    ? std::vector<std::string>{}
                                                    : severities_from(options.least_severity);
    if (!options.least_severity.empty() && severities.empty()) {
        return usage("--severity takes info, low, medium, high or critical, not '" +
                     options.least_severity + "'");
    }
    const std::string path =
        std::string("/api/alerts/stream") + (options.suppressed ? "?suppressed=true" : "");
    const auto print = [&](const StreamEvent& event) {
        const nlohmann::json body = nlohmann::json::parse(event.data, nullptr, false);
        if (context.json) {
            if (!body.is_discarded()) {
                std::cout << nlohmann::json{{"event", event.name}, {"data", body}}.dump()
                          << std::endl;
            }
            return true;
        }
        const std::string line = event_line(event, body, options.every_change, severities);
        if (!line.empty()) {
            std::cout << line << std::endl;
        }
        return true;
    };
    std::chrono::seconds backoff{1};
    const std::chrono::seconds longest_backoff{30};
    for (;;) {
        const auto opened = std::chrono::steady_clock::now();
        const Answer answer = stream_hub(context.hub, path, print);
        if (answer.status == 401 || answer.status == 403 || answer.status == 404) {
            return fail(answer.message);
        }
        // A stream that lasted a while was healthy: start the backoff again.
        if (std::chrono::steady_clock::now() - opened > longest_backoff) {
            backoff = std::chrono::seconds{1};
        }
        std::cerr << "vigil: "
                  << (answer.ok ? std::string("the hub ended the stream") : answer.message)
                  << "; trying again in " << backoff.count() << " s" << std::endl;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, longest_backoff);
    }
}

}  // namespace

void add_watch_command(CLI::App& app, Context& context) {
    const auto options = std::make_shared<WatchOptions>();
    CLI::App* command = app.add_subcommand(
        "watch", "Print alerts and recommendations as they open, change and close (until Ctrl-C)");
    command->add_flag("--all", options->every_change,
                      "Also each repeat of an open alert and each update of a recommendation");
    command->add_flag("--suppressed", options->suppressed, "Include suppressed alerts");
    command->add_option("--severity", options->least_severity,
                        "At least: info, low, medium, high, critical");
    command->callback([&context, options] { context.exit_code = watch(context, *options); });
}

}  // namespace vigil::cli

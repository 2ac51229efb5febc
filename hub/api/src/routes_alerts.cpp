// Alerts: list, one, acknowledge, resolve, suppress.
#include <cerrno>
#include <cstdlib>

#include "http_util.hpp"
#include "json_views.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

// The longest a suppression made from an alert may last: a year.
constexpr int64_t kMaxSuppressSeconds = 366LL * 24 * 3600;

/// The subject as a GLOB pattern that matches it alone: each special character in brackets.
std::string exact_glob(const std::string& subject) {
    std::string pattern;
    for (const char c : subject) {
        if (c == '*' || c == '?' || c == '[') {
            pattern += '[';
            pattern += c;
            pattern += ']';
        } else {
            pattern += c;
        }
    }
    return pattern;
}

}  // namespace

void ApiServer::Impl::add_alert_routes() {
    route("GET", "/api/alerts", "/api/alerts", &Impl::list_alerts);
    route("GET", "/api/alerts/stream", "/api/alerts/stream", &Impl::stream_alerts);
    route("GET", "/api/alerts/([0-9]+)", "/api/alerts/{id}", &Impl::get_alert);
    route("POST", "/api/alerts/([0-9]+)/ack", "/api/alerts/{id}/ack",
          [this](const HttpRequest& req, HttpResponse& res) { change_alert(req, res, false); });
    route("POST", "/api/alerts/([0-9]+)/resolve", "/api/alerts/{id}/resolve",
          [this](const HttpRequest& req, HttpResponse& res) { change_alert(req, res, true); });
    route("POST", "/api/alerts/([0-9]+)/suppress", "/api/alerts/{id}/suppress",
          &Impl::suppress_alert);
}

void ApiServer::Impl::list_alerts(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    AlertFilter filter;
    filter.device_id = query.text("device");
    filter.group = query.text("group");
    filter.type = query.text("type");
    filter.category = query.named(
        "category",
        {AlertCategory::MaliciousIp, AlertCategory::PortScanInbound, AlertCategory::ScanOutbound,
         AlertCategory::Flood, AlertCategory::AllowlistViolation, AlertCategory::NewListeningPort,
         AlertCategory::Exfiltration, AlertCategory::Beaconing, AlertCategory::DeviceSilence,
         AlertCategory::BaselineDeviation, AlertCategory::Threshold, AlertCategory::AgentHealth});
    filter.state =
        query.named("state", {AlertState::Open, AlertState::Acknowledged, AlertState::Resolved});
    filter.min_severity = query.named("severity", {Severity::Info, Severity::Low, Severity::Medium,
                                                   Severity::High, Severity::Critical});
    filter.observed_since_ms = query.integer("since", 0, INT64_MAX);
    filter.observed_until_ms = query.integer("until", 0, INT64_MAX);
    filter.include_suppressed = query.flag("suppressed");
    filter.before_id = query.integer("before", 1, INT64_MAX);
    filter.limit = static_cast<uint32_t>(query.integer("limit", 1, 1000).value_or(100));
    if (!query.ok()) {
        return;
    }
    const Fetched<std::vector<Alert>> alerts = store_.alerts.alerts(filter);
    if (api::store_failed(res, alerts)) {
        return;
    }
    // A full page may have a next one; its cursor is the oldest id shown.
    const bool full = alerts.value.size() == filter.limit;
    api::send_json(
        res, 200,
        {{"alerts", api::to_json_array(alerts.value)},
         {"next_before", full ? nlohmann::json(alerts.value.back().id) : nlohmann::json(nullptr)}});
}

std::optional<int64_t> ApiServer::Impl::path_id(const HttpRequest& req, HttpResponse& res,
                                                const char* what) {
    const std::string text = req.matches[1];
    errno = 0;
    const long long id = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE || id <= 0) {
        api::send_error(res, 400, "bad_parameter",
                        std::string("the ") + what + " id is out of range");
        return std::nullopt;
    }
    return static_cast<int64_t>(id);
}

std::optional<Alert> ApiServer::Impl::find_alert(int64_t id, HttpResponse& res) {
    const Fetched<std::optional<Alert>> found = store_.alerts.alert(id);
    if (api::store_failed(res, found)) {
        return std::nullopt;
    }
    if (!found.value) {
        api::send_error(res, 404, "not_found", "no alert " + std::to_string(id));
    }
    return found.value;
}

void ApiServer::Impl::get_alert(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_id(req, res, "alert");
    if (!id) {
        return;
    }
    if (const std::optional<Alert> alert = find_alert(*id, res)) {
        api::send_json(res, 200, api::to_json(*alert));
    }
}

void ApiServer::Impl::change_alert(const HttpRequest& req, HttpResponse& res, bool resolve) {
    const auto id = path_id(req, res, "alert");
    if (!id) {
        return;
    }
    const std::optional<Alert> before = find_alert(*id, res);
    if (!before) {
        return;
    }
    const std::string& by = api::current_request().principal;
    const Done done = resolve ? store_.alerts.resolve_alert(*id, by, now_ms())
                              : store_.alerts.acknowledge_alert(*id, by, now_ms());
    if (api::store_failed(res, done)) {
        return;
    }
    const std::optional<Alert> after = find_alert(*id, res);
    if (!after) {
        return;
    }
    // Only a change is news: acknowledging a resolved alert, or resolving it again, is not.
    if (after->state != before->state && settings_.alert_events != nullptr) {
        settings_.alert_events->publish(
            {resolve ? AlertChange::Resolved : AlertChange::Acknowledged, *after});
    }
    api::send_json(res, 200, api::to_json(*after));
}

// A suppression for this alert's device (or the device's group), type and exact subject, so the
// same finding stops reaching the outputs; the alert itself stays as it is.
void ApiServer::Impl::suppress_alert(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_id(req, res, "alert");
    if (!id) {
        return;
    }
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty() && !api::parse_body(req, res, body)) {
        return;
    }
    static const char kShape[] =
        "the body must be {\"duration_s\": seconds (absent: until removed), \"reason\": "
        "\"...\", \"scope\": \"device\"|\"group\"}";
    if (!body.is_object()) {
        api::send_error(res, 400, "bad_request", kShape);
        return;
    }
    for (const auto& field : body.items()) {
        if (field.key() != "duration_s" && field.key() != "reason" && field.key() != "scope") {
            api::send_error(res, 400, "bad_request",
                            "unknown field '" + field.key() + "': " + kShape);
            return;
        }
    }
    const nlohmann::json duration = body.value("duration_s", nlohmann::json(nullptr));
    if (!duration.is_null() && (!duration.is_number_integer() || duration.get<int64_t>() < 1 ||
                                duration.get<int64_t>() > kMaxSuppressSeconds)) {
        api::send_error(res, 400, "bad_request",
                        "duration_s must be a whole number of seconds from 1 to " +
                            std::to_string(kMaxSuppressSeconds));
        return;
    }
    const nlohmann::json reason = body.value("reason", nlohmann::json(""));
    if (!reason.is_string() || reason.get<std::string>().size() > api::kMaxReasonBytes) {
        api::send_error(res, 400, "bad_request",
                        "reason must be a string of at most " +
                            std::to_string(api::kMaxReasonBytes) + " bytes");
        return;
    }
    const nlohmann::json scope = body.value("scope", nlohmann::json("device"));
    if (scope != "device" && scope != "group") {
        api::send_error(res, 400, "bad_request", "scope must be \"device\" or \"group\"");
        return;
    }
    const std::optional<Alert> alert = find_alert(*id, res);
    if (!alert) {
        return;
    }
    Suppression suppression;
    suppression.source = SuppressionSource::Operator;
    suppression.type = alert->type;
    suppression.subject_pattern = exact_glob(alert->subject);
    if (scope == "group") {
        const Fetched<std::optional<std::string>> group =
            store_.devices.device_group(alert->device_id);
        if (api::store_failed(res, group)) {
            return;
        }
        if (!group.value) {
            api::send_error(res, 409, "no_group",
                            "device '" + alert->device_id +
                                "' is in no group: suppress it with scope \"device\"");
            return;
        }
        suppression.group = *group.value;
    } else {
        suppression.device_id = alert->device_id;
    }
    const int64_t now = now_ms();
    if (!duration.is_null()) {
        suppression.expires_ms = now + duration.get<int64_t>() * 1000;
    }
    suppression.reason = reason.get<std::string>();
    suppression.created_by = api::current_request().principal;
    suppression.created_ms = now;
    // Named after the alert; suppressing it again (another scope, a longer while) counts up.
    const std::string base = "alert-" + std::to_string(*id);
    for (int attempt = 1; attempt < 100; ++attempt) {
        suppression.name = attempt == 1 ? base : base + "-" + std::to_string(attempt);
        const Fetched<int64_t> added = store_.alerts.add_suppression(suppression);
        if (added.ok()) {
            suppression.id = added.value;
            api::send_json(res, 201, api::to_json(suppression));
            return;
        }
        if (added.error.find("must have") != std::string::npos) {
            // A subject longer than a pattern may be cannot be suppressed exactly.
            api::send_error(res, 409, "subject_too_long",
                            "alert " + std::to_string(*id) +
                                "'s subject is too long to suppress exactly: " + added.error);
            return;
        }
        if (added.error.find("already exists") == std::string::npos) {
            api::send_error(res, 500, "store_error", added.error);
            return;
        }
    }
    api::send_error(res, 409, "suppression_exists",
                    "alert " + std::to_string(*id) + " has been suppressed 99 times already");
}

}  // namespace vigil::hub

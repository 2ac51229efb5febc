// Alerts (list, acknowledge, resolve) and recommendations.
#include <cerrno>
#include <cstdlib>

#include "http_util.hpp"
#include "json_views.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

void ApiServer::Impl::add_alert_routes() {
    route("GET", "/api/alerts", "/api/alerts", &Impl::list_alerts);
    route("POST", "/api/alerts/([0-9]+)/ack", "/api/alerts/{id}/ack",
          [this](const HttpRequest& req, HttpResponse& res) { change_alert(req, res, false); });
    route("POST", "/api/alerts/([0-9]+)/resolve", "/api/alerts/{id}/resolve",
          [this](const HttpRequest& req, HttpResponse& res) { change_alert(req, res, true); });
    route("GET", "/api/recommendations", "/api/recommendations", &Impl::list_recommendations);
}

void ApiServer::Impl::list_alerts(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    AlertFilter filter;
    filter.device_id = query.text("device");
    filter.kind = query.text("kind");
    if (const auto state = query.named(
            "state", {AlertState::Open, AlertState::Acknowledged, AlertState::Resolved})) {
        filter.state = *state;
    }
    if (const auto severity =
            query.named("severity", {Severity::Info, Severity::Low, Severity::Medium,
                                     Severity::High, Severity::Critical})) {
        filter.min_severity = *severity;
    }
    filter.seen_since_ms = query.integer("seen_since", 0, INT64_MAX);
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

void ApiServer::Impl::change_alert(const HttpRequest& req, HttpResponse& res, bool resolve) {
    const std::string text = req.matches[1];
    errno = 0;
    const long long id = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE || id <= 0) {
        api::send_error(res, 400, "bad_parameter", "the alert id is out of range");
        return;
    }
    const std::string& by = api::current_request().principal;
    const Done done = resolve ? store_.alerts.resolve_alert(id, by, now_ms())
                              : store_.alerts.acknowledge_alert(id, by, now_ms());
    if (!done.ok()) {
        const bool missing = done.error.rfind("no alert", 0) == 0;
        api::send_error(res, missing ? 404 : 500, missing ? "not_found" : "store_error",
                        done.error);
        return;
    }
    AlertFilter filter;
    filter.before_id = id + 1;
    filter.limit = 1;
    const Fetched<std::vector<Alert>> alert = store_.alerts.alerts(filter);
    if (!alert.ok() || alert.value.empty() || alert.value[0].id != id) {
        api::send_error(res, 500, "store_error", alert.ok() ? "the alert vanished" : alert.error);
        return;
    }
    api::send_json(res, 200, api::to_json(alert.value[0]));
}

void ApiServer::Impl::list_recommendations(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    const auto device = query.text("device");
    const std::optional<RecommendationState> state = query.named(
        "state",
        {RecommendationState::Open, RecommendationState::Dismissed, RecommendationState::Done});
    if (!query.ok()) {
        return;
    }
    const Fetched<std::vector<Recommendation>> found =
        store_.recommendations.recommendations(device, state);
    if (api::store_failed(res, found)) {
        return;
    }
    api::send_json(res, 200, {{"recommendations", api::to_json_array(found.value)}});
}

}  // namespace vigil::hub

// Recommendations: list, summary by kind, one, dismiss.
#include <algorithm>

#include "http_util.hpp"
#include "json_views.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

// The parameters the list and the summary share; the caller checks query.ok() after.
RecommendationFilter read_filter(api::QueryReader& query) {
    RecommendationFilter filter;
    filter.device_id = query.text("device");
    filter.group = query.text("group");
    filter.state = query.named("state", {RecommendationState::Open, RecommendationState::Dismissed,
                                         RecommendationState::Closed});
    filter.min_severity = query.named("severity", {Severity::Info, Severity::Low, Severity::Medium,
                                                   Severity::High, Severity::Critical});
    return filter;
}

}  // namespace

void ApiServer::Impl::add_recommendation_routes() {
    route("GET", "/api/recommendations", "/api/recommendations", &Impl::list_recommendations);
    route("GET", "/api/recommendations/summary", "/api/recommendations/summary",
          &Impl::recommendation_summary);
    route("GET", "/api/recommendations/([0-9]+)", "/api/recommendations/{id}",
          &Impl::get_recommendation);
    route("POST", "/api/recommendations/([0-9]+)/dismiss", "/api/recommendations/{id}/dismiss",
          &Impl::dismiss_recommendation);
}

void ApiServer::Impl::list_recommendations(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    RecommendationFilter filter = read_filter(query);
    filter.kind = query.text("kind");
    filter.before_id = query.integer("before", 1, INT64_MAX);
    filter.limit = static_cast<uint32_t>(query.integer("limit", 1, 1000).value_or(100));
    if (!query.ok()) {
        return;
    }
    const Fetched<std::vector<Recommendation>> found =
        store_.recommendations.recommendations(filter);
    if (api::store_failed(res, found)) {
        return;
    }
    // As alerts: a full page may have a next one, whose cursor is the oldest id shown.
    const bool full = found.value.size() == filter.limit;
    api::send_json(
        res, 200,
        {{"recommendations", api::to_json_array(found.value)},
         {"next_before", full ? nlohmann::json(found.value.back().id) : nlohmann::json(nullptr)}});
}

void ApiServer::Impl::recommendation_summary(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    const RecommendationFilter filter = read_filter(query);
    if (!query.ok()) {
        return;
    }
    const Fetched<std::vector<RecommendationKindSummary>> kinds =
        store_.recommendations.recommendation_summary(filter);
    if (api::store_failed(res, kinds)) {
        return;
    }
    api::send_json(res, 200, {{"kinds", api::to_json_array(kinds.value)}});
}

std::optional<Recommendation> ApiServer::Impl::find_recommendation(int64_t id, HttpResponse& res) {
    const Fetched<std::optional<Recommendation>> found = store_.recommendations.recommendation(id);
    if (api::store_failed(res, found)) {
        return std::nullopt;
    }
    if (!found.value) {
        api::send_error(res, 404, "not_found", "no recommendation " + std::to_string(id));
    }
    return found.value;
}

void ApiServer::Impl::get_recommendation(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_id(req, res, "recommendation");
    if (!id) {
        return;
    }
    if (const std::optional<Recommendation> found = find_recommendation(*id, res)) {
        api::send_json(res, 200, api::to_json(*found));
    }
}

void ApiServer::Impl::dismiss_recommendation(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_id(req, res, "recommendation");
    if (!id) {
        return;
    }
    nlohmann::json body;
    if (!api::parse_body(req, res, body)) {
        return;
    }
    const std::string shape = "the body must be {\"reason\": \"why\"}, the reason 1 to " +
                              std::to_string(api::kMaxReasonBytes) +
                              " bytes without control characters";
    if (!body.is_object() || body.size() != 1 || !body.contains("reason") ||
        !body["reason"].is_string()) {
        api::send_error(res, 400, "bad_request", shape);
        return;
    }
    const std::string reason = body["reason"].get<std::string>();
    // It is shown in terminals and logs as it is: no control characters.
    const bool has_control = std::any_of(reason.begin(), reason.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (reason.empty() || reason.size() > api::kMaxReasonBytes || has_control) {
        api::send_error(res, 400, "bad_request", shape);
        return;
    }
    const std::optional<Recommendation> before = find_recommendation(*id, res);
    if (!before) {
        return;
    }
    if (before->state == RecommendationState::Closed) {
        api::send_error(res, 409, "recommendation_closed",
                        "recommendation " + std::to_string(*id) +
                            " is closed: the device no longer shows the problem");
        return;
    }
    const Fetched<RecommendationEvent> dismissed = store_.recommendations.dismiss_recommendation(
        *id, reason, api::current_request().principal, now_ms());
    if (api::store_failed(res, dismissed)) {
        return;
    }
    if (settings_.alert_events != nullptr) {
        settings_.alert_events->publish(dismissed.value);
    }
    api::send_json(res, 200, api::to_json(dismissed.value.recommendation));
}

}  // namespace vigil::hub

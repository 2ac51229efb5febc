// Suppressions: list them (with their counts), add an operator's, remove one. The policy file's
// are listed too, but change only with the policy.
#include "http_util.hpp"
#include "json_views.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

constexpr int64_t kMaxDurationSeconds = 366LL * 24 * 3600;

constexpr const char* kTextFields[] = {"name", "device_id",       "group",
                                       "type", "subject_pattern", "reason"};

bool is_known_field(const std::string& key) {
    for (const char* known : kTextFields) {
        if (key == known) {
            return true;
        }
    }
    return key == "duration_s";
}

}  // namespace

void ApiServer::Impl::add_suppression_routes() {
    route("GET", "/api/suppressions", "/api/suppressions", &Impl::list_suppressions);
    route("POST", "/api/suppressions", "/api/suppressions", &Impl::create_suppression);
    route("DELETE", "/api/suppressions/([0-9]+)", "/api/suppressions/{id}",
          &Impl::remove_suppression);
}

void ApiServer::Impl::list_suppressions(const HttpRequest&, HttpResponse& res) {
    const Fetched<std::vector<Suppression>> found = store_.alerts.suppressions();
    if (api::store_failed(res, found)) {
        return;
    }
    const int64_t now = now_ms();
    nlohmann::json list = nlohmann::json::array();
    for (const Suppression& suppression : found.value) {
        nlohmann::json entry = api::to_json(suppression);
        entry["active"] = !suppression.expires_ms || *suppression.expires_ms > now;
        list.push_back(std::move(entry));
    }
    api::send_json(res, 200, {{"suppressions", list}});
}

void ApiServer::Impl::create_suppression(const HttpRequest& req, HttpResponse& res) {
    nlohmann::json body;
    if (!api::parse_body(req, res, body)) {
        return;
    }
    static const char kShape[] =
        "the body must be an object of name, device_id, group, type, subject_pattern (a glob, "
        "\"*\" when absent), reason (strings) and duration_s (seconds; absent: until removed)";
    if (!body.is_object()) {
        api::send_error(res, 400, "bad_request", kShape);
        return;
    }
    for (const auto& field : body.items()) {
        if (!is_known_field(field.key())) {
            api::send_error(res, 400, "bad_request",
                            "unknown field '" + field.key() + "': " + kShape);
            return;
        }
        if (field.key() != "duration_s" && !field.value().is_string()) {
            api::send_error(res, 400, "bad_request", field.key() + " must be a string");
            return;
        }
    }
    const int64_t now = now_ms();
    Suppression suppression;
    suppression.source = SuppressionSource::Operator;
    suppression.name = body.value("name", "suppression-" + std::to_string(now));
    suppression.device_id = body.value("device_id", "");
    suppression.group = body.value("group", "");
    suppression.type = body.value("type", "");
    suppression.subject_pattern = body.value("subject_pattern", "*");
    suppression.reason = body.value("reason", "");
    if (suppression.reason.size() > api::kMaxReasonBytes) {
        api::send_error(
            res, 400, "bad_request",
            "reason must have at most " + std::to_string(api::kMaxReasonBytes) + " bytes");
        return;
    }
    if (body.contains("duration_s")) {
        const nlohmann::json& duration = body["duration_s"];
        if (!duration.is_number_integer() || duration.get<int64_t>() < 1 ||
            duration.get<int64_t>() > kMaxDurationSeconds) {
            api::send_error(res, 400, "bad_request",
                            "duration_s must be a whole number of seconds from 1 to " +
                                std::to_string(kMaxDurationSeconds));
            return;
        }
        suppression.expires_ms = now + duration.get<int64_t>() * 1000;
    }
    suppression.created_by = api::current_request().principal;
    suppression.created_ms = now;
    add_suppression_answer(suppression, res);
}

void ApiServer::Impl::add_suppression_answer(Suppression suppression, HttpResponse& res) {
    const Fetched<int64_t> added = store_.alerts.add_suppression(suppression);
    if (!added.ok()) {
        // The store refuses a taken name or a name or pattern out of bounds: the caller's to fix.
        const bool taken = added.error.find("already exists") != std::string::npos;
        const bool invalid = added.error.find("must have") != std::string::npos;
        api::send_error(res,
                        taken     ? 409
                        : invalid ? 400
                                  : 500,
                        taken     ? "suppression_exists"
                        : invalid ? "bad_request"
                                  : "store_error",
                        added.error);
        return;
    }
    suppression.id = added.value;
    api::send_json(res, 201, api::to_json(suppression));
}

void ApiServer::Impl::remove_suppression(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_id(req, res, "suppression");
    if (!id) {
        return;
    }
    const Fetched<std::vector<Suppression>> found = store_.alerts.suppressions();
    if (api::store_failed(res, found)) {
        return;
    }
    for (const Suppression& suppression : found.value) {
        if (suppression.id != *id) {
            continue;
        }
        if (suppression.source == SuppressionSource::Policy) {
            api::send_error(res, 409, "policy_suppression",
                            "suppression " + std::to_string(*id) + " ('" + suppression.name +
                                "') comes from the policy file: remove it there");
            return;
        }
        const Done removed = store_.alerts.remove_suppression(*id);
        if (api::store_failed(res, removed)) {
            return;
        }
        api::send_json(res, 200, {{"removed", *id}});
        return;
    }
    api::send_error(res, 404, "not_found", "no suppression " + std::to_string(*id));
}

}  // namespace vigil::hub

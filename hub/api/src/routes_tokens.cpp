// API tokens: list, create (the secret shown once) and revoke. Admin tokens only, reads included:
// the list says who may do what.
#include "http_util.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

nlohmann::json to_json(const api::TokenRecord& token) {
    // Neither the secret nor its hash: a hash of a 32-byte random secret cannot be reversed, but
    // it has no use outside the hub either.
    return {{"name", token.name},
            {"role", api::to_string(token.role)},
            {"created_ms", token.created_ms},
            {"last_used_ms",
             token.last_used_ms ? nlohmann::json(*token.last_used_ms) : nlohmann::json(nullptr)}};
}

struct ErrorAnswer {
    int status;
    const char* code;
};

ErrorAnswer answer_to(api::TokenChange change) {
    switch (change) {
        case api::TokenChange::BadName:
            return {400, "bad_token_name"};
        case api::TokenChange::Exists:
            return {409, "token_exists"};
        case api::TokenChange::NotFound:
            return {404, "not_found"};
        case api::TokenChange::LastAdmin:
            return {409, "last_admin_token"};
        case api::TokenChange::Done:
        case api::TokenChange::Failed:
            break;
    }
    return {500, "token_error"};
}

void send_change_error(HttpResponse& res, api::TokenChange change, const std::string& error) {
    const ErrorAnswer answer = answer_to(change);
    api::send_error(res, answer.status, answer.code, error);
}

}  // namespace

void ApiServer::Impl::add_token_routes() {
    route("GET", "/api/tokens", "/api/tokens",
          [this](const HttpRequest&, HttpResponse& res) { list_tokens(res); });
    route("POST", "/api/tokens", "/api/tokens", &Impl::create_token);
    route("DELETE", "/api/tokens/([^/]+)", "/api/tokens/{name}", &Impl::revoke_token);
}

bool ApiServer::Impl::require_admin(HttpResponse& res) {
    if (api::current_request().admin) {
        return true;
    }
    api::send_error(
        res, 403, "forbidden",
        api::current_request().principal + " may only read; tokens need an admin token");
    return false;
}

void ApiServer::Impl::list_tokens(HttpResponse& res) {
    if (!require_admin(res)) {
        return;
    }
    nlohmann::json tokens = nlohmann::json::array();
    for (const api::TokenRecord& token : tokens_.list()) {
        tokens.push_back(to_json(token));
    }
    api::send_json(res, 200, {{"tokens", tokens}});
}

void ApiServer::Impl::create_token(const HttpRequest& req, HttpResponse& res) {
    if (!require_admin(res)) {
        return;
    }
    nlohmann::json body;
    if (!api::parse_body(req, res, body)) {
        return;
    }
    if (!body.is_object()) {
        api::send_error(res, 400, "bad_request",
                        "the body must be {\"name\": \"...\", \"role\": \"read\"|\"admin\"}");
        return;
    }
    for (const auto& field : body.items()) {
        if (field.key() != "name" && field.key() != "role") {
            api::send_error(res, 400, "bad_request",
                            "unknown field '" + field.key() + "' (name and role are known)");
            return;
        }
    }
    if (!body.contains("name") || !body["name"].is_string()) {
        api::send_error(res, 400, "bad_token_name",
                        "name must be a string of 1-64 characters of A-Z a-z 0-9 . _ -");
        return;
    }
    const auto role = body.contains("role") && body["role"].is_string()
                          ? api::parse_role(body["role"].get<std::string>())
                          : std::nullopt;
    if (!role) {
        api::send_error(res, 400, "bad_request", "role must be \"read\" or \"admin\"");
        return;
    }
    std::string secret, error;
    api::TokenRecord record;
    const api::TokenChange change =
        tokens_.create(body["name"].get<std::string>(), *role, now_ms(), secret, record, error);
    if (change != api::TokenChange::Done) {
        send_change_error(res, change, error);
        return;
    }
    nlohmann::json answer = to_json(record);
    answer.erase("last_used_ms");
    answer["token"] = secret;
    api::send_json(res, 201, answer);
}

void ApiServer::Impl::revoke_token(const HttpRequest& req, HttpResponse& res) {
    if (!require_admin(res)) {
        return;
    }
    std::string error;
    const api::TokenChange change = tokens_.revoke(req.matches[1], error);
    if (change != api::TokenChange::Done) {
        send_change_error(res, change, error);
        return;
    }
    res.status = 204;
}

}  // namespace vigil::hub

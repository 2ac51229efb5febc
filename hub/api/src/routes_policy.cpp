// The detection policy in force, as the hub reads it from its policy file.
#include "http_util.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

void ApiServer::Impl::add_policy_routes() {
    route("GET", "/api/policy", "/api/policy", [this](const HttpRequest& req, HttpResponse& res) {
        api::QueryReader query(req, res);
        const std::string device = query.text("device").value_or("");
        if (!query.ok()) {
            return;
        }
        const std::string text = control_.detection_policy_json(device);
        const nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
        if (body.is_discarded()) {
            api::send_error(res, 500, "internal", "the policy could not be shown");
            return;
        }
        api::send_json(res, 200, body);
    });
}

}  // namespace vigil::hub

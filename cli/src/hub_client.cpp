#include "hub_client.hpp"

#include <httplib.h>

#include <cctype>

namespace vigil::cli {

namespace {

std::string explain(const HubOptions& hub, int status, const nlohmann::json& body) {
    const std::string detail =
        body.is_object() && body.contains("detail") && body["detail"].is_string()
            ? body["detail"].get<std::string>()
            : "";
    if (status == 401) {
        return "the hub refused the token (401 unauthorized" +
               (detail.empty() ? std::string() : ": " + detail) + "). " +
               (hub.token.empty() ? "No token was found: "
                                  : "The token came from " + hub.token_source + ". ") +
               "give one with --token, the VIGIL_TOKEN environment variable or "
               "<data>/admin.token (--data)";
    }
    if (status == 403) {
        return "the token may not do this (403 forbidden" +
               (detail.empty() ? std::string() : ": " + detail) +
               "): this needs an admin token, a read token may only look";
    }
    const std::string code = body.is_object() && body.contains("error") && body["error"].is_string()
                                 ? body["error"].get<std::string>()
                                 : "error";
    return "the hub answered " + std::to_string(status) + " " + code +
           (detail.empty() ? std::string() : ": " + detail);
}

}  // namespace

std::string url_encode(const std::string& text) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 0x0F];
        }
    }
    return out;
}

void QueryString::add(const char* name, const std::string& value) {
    if (!value.empty()) {
        text_ += (text_.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
    }
}

Answer call_hub(const HubOptions& hub, const std::string& method, const std::string& path,
                const std::string& body) {
    Answer answer;
    httplib::Client client(hub.url);
    if (!client.is_valid()) {
        answer.message = "'" + hub.url + "' is not a hub URL (http://host:port)";
        return answer;
    }
    client.set_connection_timeout(hub.timeout_s, 0);
    client.set_read_timeout(hub.timeout_s, 0);
    httplib::Headers headers;
    if (!hub.token.empty()) {
        headers.emplace("Authorization", "Bearer " + hub.token);
    }
    const auto send = [&]() -> httplib::Result {
        if (method == "GET") {
            return client.Get(path, headers);
        }
        if (method == "POST") {
            return client.Post(path, headers, body, "application/json");
        }
        if (method == "PUT") {
            return client.Put(path, headers, body, "application/json");
        }
        return client.Delete(path, headers);
    };
    const httplib::Result result = send();
    if (!result) {
        answer.message = "cannot reach the hub at " + hub.url + " (" +
                         httplib::to_string(result.error()) +
                         "): is vigil-hub running? (--hub or VIGIL_HUB)";
        return answer;
    }
    answer.status = result->status;
    answer.body = nlohmann::json::parse(result->body, nullptr, false);
    if (answer.body.is_discarded()) {
        answer.body = nullptr;
    }
    answer.ok = result->status >= 200 && result->status < 300;
    if (!answer.ok) {
        answer.message = explain(hub, result->status, answer.body);
    }
    return answer;
}

}  // namespace vigil::cli

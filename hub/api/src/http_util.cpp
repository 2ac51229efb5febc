#include "http_util.hpp"

#include <cerrno>
#include <cstdlib>

namespace vigil::hub::api {

namespace {

// Deeper JSON than any request of this API needs is refused while parsing, before it costs
// memory or stack.
constexpr int kMaxJsonDepth = 32;

}  // namespace

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
    res.status = status;
    // Replacement of invalid UTF-8 (a device may report any bytes) rather than an exception.
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                    "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& detail) {
    send_json(res, status, {{"error", code}, {"detail", detail}});
}

bool parse_body(const httplib::Request& req, httplib::Response& res, nlohmann::json& out) {
    if (req.body.empty()) {
        send_error(res, 400, "malformed_json", "the request needs a JSON body");
        return false;
    }
    bool too_deep = false;
    const nlohmann::json::parser_callback_t depth_guard =
        [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
            if (depth > kMaxJsonDepth) {
                too_deep = true;
            }
            return !too_deep;
        };
    try {
        out = nlohmann::json::parse(req.body, depth_guard);
    } catch (const nlohmann::json::parse_error& error) {
        send_error(res, 400, "malformed_json", error.what());
        return false;
    }
    if (too_deep) {
        send_error(res, 400, "malformed_json",
                   "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        return false;
    }
    return true;
}

void QueryReader::fail(const std::string& detail) {
    if (ok_) {
        send_error(res_, 400, "bad_parameter", detail);
    }
    ok_ = false;
}

std::optional<int64_t> QueryReader::integer(const char* name, int64_t low, int64_t high) {
    if (!req_.has_param(name)) {
        return std::nullopt;
    }
    const std::string text = req_.get_param_value(name);
    errno = 0;
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || value < low || value > high) {
        fail(std::string(name) + " must be an integer from " + std::to_string(low) + " to " +
             std::to_string(high));
        return std::nullopt;
    }
    return static_cast<int64_t>(value);
}

std::optional<std::string> QueryReader::text(const char* name) {
    if (!req_.has_param(name)) {
        return std::nullopt;
    }
    return req_.get_param_value(name);
}

bool QueryReader::flag(const char* name) {
    static const char* const kBooleans[] = {"false", "true", nullptr};
    return choice(name, kBooleans).value_or(0) == 1;
}

std::optional<size_t> QueryReader::choice(const char* name, const char* const* choices) {
    if (!req_.has_param(name)) {
        return std::nullopt;
    }
    const std::string value = req_.get_param_value(name);
    std::string allowed;
    for (size_t i = 0; choices[i] != nullptr; ++i) {
        if (value == choices[i]) {
            return i;
        }
        allowed += (i ? ", " : "") + std::string(choices[i]);
    }
    fail(std::string(name) + " must be one of " + allowed);
    return std::nullopt;
}

}  // namespace vigil::hub::api

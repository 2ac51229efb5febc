#include "hub_client.hpp"

#include <httplib.h>

#include <algorithm>
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

httplib::Headers auth_headers(const HubOptions& hub) {
    httplib::Headers headers;
    if (!hub.token.empty()) {
        headers.emplace("Authorization", "Bearer " + hub.token);
    }
    return headers;
}

/// Whether the URL makes a client; sets its connection timeout, or answer's message when not.
bool usable(const HubOptions& hub, httplib::Client& client, Answer& answer) {
    if (!client.is_valid()) {
        answer.message = "'" + hub.url + "' is not a hub URL (http://host:port)";
        return false;
    }
    client.set_connection_timeout(hub.timeout_s, 0);
    return true;
}

std::string unreachable(const HubOptions& hub, httplib::Error error) {
    return "cannot reach the hub at " + hub.url + " (" + httplib::to_string(error) +
           "): is vigil-hub running? (--hub or VIGIL_HUB)";
}

// Reads text/event-stream as the HTML standard defines it: events end at a blank line, a line
// starting with ':' is a comment, "field: value" lines carry the name and the data. Written here
// because cpp-httplib's client has no event-stream reader.
class EventStreamParser {
  public:
    explicit EventStreamParser(const std::function<bool(const StreamEvent&)>& on_event)
        : on_event_(on_event) {}

    /// False when on_event asked to stop.
    bool feed(const char* data, size_t size) {
        pending_.append(data, size);
        size_t start = 0;
        for (size_t end; (end = pending_.find('\n', start)) != std::string::npos; start = end + 1) {
            std::string line = pending_.substr(start, end - start);
            if (!line.empty() && line.back() == '\r') {
                line.pop_back();
            }
            if (!take_line(line)) {
                return false;
            }
        }
        pending_.erase(0, start);
        return true;
    }

  private:
    bool take_line(const std::string& line) {
        if (line.empty()) {
            if (!has_data_) {
                event_ = StreamEvent{};
                return true;
            }
            if (event_.name.empty()) {
                event_.name = "message";
            }
            const bool go_on = on_event_(event_);
            event_ = StreamEvent{};
            has_data_ = false;
            return go_on;
        }
        if (line[0] == ':') {
            return true;
        }
        const size_t colon = line.find(':');
        const std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') {
            value.erase(0, 1);
        }
        if (field == "event") {
            event_.name = value;
        } else if (field == "data") {
            event_.data += (has_data_ ? "\n" : "") + value;
            has_data_ = true;
        }
        return true;
    }

    const std::function<bool(const StreamEvent&)>& on_event_;
    std::string pending_;
    StreamEvent event_;
    bool has_data_ = false;
};

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
    if (!usable(hub, client, answer)) {
        return answer;
    }
    client.set_read_timeout(hub.timeout_s, 0);
    const httplib::Headers headers = auth_headers(hub);
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
        answer.message = unreachable(hub, result.error());
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

Answer stream_hub(const HubOptions& hub, const std::string& path,
                  const std::function<bool(const StreamEvent&)>& on_event) {
    Answer answer;
    httplib::Client client(hub.url);
    if (!usable(hub, client, answer)) {
        return answer;
    }
    // The hub sends a keep-alive comment after 15 quiet seconds; four missed ones mean it is gone.
    client.set_read_timeout(60, 0);
    EventStreamParser parser(on_event);
    std::string refusal;
    const httplib::Result result = client.Get(
        path, auth_headers(hub),
        [&](const httplib::Response& response) {
            answer.status = response.status;
            return true;
        },
        [&](const char* data, size_t size) {
            if (answer.status != 200) {
                refusal.append(
                    data, std::min<size_t>(size, 65536 - std::min<size_t>(refusal.size(), 65536)));
                return true;
            }
            return parser.feed(data, size);
        });
    if (answer.status == 0) {
        answer.message = unreachable(hub, result.error());
        return answer;
    }
    if (answer.status != 200) {
        nlohmann::json body = nlohmann::json::parse(refusal, nullptr, false);
        answer.message = explain(hub, answer.status, body.is_discarded() ? nullptr : body);
        return answer;
    }
    answer.ok = true;
    return answer;
}

}  // namespace vigil::cli

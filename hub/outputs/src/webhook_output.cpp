#include "vigil/hub/outputs/webhook_output.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "vigil/hub/outputs/event_json.hpp"

namespace vigil::hub::outputs {

namespace {

std::string hex(const unsigned char* bytes, size_t size) {
    static const char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0x0f]);
    }
    return out;
}

struct WebhookUrl {
    std::string scheme_host_port;  ///< "http://host:port", what the client is built with
    std::string path;              ///< "/hooks/vigil?x=1"
};

bool parse_url(const std::string& url, WebhookUrl& parsed, std::string& error) {
    const size_t scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
        error = "webhook URL \"" + url + "\" is not http:// or https://";
        return false;
    }
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
    if (scheme == "https") {
        error = "webhook URL \"" + url + "\" is https, but this build has no TLS for HTTP clients";
        return false;
    }
#endif
    const size_t authority_start = scheme_end + 3;
    const size_t path_start = url.find_first_of("/?#", authority_start);
    const std::string authority = url.substr(authority_start, path_start - authority_start);
    if (authority.empty() || authority.find('@') != std::string::npos) {
        error = "webhook URL \"" + url + "\" has no host, or has credentials in it";
        return false;
    }
    parsed.scheme_host_port = scheme + "://" + authority;
    parsed.path = path_start == std::string::npos ? "/" : url.substr(path_start);
    if (parsed.path[0] != '/') {
        parsed.path = "/" + parsed.path;
    }
    if (const size_t fragment = parsed.path.find('#'); fragment != std::string::npos) {
        parsed.path.resize(fragment);
    }
    return true;
}

// Names this output's deliveries apart from every other output's, and from a restarted hub's.
std::string random_prefix() {
    unsigned char bytes[8] = {};
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        const auto now = std::chrono::system_clock::now().time_since_epoch().count();
        std::memcpy(bytes, &now, sizeof bytes);
    }
    return hex(bytes, sizeof bytes);
}

// An alert's change alone, as before recommendations travelled too ("opened"); a
// recommendation's with its prefix ("recommendation.opened").
std::string webhook_event_header(const OutputEvent& event) {
    if (const auto* alert = std::get_if<AlertEvent>(&event)) {
        return to_string(alert->change);
    }
    return event_name(event);
}

class WebhookTransport : public Transport {
  public:
    WebhookTransport(const detect::OutputSettings& settings, const WebhookUrl& url)
        : client_(url.scheme_host_port),
          path_(url.path),
          secret_(settings.secret),
          delivery_prefix_(random_prefix()) {
        const auto timeout = std::chrono::milliseconds(std::max<uint32_t>(settings.timeout_ms, 1));
        client_.set_connection_timeout(timeout);
        client_.set_read_timeout(timeout);
        client_.set_write_timeout(timeout);
        client_.set_follow_location(false);
    }

    Attempt attempt(const PendingEvent& pending, std::string& failure) override {
        const std::string body = event_json(pending.event);
        httplib::Headers headers = {
            {"X-Vigil-Event", webhook_event_header(pending.event)},
            {"X-Vigil-Delivery", delivery_prefix_ + "-" + std::to_string(pending.sequence)},
            {"User-Agent", "vigil-hub"},
        };
        if (!secret_.empty()) {
            headers.emplace("X-Vigil-Signature", webhook_signature(body, secret_));
        }
        const httplib::Result result = client_.Post(path_, headers, body, "application/json");
        if (!result) {
            failure = httplib::to_string(result.error());
            return Attempt::Retry;
        }
        const int status = result->status;
        if (status >= 200 && status < 300) {
            return Attempt::Sent;
        }
        failure = "HTTP " + std::to_string(status);
        return status >= 500 || status == 429 ? Attempt::Retry : Attempt::Refused;
    }

    void interrupt() override { client_.stop(); }

  private:
    httplib::Client client_;
    const std::string path_;
    const std::string secret_;
    const std::string delivery_prefix_;
};

}  // namespace

std::string webhook_signature(const std::string& body, const std::string& secret) {
    unsigned char digest[EVP_MAX_MD_SIZE] = {};
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &size);
    return "sha256=" + hex(digest, size);
}

std::unique_ptr<Output> make_webhook_output(const detect::OutputSettings& settings,
                                            std::string& error, OutputLog log) {
    WebhookUrl url;
    if (!parse_url(settings.url, url, error)) {
        return nullptr;
    }
    return std::make_unique<Output>(
        settings, "webhook", std::make_unique<WebhookTransport>(settings, url), std::move(log));
}

}  // namespace vigil::hub::outputs

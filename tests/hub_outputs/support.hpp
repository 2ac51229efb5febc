// Shared pieces of the output tests: alert and recommendation events, real receivers on loopback
// (an HTTP server, a UDP and a TCP syslog listener) and a reader of RFC 5424 frames.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"
#include "vigil/hub/alert.hpp"
#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/recommendation.hpp"

namespace vigil::hub::outputs::test {

using vigil::test::free_port;
using vigil::test::wait_for;

inline AlertEvent sample_event(int64_t id, Severity severity = Severity::High,
                               AlertChange change = AlertChange::Opened) {
    AlertEvent event;
    event.change = change;
    Alert& a = event.alert;
    a.id = id;
    a.device_id = "plc-7";
    a.type = "scan.port_inbound";
    a.category = AlertCategory::PortScanInbound;
    a.subject = "203.0.113.9";
    a.severity = severity;
    a.title = "Inbound port scan from 203.0.113.9";
    a.description = "20 ports in 40 s";
    a.remediation = "Block the address";
    a.technique = "T0846 Remote System Discovery";
    a.first_observed_ms = 1'700'000'000'000;
    a.last_observed_ms = 1'700'000'040'000;
    a.raised_ms = 1'765'000'000'123;
    a.last_raised_ms = a.raised_ms;
    a.count = 1;
    a.evidence_json = R"({"ports":[22,23,80],"window_s":300})";
    return event;
}

inline RecommendationEvent sample_recommendation_event(
    int64_t id, Severity severity = Severity::High,
    RecommendationChange change = RecommendationChange::Opened) {
    RecommendationEvent event;
    event.change = change;
    Recommendation& r = event.recommendation;
    r.id = id;
    r.device_id = "plc-7";
    r.kind = "service.cleartext";
    r.subject = "tcp/23";
    r.severity = severity;
    r.title = "Telnet listens on tcp/23";
    r.rationale = "Passwords cross the network in clear";
    r.remediation = "Turn telnet off";
    r.evidence_json = R"({"port":23,"report":"ports"})";
    r.evidence_key = "telnet";
    r.first_observed_ms = 1'700'000'000'000;
    r.last_observed_ms = 1'700'000'040'000;
    r.opened_ms = 1'765'000'000'123;
    r.updated_ms = 1'765'000'000'456;
    return event;
}

inline detect::OutputSettings settings_of(detect::OutputKind kind, const std::string& name) {
    detect::OutputSettings s;
    s.kind = kind;
    s.name = name;
    s.timeout_ms = 1000;
    s.retries = 3;
    s.retry_min_ms = 20;
    s.retry_max_ms = 100;
    return s;
}

inline int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 since)
        .count();
}

/// A webhook receiver: cpp-httplib on a free loopback port; `answer` gives each request's
/// status.
class WebhookReceiver {
  public:
    struct Request {
        std::string body;
        httplib::Headers headers;
        std::string header(const std::string& name) const {
            const auto it = headers.find(name);
            return it == headers.end() ? std::string() : it->second;
        }
    };

    explicit WebhookReceiver(std::function<int(size_t request_index)> answer = nullptr)
        : answer_(std::move(answer)) {
        server_.Post("/hooks/vigil", [this](const httplib::Request& req, httplib::Response& res) {
            size_t index = 0;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                index = requests_.size();
                requests_.push_back({req.body, req.headers});
            }
            res.status = answer_ ? answer_(index) : 204;
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }
    ~WebhookReceiver() {
        server_.stop();
        thread_.join();
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/vigil"; }
    std::vector<Request> requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    size_t count() {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_.size();
    }

  private:
    std::function<int(size_t)> answer_;
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<Request> requests_;
};

inline int loopback_socket(int type, uint16_t port, bool reuse = false) {
    const int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (reuse) {
        const int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        close(fd);
        return -1;
    }
    if (type == SOCK_STREAM) {
        listen(fd, 4);
    }
    return fd;
}

inline uint16_t local_port(int fd) {
    sockaddr_in address{};
    socklen_t size = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    return ntohs(address.sin_port);
}

inline bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, timeout_ms) == 1;
}

/// A receiver that hangs: it accepts every connection and reads what comes, but never answers.
class HangingReceiver {
  public:
    HangingReceiver() : listener_(loopback_socket(SOCK_STREAM, 0)) {
        thread_ = std::thread([this] { run(); });
    }
    ~HangingReceiver() {
        stop_ = true;
        thread_.join();
        for (const pollfd& p : polled_) {
            if (p.fd >= 0) {
                close(p.fd);
            }
        }
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(local_port(listener_)) + "/hooks/vigil";
    }
    int connections() const { return connections_.load(); }

  private:
    void run() {
        polled_.push_back({listener_, POLLIN, 0});
        while (!stop_) {
            if (poll(polled_.data(), polled_.size(), 20) <= 0) {
                continue;
            }
            for (size_t i = 1; i < polled_.size(); ++i) {
                if (polled_[i].revents != 0) {
                    char chunk[4096];
                    if (recv(polled_[i].fd, chunk, sizeof chunk, MSG_DONTWAIT) == 0) {
                        close(polled_[i].fd);
                        polled_[i].fd = -1;  // the client gave up; poll() skips it
                    }
                }
            }
            if ((polled_[0].revents & POLLIN) != 0) {
                const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) {
                    polled_.push_back({fd, POLLIN, 0});
                    ++connections_;
                }
            }
        }
    }

    int listener_;
    std::vector<pollfd> polled_;  ///< the listener, then every connection; the thread's own
    std::atomic<int> connections_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// A UDP syslog receiver on a free loopback port.
class UdpReceiver {
  public:
    UdpReceiver() : fd_(loopback_socket(SOCK_DGRAM, 0)) {}
    ~UdpReceiver() { close(fd_); }
    uint16_t port() const { return local_port(fd_); }
    /// The next datagram, nullopt after timeout_ms.
    std::optional<std::string> receive(int timeout_ms = 3000) {
        if (!readable(fd_, timeout_ms)) {
            return std::nullopt;
        }
        std::string buffer(65536, '\0');
        const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
        if (n < 0) {
            return std::nullopt;
        }
        buffer.resize(static_cast<size_t>(n));
        return buffer;
    }

  private:
    int fd_;
};

/// A TCP syslog receiver reading octet-counted frames (RFC 6587 §3.4.1) from one connection.
class TcpReceiver {
  public:
    explicit TcpReceiver(uint16_t port = 0) { listen_on(port); }
    ~TcpReceiver() { close_all(); }
    uint16_t port() const { return port_; }
    void listen_on(uint16_t port) {
        listener_ = loopback_socket(SOCK_STREAM, port, true);
        port_ = local_port(listener_);
    }
    /// Closes the connection and stops listening: the receiver is gone.
    void close_all() {
        if (connection_ >= 0) {
            close(connection_);
            connection_ = -1;
        }
        if (listener_ >= 0) {
            close(listener_);
            listener_ = -1;
        }
        buffer_.clear();
    }
    /// The next frame's message, nullopt after timeout_ms or on a frame that breaks the framing.
    std::optional<std::string> receive(int timeout_ms = 3000) {
        const auto start = std::chrono::steady_clock::now();
        for (;;) {
            const size_t space = buffer_.find(' ');
            if (space != std::string::npos) {
                const std::string length_text = buffer_.substr(0, space);
                if (length_text.empty() || length_text.size() > 6 ||
                    length_text.find_first_not_of("0123456789") != std::string::npos ||
                    length_text[0] == '0') {
                    return std::nullopt;
                }
                const size_t length = std::stoul(length_text);
                if (buffer_.size() >= space + 1 + length) {
                    std::string message = buffer_.substr(space + 1, length);
                    buffer_.erase(0, space + 1 + length);
                    return message;
                }
            }
            const int left = timeout_ms - static_cast<int>(elapsed_ms(start));
            if (left <= 0) {
                return std::nullopt;
            }
            if (connection_ < 0) {
                if (!readable(listener_, left)) {
                    return std::nullopt;
                }
                connection_ = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
                continue;
            }
            if (!readable(connection_, left)) {
                return std::nullopt;
            }
            char chunk[4096];
            const ssize_t n = recv(connection_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                close(connection_);
                connection_ = -1;
                continue;
            }
            buffer_.append(chunk, static_cast<size_t>(n));
        }
    }

  private:
    int listener_ = -1;
    int connection_ = -1;
    uint16_t port_ = 0;
    std::string buffer_;
};

/// An RFC 5424 message taken apart: the header fields, the parameters of its one SD element
/// with escapes undone, and the message after the BOM.
struct SyslogFrame {
    int pri = -1;
    std::string version, timestamp, hostname, app_name, procid, msgid, sd_id;
    std::map<std::string, std::string> params;
    bool bom = false;
    std::string msg;
};

inline std::optional<SyslogFrame> parse_syslog(const std::string& text) {
    SyslogFrame f;
    size_t at = 0;
    if (text.empty() || text[0] != '<') {
        return std::nullopt;
    }
    const size_t close_angle = text.find('>');
    if (close_angle == std::string::npos || close_angle > 4) {
        return std::nullopt;
    }
    f.pri = std::stoi(text.substr(1, close_angle - 1));
    at = close_angle + 1;
    std::string* fields[] = {&f.version,  &f.timestamp, &f.hostname,
                             &f.app_name, &f.procid,    &f.msgid};
    for (std::string* field : fields) {
        const size_t space = text.find(' ', at);
        if (space == std::string::npos) {
            return std::nullopt;
        }
        *field = text.substr(at, space - at);
        at = space + 1;
    }
    if (at >= text.size() || text[at] != '[') {
        return std::nullopt;
    }
    ++at;
    const size_t id_end = text.find_first_of(" ]", at);
    if (id_end == std::string::npos) {
        return std::nullopt;
    }
    f.sd_id = text.substr(at, id_end - at);
    at = id_end;
    while (at < text.size() && text[at] == ' ') {
        const size_t equals = text.find("=\"", at);
        if (equals == std::string::npos) {
            return std::nullopt;
        }
        const std::string name = text.substr(at + 1, equals - at - 1);
        std::string value;
        size_t i = equals + 2;
        for (; i < text.size() && text[i] != '"'; ++i) {
            if (text[i] == '\\' && i + 1 < text.size() &&
                (text[i + 1] == '"' || text[i + 1] == '\\' || text[i + 1] == ']')) {
                ++i;
            } else if (text[i] == ']') {
                return std::nullopt;  // must have been escaped
            }
            value.push_back(text[i]);
        }
        if (i >= text.size()) {
            return std::nullopt;
        }
        f.params[name] = value;
        at = i + 1;
    }
    if (at >= text.size() || text[at] != ']') {
        return std::nullopt;
    }
    ++at;
    if (at < text.size() && text[at] == ' ') {
        ++at;
        f.bom = text.compare(at, 3, "\xEF\xBB\xBF") == 0;
        f.msg = text.substr(f.bom ? at + 3 : at);
    }
    return f;
}

}  // namespace vigil::hub::outputs::test

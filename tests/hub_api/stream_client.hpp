// A client of GET /api/alerts/stream for the tests: a real HTTP client on a thread of its own that
// keeps what it read and parses the server-sent events.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace vigil::hub::testing {

struct StreamEvent {
    std::string event, id;
    nlohmann::json data;
};

/// One client of the stream on a thread of its own; it keeps what it read.
class StreamClient {
  public:
    StreamClient(const std::string& url, const std::string& token,
                 const std::string& path = "/api/alerts/stream") {
        thread_ = std::thread([this, url, token, path] {
            httplib::Client client(url);
            client.set_read_timeout(30, 0);
            const httplib::Headers headers = {{"Authorization", "Bearer " + token}};
            const auto result = client.Get(
                path, headers,
                [this](const httplib::Response& response) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    status_ = response.status;
                    content_type_ = response.get_header_value("Content-Type");
                    changed_.notify_all();
                    return true;
                },
                [this](const char* data, size_t length) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    text_.append(data, length);
                    changed_.notify_all();
                    return !leave_.load();
                });
            std::lock_guard<std::mutex> lock(mutex_);
            if (result) {
                status_ = result->status;
                if (text_.empty()) {
                    text_ = result->body;
                }
            }
            ended_ = true;
            changed_.notify_all();
        });
    }
    ~StreamClient() {
        leave();
        thread_.join();
    }

    /// Whether `ready` holds for what was read within `timeout`.
    template <typename Ready>
    bool wait(Ready ready, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return ready(text_, ended_); });
    }
    bool wait_for_text(const std::string& part) {
        return wait(
            [&](const std::string& text, bool) { return text.find(part) != std::string::npos; });
    }
    bool wait_until_ended(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait([](const std::string&, bool ended) { return ended; }, timeout);
    }
    /// Closes the connection at the next bytes that arrive.
    void leave() { leave_ = true; }

    std::vector<StreamEvent> events() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<StreamEvent> out;
        std::istringstream lines(text_);
        std::string line;
        StreamEvent current;
        while (std::getline(lines, line)) {
            if (line.rfind("event: ", 0) == 0) {
                current.event = line.substr(7);
            } else if (line.rfind("id: ", 0) == 0) {
                current.id = line.substr(4);
            } else if (line.rfind("data: ", 0) == 0) {
                current.data = nlohmann::json::parse(line.substr(6), nullptr, false);
            } else if (line.empty() && !current.event.empty()) {
                out.push_back(current);
                current = {};
            }
        }
        return out;
    }
    /// The events the server said it dropped (": dropped N events" comments).
    uint64_t dropped() {
        std::lock_guard<std::mutex> lock(mutex_);
        uint64_t total = 0;
        std::istringstream lines(text_);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind(": dropped ", 0) == 0) {
                total += std::stoull(line.substr(10));
            }
        }
        return total;
    }
    int status() {
        std::lock_guard<std::mutex> lock(mutex_);
        return status_;
    }
    std::string content_type() {
        std::lock_guard<std::mutex> lock(mutex_);
        return content_type_;
    }
    std::string text() {
        std::lock_guard<std::mutex> lock(mutex_);
        return text_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::string text_, content_type_;
    int status_ = 0;
    bool ended_ = false;
    std::atomic<bool> leave_{false};
    std::thread thread_;
};

}  // namespace vigil::hub::testing

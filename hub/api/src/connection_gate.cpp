#include "connection_gate.hpp"

#include "security_headers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vigil::hub::api {

namespace {

// An answer the gate writes itself, to a connection no worker will read: what fits in the
// socket's buffer at once is sent, and the connection closes. What the client sent is read and
// dropped first, so the close does not turn into a reset that loses the answer.
void answer_and_close(int fd, int status, const char* reason, const char* error,
                      const std::string& detail, const char* extra_header = "") {
    const std::string body =
        "{\"error\":\"" + std::string(error) + "\",\"detail\":\"" + detail + "\"}";
    const std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                             "\r\nContent-Type: application/json\r\nConnection: close\r\n" +
                             security_header_lines() + extra_header +
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    (void)::send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
}

// How long a lingering connection is read at most, and how long it may go quiet.
constexpr std::chrono::milliseconds kLinger{2000};
constexpr std::chrono::milliseconds kLingerQuiet{200};

Clock::time_point deadline_of(const Connection& connection, const ConnectionLimits& limits) {
    if (connection.lingering) {
        return std::min(connection.waiting_since + kLinger, connection.last_heard + kLingerQuiet);
    }
    return connection.received.empty() ? connection.waiting_since + limits.idle_timeout
                                       : connection.head_begun + limits.head_timeout;
}

}  // namespace

Connection::~Connection() {
    if (fd >= 0) {
        ::close(fd);
    }
}

bool holds_whole_head(const std::string& received) {
    // httplib takes the first line as the request line, whatever it holds, then reads header
    // lines until one is exactly CRLF.
    return received.compare(0, 2, "\r\n") == 0 || received.find("\n\r\n") != std::string::npos;
}

ConnectionGate::ConnectionGate(ConnectionLimits limits, ConnectionCounters& counters, Serve serve)
    : limits_(limits), counters_(counters), serve_(std::move(serve)) {}

ConnectionGate::~ConnectionGate() {
    stop();
}

void ConnectionGate::start() {
    if (::pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
        wake_pipe_[0] = wake_pipe_[1] = -1;
    }
    stopping_ = false;
    gate_ = std::thread([this] { gate_loop(); });
    for (size_t i = 0; i < std::max<size_t>(limits_.workers, 1); ++i) {
        workers_.emplace_back([this] { worker_loop(); });
    }
}

void ConnectionGate::admit(int fd) {
    {
        std::lock_guard<std::mutex> lock(inbox_mutex_);
        accepted_.push_back(fd);
    }
    wake();
}

void ConnectionGate::stop() {
    if (!gate_.joinable()) {
        return;
    }
    stopping_ = true;
    wake();
    {
        std::lock_guard<std::mutex> lock(ready_mutex_);
        ready_changed_.notify_all();
    }
    gate_.join();
    for (std::thread& worker : workers_) {
        worker.join();
    }
    workers_.clear();
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    for (const int fd : accepted_) {
        ::close(fd);
    }
    accepted_.clear();
    for (auto& connection : returned_) {
        close(std::move(connection));
    }
    returned_.clear();
    for (int& end : wake_pipe_) {
        if (end >= 0) {
            ::close(end);
            end = -1;
        }
    }
}

void ConnectionGate::wake() {
    const char byte = 0;
    if (wake_pipe_[1] >= 0) {
        (void)!::write(wake_pipe_[1], &byte, 1);
    }
}

void ConnectionGate::close(std::unique_ptr<Connection> connection) {
    if (connection) {
        connection.reset();
        --counters_.open;
    }
}

void ConnectionGate::dispatch(std::unique_ptr<Connection> connection) {
    ++busy_;
    std::lock_guard<std::mutex> lock(ready_mutex_);
    ready_.push_back(std::move(connection));
    ready_changed_.notify_one();
}

void ConnectionGate::take_inbox(Clock::time_point now) {
    std::vector<int> accepted;
    std::vector<std::unique_ptr<Connection>> returned;
    {
        std::lock_guard<std::mutex> lock(inbox_mutex_);
        accepted.swap(accepted_);
        returned.swap(returned_);
    }
    for (auto& connection : returned) {
        connection->waiting_since = connection->head_begun = connection->last_heard = now;
        if (connection->lingering) {
            ::shutdown(connection->fd, SHUT_WR);
            connection->received.clear();
            waiting_.push_back(std::move(connection));
        } else if (holds_whole_head(connection->received)) {
            dispatch(std::move(connection));  // pipelined: the next request is already here
        } else {
            waiting_.push_back(std::move(connection));
        }
    }
    for (const int fd : accepted) {
        if (waiting_.size() + busy_.load() >= limits_.max_connections) {
            if (waiting_.empty()) {
                // Every connection is being answered: say so now rather than queue.
                ++counters_.refused_at_capacity;
                answer_and_close(fd, 503, "Service Unavailable", "unavailable",
                                 "the API serves " + std::to_string(limits_.max_connections) +
                                     " connections at most; try again shortly",
                                 "Retry-After: 1\r\n");
                ::close(fd);
                continue;
            }
            // A connection that has not sent a whole request for the longest time gives way.
            const auto oldest = std::min_element(
                waiting_.begin(), waiting_.end(),
                [](const auto& a, const auto& b) { return a->waiting_since < b->waiting_since; });
            ++counters_.evicted;
            close(std::move(*oldest));
            waiting_.erase(oldest);
        }
        ++counters_.open;
        auto connection = std::make_unique<Connection>(fd);
        connection->waiting_since = connection->head_begun = now;
        waiting_.push_back(std::move(connection));
    }
}

bool ConnectionGate::receive(Connection& connection, Clock::time_point now) {
    char buffer[8192];
    // A client sending without pause must not keep the gate from the others: what is left
    // waits for the next round.
    for (int reads = 0; reads < 8; ++reads) {
        const ssize_t n = ::recv(connection.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0 && connection.lingering) {
            connection.last_heard = now;
            continue;
        }
        if (n > 0) {
            if (connection.received.empty()) {
                connection.head_begun = now;
            }
            connection.received.append(buffer, static_cast<size_t>(n));
            if (connection.received.size() > limits_.max_head_bytes) {
                break;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        // The client closed its side (or the connection failed): a whole request still gets
        // its answer.
        return !connection.lingering && holds_whole_head(connection.received);
    }
    return true;
}

void ConnectionGate::gate_loop() {
    std::vector<pollfd> polled;
    while (!stopping_.load()) {
        Clock::time_point now = Clock::now();
        take_inbox(now);
        Clock::time_point next = Clock::time_point::max();
        std::vector<std::unique_ptr<Connection>> kept;
        for (auto& connection : waiting_) {
            const Clock::time_point deadline = deadline_of(*connection, limits_);
            if (now < deadline) {
                next = std::min(next, deadline);
                kept.push_back(std::move(connection));
            } else if (connection->lingering) {
                close(std::move(connection));
            } else if (connection->received.empty()) {
                ++counters_.idle_closed;
                close(std::move(connection));
            } else {
                ++counters_.head_timeouts;
                answer_and_close(connection->fd, 408, "Request Timeout", "request_timeout",
                                 "the request head did not arrive in time");
                close(std::move(connection));
            }
        }
        waiting_.swap(kept);
        counters_.waiting = static_cast<int64_t>(waiting_.size());

        polled.assign(1, pollfd{wake_pipe_[0], POLLIN, 0});
        for (const auto& connection : waiting_) {
            polled.push_back(pollfd{connection->fd, POLLIN, 0});
        }
        int timeout_ms = -1;
        if (next != Clock::time_point::max()) {
            timeout_ms =
                static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
        }
        const int ready = ::poll(polled.data(), polled.size(), timeout_ms);
        if (ready <= 0) {
            continue;
        }
        char drained[64];
        while (::read(wake_pipe_[0], drained, sizeof drained) > 0) {
        }
        now = Clock::now();
        kept.clear();
        for (size_t i = 0; i < waiting_.size(); ++i) {
            std::unique_ptr<Connection>& connection = waiting_[i];
            if (polled[i + 1].revents == 0) {
                kept.push_back(std::move(connection));
                continue;
            }
            if (!receive(*connection, now)) {
                close(std::move(connection));
            } else if (connection->lingering) {
                kept.push_back(std::move(connection));
            } else if (holds_whole_head(connection->received)) {
                dispatch(std::move(connection));
            } else if (connection->received.size() > limits_.max_head_bytes) {
                ++counters_.heads_too_large;
                answer_and_close(connection->fd, 431, "Request Header Fields Too Large",
                                 "head_too_large",
                                 "the request head is over " +
                                     std::to_string(limits_.max_head_bytes) + " bytes");
                close(std::move(connection));
            } else {
                kept.push_back(std::move(connection));
            }
        }
        waiting_.swap(kept);
        counters_.waiting = static_cast<int64_t>(waiting_.size());
    }
    for (auto& connection : waiting_) {
        close(std::move(connection));
    }
    waiting_.clear();
    counters_.waiting = 0;
}

void ConnectionGate::worker_loop() {
    for (;;) {
        std::unique_ptr<Connection> connection;
        {
            std::unique_lock<std::mutex> lock(ready_mutex_);
            ready_changed_.wait(lock, [this] { return stopping_.load() || !ready_.empty(); });
            if (ready_.empty()) {
                return;
            }
            connection = std::move(ready_.front());
            ready_.pop_front();
        }
        const AfterAnswer after = stopping_.load() ? AfterAnswer::Close : serve_(*connection);
        --busy_;
        if (after != AfterAnswer::Close && !stopping_.load()) {
            connection->lingering = after == AfterAnswer::Linger;
            {
                std::lock_guard<std::mutex> lock(inbox_mutex_);
                returned_.push_back(std::move(connection));
            }
            wake();
        } else {
            close(std::move(connection));
        }
    }
}

}  // namespace vigil::hub::api

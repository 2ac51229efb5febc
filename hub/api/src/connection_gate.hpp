// What one connection may hold of the API. httplib reads a connection on the thread that answers
// it, so a client that sends its request slowly, or not at all, would hold one of the server's
// few threads for as long as it likes. The gate keeps every connection that has not yet sent a
// complete request head on one thread of its own, polling them all, and hands a connection to a
// worker only once its head is complete: a stranger can then take no worker for longer than it
// takes to answer a request it sent whole, and the bodies workers wait for belong to callers
// with a token (the server refuses a body before reading it otherwise).
//
// The bounds: connections held at once (past it the longest-waiting connection without a request
// is closed for the new one; when every connection is being answered the new one is answered 503
// at once), how long a connection may sit idle, how long a request head may take once begun and
// how large it may be. What each bound cuts is counted.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::hub::api {

using Clock = std::chrono::steady_clock;

struct ConnectionLimits {
    size_t max_connections = 256;
    size_t max_head_bytes = 16 * 1024;
    std::chrono::milliseconds idle_timeout{5000};
    std::chrono::milliseconds head_timeout{5000};
    std::chrono::milliseconds body_timeout{10000};
    std::chrono::milliseconds write_timeout{5000};
    size_t max_body_bytes = 1024 * 1024;
    uint32_t max_requests_per_connection = 100;
    size_t workers = 8;
};

/// What the limits cut, for /metrics.
struct ConnectionCounters {
    std::atomic<uint64_t> refused_at_capacity{0};  ///< answered 503: every connection was busy
    std::atomic<uint64_t> evicted{0};        ///< closed to make room, no request begun or whole
    std::atomic<uint64_t> idle_closed{0};    ///< no request within the idle timeout
    std::atomic<uint64_t> head_timeouts{0};  ///< a request head begun and not finished in time
    std::atomic<uint64_t> heads_too_large{0};
    std::atomic<uint64_t> bodies_too_large{0};
    std::atomic<uint64_t> body_timeouts{0};
    std::atomic<uint64_t> lengths_required{0};  ///< a body without a length or chunked encoding
    std::atomic<int64_t> open{0};
    std::atomic<int64_t> waiting{0};  ///< open, without a whole request head yet
};

/// One client connection and what was received on it and not yet read.
struct Connection {
    explicit Connection(int socket) : fd(socket) {}
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd;
    std::string received;
    Clock::time_point waiting_since;  ///< since the connection opened or its last answer
    Clock::time_point head_begun;     ///< when the first byte of the pending request arrived
    uint32_t requests = 0;            ///< answered on it so far
    /// Answered and closing: what the client still sends (the body of a refused request) is
    /// read and dropped for a while, so that closing does not reset the connection before the
    /// client has read the answer.
    bool lingering = false;
    Clock::time_point last_heard;
};

/// What becomes of a connection once a worker answered a request on it.
enum class AfterAnswer { KeepAlive, Close, Linger };

/// True when `received` holds a whole request head, as httplib reads one: a request line and
/// header lines up to an empty line.
bool holds_whole_head(const std::string& received);

class ConnectionGate {
  public:
    /// Answers the request whose head `connection.received` holds, on a worker.
    using Serve = std::function<AfterAnswer(Connection&)>;

    ConnectionGate(ConnectionLimits limits, ConnectionCounters& counters, Serve serve);
    ~ConnectionGate();  ///< stops
    ConnectionGate(const ConnectionGate&) = delete;
    ConnectionGate& operator=(const ConnectionGate&) = delete;

    void start();
    /// Takes a freshly accepted socket (from the accept thread); the gate closes it.
    void admit(int fd);
    /// Closes what waits, lets the workers finish the requests they answer, joins the threads.
    void stop();
    const std::atomic<bool>& stopping() const { return stopping_; }

  private:
    void gate_loop();
    void worker_loop();
    /// Moves new and returned connections into `waiting_`, making room or refusing at the cap.
    void take_inbox(Clock::time_point now);
    /// Reads what arrived; false when the connection is finished with (closed or refused).
    bool receive(Connection& connection, Clock::time_point now);
    void dispatch(std::unique_ptr<Connection> connection);
    void close(std::unique_ptr<Connection> connection);
    void wake();

    const ConnectionLimits limits_;
    ConnectionCounters& counters_;
    const Serve serve_;
    std::atomic<bool> stopping_{false};
    int wake_pipe_[2] = {-1, -1};

    std::mutex inbox_mutex_;
    std::vector<int> accepted_;
    std::vector<std::unique_ptr<Connection>> returned_;

    std::vector<std::unique_ptr<Connection>> waiting_;  // the gate thread's only

    std::mutex ready_mutex_;
    std::condition_variable ready_changed_;
    std::deque<std::unique_ptr<Connection>> ready_;
    std::atomic<size_t> busy_{0};  // ready or being answered

    std::thread gate_;
    std::vector<std::thread> workers_;
};

}  // namespace vigil::hub::api

#include "connection_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vigil::hub::api {

namespace {

int milliseconds_until(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 0));
}

bool wait_for(int fd, short events, int timeout_ms) {
    pollfd polled{fd, events, 0};
    for (;;) {
        const int ready = ::poll(&polled, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        return ready > 0;
    }
}

void describe(const sockaddr_storage& address, std::string& ip, int& port) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    }
    ip = text;
}

}  // namespace

ConnectionStream::ConnectionStream(Connection& connection, const ConnectionLimits& limits,
                                   const std::atomic<bool>& stopping)
    : connection_(connection), limits_(limits), stopping_(stopping) {}

ConnectionStream::~ConnectionStream() {
    connection_.received.erase(0, consumed_);
}

void ConnectionStream::begin_body() {
    in_body_ = true;
    body_bytes_ = 0;
    body_deadline_ = Clock::now() + limits_.body_timeout;
}

bool ConnectionStream::is_readable() const {
    return consumed_ < connection_.received.size() || wait_for(connection_.fd, POLLIN, 0);
}

bool ConnectionStream::is_writable() const {
    return wait_for(connection_.fd, POLLOUT, static_cast<int>(limits_.write_timeout.count()));
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
    if (fault_ != Fault::None) {
        return -1;
    }
    if (in_body_ && body_bytes_ >= limits_.max_body_bytes) {
        fault_ = Fault::BodyTooLarge;
        return -1;
    }
    if (consumed_ == connection_.received.size()) {
        const ssize_t received = receive_more();
        if (received <= 0) {
            return received;
        }
    }
    size_t n = std::min(size, connection_.received.size() - consumed_);
    if (in_body_) {
        n = std::min(n, limits_.max_body_bytes - body_bytes_);
        body_bytes_ += n;
    }
    std::memcpy(ptr, connection_.received.data() + consumed_, n);
    consumed_ += n;
    return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::receive_more() {
    const Clock::time_point deadline =
        in_body_ ? body_deadline_ : connection_.head_begun + limits_.head_timeout;
    char buffer[16 * 1024];
    for (;;) {
        if (Clock::now() >= deadline) {
            fault_ = in_body_ ? Fault::BodyTimeout : Fault::HeadTimeout;
            return -1;
        }
        if (stopping_.load()) {
            fault_ = Fault::Failed;
            return -1;
        }
        // In slices, so that a stopping server does not wait for a slow client.
        if (!wait_for(connection_.fd, POLLIN, std::min(milliseconds_until(deadline), 100))) {
            continue;
        }
        const ssize_t n = ::recv(connection_.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
            connection_.received.erase(0, consumed_);
            consumed_ = 0;
            connection_.received.append(buffer, static_cast<size_t>(n));
            return n;
        }
        if (n == 0) {
            peer_closed_ = true;
            return 0;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
            fault_ = Fault::Failed;
            return -1;
        }
    }
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
    if (!is_writable()) {
        return -1;
    }
    for (;;) {
        const ssize_t n = ::send(connection_.fd, ptr, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        return n;
    }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(connection_.fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        describe(address, ip, port);
    }
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(connection_.fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        describe(address, ip, port);
    }
}

}  // namespace vigil::hub::api

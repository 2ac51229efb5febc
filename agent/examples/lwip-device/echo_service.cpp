#include "echo_service.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

// Includes glibc's <netinet/tcp.h> through lwIP's posix headers: never size from TCP_MSS here.
#include "lwip/def.h"
#include "lwip/inet.h"
#include "lwip/sockets.h"

namespace vigil::examples {

namespace {

constexpr size_t kBufferBytes = 16384;
constexpr size_t kMaxConnections = 32;
constexpr int kPollMs = 100;

struct Connection {
    int fd = -1;
    uint8_t buffer[kBufferBytes];
    size_t length = 0;  // bytes received and not yet echoed
    size_t sent = 0;    // of those, bytes already echoed
    bool peer_closed = false;
};

bool set_nonblocking(int fd) {
    const int flags = lwip_fcntl(fd, F_GETFL, 0);
    return flags >= 0 && lwip_fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool would_block() {
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace

bool EchoService::start() {
    listener_ = lwip_socket(AF_INET6, SOCK_STREAM, 0);
    if (listener_ < 0) {
        return false;
    }
    const int one = 1;
    (void)lwip_setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = lwip_htons(port_);
    if (lwip_bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        lwip_listen(listener_, 8) != 0 || !set_nonblocking(listener_)) {
        lwip_close(listener_);
        listener_ = -1;
        return false;
    }
    thread_ = std::thread([this] { run(); });
    return true;
}

void EchoService::stop() {
    stop_.store(true);
    if (thread_.joinable()) {
        thread_.join();
    }
}

void EchoService::run() {
    std::vector<std::unique_ptr<Connection>> connections;
    std::vector<pollfd> fds;
    while (!stop_.load()) {
        fds.clear();
        fds.push_back(pollfd{listener_, POLLIN, 0});
        for (const auto& c : connections) {
            const bool draining = c->sent < c->length;
            fds.push_back(pollfd{c->fd, static_cast<short>(draining ? POLLOUT : POLLIN), 0});
        }
        const int ready = lwip_poll(fds.data(), static_cast<nfds_t>(fds.size()), kPollMs);
        if (ready <= 0) {
            continue;
        }
        if ((fds[0].revents & POLLIN) != 0 && connections.size() < kMaxConnections) {
            const int fd = lwip_accept(listener_, nullptr, nullptr);
            if (fd >= 0) {
                if (set_nonblocking(fd)) {
                    auto c = std::make_unique<Connection>();
                    c->fd = fd;
                    connections.push_back(std::move(c));
                    connections_.fetch_add(1);
                } else {
                    lwip_close(fd);
                }
            }
        }
        for (size_t i = 0; i < connections.size(); ++i) {
            Connection& c = *connections[i];
            bool close_it = false;
            if (c.sent == c.length && !c.peer_closed) {
                const ssize_t n = lwip_recv(c.fd, c.buffer, sizeof c.buffer, MSG_DONTWAIT);
                if (n > 0) {
                    c.length = static_cast<size_t>(n);
                    c.sent = 0;
                } else if (n == 0) {
                    c.peer_closed = true;
                } else if (!would_block()) {
                    close_it = true;
                }
            }
            while (!close_it && c.sent < c.length) {
                const ssize_t n =
                    lwip_send(c.fd, c.buffer + c.sent, c.length - c.sent, MSG_DONTWAIT);
                if (n > 0) {
                    c.sent += static_cast<size_t>(n);
                    bytes_.fetch_add(static_cast<uint64_t>(n));
                } else if (n < 0 && would_block()) {
                    break;
                } else {
                    close_it = true;
                }
            }
            if (c.sent == c.length) {
                c.sent = c.length = 0;
            }
            if (close_it || (c.peer_closed && c.length == 0)) {
                lwip_close(c.fd);
                connections[i].reset();
            }
        }
        connections.erase(std::remove(connections.begin(), connections.end(), nullptr),
                          connections.end());
    }
    for (const auto& c : connections) {
        lwip_close(c->fd);
    }
    lwip_close(listener_);
    listener_ = -1;
}

}  // namespace vigil::examples

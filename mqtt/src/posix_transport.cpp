#include "vigil/mqtt/posix_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::mqtt {
namespace {

void posix_close(void* context) {
    auto* s = static_cast<PosixSocket*>(context);
    if (s->fd >= 0) {
        ::close(s->fd);
        s->fd = -1;
    }
}

int posix_connect(void* context, const char* host, uint16_t port) {
    auto* s = static_cast<PosixSocket*>(context);
    posix_close(s);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        return -1;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    // MQTT packets are small and latency matters more than coalescing them.
    const int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS) {
            ::close(fd);
            return -1;
        }
        pollfd p{fd, POLLOUT, 0};
        int error = 0;
        socklen_t len = sizeof error;
        if (::poll(&p, 1, s->connect_timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
            ::close(fd);
            return -1;
        }
    }
    s->fd = fd;
    return 0;
}

int posix_send(void* context, const uint8_t* data, size_t length) {
    auto* s = static_cast<PosixSocket*>(context);
    if (s->fd < 0) {
        return -1;
    }
    const ssize_t n = ::send(s->fd, data, length, MSG_NOSIGNAL);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    }
    return static_cast<int>(n);
}

int posix_recv(void* context, uint8_t* data, size_t length) {
    auto* s = static_cast<PosixSocket*>(context);
    if (s->fd < 0) {
        return -1;
    }
    const ssize_t n = ::recv(s->fd, data, length, 0);
    if (n == 0) {
        return -1;  // orderly shutdown by the peer
    }
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    }
    return static_cast<int>(n);
}

}  // namespace

Transport posix_transport(PosixSocket* socket) {
    return Transport{socket, posix_connect, posix_send, posix_recv, posix_close};
}

}  // namespace vigil::mqtt

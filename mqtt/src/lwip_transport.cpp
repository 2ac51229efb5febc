#include "vigil/mqtt/lwip_transport.h"

#include <errno.h>
#include <fcntl.h>

#include <cstring>

// lwip/sockets.h brings in glibc's <netinet/tcp.h> and with it TCP_MSS 512; nothing here may be
// sized from TCP_MSS (see agent/ports/lwip/src/memp_pool_fix.c).
#include "lwip/def.h"
#include "lwip/inet.h"
#include "lwip/sockets.h"

namespace vigil::mqtt {
namespace {

bool would_block(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

void lwip_transport_close(void* context) {
    auto* s = static_cast<LwipSocket*>(context);
    if (s->fd >= 0) {
        lwip_close(s->fd);
        s->fd = -1;
    }
}

// Builds the peer address from a literal; false when host is neither IPv4 nor IPv6 text.
bool peer_address(const char* host, uint16_t port, sockaddr_storage& out, socklen_t& length) {
    std::memset(&out, 0, sizeof out);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    if (lwip_inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = lwip_htons(port);
        length = sizeof(sockaddr_in);
        return true;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (lwip_inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = lwip_htons(port);
        length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

int fail(LwipSocket* s, int fd, int error) {
    s->last_errno = error;
    if (fd >= 0) {
        lwip_close(fd);
    }
    return -1;
}

int lwip_transport_connect(void* context, const char* host, uint16_t port) {
    auto* s = static_cast<LwipSocket*>(context);
    lwip_transport_close(s);
    sockaddr_storage address{};
    socklen_t address_length = 0;
    if (host == nullptr || !peer_address(host, port, address, address_length)) {
        return fail(s, -1, EINVAL);
    }
    const int fd = lwip_socket(address.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        return fail(s, -1, errno);
    }
    // MQTT packets are small and latency matters more than coalescing them.
    const int one = 1;
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int flags = lwip_fcntl(fd, F_GETFL, 0);
    if (flags < 0 || lwip_fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        return fail(s, fd, errno);
    }
    if (lwip_connect(fd, reinterpret_cast<const sockaddr*>(&address), address_length) != 0) {
        if (errno != EINPROGRESS) {
            return fail(s, fd, errno);
        }
        // There is no lwip_select in every build; lwip_poll is the waiting primitive.
        pollfd p{};
        p.fd = fd;
        p.events = POLLOUT;
        int error = 0;
        socklen_t length = sizeof error;
        const int ready = lwip_poll(&p, 1, s->connect_timeout_ms);
        if (ready != 1) {
            return fail(s, fd, ready == 0 ? ETIMEDOUT : errno);
        }
        if (lwip_getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
            return fail(s, fd, errno);
        }
        if (error != 0) {
            return fail(s, fd, error);
        }
    }
    s->fd = fd;
    s->last_errno = 0;
    return 0;
}

int lwip_transport_send(void* context, const uint8_t* data, size_t length) {
    auto* s = static_cast<LwipSocket*>(context);
    if (s->fd < 0) {
        return -1;
    }
    const ssize_t n = lwip_send(s->fd, data, length, MSG_DONTWAIT);
    if (n < 0) {
        if (would_block(errno)) {
            return 0;
        }
        s->last_errno = errno;
        return -1;
    }
    return static_cast<int>(n);
}

int lwip_transport_recv(void* context, uint8_t* data, size_t length) {
    auto* s = static_cast<LwipSocket*>(context);
    if (s->fd < 0) {
        return -1;
    }
    const ssize_t n = lwip_recv(s->fd, data, length, MSG_DONTWAIT);
    if (n == 0) {
        s->last_errno = 0;
        return -1;  // orderly shutdown by the peer
    }
    if (n < 0) {
        if (would_block(errno)) {
            return 0;
        }
        s->last_errno = errno;
        return -1;
    }
    return static_cast<int>(n);
}

}  // namespace

Transport lwip_transport(LwipSocket* socket) {
    return Transport{socket, lwip_transport_connect, lwip_transport_send, lwip_transport_recv,
                     lwip_transport_close};
}

}  // namespace vigil::mqtt

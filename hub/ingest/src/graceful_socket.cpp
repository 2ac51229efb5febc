#include "graceful_socket.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>

namespace vigil::hub::ingest_detail {

namespace {

int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void close_gracefully(void* context) {
    auto* s = reinterpret_cast<GracefulSocket*>(context);
    if (s->graceful && s->socket.fd >= 0) {
        ::shutdown(s->socket.fd, SHUT_WR);
        const int64_t deadline = steady_ms() + 1000;
        uint8_t sink[4096];
        while (steady_ms() < deadline) {
            pollfd p{s->socket.fd, POLLIN, 0};
            if (::poll(&p, 1, 50) > 0 && ::recv(s->socket.fd, sink, sizeof sink, 0) <= 0) {
                break;  // the broker closed its side: it has read everything before
            }
        }
    }
    mqtt::posix_transport(&s->socket).close(&s->socket);
}

}  // namespace

mqtt::Transport graceful_transport(GracefulSocket* s) {
    mqtt::Transport transport = mqtt::posix_transport(&s->socket);
    transport.close = &close_gracefully;
    return transport;
}

}  // namespace vigil::hub::ingest_detail

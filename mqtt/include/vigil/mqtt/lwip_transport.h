// The client's Transport over an lwIP socket (lwip_* calls, so it works beside any lwIP build
// with LWIP_SOCKET, with or without the POSIX name macros). Same contract as posix_transport:
// connect blocks at most connect_timeout_ms, send and recv never block.
#ifndef VIGIL_MQTT_LWIP_TRANSPORT_H
#define VIGIL_MQTT_LWIP_TRANSPORT_H

#include "vigil/mqtt/client.h"

namespace vigil::mqtt {

struct LwipSocket {
    int fd = -1;                    // an lwIP socket number, not a kernel fd
    int connect_timeout_ms = 3000;  // connect waits at most this long for the handshake
    int last_errno = 0;             // errno of the last failure, for logs
};

// host must be a literal IPv4 or IPv6 address (lwIP builds without DNS are common). The socket
// must outlive the client.
Transport lwip_transport(LwipSocket* socket);

}  // namespace vigil::mqtt

#endif  // VIGIL_MQTT_LWIP_TRANSPORT_H

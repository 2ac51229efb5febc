// The client's Transport over a non-blocking POSIX TCP socket (hosted builds and tests).
#ifndef VIGIL_MQTT_POSIX_TRANSPORT_H
#define VIGIL_MQTT_POSIX_TRANSPORT_H

#include "vigil/mqtt/client.h"

namespace vigil::mqtt {

struct PosixSocket {
    int fd = -1;
    int connect_timeout_ms = 1000;  // connect() waits at most this long for the handshake
};

// host must be a numeric IPv4 address. The socket must outlive the client.
Transport posix_transport(PosixSocket* socket);

}  // namespace vigil::mqtt

#endif  // VIGIL_MQTT_POSIX_TRANSPORT_H

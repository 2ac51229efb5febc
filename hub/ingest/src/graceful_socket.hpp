// The ingest session's socket, closed so that its last PUBACKs reach the broker: mosquitto drops
// what it has not yet read from a connection it replaces, so before a successor takes the session
// over, the socket is half-closed after DISCONNECT and the broker's own close awaited (bounded).
#pragma once

#include "vigil/mqtt/client.h"
#include "vigil/mqtt/posix_transport.h"

namespace vigil::hub::ingest_detail {

struct GracefulSocket {
    mqtt::PosixSocket socket;  // first, so the transport's context points at both
    bool graceful = false;     ///< set when the pipeline stops: close() then waits for the broker
};

/// The POSIX transport over `s`, whose close is graceful once s->graceful is set.
mqtt::Transport graceful_transport(GracefulSocket* s);

}  // namespace vigil::hub::ingest_detail

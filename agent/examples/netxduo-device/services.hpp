// The device's own services, each on a ThreadX thread of its own: a TCP echo service (every byte
// back until the client closes) and a UDP service (every datagram back to its sender). NetX
// listeners answer on every address of the instance, IPv4 and IPv6.
#pragma once

#include "nx_api.h"

namespace vigil::netxduo_device {

/// Starts both services on `ip`; false if a socket or thread could not be created.
bool start_services(NX_IP* ip, NX_PACKET_POOL* pool, UINT tcp_echo_port, UINT udp_port);

struct ServiceCounts {
    ULONG echo_sessions = 0;
    ULONG echo_bytes = 0;
    ULONG datagrams = 0;
};

ServiceCounts service_counts();

}  // namespace vigil::netxduo_device

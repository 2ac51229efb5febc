// Traffic profiles: what a kind of device talks to, how often and how much, what it listens on,
// and what it says about itself. Each virtual device follows one, with its own addresses, ports
// and phase so that no two devices send the same packets at the same instant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "packet_writer.hpp"

namespace vigil::sim {

/// One recurring exchange between the device and a peer: every period, the side that opens
/// sends request_packets and the other side answers with response_packets.
struct TrafficPattern {
    std::string peer;  ///< numeric IPv4 or IPv6; the device uses its own address of that family
    Transport transport = Transport::Tcp;
    uint16_t device_port = 0;  ///< 0: an ephemeral port of the device's
    uint16_t peer_port = 0;
    bool device_opens = true;  ///< the device is the client
    uint32_t period_ms = 10000;
    uint16_t request_packets = 1;
    uint16_t request_bytes = 0;  ///< payload per packet
    uint16_t response_packets = 1;
    uint16_t response_bytes = 0;
    /// TCP: one connection kept open (handshake at the first exchange only); otherwise each
    /// exchange opens and closes its own connection from a new ephemeral port.
    bool persistent = true;
};

struct ListeningPort {
    Transport transport = Transport::Tcp;
    uint16_t port = 0;
};

/// What the device reports as its system information.
struct SystemFacts {
    std::string os_name, os_version, stack_name, stack_version, firmware_version, board;
};

struct Profile {
    std::string name;
    std::vector<TrafficPattern> patterns;
    std::vector<ListeningPort> listening;
    SystemFacts system;
    bool ipv6 = false;  ///< the device has an IPv6 address beside its IPv4 one
};

/// Every profile the simulator knows: sensor, camera, gateway, plc.
const std::vector<Profile>& profiles();
/// nullptr when there is no profile of that name.
const Profile* find_profile(const std::string& name);

}  // namespace vigil::sim

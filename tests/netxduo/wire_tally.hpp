// Flows as the agent should report them, counted independently from the packets on the wire,
// and flows as the agent did report them, summed over its decoded messages.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "two_instances.hpp"
#include "vigil/protocol/message.h"

namespace vigil::test::netx {

struct FlowKey {
    uint8_t family = 0;
    std::array<uint8_t, 16> local{};
    std::array<uint8_t, 16> remote{};
    uint16_t local_port = 0;   ///< ICMP: the request type (replies folded onto it)
    uint16_t remote_port = 0;  ///< ICMP: the code
    uint8_t protocol = 0;      ///< wire::Protocol
    bool operator<(const FlowKey& o) const {
        return std::tie(family, local, remote, local_port, remote_port, protocol) <
               std::tie(o.family, o.local, o.remote, o.local_port, o.remote_port, o.protocol);
    }
    bool operator==(const FlowKey& o) const { return !(*this < o) && !(o < *this); }
};

struct Totals {
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    bool operator==(const Totals& o) const {
        return packets_in == o.packets_in && packets_out == o.packets_out &&
               bytes_in == o.bytes_in && bytes_out == o.bytes_out;
    }
};

using Flows = std::map<FlowKey, Totals>;

struct Expected {
    Flows flows;
    /// Outbound IPv6 neighbour solicitations: on the wire, but NetX sends them straight to the
    /// driver, past the outbound filter.
    size_t neighbour_solicitations_out = 0;
    size_t ip_packets = 0;
};

/// Each packet the sender gave the driver is one outbound packet of the sender's flow (except a
/// neighbour solicitation) and, when its destination is unicast, one inbound packet of the
/// receiver's flow (the agent counts no inbound broadcast or multicast by default). Both
/// instances are on the link and both are hooked.
Expected expected_flows(const std::vector<WirePacket>& wire);

Flows reported_flows(const std::vector<protocol::Message>& messages);

std::string describe(const FlowKey& key);
std::string describe(const Totals& totals);

}  // namespace vigil::test::netx

// A realistic collection window of one IoT device, as real IPv4 / IPv6 packets, for the
// benchmarks: 50 flows to 20 remote addresses (MQTT/TLS, HTTPS, DNS, NTP, pings, inbound SSH and
// HTTP, refused connections, syslog, mDNS, an ICMP error). Every flow is played as the packets a
// stack would hand the hook (handshakes included), so the agent derives flags, counts and times
// itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/agent/agent.hpp"

namespace vigil::bench {

enum class FlowKind : uint8_t {
    TcpRunning,     ///< TCP connection already open when the window began (no SYN seen)
    TcpOutbound,    ///< the device opens (SYN out, SYN-ACK in)
    TcpReset,       ///< the device opens, the remote ends it with a RST
    TcpInbound,     ///< the remote opens (SYN in, SYN-ACK out)
    TcpRefusedOut,  ///< device SYN answered by RST
    TcpRefusedIn,   ///< remote SYN answered by RST from the device
    UdpOutbound,    ///< the device sends first
    IcmpEchoOut,    ///< the device pings the remote
    IcmpEchoIn,     ///< the remote pings the device
    IcmpErrorIn,    ///< an ICMP error (destination unreachable) received
};

/// One flow of the mix. For ICMP the ports are unused (type/code follow from the kind).
struct FlowSpec {
    FlowKind kind;
    const char* local;   ///< local address (text), IPv4 or IPv6
    const char* remote;  ///< remote address (text)
    uint16_t local_port;
    uint16_t remote_port;
    uint32_t packets_out;
    uint32_t packets_in;
    uint32_t bytes_out;  ///< IP bytes sent (approximate: packets are at least a header long)
    uint32_t bytes_in;
    uint32_t start_ms;  ///< from the window start
    uint32_t end_ms;
};

/// One packet of a played window.
struct TimedPacket {
    uint32_t at_ms;  ///< from the window start
    vigil_direction direction;
    std::vector<uint8_t> ip;
};

/// The 50-flow mix over IPv4 (one local address) and the same mix over IPv6 (a global local
/// address; the router, DHCPv6 and mDNS flows use the link-local one, as IPv6 does).
const std::vector<FlowSpec>& ipv4_mix();
const std::vector<FlowSpec>& ipv6_mix();

/// A window that fills the default tables exactly: 64 IPv4 flows (the 50-flow mix and 14 more of
/// its TCP/UDP flows from other local ports) and 16 IPv6 flows (the first 16 of the IPv6 mix).
std::vector<FlowSpec> full_default_window();

/// Number of distinct remote addresses in a mix.
size_t distinct_remotes(const std::vector<FlowSpec>& mix);

/// All packets of the mix, sorted by time.
std::vector<TimedPacket> play(const std::vector<FlowSpec>& mix);

/// Hands every packet to the agent at window_start_ms + its time, moving `now_ms` along (the port
/// clock the agent reads) so packet stamps and clock agree.
void feed(agent::AgentBase& agent, uint64_t& now_ms, uint64_t window_start_ms,
          const std::vector<TimedPacket>& packets);

/// Leaves the agent collecting only network windows from now on, as on most ticks (the system
/// and heartbeat snapshots come every 30 / 60 s): the other groups' intervals go to the maximum.
/// False when the agent refuses the config.
bool collect_network_only(agent::AgentBase& agent);

}  // namespace vigil::bench

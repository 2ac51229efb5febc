// Parses one IP packet into the fields the flow table needs. Never reads past `length`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::agent::detail {

enum class ParseResult : uint8_t {
    Flow,         ///< TCP, UDP or ICMP with its ports/type parsed
    Unparsed,     ///< malformed or truncated
    Unsupported,  ///< well-formed, but nothing the flow table records (other protocol, fragment)
};

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoIcmpv6 = 58;

namespace tcp_flag {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kAck = 0x10;
}  // namespace tcp_flag

struct ParsedPacket {
    uint8_t family = 0;    ///< 4 or 6
    uint8_t protocol = 0;  ///< wire::Protocol value
    uint8_t tcp_flags = 0;
    bool multicast_destination = false;  ///< broadcast or multicast destination
    /// Source and destination addresses, pointing into the packet (4 or 16 bytes).
    const uint8_t* source = nullptr;
    const uint8_t* destination = nullptr;
    /// TCP/UDP ports; for ICMP source_port is the type (replies folded onto their request) and
    /// destination_port the code.
    uint16_t source_port = 0;
    uint16_t destination_port = 0;
    bool icmp_reply = false;  ///< an ICMP reply folded onto its request type
    uint32_t ip_bytes = 0;    ///< whole IP packet, from the header's length field
};

ParseResult parse_packet(const uint8_t* ip, size_t length, ParsedPacket& out);

}  // namespace vigil::agent::detail

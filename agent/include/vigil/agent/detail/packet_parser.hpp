// Parses one IP packet into the fields the flow table needs. Never reads past `length`.
// Inline because it is the packet hook's first step and a call per layer costs more than it does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vigil/agent/detail/compiler.hpp"
#include "vigil/protocol/wire.h"

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

/// Filled by parse_packet: every field when the result is Flow; family, addresses, multicast flag
/// and ip_bytes once the IP header was read. Not zeroed in between: the hook builds one per packet
/// and zeroing it would cost more than the parse.
struct ParsedPacket {
    uint8_t family;    ///< 4 or 6
    uint8_t protocol;  ///< wire::Protocol value
    uint8_t tcp_flags;
    bool multicast_destination;  ///< broadcast or multicast destination
    /// Source and destination addresses, pointing into the packet (4 or 16 bytes).
    const uint8_t* source;
    const uint8_t* destination;
    /// TCP/UDP ports; for ICMP source_port is the type (replies folded onto their request) and
    /// destination_port the code.
    uint16_t source_port;
    uint16_t destination_port;
    bool icmp_reply;    ///< an ICMP reply folded onto its request type
    uint32_t ip_bytes;  ///< whole IP packet, from the header's length field
};

namespace parser {

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestinationOptions = 60;
constexpr uint8_t kIpv6AuthenticationHeader = 51;
/// More extension headers than any real packet carries; bounds the walk.
constexpr unsigned kMaxExtensionHeaders = 8;

inline uint16_t load16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

/// Compilers turn this into one load and a byte swap.
inline uint32_t load32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

/// ICMP replies keyed on their request type, so one exchange is one flow record.
inline uint8_t icmp_request_type(uint8_t type, bool v6, bool& reply) {
    reply = true;
    if (!v6) {
        switch (type) {
            case 0:  // echo reply
                return 8;
            case 14:  // timestamp reply
                return 13;
            case 16:  // information reply
                return 15;
            case 18:  // address mask reply
                return 17;
            default:
                break;
        }
    } else if (type == 129) {  // echo reply
        return 128;
    }
    reply = false;
    return type;
}

inline ParseResult parse_transport(const uint8_t* l4, size_t available, uint8_t ip_protocol,
                                   bool v6, ParsedPacket& out) {
    if (ip_protocol == kIpProtoTcp || ip_protocol == kIpProtoUdp) {
        const bool tcp = ip_protocol == kIpProtoTcp;
        // TCP: ports and flags, the rest of the header is not needed. UDP: its whole header.
        if (available < (tcp ? 14u : 8u)) {
            return ParseResult::Unparsed;
        }
        const uint32_t ports = load32(l4);
        out.protocol = static_cast<uint8_t>(tcp ? wire::Protocol::Tcp : wire::Protocol::Udp);
        out.source_port = static_cast<uint16_t>(ports >> 16);
        out.destination_port = static_cast<uint16_t>(ports);
        out.tcp_flags = tcp ? l4[13] : 0;
        out.icmp_reply = false;
        return ParseResult::Flow;
    }
    if (ip_protocol == (v6 ? kIpProtoIcmpv6 : kIpProtoIcmp)) {
        if (available < 2) {
            return ParseResult::Unparsed;
        }
        out.protocol = static_cast<uint8_t>(wire::Protocol::Icmp);
        out.tcp_flags = 0;
        out.source_port = icmp_request_type(l4[0], v6, out.icmp_reply);
        out.destination_port = l4[1];
        return ParseResult::Flow;
    }
    return ParseResult::Unsupported;
}

inline ParseResult parse_ipv4(const uint8_t* ip, size_t length, ParsedPacket& out) {
    const size_t header = static_cast<size_t>(ip[0] & 0x0F) * 4;
    const uint16_t total = load16(ip + 2);
    if (header < kIpv4MinHeader || header > length || total < header) {
        return ParseResult::Unparsed;
    }
    out.family = 4;
    out.ip_bytes = total;
    out.source = ip + 12;
    out.destination = ip + 16;
    // 224/4 is multicast and 240/4 reserved, with 255.255.255.255 the limited broadcast.
    out.multicast_destination = ip[16] >= 0xE0;
    const uint16_t fragment = load16(ip + 6);
    if ((fragment & 0x1FFF) != 0) {
        return ParseResult::Unsupported;  // later fragments carry no transport header
    }
    // The transport header must lie within what the IP header says the packet holds, and
    // within what we were given.
    const size_t end = total < length ? total : length;
    return parse_transport(ip + header, end - header, ip[9], false, out);
}

/// Out of line: its header walk would crowd the IPv4 path's registers in the hook.
VIGIL_NOINLINE inline ParseResult parse_ipv6(const uint8_t* ip, size_t length, ParsedPacket& out) {
    if (length < kIpv6Header) {
        return ParseResult::Unparsed;
    }
    const uint32_t payload = load16(ip + 4);
    out.family = 6;
    out.ip_bytes = payload + static_cast<uint32_t>(kIpv6Header);
    out.source = ip + 8;
    out.destination = ip + 24;
    out.multicast_destination = ip[24] == 0xFF;
    const size_t declared_end = kIpv6Header + payload;
    const size_t end = declared_end < length ? declared_end : length;
    size_t offset = kIpv6Header;
    uint8_t next = ip[6];
    for (unsigned walked = 0; walked <= kMaxExtensionHeaders; ++walked) {
        size_t extension;
        switch (next) {
            case kIpv6HopByHop:
            case kIpv6Routing:
            case kIpv6DestinationOptions:
                if (end - offset < 8) {
                    return ParseResult::Unparsed;
                }
                extension = (static_cast<size_t>(ip[offset + 1]) + 1) * 8;
                break;
            case kIpv6Fragment:
                if (end - offset < 8) {
                    return ParseResult::Unparsed;
                }
                if ((load16(ip + offset + 2) & 0xFFF8) != 0) {
                    return ParseResult::Unsupported;  // not the first fragment
                }
                extension = 8;
                break;
            case kIpv6AuthenticationHeader:
                if (end - offset < 8) {
                    return ParseResult::Unparsed;
                }
                extension = (static_cast<size_t>(ip[offset + 1]) + 2) * 4;
                break;
            default:
                return parse_transport(ip + offset, end - offset, next, true, out);
        }
        if (extension > end - offset) {
            return ParseResult::Unparsed;
        }
        next = ip[offset];
        offset += extension;
    }
    return ParseResult::Unparsed;
}

}  // namespace parser

inline ParseResult parse_packet(const uint8_t* ip, size_t length, ParsedPacket& out) {
    if (ip == nullptr || length < parser::kIpv4MinHeader) {
        return ParseResult::Unparsed;
    }
    const uint8_t version = ip[0] >> 4;
    if (VIGIL_LIKELY(version == 4)) {
        return parser::parse_ipv4(ip, length, out);
    }
    return version == 6 ? parser::parse_ipv6(ip, length, out) : ParseResult::Unparsed;
}

}  // namespace vigil::agent::detail

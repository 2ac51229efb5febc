#include "vigil/agent/detail/packet_parser.hpp"

#include "vigil/protocol/wire.h"

namespace vigil::agent::detail {

namespace {

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

/// ICMP replies keyed on their request type, so one exchange is one flow record.
uint8_t icmp_request_type(uint8_t type, bool v6, bool& reply) {
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

ParseResult parse_transport(const uint8_t* l4, size_t available, uint8_t ip_protocol, bool v6,
                            ParsedPacket& out) {
    switch (ip_protocol) {
        case kIpProtoTcp:
            // Ports and flags; the rest of the header is not needed.
            if (available < 14) {
                return ParseResult::Unparsed;
            }
            out.protocol = static_cast<uint8_t>(wire::Protocol::Tcp);
            out.source_port = load16(l4);
            out.destination_port = load16(l4 + 2);
            out.tcp_flags = l4[13];
            return ParseResult::Flow;
        case kIpProtoUdp:
            if (available < 8) {
                return ParseResult::Unparsed;
            }
            out.protocol = static_cast<uint8_t>(wire::Protocol::Udp);
            out.source_port = load16(l4);
            out.destination_port = load16(l4 + 2);
            return ParseResult::Flow;
        case kIpProtoIcmp:
        case kIpProtoIcmpv6:
            if ((ip_protocol == kIpProtoIcmpv6) != v6) {
                return ParseResult::Unsupported;
            }
            if (available < 2) {
                return ParseResult::Unparsed;
            }
            out.protocol = static_cast<uint8_t>(wire::Protocol::Icmp);
            out.source_port = icmp_request_type(l4[0], v6, out.icmp_reply);
            out.destination_port = l4[1];
            return ParseResult::Flow;
        default:
            return ParseResult::Unsupported;
    }
}

ParseResult parse_ipv4(const uint8_t* ip, size_t length, ParsedPacket& out) {
    if (length < kIpv4MinHeader) {
        return ParseResult::Unparsed;
    }
    const size_t header = static_cast<size_t>(ip[0] & 0x0F) * 4;
    const uint16_t total = load16(ip + 2);
    if (header < kIpv4MinHeader || header > length || total < header) {
        return ParseResult::Unparsed;
    }
    out.family = 4;
    out.ip_bytes = total;
    out.source = ip + 12;
    out.destination = ip + 16;
    const uint8_t first_octet = ip[16];
    out.multicast_destination =
        (first_octet & 0xF0) == 0xE0 ||
        (first_octet == 0xFF && ip[17] == 0xFF && ip[18] == 0xFF && ip[19] == 0xFF);
    const uint16_t fragment = load16(ip + 6);
    if ((fragment & 0x1FFF) != 0) {
        return ParseResult::Unsupported;  // later fragments carry no transport header
    }
    // The transport header must lie within what the IP header says the packet holds, and
    // within what we were given.
    const size_t end = total < length ? total : length;
    return parse_transport(ip + header, end - header, ip[9], false, out);
}

ParseResult parse_ipv6(const uint8_t* ip, size_t length, ParsedPacket& out) {
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

}  // namespace

ParseResult parse_packet(const uint8_t* ip, size_t length, ParsedPacket& out) {
    out = ParsedPacket{};
    if (ip == nullptr || length == 0) {
        return ParseResult::Unparsed;
    }
    switch (ip[0] >> 4) {
        case 4:
            return parse_ipv4(ip, length, out);
        case 6:
            return parse_ipv6(ip, length, out);
        default:
            return ParseResult::Unparsed;
    }
}

}  // namespace vigil::agent::detail

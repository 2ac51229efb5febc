// Builds real IPv4/IPv6 packets (TCP, UDP, ICMP, ICMPv6) into a caller's buffer, for the
// bare-metal test. tests/support/packets.hpp does this for the host with std::vector and
// std::string, which the target program does not have. Checksums are filled in, so a packet here
// is exactly what a stack would hand the hook.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::test::bare {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kIcmpv6 = 58;

namespace tcp {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
}  // namespace tcp

struct Ip {
    uint8_t family = 4;
    uint8_t bytes[16] = {};
};

constexpr Ip ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Ip ip{};
    ip.family = 4;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    return ip;
}

/// From the eight 16-bit groups of the address.
constexpr Ip ipv6(uint16_t g0, uint16_t g1, uint16_t g2, uint16_t g3, uint16_t g4, uint16_t g5,
                  uint16_t g6, uint16_t g7) {
    const uint16_t groups[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
    Ip ip{};
    ip.family = 6;
    for (size_t i = 0; i < 8; ++i) {
        ip.bytes[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
        ip.bytes[2 * i + 1] = static_cast<uint8_t>(groups[i]);
    }
    return ip;
}

/// The transport part of a packet. For ICMP, source_port is the type and destination_port the
/// code.
struct Segment {
    uint8_t protocol = kTcp;
    uint16_t source_port = 0;
    uint16_t destination_port = 0;
    uint8_t tcp_flags = 0;
    size_t payload = 0;
};

constexpr Segment tcp_segment(uint16_t source, uint16_t destination, uint8_t flags,
                              size_t payload = 0) {
    return Segment{kTcp, source, destination, flags, payload};
}
constexpr Segment udp_datagram(uint16_t source, uint16_t destination, size_t payload = 0) {
    return Segment{kUdp, source, destination, 0, payload};
}
/// ICMP for IPv4 sources, ICMPv6 for IPv6 ones (build() picks the protocol number).
constexpr Segment icmp_message(uint8_t type, uint8_t code, size_t payload = 0) {
    return Segment{kIcmp, type, code, 0, payload};
}

constexpr size_t kMaxPacket = 1500;

struct Packet {
    uint8_t bytes[kMaxPacket];
    size_t length = 0;
};

namespace detail {

inline void put16(uint8_t* at, uint32_t value) {
    at[0] = static_cast<uint8_t>(value >> 8);
    at[1] = static_cast<uint8_t>(value);
}

/// RFC 1071 sum, not yet folded or inverted.
inline uint32_t sum(const uint8_t* data, size_t length, uint32_t total = 0) {
    for (size_t i = 0; i + 1 < length; i += 2) {
        total += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
    }
    if (length % 2 != 0) {
        total += static_cast<uint32_t>(data[length - 1] << 8);
    }
    return total;
}

inline uint16_t fold(uint32_t total) {
    while (total >> 16 != 0) {
        total = (total & 0xFFFF) + (total >> 16);
    }
    return static_cast<uint16_t>(~total);
}

}  // namespace detail

struct Options {
    uint16_t fragment_offset_bytes = 0;  ///< IPv4 only: a later fragment when non-zero
    uint8_t ttl = 64;
};

/// Writes source -> destination carrying `segment`. Returns false when it does not fit.
inline bool build(Packet& out, const Ip& source, const Ip& destination, const Segment& segment,
                  const Options& options = {}) {
    const bool v6 = source.family == 6;
    const uint8_t protocol = segment.protocol == kIcmp && v6 ? kIcmpv6 : segment.protocol;
    const size_t ip_header = v6 ? 40 : 20;
    const size_t l4_header = protocol == kTcp ? 20 : 8;
    const size_t l4_length = l4_header + segment.payload;
    const size_t total = ip_header + l4_length;
    if (total > kMaxPacket || source.family != destination.family) {
        return false;
    }
    uint8_t* p = out.bytes;
    for (size_t i = 0; i < total; ++i) {
        p[i] = 0;
    }
    const size_t address_bytes = v6 ? 16 : 4;
    if (v6) {
        p[0] = 0x60;
        detail::put16(p + 4, static_cast<uint32_t>(l4_length));
        p[6] = protocol;
        p[7] = options.ttl;
        for (size_t i = 0; i < 16; ++i) {
            p[8 + i] = source.bytes[i];
            p[24 + i] = destination.bytes[i];
        }
    } else {
        p[0] = 0x45;
        detail::put16(p + 2, static_cast<uint32_t>(total));
        detail::put16(p + 4, 0x1234);                              // identification
        detail::put16(p + 6, options.fragment_offset_bytes / 8u);  // offset in 8-byte units
        p[8] = options.ttl;
        p[9] = protocol;
        for (size_t i = 0; i < 4; ++i) {
            p[12 + i] = source.bytes[i];
            p[16 + i] = destination.bytes[i];
        }
        detail::put16(p + 10, detail::fold(detail::sum(p, 20)));
    }

    uint8_t* l4 = p + ip_header;
    for (size_t i = 0; i < segment.payload; ++i) {
        l4[l4_header + i] = static_cast<uint8_t>(i * 7 + 1);
    }
    size_t checksum_at = 0;
    if (protocol == kTcp) {
        detail::put16(l4, segment.source_port);
        detail::put16(l4 + 2, segment.destination_port);
        detail::put16(l4 + 4, 0x0102);  // sequence number
        detail::put16(l4 + 6, 0x0304);
        if ((segment.tcp_flags & tcp::kAck) != 0) {
            detail::put16(l4 + 10, 0x0506);  // acknowledgement number
        }
        l4[12] = 5 << 4;  // data offset: 20-byte header
        l4[13] = segment.tcp_flags;
        detail::put16(l4 + 14, 0xFFFF);  // window
        checksum_at = 16;
    } else if (protocol == kUdp) {
        detail::put16(l4, segment.source_port);
        detail::put16(l4 + 2, segment.destination_port);
        detail::put16(l4 + 4, static_cast<uint32_t>(l4_length));
        checksum_at = 6;
    } else {
        l4[0] = static_cast<uint8_t>(segment.source_port);
        l4[1] = static_cast<uint8_t>(segment.destination_port);
        detail::put16(l4 + 4, 0x4242);  // identifier
        detail::put16(l4 + 6, 1);       // sequence
        checksum_at = 2;
    }
    // TCP, UDP and ICMPv6 cover a pseudo-header of addresses, protocol and length; ICMP does not.
    uint32_t total_sum = 0;
    if (protocol != kIcmp) {
        total_sum = detail::sum(source.bytes, address_bytes);
        total_sum = detail::sum(destination.bytes, address_bytes, total_sum);
        total_sum += protocol;
        total_sum += static_cast<uint32_t>(l4_length);
    }
    uint16_t checksum = detail::fold(detail::sum(l4, l4_length, total_sum));
    if (protocol == kUdp && checksum == 0) {
        checksum = 0xFFFF;  // zero means "no checksum" in UDP
    }
    detail::put16(l4 + checksum_at, checksum);
    out.length = total;
    return true;
}

}  // namespace vigil::test::bare

// The headers of a synthetic IP packet, as the agent's packet hook reads them: an IPv4 or IPv6
// header and a TCP, UDP or ICMP header, with the IP length field counting a payload that is not
// written (the hook takes byte counts from that field, as from a capture truncated after the
// transport header). Written here rather than taken from the tests' packet builders because a
// fleet sends millions of packets: headers go into a fixed buffer, once per traffic pattern, with
// no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil::sim {

enum class Transport : uint8_t { Tcp, Udp, Icmp };

namespace tcp_flags {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
}  // namespace tcp_flags

/// An IPv4 or IPv6 address in network byte order.
struct IpAddress {
    uint8_t family = 4;  ///< 4 or 6
    std::array<uint8_t, 16> bytes{};

    /// Parses dotted IPv4 or IPv6 text; family 0 when it is neither.
    static IpAddress parse(const std::string& text);
    std::string to_string() const;
    bool operator==(const IpAddress& other) const {
        return family == other.family && bytes == other.bytes;
    }
};

/// What one packet says about itself.
struct PacketHeader {
    IpAddress source;
    IpAddress destination;
    Transport transport = Transport::Tcp;
    uint16_t source_port = 0;       ///< ICMP: the type
    uint16_t destination_port = 0;  ///< ICMP: the code
    uint8_t flags = 0;              ///< TCP flags
    uint16_t payload_bytes = 0;     ///< counted in the IP length, not written
};

/// Large enough for an IPv6 header with a TCP header.
constexpr size_t kMaxHeaderBytes = 40 + 20;

struct PacketBytes {
    std::array<uint8_t, kMaxHeaderBytes> bytes{};
    size_t length = 0;
};

/// Writes the header bytes; source and destination must share a family.
PacketBytes write_packet(const PacketHeader& header);

}  // namespace vigil::sim

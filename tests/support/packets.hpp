// Builds real IPv4/IPv6 packets (TCP, UDP, ICMP, ICMPv6, with IPv6 extension headers) for tests
// and benchmarks. Checksums are left zero: the agent does not verify them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vigil::test {

std::array<uint8_t, 4> ipv4(const std::string& dotted);
std::array<uint8_t, 16> ipv6(const std::string& text);

namespace tcp {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
}  // namespace tcp

/// A transport segment before it is wrapped in IP.
struct Transport {
    uint8_t protocol = 6;  ///< IP protocol number: 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
    std::vector<uint8_t> bytes;
};

Transport tcp_segment(uint16_t source_port, uint16_t destination_port, uint8_t flags,
                      size_t payload_bytes = 0);
Transport udp_datagram(uint16_t source_port, uint16_t destination_port, size_t payload_bytes = 0);
Transport icmp_message(uint8_t type, uint8_t code, size_t payload_bytes = 0, bool v6 = false);

std::vector<uint8_t> ipv4_packet(const std::string& source, const std::string& destination,
                                 const Transport& transport);
/// `extensions` are IPv6 next-header numbers (0, 43, 44, 60, 51) inserted before the transport.
std::vector<uint8_t> ipv6_packet(const std::string& source, const std::string& destination,
                                 const Transport& transport,
                                 const std::vector<uint8_t>& extensions = {});

}  // namespace vigil::test

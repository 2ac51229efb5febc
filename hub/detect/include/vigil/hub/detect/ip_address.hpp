// An IPv4 or IPv6 address as detection compares it: 128 bits, IPv4 kept apart from IPv6 (an
// IPv4 feed entry never matches an IPv6 address, the IPv4-mapped form included).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::hub::detect {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
    Family family = Family::V4;
    /// IPv4 in the low 32 bits, IPv6 as one 128-bit number; both in host order, so that
    /// numeric order is address order and a prefix is a range.
    unsigned __int128 value = 0;

    static constexpr int bits(Family family) { return family == Family::V4 ? 32 : 128; }
    bool operator==(const IpAddress& other) const {
        return family == other.family && value == other.value;
    }
};

/// "192.0.2.1", "2001:db8::1"; empty for anything else (no zone ids, no brackets, no ports).
std::optional<IpAddress> parse_ip(std::string_view text);
std::string to_string(const IpAddress& address);

/// An address block: the network's first address and its prefix length. The first address has
/// no bits set beyond the prefix (parse_cidr refuses "192.0.2.5/24": a feed that means a host
/// says /32, and guessing either way would match the wrong neighbours).
struct Cidr {
    IpAddress network;
    uint8_t prefix = 0;

    IpAddress last() const;  ///< the block's last address
    bool contains(const IpAddress& address) const;
};

struct CidrParse {
    std::optional<Cidr> cidr;
    std::string error;  ///< why there is none
};
/// "198.51.100.0/24", "2001:db8::/32", or a bare address (a /32 or /128).
CidrParse parse_cidr(std::string_view text);
std::string to_string(const Cidr& cidr);

}  // namespace vigil::hub::detect

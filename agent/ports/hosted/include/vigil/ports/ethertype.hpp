// Where the IP header starts behind an EtherType, for the ports that see link-layer frames
// (lwIP's netif paths, captures of Ethernet and Linux cooked frames).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::ports {

constexpr uint16_t kEthertypeIpv4 = 0x0800;
constexpr uint16_t kEthertypeIpv6 = 0x86DD;

/// Stacked VLAN tags beyond this are not real traffic; stop rather than walk on.
constexpr int kMaxVlanTags = 4;

/// The offset of the IP header in `frame` when the EtherType at `type_offset` (after up to
/// kMaxVlanTags 802.1Q / 802.1ad tags) is IPv4 or IPv6 and at least one byte of IP follows; -1
/// otherwise. Reads nothing at or past `length`.
inline long ip_offset_after_ethertype(const uint8_t* frame, size_t length, size_t type_offset) {
    constexpr uint16_t kVlan = 0x8100, kQinQ = 0x88A8, kQinQOld = 0x9100;
    for (int tags = 0; tags <= kMaxVlanTags; ++tags) {
        if (length < type_offset + 2) {
            return -1;
        }
        const auto type = static_cast<uint16_t>(frame[type_offset] << 8 | frame[type_offset + 1]);
        if (type == kVlan || type == kQinQ || type == kQinQOld) {
            type_offset += 4;
            continue;
        }
        const size_t start = type_offset + 2;
        if ((type != kEthertypeIpv4 && type != kEthertypeIpv6) || length <= start) {
            return -1;
        }
        return static_cast<long>(start);
    }
    return -1;
}

}  // namespace vigil::ports

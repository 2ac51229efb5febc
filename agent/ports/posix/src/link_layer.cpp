#include "vigil/ports/link_layer.hpp"

#include <pcap/pcap.h>

#include "vigil/ports/ethertype.hpp"

namespace vigil::ports::posix {

namespace {

// DLT_IPV4 and DLT_IPV6 are recent enough that older headers may lack them.
constexpr int kDltIpv4 = 228;
constexpr int kDltIpv6 = 229;
constexpr int kDltLinuxSll = 113;
constexpr int kDltLinuxSll2 = 276;

constexpr size_t kEthernetHeader = 14;
constexpr size_t kSllHeader = 16;
constexpr size_t kSll2Header = 20;
constexpr size_t kNullHeader = 4;

uint16_t load16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

/// `type_offset` points at an EtherType; VLAN tags (TPID, TCI) may precede the real one.
bool after_ethertype(const uint8_t* frame, size_t captured, size_t type_offset, IpSlice& out) {
    const long start = ip_offset_after_ethertype(frame, captured, type_offset);
    if (start < 0) {
        return false;
    }
    out.data = frame + start;
    out.length = captured - static_cast<size_t>(start);
    return true;
}

/// Link types that say nothing reliable about the payload: the IP version nibble decides.
bool raw_ip(const uint8_t* frame, size_t captured, size_t skip, IpSlice& out) {
    if (captured <= skip) {
        return false;
    }
    const uint8_t version = frame[skip] >> 4;
    if (version != 4 && version != 6) {
        return false;
    }
    out.data = frame + skip;
    out.length = captured - skip;
    return true;
}

}  // namespace

bool link_type_supported(int dlt) {
    switch (dlt) {
        case DLT_EN10MB:
        case DLT_RAW:
        case kDltIpv4:
        case kDltIpv6:
        case kDltLinuxSll:
        case kDltLinuxSll2:
        case DLT_NULL:
        case DLT_LOOP:
            return true;
        default:
            return false;
    }
}

const char* link_type_name(int dlt) {
    switch (dlt) {
        case DLT_EN10MB:
            return "Ethernet";
        case DLT_RAW:
            return "raw IP";
        case kDltIpv4:
            return "raw IPv4";
        case kDltIpv6:
            return "raw IPv6";
        case kDltLinuxSll:
            return "Linux cooked";
        case kDltLinuxSll2:
            return "Linux cooked v2";
        case DLT_NULL:
            return "BSD loopback";
        case DLT_LOOP:
            return "OpenBSD loopback";
        default:
            return "unsupported";
    }
}

const char* pcap_link_type_name(int dlt) {
    return pcap_datalink_val_to_name(dlt);
}

bool ip_payload(int dlt, const uint8_t* frame, size_t captured, IpSlice& out) {
    out = IpSlice{};
    if (frame == nullptr) {
        return false;
    }
    switch (dlt) {
        case DLT_EN10MB:
            return captured >= kEthernetHeader && after_ethertype(frame, captured, 12, out);
        case DLT_RAW:
        case kDltIpv4:
        case kDltIpv6:
            return raw_ip(frame, captured, 0, out);
        case kDltLinuxSll:
            // packet type, ARPHRD, address length, 8 address bytes, then the protocol
            return captured >= kSllHeader && after_ethertype(frame, captured, kSllHeader - 2, out);
        case kDltLinuxSll2: {
            // The protocol comes first; the rest of the 20-byte header is metadata.
            if (captured < kSll2Header) {
                return false;
            }
            const uint16_t type = load16(frame);
            return (type == kEthertypeIpv4 || type == kEthertypeIpv6) &&
                   raw_ip(frame, captured, kSll2Header, out);
        }
        case DLT_NULL:
        case DLT_LOOP:
            // The 4-byte address family is in the capturing host's byte order (DLT_NULL) and
            // its AF_INET6 value differs between systems: the IP header itself is clearer.
            return raw_ip(frame, captured, kNullHeader, out);
        default:
            return false;
    }
}

bool source_mac(int dlt, const uint8_t* frame, size_t captured, uint8_t (&mac)[6]) {
    size_t offset = 0;
    if (dlt == DLT_EN10MB && captured >= kEthernetHeader) {
        offset = 6;  // after the destination
    } else if (dlt == kDltLinuxSll && captured >= kSllHeader && load16(frame + 4) == 6) {
        offset = 6;  // after packet type, ARPHRD type and address length
    } else if (dlt == kDltLinuxSll2 && captured >= kSll2Header && frame[11] == 6) {
        offset = 12;
    } else {
        return false;
    }
    for (size_t i = 0; i < 6; ++i) {
        mac[i] = frame[offset + i];
    }
    return true;
}

}  // namespace vigil::ports::posix

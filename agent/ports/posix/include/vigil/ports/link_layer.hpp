// Finds the IP header inside a captured frame, for the link-layer types a capture on Linux or a
// router usually has.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::ports::posix {

struct IpSlice {
    const uint8_t* data = nullptr;
    size_t length = 0;
};

/// True when ip_payload() understands frames of this pcap DLT_ value.
bool link_type_supported(int dlt);
/// A short name for messages ("Ethernet", "Linux cooked v2", ...).
const char* link_type_name(int dlt);
/// libpcap's name for any DLT_ value ("IEEE802_11"), also for unsupported ones; nullptr when
/// libpcap does not know it.
const char* pcap_link_type_name(int dlt);

/// The IPv4 or IPv6 packet a frame carries. False for frames that carry something else (ARP,
/// LLDP) or are cut before the IP header starts. Never reads past `captured`.
bool ip_payload(int dlt, const uint8_t* frame, size_t captured, IpSlice& out);

/// The sender's 6-byte hardware address, for link types that carry one (Ethernet, Linux
/// cooked). False otherwise.
bool source_mac(int dlt, const uint8_t* frame, size_t captured, uint8_t (&mac)[6]);

}  // namespace vigil::ports::posix

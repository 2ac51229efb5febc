// Two NetX Duo IP instances on one link: NetX's own RAM driver, wrapped so that every IP packet
// handed to the driver (what would be on the wire) is recorded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nx_api.h"
#include "tx_api.h"

namespace vigil::test::netx {

extern NX_IP g_device;  // 10.0.0.1, fd00::1
extern NX_IP g_peer;    // 10.0.0.2, fd00::2
extern NX_PACKET_POOL g_pool;
extern NX_IP g_late;  // 10.0.0.3, created and deleted while Vigil runs

constexpr ULONG kDeviceV4 = IP_ADDRESS(10, 0, 0, 1);
constexpr ULONG kPeerV4 = IP_ADDRESS(10, 0, 0, 2);
constexpr ULONG kLateV4 = IP_ADDRESS(10, 0, 0, 3);
constexpr UINT kIpThreadPriority = 1;

/// From tx_application_define: the packet pool, both IP instances with ARP, ICMP (v4 and v6),
/// TCP, UDP and IPv6 enabled. No IPv6 address yet.
void create_network();
/// A third instance on the same link (IPv4 only), from a thread; and its removal.
void create_late_instance();
void delete_late_instance();
/// Gives each instance its global IPv6 address; duplicate address detection then runs (~3 s).
void set_ipv6_addresses();
NXD_ADDRESS device_v6();
NXD_ADDRESS peer_v6();

/// The start of one IP packet as the sending instance gave it to the driver.
struct WirePacket {
    static constexpr size_t kCapture = 128;
    int sender = 0;  ///< 0: the device instance, 1: the peer
    size_t length = 0;
    uint8_t bytes[kCapture] = {};
};

/// Records from now on (until stop_recording); call with preemption disabled to start at a
/// known instant.
void start_recording();
void stop_recording();
std::vector<WirePacket> recorded();

}  // namespace vigil::test::netx

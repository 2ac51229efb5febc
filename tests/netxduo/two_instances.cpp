#include "two_instances.hpp"

#include <cstdlib>
#include <cstring>

extern "C" VOID _nx_ram_network_driver(NX_IP_DRIVER* driver_req_ptr);

namespace vigil::test::netx {

NX_IP g_device;
NX_IP g_peer;
NX_PACKET_POOL g_pool;
NX_IP g_late;

namespace {

constexpr ULONG kPacketPayload = 1536;
constexpr ULONG kPackets = 96;
alignas(16) UCHAR g_pool_memory[kPackets * (kPacketPayload + sizeof(NX_PACKET))];
alignas(16) UCHAR g_device_stack[16384];
alignas(16) UCHAR g_peer_stack[16384];
alignas(16) UCHAR g_device_arp[1024];
alignas(16) UCHAR g_peer_arp[1024];
alignas(16) UCHAR g_late_stack[16384];
alignas(16) UCHAR g_late_arp[1024];

constexpr size_t kMaxRecorded = 4096;
WirePacket g_wire[kMaxRecorded];
size_t g_wire_count = 0;
bool g_recording = false;

// Runs in whichever ThreadX thread sends; the record is a fixed slot, no allocation.
void record(const NX_IP* sender, const NX_PACKET* packet) {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    if (g_recording && g_wire_count < kMaxRecorded) {
        WirePacket& out = g_wire[g_wire_count++];
        out.sender = sender == &g_device ? 0 : 1;
        out.length =
            static_cast<size_t>(packet->nx_packet_append_ptr - packet->nx_packet_prepend_ptr);
        if (out.length > WirePacket::kCapture) {
            out.length = WirePacket::kCapture;
        }
        std::memcpy(out.bytes, packet->nx_packet_prepend_ptr, out.length);
    }
    TX_RESTORE
}

VOID wire_driver(NX_IP_DRIVER* request) {
    // IP packets reach the driver through these two commands (IPv6 multicast too); ARP has its
    // own commands and is not IP. The prepend pointer is at the IP header here: the RAM driver
    // adds its Ethernet header itself.
    if (request->nx_ip_driver_command == NX_LINK_PACKET_SEND ||
        request->nx_ip_driver_command == NX_LINK_PACKET_BROADCAST) {
        record(request->nx_ip_driver_ptr, request->nx_ip_driver_packet);
    }
    _nx_ram_network_driver(request);
}

void create_instance(NX_IP& ip, const char* name, ULONG address, UCHAR* stack, UCHAR* arp) {
    UINT status = nx_ip_create(&ip, const_cast<CHAR*>(name), address, 0xFFFFFF00UL, &g_pool,
                               wire_driver, stack, 16384, kIpThreadPriority);
    status |= nx_arp_enable(&ip, arp, 1024);
    status |= nxd_icmp_enable(&ip);
    status |= nx_tcp_enable(&ip);
    status |= nx_udp_enable(&ip);
    status |= nxd_ipv6_enable(&ip);
    if (status != NX_SUCCESS) {
        std::abort();
    }
}

NXD_ADDRESS v6(ULONG last) {
    NXD_ADDRESS a{};
    a.nxd_ip_version = NX_IP_VERSION_V6;
    a.nxd_ip_address.v6[0] = 0xFD000000UL;
    a.nxd_ip_address.v6[3] = last;
    return a;
}

}  // namespace

void create_network() {
    nx_system_initialize();
    if (nx_packet_pool_create(&g_pool, const_cast<CHAR*>("pool"), kPacketPayload, g_pool_memory,
                              sizeof(g_pool_memory)) != NX_SUCCESS) {
        std::abort();
    }
    create_instance(g_device, "device", kDeviceV4, g_device_stack, g_device_arp);
    create_instance(g_peer, "peer", kPeerV4, g_peer_stack, g_peer_arp);
}

void create_late_instance() {
    UINT status = nx_ip_create(&g_late, const_cast<CHAR*>("late"), kLateV4, 0xFFFFFF00UL, &g_pool,
                               wire_driver, g_late_stack, sizeof(g_late_stack), kIpThreadPriority);
    status |= nx_arp_enable(&g_late, g_late_arp, sizeof(g_late_arp));
    status |= nx_icmp_enable(&g_late);
    if (status != NX_SUCCESS) {
        std::abort();
    }
}

void delete_late_instance() {
    if (nx_ip_delete(&g_late) != NX_SUCCESS) {
        std::abort();
    }
}

NXD_ADDRESS device_v6() {
    return v6(1);
}

NXD_ADDRESS peer_v6() {
    return v6(2);
}

void set_ipv6_addresses() {
    NXD_ADDRESS device = device_v6();
    NXD_ADDRESS peer = peer_v6();
    UINT index = 0;
    if (nxd_ipv6_address_set(&g_device, 0, &device, 64, &index) != NX_SUCCESS ||
        nxd_ipv6_address_set(&g_peer, 0, &peer, 64, &index) != NX_SUCCESS) {
        std::abort();
    }
}

void start_recording() {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    g_wire_count = 0;
    g_recording = true;
    TX_RESTORE
}

void stop_recording() {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    g_recording = false;
    TX_RESTORE
}

std::vector<WirePacket> recorded() {
    // Sized before the lockout, so nothing allocates while it is held.
    std::vector<WirePacket> out(kMaxRecorded);
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    const size_t count = g_wire_count;
    std::memcpy(out.data(), g_wire, count * sizeof(WirePacket));
    TX_RESTORE
    out.resize(count);
    return out;
}

}  // namespace vigil::test::netx

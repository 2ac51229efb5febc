// The packet hook: nx_ip_packet_filter_extended on every IP instance, both directions.
//
// Where NetX calls it, the IP header has just been written or received, in network byte order
// in both directions: inbound in _nx_ip_packet_receive() before the IPv4/IPv6 split (so before
// checksum checks and reassembly: once per fragment), outbound in _nx_ip_packet_send() and
// _nx_ipv6_packet_send() right after the header is added (before fragmentation and ARP/ND).
// nx_packet_prepend_ptr points at the IP header. NetX sends its IPv6 neighbour solicitations
// (DAD and address resolution) straight to the driver, so they never pass an outbound filter;
// ARP is not IP and is never seen either.
#include <cstring>

#include "port_parts.hpp"
#include "vigil/ports/netxduo.h"

namespace vigil::ports::netxduo {

namespace {

using Filter = UINT (*)(NX_IP*, NX_PACKET*, UINT);

struct Hooked {
    NX_IP* ip;
    Filter chained;  // the filter that was there before, called after ours
    bool installed;
};

Hooked g_hooked[VIGIL_NETXDUO_MAX_IP_INSTANCES];
ULONG g_skipped = 0;
ULONG g_packets_in = 0;
ULONG g_packets_out = 0;
// Cleared on unhook: a filter installed after ours may still call it, and then it only chains.
bool g_observing = false;

// Enough for an IPv6 header with a few extension headers and a TCP header with options; the
// agent takes sizes from the IP header, so the payload itself is never needed.
constexpr ULONG kHeaderCopyBytes = 128;

UINT vigil_filter(NX_IP* ip, NX_PACKET* packet, UINT direction);

int slot_of(const NX_IP* ip) {
    for (int i = 0; i < VIGIL_NETXDUO_MAX_IP_INSTANCES; ++i) {
        if (g_hooked[i].ip == ip) {
            return i;
        }
    }
    return -1;
}

void observe(int slot, NX_PACKET* packet, vigil_direction direction) {
    const UCHAR* ip = packet->nx_packet_prepend_ptr;
    ULONG available = static_cast<ULONG>(packet->nx_packet_append_ptr - ip);
    UCHAR copy[kHeaderCopyBytes];
    if (available < kHeaderCopyBytes && packet->nx_packet_next != NX_NULL) {
        // The headers continue in the next packet of the chain: gather them.
        ULONG copied = 0;
        if (nx_packet_data_extract_offset(packet, 0, copy, kHeaderCopyBytes, &copied) !=
            NX_SUCCESS) {
            return;
        }
        ip = copy;
        available = copied;
    }
    __atomic_fetch_add(direction == VIGIL_INBOUND ? &g_packets_in : &g_packets_out, 1UL,
                       __ATOMIC_RELAXED);
    vigil_agent_packet(ip, available, direction, static_cast<uint8_t>(slot), now_ms(nullptr));
}

// Never drops a packet itself. A chained filter's verdict is passed on, and decides what is
// counted outbound: a packet it refuses never reaches the wire. Inbound packets are counted
// before it, since they did arrive (a firewall's refusals are what a scan looks like).
UINT vigil_filter(NX_IP* ip, NX_PACKET* packet, UINT direction) {
    const int slot = slot_of(ip);
    const Filter chained = slot >= 0 ? g_hooked[slot].chained : nullptr;
    const bool observing = slot >= 0 && __atomic_load_n(&g_observing, __ATOMIC_ACQUIRE);
    if (observing && direction == NX_IP_PACKET_IN) {
        observe(slot, packet, VIGIL_INBOUND);
    }
    const UINT verdict = chained != nullptr ? chained(ip, packet, direction) : NX_SUCCESS;
    if (observing && direction == NX_IP_PACKET_OUT && verdict == NX_SUCCESS) {
        observe(slot, packet, VIGIL_OUTBOUND);
    }
    return verdict;
}

bool created(const NX_IP* ip) {
    NX_IP* current = _nx_ip_created_ptr;
    for (ULONG i = 0; i < _nx_ip_created_count && current != NX_NULL; ++i) {
        if (current == ip) {
            return true;
        }
        current = current->nx_ip_created_next;
    }
    return false;
}

void install(Hooked& hooked) {
    if (hooked.ip->nx_ip_packet_filter_extended != &vigil_filter) {
        hooked.chained = hooked.ip->nx_ip_packet_filter_extended;
        hooked.ip->nx_ip_packet_filter_extended = &vigil_filter;
    }
    hooked.installed = true;
}

}  // namespace

// The created-IP list and the filter fields are changed by nx_ip_create / nx_ip_delete under
// the same lockout, so the walk and the pointer swaps happen inside it (a short, bounded pass).
void hook_ip_instances() {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    for (Hooked& hooked : g_hooked) {
        if (hooked.ip != nullptr && !created(hooked.ip)) {
            hooked = Hooked{};  // deleted since: the slot is free again
        }
    }
    ULONG skipped = 0;
    NX_IP* ip = _nx_ip_created_ptr;
    for (ULONG i = 0; i < _nx_ip_created_count && ip != NX_NULL; ++i, ip = ip->nx_ip_created_next) {
        int slot = slot_of(ip);
        if (slot < 0) {
            slot = slot_of(nullptr);
            if (slot < 0) {
                ++skipped;
                continue;
            }
            g_hooked[slot] = Hooked{ip, nullptr, false};
        }
        if (!g_hooked[slot].installed) {
            install(g_hooked[slot]);
        }
    }
    g_skipped = skipped;
    __atomic_store_n(&g_observing, true, __ATOMIC_RELEASE);
    TX_RESTORE
}

void unhook_ip_instances() {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    __atomic_store_n(&g_observing, false, __ATOMIC_RELEASE);
    for (Hooked& hooked : g_hooked) {
        if (hooked.ip == nullptr || !hooked.installed) {
            continue;
        }
        // Put back what was there, unless another component has since chained ours: then ours
        // stays in its chain (still "installed", so enabling again does not chain it twice),
        // passing packets on without looking at them.
        if (hooked.ip->nx_ip_packet_filter_extended == &vigil_filter) {
            hooked.ip->nx_ip_packet_filter_extended = hooked.chained;
            hooked.chained = nullptr;
            hooked.installed = false;
        }
    }
    TX_RESTORE
}

FilterCounts filter_counts() {
    FilterCounts out{};
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    for (const Hooked& hooked : g_hooked) {
        out.hooked += hooked.installed ? 1 : 0;
    }
    out.skipped = g_skipped;
    out.packets_in = g_packets_in;
    out.packets_out = g_packets_out;
    TX_RESTORE
    return out;
}

}  // namespace vigil::ports::netxduo

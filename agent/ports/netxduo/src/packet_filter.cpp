// The packet hook: nx_ip_packet_filter_extended on every IP instance, both directions.
//
// Where NetX calls it, the IP header has just been written or received, in network byte order
// in both directions: inbound in _nx_ip_packet_receive() before the IPv4/IPv6 split (so before
// checksum checks and reassembly: once per fragment), outbound in _nx_ip_packet_send() and
// _nx_ipv6_packet_send() right after the header is added (before fragmentation and ARP/ND).
// nx_packet_prepend_ptr points at the IP header. NetX sends its IPv6 neighbour solicitations
// (DAD and address resolution) straight to the driver, so they never pass an outbound filter;
// ARP is not IP and is never seen either.
//
// With inbound_at_transport, inbound packets are counted instead where NetX dispatches them to
// TCP, UDP, ICMP and ICMPv6 (nx_ip_*_packet_receive, nx_ip_icmpv6_packet_process), wrapped and
// chained to the originals as the original module did, ICMPv6 included. There NetX has already
// turned the fixed IPv4 / IPv6 header into host byte order (nx_packet_ip_header points at it,
// nx_packet_prepend_ptr at the transport header, still in network order); the hook turns a copy
// of the header back.
#include <cstring>

#include "port_parts.hpp"
#include "vigil/ports/netxduo.h"

namespace vigil::ports::netxduo {

namespace {

using Filter = UINT (*)(NX_IP*, NX_PACKET*, UINT);
using Receive = void (*)(NX_IP*, NX_PACKET*);

enum ReceiveKind { kTcp, kUdp, kIcmp, kIcmpv6, kReceiveKinds };

struct Hooked {
    NX_IP* ip;
    Filter chained;  // the filter that was there before, called after ours
    bool installed;
    // The transport receive functions the wrappers chain to. Never cleared while the slot is in
    // use: a wrapper already running in another thread still finds them after a restore.
    Receive receive[kReceiveKinds];
};

Hooked g_hooked[VIGIL_NETXDUO_MAX_IP_INSTANCES];
ULONG g_skipped = 0;
ULONG g_packets_in = 0;
ULONG g_packets_out = 0;
// Cleared on unhook: a filter installed after ours may still call it, and then it only chains.
bool g_observing = false;
bool g_inbound_at_transport = false;

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
    count_packet(ip, available, direction, static_cast<uint8_t>(slot));
}

#if VIGIL_NETXDUO_TRANSPORT_HOOKS
// A packet NetX accepted for this host, about to go to TCP, UDP, ICMP or ICMPv6.
void observe_accepted(int slot, NX_PACKET* packet) {
    const UCHAR* header = packet->nx_packet_ip_header;
    const UCHAR* transport = packet->nx_packet_prepend_ptr;
    const ULONG fixed = packet->nx_packet_ip_version == NX_IP_VERSION_V4 ? 20 : 40;
    if (header == nullptr || transport < header || transport > packet->nx_packet_append_ptr) {
        return;
    }
    const auto ip_bytes = static_cast<ULONG>(transport - header);
    if (ip_bytes < fixed || ip_bytes >= kHeaderCopyBytes) {
        return;  // an IPv6 header chain longer than the copy: not counted here
    }
    ULONG transport_bytes = static_cast<ULONG>(packet->nx_packet_append_ptr - transport);
    if (transport_bytes > kHeaderCopyBytes - ip_bytes) {
        transport_bytes = kHeaderCopyBytes - ip_bytes;
    }
    ULONG words[kHeaderCopyBytes / sizeof(ULONG)];
    std::memcpy(words, header, ip_bytes + transport_bytes);
    for (ULONG i = 0; i < fixed / sizeof(ULONG); ++i) {
        NX_CHANGE_ULONG_ENDIAN(words[i]);  // undoes NetX's swap (nothing on big-endian)
    }
    __atomic_fetch_add(&g_packets_in, 1UL, __ATOMIC_RELAXED);
    count_packet(reinterpret_cast<const UCHAR*>(words), ip_bytes + transport_bytes, VIGIL_INBOUND,
                 static_cast<uint8_t>(slot));
}

template <int Kind>
void accepted(NX_IP* ip, NX_PACKET* packet) {
    const int slot = slot_of(ip);
    const Receive next = slot >= 0 ? g_hooked[slot].receive[Kind] : nullptr;
    if (slot >= 0 && __atomic_load_n(&g_observing, __ATOMIC_ACQUIRE)) {
        observe_accepted(slot, packet);
    }
    if (next != nullptr) {
        next(ip, packet);
    } else {
        nx_packet_release(packet);  // cannot happen: only a non-null function is wrapped
    }
}

constexpr Receive kWrappers[kReceiveKinds] = {&accepted<kTcp>, &accepted<kUdp>, &accepted<kIcmp>,
                                              &accepted<kIcmpv6>};

Receive* receive_field(NX_IP* ip, int kind) {
    switch (kind) {
        case kTcp:
            return &ip->nx_ip_tcp_packet_receive;
        case kUdp:
            return &ip->nx_ip_udp_packet_receive;
#ifndef NX_DISABLE_IPV4
        case kIcmp:
            return &ip->nx_ip_icmp_packet_receive;
#endif
#ifdef FEATURE_NX_IPV6
        case kIcmpv6:
            return &ip->nx_ip_icmpv6_packet_process;
#endif
        default:
            return nullptr;
    }
}

// Wraps what is enabled now; a protocol enabled later (or nxd_icmp_enable() putting its own
// function back) is wrapped by the next pass.
void wrap_receivers(Hooked& hooked) {
    for (int kind = 0; kind < kReceiveKinds; ++kind) {
        Receive* field = receive_field(hooked.ip, kind);
        if (field != nullptr && *field != nullptr && *field != kWrappers[kind]) {
            hooked.receive[kind] = *field;
            *field = kWrappers[kind];
        }
    }
}

void unwrap_receivers(Hooked& hooked) {
    for (int kind = 0; kind < kReceiveKinds; ++kind) {
        Receive* field = receive_field(hooked.ip, kind);
        if (field != nullptr && *field == kWrappers[kind]) {
            *field = hooked.receive[kind];
        }
    }
}

#endif  // VIGIL_NETXDUO_TRANSPORT_HOOKS

// Never drops a packet itself. A chained filter's verdict is passed on, and decides what is
// counted outbound: a packet it refuses never reaches the wire. Inbound packets are counted
// before it, since they did arrive (a firewall's refusals are what a scan looks like).
UINT vigil_filter(NX_IP* ip, NX_PACKET* packet, UINT direction) {
    const int slot = slot_of(ip);
    const Filter chained = slot >= 0 ? g_hooked[slot].chained : nullptr;
    const bool observing = slot >= 0 && __atomic_load_n(&g_observing, __ATOMIC_ACQUIRE);
    if (observing && direction == NX_IP_PACKET_IN && !g_inbound_at_transport) {
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
            g_hooked[slot] = Hooked{ip, nullptr, false, {}};
        }
        if (!g_hooked[slot].installed) {
            install(g_hooked[slot]);
        }
#if VIGIL_NETXDUO_TRANSPORT_HOOKS
        if (g_inbound_at_transport) {
            wrap_receivers(g_hooked[slot]);
        }
#endif
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
        if (hooked.ip == nullptr) {
            continue;
        }
#if VIGIL_NETXDUO_TRANSPORT_HOOKS
        unwrap_receivers(hooked);
#endif
        if (!hooked.installed) {
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

void set_inbound_at_transport(bool enabled) {
    g_inbound_at_transport = enabled;
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

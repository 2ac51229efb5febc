// What the port reports besides traffic: ThreadX and NetX Duo versions from their headers, the
// IP instances' addresses and MACs, the board string, and the listening ports from NetX's own
// TCP listen requests and bound UDP sockets. All of it runs in the Vigil thread.
#include <cstring>

#include "port_parts.hpp"
#include "vigil/ports/netxduo.h"

namespace vigil::ports::netxduo {

namespace {

#define VIGIL_NX_STRING(x) #x
#define VIGIL_NX_VERSION(major, minor, patch) \
    VIGIL_NX_STRING(major) "." VIGIL_NX_STRING(minor) "." VIGIL_NX_STRING(patch)

constexpr char kThreadxVersion[] =
    VIGIL_NX_VERSION(THREADX_MAJOR_VERSION, THREADX_MINOR_VERSION, THREADX_PATCH_VERSION);
constexpr char kNetxduoVersion[] =
    VIGIL_NX_VERSION(NETXDUO_MAJOR_VERSION, NETXDUO_MINOR_VERSION, NETXDUO_PATCH_VERSION);

// The facts come from every IP instance, not only the hooked ones: a device's addresses are
// what they are whatever the filter's capacity.
constexpr ULONG kMaxInstances = VIGIL_NETXDUO_MAX_IP_INSTANCES * 2;

ULONG created_instances(NX_IP** out) {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    ULONG count = 0;
    NX_IP* ip = _nx_ip_created_ptr;
    for (ULONG i = 0; i < _nx_ip_created_count && ip != NX_NULL && count < kMaxInstances;
         ++i, ip = ip->nx_ip_created_next) {
        out[count++] = ip;
    }
    TX_RESTORE
    return count;
}

// NetX keeps addresses in host byte order; the agent wants network order.
void put_be32(uint8_t* out, ULONG value) {
    out[0] = static_cast<uint8_t>(value >> 24);
    out[1] = static_cast<uint8_t>(value >> 16);
    out[2] = static_cast<uint8_t>(value >> 8);
    out[3] = static_cast<uint8_t>(value);
}

// IPv4 first, then global IPv6, then link-local: when there are more addresses than the
// message carries, the ones a peer would use are kept.
int rank(const vigil_address& a) {
    if (a.family == 4) {
        return 0;
    }
    return a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80 ? 2 : 1;
}

// Inserts after every address of the same or a better rank (so equal ranks keep NetX's order);
// when the list is full the worst-ranked, latest address drops out.
void keep(vigil_system_info& out, const vigil_address& a) {
    size_t at = 0;
    while (at < out.address_count && rank(out.addresses[at]) <= rank(a)) {
        ++at;
    }
    if (at == VIGIL_MAX_SYSTEM_ADDRESSES) {
        return;
    }
    const size_t end = out.address_count < VIGIL_MAX_SYSTEM_ADDRESSES
                           ? out.address_count
                           : VIGIL_MAX_SYSTEM_ADDRESSES - 1;
    std::memmove(&out.addresses[at + 1], &out.addresses[at], (end - at) * sizeof(vigil_address));
    out.addresses[at] = a;
    out.address_count = end + 1;
}

void gather_instance(NX_IP* ip, vigil_system_info& out) {
    vigil_address a{};
    for (UINT i = 0; i < NX_MAX_PHYSICAL_INTERFACES; ++i) {
        const NX_INTERFACE& nic = ip->nx_ip_interface[i];
        if (!nic.nx_interface_valid) {
            continue;
        }
        if (nic.nx_interface_ip_address != 0) {
            a.family = 4;
            put_be32(a.bytes, nic.nx_interface_ip_address);
            keep(out, a);
        }
        const ULONG msw = nic.nx_interface_physical_address_msw;
        const ULONG lsw = nic.nx_interface_physical_address_lsw;
        if ((msw != 0 || lsw != 0) && out.mac_count < VIGIL_MAX_SYSTEM_MACS) {
            uint8_t* mac = out.macs[out.mac_count++];
            mac[0] = static_cast<uint8_t>(msw >> 8);
            mac[1] = static_cast<uint8_t>(msw);
            put_be32(mac + 2, lsw);
        }
    }
#ifdef FEATURE_NX_IPV6
    for (UINT i = 0; i < NX_MAX_IPV6_ADDRESSES; ++i) {
        const NXD_IPV6_ADDRESS& v6 = ip->nx_ipv6_address[i];
        // Tentative (duplicate address detection still running) or unknown: not usable yet.
        const bool usable = v6.nxd_ipv6_address_state != NX_IPV6_ADDR_STATE_UNKNOWN &&
                            v6.nxd_ipv6_address_state != NX_IPV6_ADDR_STATE_TENTATIVE;
        if (!v6.nxd_ipv6_address_valid || !usable) {
            continue;
        }
        a.family = 6;
        for (int word = 0; word < 4; ++word) {
            put_be32(a.bytes + 4 * word, v6.nxd_ipv6_address[word]);
        }
        keep(out, a);
    }
#endif
}

}  // namespace

void system_info(void* context, vigil_system_info* out) {
    if (out == nullptr) {
        return;
    }
    const auto* settings = static_cast<const SystemSettings*>(context);
    *out = vigil_system_info{};
    out->os_name = "Eclipse ThreadX";
    out->os_version = kThreadxVersion;
    out->stack_name = "NetX Duo";
    out->stack_version = kNetxduoVersion;
    out->board = settings != nullptr ? settings->board : nullptr;
    out->firmware_version = settings != nullptr ? settings->firmware_version : nullptr;

    NX_IP* instances[kMaxInstances];
    const ULONG count = created_instances(instances);
    for (ULONG i = 0; i < count; ++i) {
        // The interface and address tables belong to the IP instance's protection mutex.
        if (tx_mutex_get(&instances[i]->nx_ip_protection, TX_WAIT_FOREVER) != TX_SUCCESS) {
            continue;
        }
        gather_instance(instances[i], *out);
        tx_mutex_put(&instances[i]->nx_ip_protection);
    }
}

// A NetX TCP listen request or a bound UDP socket answers on every address of its IP instance
// (IPv4 and IPv6 alike), so each is reported once with family 0, "all addresses". A listen
// request stays active between accepts until nx_tcp_server_socket_unlisten(); a UDP socket
// is bound from nx_udp_socket_bind() to nx_udp_socket_unbind().
size_t listening_ports(void*, vigil_listening_port* out, size_t capacity) {
    size_t count = 0;
    auto report = [&](vigil_protocol protocol, UINT port) {
        if (count < capacity) {
            out[count] = vigil_listening_port{};
            out[count].protocol = protocol;
            out[count].port = static_cast<uint16_t>(port);
        }
        ++count;
    };
    NX_IP* instances[kMaxInstances];
    const ULONG instance_count = created_instances(instances);
    for (ULONG i = 0; i < instance_count; ++i) {
        NX_IP* ip = instances[i];
        if (tx_mutex_get(&ip->nx_ip_protection, TX_WAIT_FOREVER) != TX_SUCCESS) {
            continue;
        }
        // Both lists are circular.
        const NX_TCP_LISTEN* first_listen = ip->nx_ip_tcp_active_listen_requests;
        const NX_TCP_LISTEN* listen = first_listen;
        while (listen != NX_NULL) {
            report(VIGIL_TCP, listen->nx_tcp_listen_port);
            listen = listen->nx_tcp_listen_next;
            if (listen == first_listen) {
                break;
            }
        }
        const NX_UDP_SOCKET* socket = ip->nx_ip_udp_created_sockets_ptr;
        for (ULONG s = 0; s < ip->nx_ip_udp_created_sockets_count && socket != NX_NULL;
             ++s, socket = socket->nx_udp_socket_created_next) {
            if (socket->nx_udp_socket_bound_next != NX_NULL) {
                report(VIGIL_UDP, socket->nx_udp_socket_port);
            }
        }
        tx_mutex_put(&ip->nx_ip_protection);
    }
    return count;
}

}  // namespace vigil::ports::netxduo

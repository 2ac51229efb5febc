#include "services.hpp"

#include "tx_api.h"

namespace vigil::netxduo_device {

namespace {

constexpr UINT kServicePriority = 8;
constexpr ULONG kStackBytes = 8192;
constexpr ULONG kWindowBytes = 16384;
constexpr ULONG kWait = 2 * TX_TIMER_TICKS_PER_SECOND;

NX_IP* g_ip = nullptr;
NX_PACKET_POOL* g_pool = nullptr;
NX_TCP_SOCKET g_echo_socket;
NX_UDP_SOCKET g_udp_socket;
TX_THREAD g_echo_thread;
TX_THREAD g_udp_thread;
alignas(16) UCHAR g_echo_stack[kStackBytes];
alignas(16) UCHAR g_udp_stack[kStackBytes];
UINT g_echo_port = 0;
ServiceCounts g_counts;

/// A copy of `received` in a fresh packet (the received one has no room for new headers).
NX_PACKET* copy_of(NX_PACKET* received, UINT packet_type) {
    NX_PACKET* reply = nullptr;
    if (nx_packet_allocate(g_pool, &reply, packet_type, kWait) != NX_SUCCESS) {
        return nullptr;
    }
    for (NX_PACKET* part = received; part != nullptr; part = part->nx_packet_next) {
        const ULONG length =
            static_cast<ULONG>(part->nx_packet_append_ptr - part->nx_packet_prepend_ptr);
        if (nx_packet_data_append(reply, part->nx_packet_prepend_ptr, length, g_pool, kWait) !=
            NX_SUCCESS) {
            nx_packet_release(reply);
            return nullptr;
        }
    }
    return reply;
}

void echo_session() {
    ++g_counts.echo_sessions;
    for (;;) {
        NX_PACKET* received = nullptr;
        const UINT status = nx_tcp_socket_receive(&g_echo_socket, &received, NX_WAIT_FOREVER);
        if (status != NX_SUCCESS) {
            return;  // the client closed (or reset) its side and everything was read
        }
        g_counts.echo_bytes += received->nx_packet_length;
        NX_PACKET* reply = copy_of(received, NX_TCP_PACKET);
        nx_packet_release(received);
        if (reply == nullptr) {
            return;
        }
        if (nx_tcp_socket_send(&g_echo_socket, reply, kWait) != NX_SUCCESS) {
            nx_packet_release(reply);
            return;
        }
    }
}

void echo_service(ULONG) {
    for (;;) {
        // NetX sends the SYN-ACK only once accept() is called.
        if (nx_tcp_server_socket_accept(&g_echo_socket, NX_WAIT_FOREVER) == NX_SUCCESS) {
            echo_session();
        }
        nx_tcp_socket_disconnect(&g_echo_socket, kWait);
        nx_tcp_server_socket_unaccept(&g_echo_socket);
        nx_tcp_server_socket_relisten(g_ip, g_echo_port, &g_echo_socket);
    }
}

void udp_service(ULONG) {
    for (;;) {
        NX_PACKET* received = nullptr;
        if (nx_udp_socket_receive(&g_udp_socket, &received, NX_WAIT_FOREVER) != NX_SUCCESS) {
            continue;
        }
        NXD_ADDRESS sender{};
        UINT sender_port = 0;
        const bool have_sender =
            nxd_udp_source_extract(received, &sender, &sender_port) == NX_SUCCESS;
        ++g_counts.datagrams;
        NX_PACKET* reply = have_sender ? copy_of(received, NX_UDP_PACKET) : nullptr;
        nx_packet_release(received);
        if (reply != nullptr &&
            nxd_udp_socket_send(&g_udp_socket, reply, &sender, sender_port) != NX_SUCCESS) {
            nx_packet_release(reply);
        }
    }
}

}  // namespace

bool start_services(NX_IP* ip, NX_PACKET_POOL* pool, UINT tcp_echo_port, UINT udp_port) {
    g_ip = ip;
    g_pool = pool;
    g_echo_port = tcp_echo_port;
    if (nx_tcp_socket_create(ip, &g_echo_socket, const_cast<CHAR*>("echo"), NX_IP_NORMAL,
                             NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, kWindowBytes, NX_NULL,
                             NX_NULL) != NX_SUCCESS ||
        nx_tcp_server_socket_listen(ip, tcp_echo_port, &g_echo_socket, 4, NX_NULL) != NX_SUCCESS ||
        nx_udp_socket_create(ip, &g_udp_socket, const_cast<CHAR*>("udp service"), NX_IP_NORMAL,
                             NX_FRAGMENT_OKAY, NX_IP_TIME_TO_LIVE, 16) != NX_SUCCESS ||
        nx_udp_socket_bind(&g_udp_socket, udp_port, NX_NO_WAIT) != NX_SUCCESS) {
        return false;
    }
    return tx_thread_create(&g_echo_thread, const_cast<CHAR*>("echo service"), echo_service, 0,
                            g_echo_stack, sizeof g_echo_stack, kServicePriority, kServicePriority,
                            TX_NO_TIME_SLICE, TX_AUTO_START) == TX_SUCCESS &&
           tx_thread_create(&g_udp_thread, const_cast<CHAR*>("udp service"), udp_service, 0,
                            g_udp_stack, sizeof g_udp_stack, kServicePriority, kServicePriority,
                            TX_NO_TIME_SLICE, TX_AUTO_START) == TX_SUCCESS;
}

ServiceCounts service_counts() {
    return g_counts;
}

}  // namespace vigil::netxduo_device

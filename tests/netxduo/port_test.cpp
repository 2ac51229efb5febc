// The NetX Duo port on the real stack. ThreadX and NetX Duo run as this Linux process (the
// ThreadX Linux port); two IP instances, "device" and "peer", talk ICMP, ICMPv6, UDP and TCP over
// IPv4 and IPv6 across NetX's RAM driver. Vigil is enabled with one call and hooks both. What it
// publishes is decoded and compared, flow by flow and byte for byte, with what the driver was
// given; the one documented difference is NetX's outbound neighbour solicitations, which never
// pass the filter.
//
// gtest runs inside a ThreadX thread: main() hands the process to tx_kernel_enter().
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "nx_api.h"
#include "one_second_config.hpp"
#include "two_instances.hpp"
#include "tx_api.h"
#include "vigil/agent/config.h"
#include "vigil/ports/netxduo.h"
#include "vigil/protocol/message.h"
#include "vigil/protocol/wire.h"
#include "wire_tally.hpp"

namespace {

using namespace vigil::test::netx;
using vigil::protocol::Message;

// Built twice: counting inbound packets in the IP filter (the default) and where NetX hands them
// to TCP/UDP/ICMP/ICMPv6. The traffic here is all accepted by NetX, so both must report the same.
#ifndef VIGIL_TEST_INBOUND_AT_TRANSPORT
#define VIGIL_TEST_INBOUND_AT_TRANSPORT 0
#endif

constexpr char kDeviceId[] = "netx-device-1";
constexpr char kTopic[] = "devices/netx-device-1/messages/events/";
constexpr char kBoard[] = "linux-sim-board";
constexpr char kFirmware[] = "fw-2.7.1";
constexpr UINT kVigilThreadPriority = 10;
constexpr ULONG kWait = 2 * TX_TIMER_TICKS_PER_SECOND;

// What the transport was given, in fixed slots: it runs in the Vigil thread, which must not
// allocate (a ThreadX thread may be stopped anywhere, malloc's lock included).
struct Slot {
    size_t length;
    uint8_t bytes[VIGIL_MAX_MESSAGE_BYTES];
};
constexpr size_t kMaxMessages = 512;
Slot g_outbox[kMaxMessages];
size_t g_outbox_count = 0;
size_t g_wrong_topic = 0;

bool transport_connected(void*) {
    return true;
}

int32_t transport_send(void*, const char* topic, const char*, const uint8_t* payload,
                       size_t length) {
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    if (std::strcmp(topic, kTopic) != 0) {
        ++g_wrong_topic;
    }
    if (g_outbox_count < kMaxMessages && length <= sizeof(g_outbox[0].bytes)) {
        Slot& slot = g_outbox[g_outbox_count++];
        slot.length = length;
        std::memcpy(slot.bytes, payload, length);
    }
    TX_RESTORE
    return 1;
}

std::vector<Message> published() {
    std::vector<Slot> copy(kMaxMessages);
    TX_INTERRUPT_SAVE_AREA
    TX_DISABLE
    const size_t count = g_outbox_count;
    std::memcpy(copy.data(), g_outbox, count * sizeof(Slot));
    TX_RESTORE
    std::vector<Message> out;
    for (size_t i = 0; i < count; ++i) {
        Message message;
        const auto result = vigil::protocol::decode_message(copy[i].bytes, copy[i].length, message);
        EXPECT_TRUE(result.ok()) << "message " << i << ": " << result.detail;
        out.push_back(std::move(message));
    }
    return out;
}

// A filter another component installed before Vigil: Vigil must chain it, not replace it.
ULONG g_firewall_calls = 0;
bool g_refuse_echo_requests = false;  // then refuses IPv4 echo requests, in and out

bool echo_request_v4(const NX_PACKET* packet) {
    const UCHAR* ip = packet->nx_packet_prepend_ptr;
    return ip[0] >> 4 == 4 && ip[9] == 1 && ip[(ip[0] & 0x0F) * 4] == 8;
}

UINT firewall(NX_IP*, NX_PACKET* packet, UINT) {
    __atomic_fetch_add(&g_firewall_calls, 1UL, __ATOMIC_RELAXED);
    return g_refuse_echo_requests && echo_request_v4(packet) ? NX_NOT_SUCCESSFUL : NX_SUCCESS;
}

NXD_ADDRESS v4(ULONG address) {
    NXD_ADDRESS a{};
    a.nxd_ip_version = NX_IP_VERSION_V4;
    a.nxd_ip_address.v4 = address;
    return a;
}

void ping(NX_IP& from, NXD_ADDRESS to, size_t bytes) {
    std::string data(bytes, 'p');
    NX_PACKET* response = nullptr;
    ASSERT_EQ(nxd_icmp_ping(&from, &to, data.data(), static_cast<ULONG>(bytes), &response, kWait),
              static_cast<UINT>(NX_SUCCESS));
    nx_packet_release(response);
}

NX_PACKET* packet_of(size_t bytes, ULONG type) {
    NX_PACKET* packet = nullptr;
    EXPECT_EQ(nx_packet_allocate(&g_pool, &packet, type, kWait), static_cast<UINT>(NX_SUCCESS));
    std::string data(bytes, 'd');
    EXPECT_EQ(nx_packet_data_append(packet, data.data(), static_cast<ULONG>(bytes), &g_pool, kWait),
              static_cast<UINT>(NX_SUCCESS));
    return packet;
}

void udp_send(NX_UDP_SOCKET& socket, NXD_ADDRESS to, UINT port, size_t bytes) {
    NX_PACKET* packet = packet_of(bytes, NX_IPv6_UDP_PACKET);
    ASSERT_EQ(nxd_udp_socket_send(&socket, packet, &to, port), static_cast<UINT>(NX_SUCCESS));
}

void udp_receive(NX_UDP_SOCKET& socket, size_t bytes) {
    NX_PACKET* packet = nullptr;
    ASSERT_EQ(nx_udp_socket_receive(&socket, &packet, kWait), static_cast<UINT>(NX_SUCCESS));
    EXPECT_EQ(packet->nx_packet_length, bytes);
    nx_packet_release(packet);
}

void tcp_send(NX_TCP_SOCKET& socket, size_t bytes) {
    NX_PACKET* packet = packet_of(bytes, NX_IPv6_TCP_PACKET);
    ASSERT_EQ(nx_tcp_socket_send(&socket, packet, kWait), static_cast<UINT>(NX_SUCCESS));
}

void tcp_receive(NX_TCP_SOCKET& socket, size_t bytes) {
    size_t received = 0;
    while (received < bytes) {
        NX_PACKET* packet = nullptr;
        ASSERT_EQ(nx_tcp_socket_receive(&socket, &packet, kWait), static_cast<UINT>(NX_SUCCESS));
        received += packet->nx_packet_length;
        nx_packet_release(packet);
    }
    EXPECT_EQ(received, bytes);
}

// One TCP connection from the peer to the device's listener: a request, a reply, then the peer
// resets it (a disconnect that does not wait is a reset in NetX). NetX sends the SYN-ACK only
// once the server accepts, so the connect does not wait either.
void tcp_exchange(NX_TCP_SOCKET& server, NX_TCP_SOCKET& client, NXD_ADDRESS to, UINT from_port) {
    ASSERT_EQ(nx_tcp_client_socket_bind(&client, from_port, NX_NO_WAIT),
              static_cast<UINT>(NX_SUCCESS));
    nxd_tcp_client_socket_connect(&client, &to, 5000, NX_NO_WAIT);
    ASSERT_EQ(nx_tcp_server_socket_accept(&server, kWait), static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_socket_state_wait(&client, NX_TCP_ESTABLISHED, kWait),
              static_cast<UINT>(NX_SUCCESS));
    tcp_send(client, 300);
    tcp_receive(server, 300);
    tcp_send(server, 50);
    tcp_receive(client, 50);
    nx_tcp_socket_disconnect(&client, NX_NO_WAIT);
    tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    EXPECT_EQ(nx_tcp_socket_disconnect(&server, kWait), static_cast<UINT>(NX_NOT_CONNECTED))
        << "the reset has closed the server's side";
    EXPECT_EQ(nx_tcp_server_socket_unaccept(&server), static_cast<UINT>(NX_SUCCESS));
    EXPECT_EQ(nx_tcp_server_socket_relisten(&g_device, 5000, &server),
              static_cast<UINT>(NX_SUCCESS));
    EXPECT_EQ(nx_tcp_client_socket_unbind(&client), static_cast<UINT>(NX_SUCCESS));
}

std::string text(const vigil::wire::Address& a) {
    return vigil::protocol::to_string(a);
}

std::string version(unsigned major, unsigned minor, unsigned patch) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

NX_UDP_SOCKET g_device_udp;
NX_UDP_SOCKET g_peer_udp;
NX_TCP_SOCKET g_server;
NX_TCP_SOCKET g_client;

using Receive = void (*)(NX_IP*, NX_PACKET*);
Receive g_original_tcp = nullptr;
Receive g_original_icmpv6 = nullptr;

TEST(NetxduoPort, ReportsEveryFlowOfBothIpInstancesExactly) {
    g_device.nx_ip_packet_filter_extended = firewall;
    g_original_tcp = g_device.nx_ip_tcp_packet_receive;
    g_original_icmpv6 = g_device.nx_ip_icmpv6_packet_process;
    const std::vector<uint8_t> config = one_second_config();
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = kDeviceId;
    settings.transport = vigil_transport{nullptr, transport_connected, transport_send};
    settings.board = kBoard;
    settings.firmware_version = kFirmware;
    settings.local_config = config.data();
    settings.local_config_length = config.size();
    settings.thread_priority = kVigilThreadPriority;
    settings.inbound_at_transport = VIGIL_TEST_INBOUND_AT_TRANSPORT;

    // Enable and start recording the wire at one instant: nothing else runs in between.
    UINT old_threshold = 0;
    tx_thread_preemption_change(tx_thread_identify(), 0, &old_threshold);
    ASSERT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_SUCCESS));
    start_recording();
    tx_thread_preemption_change(tx_thread_identify(), old_threshold, &old_threshold);
    EXPECT_NE(g_device.nx_ip_packet_filter_extended, firewall) << "Vigil's filter is in front";
    EXPECT_NE(g_peer.nx_ip_packet_filter_extended, nullptr) << "every IP instance is hooked";
    EXPECT_EQ(g_device.nx_ip_tcp_packet_receive != g_original_tcp,
              VIGIL_TEST_INBOUND_AT_TRANSPORT != 0);
    EXPECT_EQ(g_device.nx_ip_icmpv6_packet_process != g_original_icmpv6,
              VIGIL_TEST_INBOUND_AT_TRANSPORT != 0);

    // IPv6 addresses after enabling, so duplicate address detection runs under the hook.
    set_ipv6_addresses();
    tx_thread_sleep(4 * TX_TIMER_TICKS_PER_SECOND);

    ASSERT_EQ(nx_udp_socket_create(&g_device, &g_device_udp, const_cast<CHAR*>("device udp"),
                                   NX_IP_NORMAL, NX_FRAGMENT_OKAY, 0x80, 8),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_udp_socket_bind(&g_device_udp, 7001, NX_NO_WAIT), static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_udp_socket_create(&g_peer, &g_peer_udp, const_cast<CHAR*>("peer udp"),
                                   NX_IP_NORMAL, NX_FRAGMENT_OKAY, 0x80, 8),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_udp_socket_bind(&g_peer_udp, 7100, NX_NO_WAIT), static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_socket_create(&g_device, &g_server, const_cast<CHAR*>("server"), NX_IP_NORMAL,
                                   NX_FRAGMENT_OKAY, 0x80, 8192, NX_NULL, NX_NULL),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_server_socket_listen(&g_device, 5000, &g_server, 4, NX_NULL),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_socket_create(&g_peer, &g_client, const_cast<CHAR*>("client"), NX_IP_NORMAL,
                                   NX_FRAGMENT_OKAY, 0x80, 8192, NX_NULL, NX_NULL),
              static_cast<UINT>(NX_SUCCESS));

    ping(g_peer, v4(kDeviceV4), 32);
    ping(g_peer, v4(kDeviceV4), 100);
    ping(g_device, v4(kPeerV4), 8);
    ping(g_peer, device_v6(), 56);
    for (size_t bytes : {10, 100, 1000}) {
        udp_send(g_peer_udp, v4(kDeviceV4), 7001, bytes);
        udp_receive(g_device_udp, bytes);
    }
    udp_send(g_device_udp, v4(kPeerV4), 7100, 20);
    udp_receive(g_peer_udp, 20);
    udp_send(g_peer_udp, device_v6(), 7001, 64);
    udp_receive(g_device_udp, 64);
    udp_send(g_peer_udp, v4(kDeviceV4), 7999, 12);  // a closed port: ICMP port unreachable
    tcp_exchange(g_server, g_client, v4(kDeviceV4), 6000);
    tcp_exchange(g_server, g_client, device_v6(), 6001);

    // Quiet from here on. Wait for the windows holding the last packets to be published.
    Expected expected;
    Flows reported;
    std::vector<Message> messages;
    for (int attempt = 0; attempt < 50; ++attempt) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 5);
        expected = expected_flows(recorded());
        messages = published();
        reported = reported_flows(messages);
        if (attempt >= 5 && reported == expected.flows) {
            break;
        }
    }
    stop_recording();

    std::printf(
        "wire: %zu IP packets, %zu flows, %zu outbound neighbour solicitations; "
        "agent: %zu messages\n",
        expected.ip_packets, expected.flows.size(), expected.neighbour_solicitations_out,
        messages.size());
    for (const auto& [key, totals] : expected.flows) {
        std::printf("  %s: %s\n", describe(key).c_str(), describe(totals).c_str());
    }
    EXPECT_EQ(g_wrong_topic, 0u);
    EXPECT_GT(expected.flows.size(), 10u);
    for (const auto& [key, totals] : expected.flows) {
        const auto found = reported.find(key);
        if (found == reported.end()) {
            ADD_FAILURE() << "not reported: " << describe(key) << " " << describe(totals);
        } else {
            EXPECT_EQ(found->second, totals)
                << describe(key) << ": reported " << describe(found->second) << ", on the wire "
                << describe(totals);
        }
    }
    for (const auto& [key, totals] : reported) {
        if (expected.flows.count(key) == 0) {
            ADD_FAILURE() << "not on the wire: " << describe(key) << " " << describe(totals);
        }
    }
    // The documented exception: NetX's neighbour solicitations (DAD and address resolution)
    // reach the driver without passing the outbound filter.
    EXPECT_GE(expected.neighbour_solicitations_out, 6u) << "3 DAD probes per address at least";
    for (const auto& [key, totals] : reported) {
        if (key.family == 6 && key.protocol == 2 && key.local_port == 135) {
            EXPECT_EQ(totals.packets_out, 0u) << "an outbound NS seen: " << describe(key);
        }
    }
    // Nothing lost to a full table.
    for (const Message& message : messages) {
        if (message.network) {
            EXPECT_TRUE(message.network->overflow.empty());
        }
    }
    // The hook stamps packets with the agent's clock in the agent's unit: every flow's packets
    // fall within its window (a packet stamped while the window closes may be one tick late).
    for (const Message& message : messages) {
        if (!message.network) {
            continue;
        }
        const uint32_t window_s = message.network->window_duration_ms / 1000;
        for (const vigil::protocol::Flow& flow : message.network->flows) {
            EXPECT_LE(flow.fields.first_s, flow.fields.last_s);
            EXPECT_LE(flow.fields.last_s, window_s + 1)
                << "a packet stamped " << flow.fields.last_s << " s into a window of "
                << message.network->window_duration_ms << " ms";
        }
    }

    const Message* system = nullptr;
    const Message* ports = nullptr;
    for (const Message& message : messages) {
        system = message.system ? &message : system;
        ports = message.listening_ports ? &message : ports;
    }
    ASSERT_NE(system, nullptr);
    const vigil::protocol::SystemInformation& info = *system->system;
    EXPECT_EQ(info.os_name, "Eclipse ThreadX");
    EXPECT_EQ(info.os_version,
              version(THREADX_MAJOR_VERSION, THREADX_MINOR_VERSION, THREADX_PATCH_VERSION));
    EXPECT_EQ(info.stack_name, "NetX Duo");
    EXPECT_EQ(info.stack_version,
              version(NETXDUO_MAJOR_VERSION, NETXDUO_MINOR_VERSION, NETXDUO_PATCH_VERSION));
    EXPECT_EQ(info.board, kBoard);
    EXPECT_EQ(info.firmware_version, kFirmware);
    std::vector<std::string> addresses;
    for (const auto& a : info.addresses) {
        addresses.push_back(text(a));
    }
    EXPECT_EQ(addresses, (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "fd00::1", "fd00::2"}));
    std::set<std::string> macs;
    for (const auto& mac : info.macs) {
        char buffer[18];
        std::snprintf(buffer, sizeof(buffer), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                      mac[2], mac[3], mac[4], mac[5]);
        macs.insert(buffer);
    }
    // NetX's RAM driver gives its n-th interface 00:11:22:33:44:56 + n.
    EXPECT_EQ(macs, (std::set<std::string>{"00:11:22:33:44:56", "00:11:22:33:44:57"}));

    ASSERT_NE(ports, nullptr);
    std::set<std::string> listening;
    for (const auto& port : *ports->listening_ports) {
        listening.insert((port.protocol == vigil::wire::Protocol::Tcp ? "tcp " : "udp ") +
                         std::to_string(port.port) + (port.address.family == 0 ? " any" : ""));
    }
    EXPECT_EQ(listening, (std::set<std::string>{"tcp 5000 any", "udp 7001 any", "udp 7100 any"}));

    VIGIL_NETXDUO_COUNTS counts{};
    vigil_netxduo_counts(&counts);
    EXPECT_EQ(counts.ip_instances_hooked, 2u);
    EXPECT_EQ(counts.ip_instances_skipped, 0u);
    EXPECT_GT(counts.ticks, 0u);
    EXPECT_GT(g_firewall_calls, 0u) << "the filter that was there first still sees every packet";
}

TEST(NetxduoPort, DisableRestoresTheFiltersAndEnableChainsAgain) {
    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
    EXPECT_EQ(g_device.nx_ip_packet_filter_extended, firewall);
    EXPECT_EQ(g_peer.nx_ip_packet_filter_extended, nullptr);
    EXPECT_EQ(g_device.nx_ip_tcp_packet_receive, g_original_tcp);
    EXPECT_EQ(g_device.nx_ip_icmpv6_packet_process, g_original_icmpv6);

    VIGIL_NETXDUO_COUNTS before{};
    vigil_netxduo_counts(&before);
    const ULONG firewall_before = g_firewall_calls;
    ping(g_peer, v4(kDeviceV4), 16);
    VIGIL_NETXDUO_COUNTS after{};
    vigil_netxduo_counts(&after);
    EXPECT_EQ(after.packets_in, before.packets_in) << "disabled: nothing observed";
    EXPECT_EQ(after.packets_out, before.packets_out);
    EXPECT_EQ(g_firewall_calls, firewall_before + 2) << "the request in, the reply out";

    VIGIL_NETXDUO_SETTINGS ignored{};
    ignored.device_id = kDeviceId;
    ignored.transport = vigil_transport{nullptr, transport_connected, transport_send};
    ASSERT_EQ(vigil_netxduo_enable(&ignored), static_cast<UINT>(NX_SUCCESS));
    EXPECT_NE(g_device.nx_ip_packet_filter_extended, firewall);
    EXPECT_NE(g_peer.nx_ip_packet_filter_extended, nullptr);
    ping(g_peer, v4(kDeviceV4), 16);
    vigil_netxduo_counts(&after);
    // Each instance sees the request and the reply once, in its own direction.
    EXPECT_EQ(after.packets_in, before.packets_in + 2);
    EXPECT_EQ(after.packets_out, before.packets_out + 2);
    EXPECT_EQ(g_firewall_calls, firewall_before + 4);
    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
}

VIGIL_NETXDUO_SETTINGS any_settings() {
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = kDeviceId;
    settings.transport = vigil_transport{nullptr, transport_connected, transport_send};
    return settings;
}

VIGIL_NETXDUO_COUNTS counts_now() {
    VIGIL_NETXDUO_COUNTS counts{};
    vigil_netxduo_counts(&counts);
    return counts;
}

TEST(NetxduoPort, HooksAnIpInstanceCreatedWhileEnabledAndFreesADeletedOne) {
    const VIGIL_NETXDUO_SETTINGS settings = any_settings();
    ASSERT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_SUCCESS));
    create_late_instance();
    for (int i = 0; i < 20 && counts_now().ip_instances_hooked < 3; ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    EXPECT_EQ(counts_now().ip_instances_hooked, 3u) << "hooked by the Vigil thread's next tick";
    EXPECT_NE(g_late.nx_ip_packet_filter_extended, nullptr);
    const VIGIL_NETXDUO_COUNTS before = counts_now();
    ping(g_late, v4(kDeviceV4), 8);
    const VIGIL_NETXDUO_COUNTS after = counts_now();
    EXPECT_EQ(after.packets_out, before.packets_out + 2) << "the request from late, the reply";
    EXPECT_EQ(after.packets_in, before.packets_in + 2);

    delete_late_instance();
    for (int i = 0; i < 20 && counts_now().ip_instances_hooked > 2; ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    EXPECT_EQ(counts_now().ip_instances_hooked, 2u) << "its slot is free again";
    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
}

TEST(NetxduoPort, CountsWhatArrivesAndOnlyWhatLeavesWhenAChainedFilterRefuses) {
    const VIGIL_NETXDUO_SETTINGS settings = any_settings();
    ASSERT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_SUCCESS));
    EXPECT_NE(g_device.nx_ip_packet_filter_extended, firewall);
    g_refuse_echo_requests = true;
    NX_PACKET* response = nullptr;

    // Out of the device: refused by the firewall, never sent, not counted.
    VIGIL_NETXDUO_COUNTS before = counts_now();
    ULONG firewall_before = g_firewall_calls;
    EXPECT_NE(nx_icmp_ping(&g_device, kPeerV4, const_cast<CHAR*>("x"), 1, &response, 20),
              static_cast<UINT>(NX_SUCCESS));
    VIGIL_NETXDUO_COUNTS after = counts_now();
    EXPECT_EQ(g_firewall_calls, firewall_before + 1);
    EXPECT_EQ(after.packets_out, before.packets_out);
    EXPECT_EQ(after.packets_in, before.packets_in);

    // Into the device: it arrived, so the IP filter counts it before the firewall drops it;
    // counted at the transport, it never gets there.
    before = counts_now();
    firewall_before = g_firewall_calls;
    EXPECT_NE(nx_icmp_ping(&g_peer, kDeviceV4, const_cast<CHAR*>("x"), 1, &response, 20),
              static_cast<UINT>(NX_SUCCESS));
    after = counts_now();
    EXPECT_EQ(g_firewall_calls, firewall_before + 1);
    EXPECT_EQ(after.packets_out, before.packets_out + 1) << "the peer's request";
    EXPECT_EQ(after.packets_in, before.packets_in + (VIGIL_TEST_INBOUND_AT_TRANSPORT ? 0 : 1));

    g_refuse_echo_requests = false;
    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
}

// ThreadX's tick counter is 32 bits: the port must carry the clock across its wrap, or the agent
// sees time go back (and says so in its heartbeat).
TEST(NetxduoPort, ClockCarriesAcrossTheTickCounterWrap) {
    const VIGIL_NETXDUO_SETTINGS settings = any_settings();
    ASSERT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_SUCCESS));
    tx_time_set(0xFFFFFFFFUL - TX_TIMER_TICKS_PER_SECOND / 2);
    tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND);
    ASSERT_LT(tx_time_get(), TX_TIMER_TICKS_PER_SECOND) << "the counter has wrapped";
    const size_t seen = published().size();
    const Message* last_heartbeat = nullptr;
    std::vector<Message> messages;
    for (int i = 0; i < 30 && last_heartbeat == nullptr; ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 5);
        messages = published();
        for (size_t m = seen; m < messages.size(); ++m) {
            last_heartbeat = messages[m].heartbeat ? &messages[m] : last_heartbeat;
        }
    }
    ASSERT_NE(last_heartbeat, nullptr) << "a heartbeat after the wrap";
    EXPECT_EQ(last_heartbeat->heartbeat->clock_jumps, 0u);
    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
}

TEST(NetxduoPort, RefusesMissingSettings) {
    EXPECT_EQ(vigil_netxduo_enable(nullptr), static_cast<UINT>(NX_PTR_ERROR));
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.transport = vigil_transport{nullptr, transport_connected, transport_send};
    EXPECT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_PTR_ERROR));
}

}  // namespace

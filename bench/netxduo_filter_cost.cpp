// Vigil's NetX Duo filter on packets of a flow it already holds, for the port's
// footprint/filter_cost.sh: two IP instances on NetX's RAM driver (tests/netxduo), Vigil enabled
// on both, and UDP datagrams from the peer to the device on one flow. NetX itself calls the
// filter, once outbound on the peer and once inbound on the device per datagram. A few datagrams
// first create the flows and resolve ARP; then COUNT more follow. Running it for two counts and
// subtracting leaves only existing-flow packets.
//
//   vigil_bench_netxduo_filter COUNT
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "two_instances.hpp"
#include "vigil/ports/netxduo.h"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

namespace {

using namespace vigil::test::netx;

constexpr UINT kDevicePort = 7001;
constexpr UINT kPeerPort = 7100;
constexpr ULONG kWait = TX_TIMER_TICKS_PER_SECOND;
constexpr int kWarmUpDatagrams = 8;
constexpr UINT kBenchThreadPriority = 16;  // below the IP threads and Vigil's
// Windows far longer than the run, so no window closes (and empties the flow table) mid-run.
constexpr uint32_t kIntervalS = 3600;

TX_THREAD g_thread;
alignas(16) UCHAR g_stack[65536];
NX_UDP_SOCKET g_device_udp;
NX_UDP_SOCKET g_peer_udp;
long g_datagrams = 0;
uint8_t g_config[64];

bool connected(void*) {
    return true;
}

int32_t taken(void*, const char*, const char*, const uint8_t*, size_t) {
    return 1;
}

size_t long_windows() {
    vigil::wire::ConfigFields config;
    config.version = 0;
    for (uint32_t& interval : config.interval_s) {
        interval = kIntervalS;
    }
    vigil::cbor::Writer writer(g_config, sizeof g_config);
    vigil::wire::encode_config(writer, config);
    return writer.ok() ? writer.size() : 0;
}

bool exchange_one() {
    static char payload[32] = {};
    NX_PACKET* packet = nullptr;
    if (nx_packet_allocate(&g_pool, &packet, NX_IPv4_UDP_PACKET, kWait) != NX_SUCCESS) {
        return false;
    }
    if (nx_packet_data_append(packet, payload, sizeof payload, &g_pool, kWait) != NX_SUCCESS) {
        nx_packet_release(packet);
        return false;
    }
    NXD_ADDRESS to{};
    to.nxd_ip_version = NX_IP_VERSION_V4;
    to.nxd_ip_address.v4 = kDeviceV4;
    if (nxd_udp_socket_send(&g_peer_udp, packet, &to, kDevicePort) != NX_SUCCESS) {
        nx_packet_release(packet);
        return false;
    }
    NX_PACKET* received = nullptr;
    if (nx_udp_socket_receive(&g_device_udp, &received, kWait) != NX_SUCCESS) {
        return false;
    }
    nx_packet_release(received);
    return true;
}

void fail(const char* what) {
    std::fprintf(stderr, "vigil_bench_netxduo_filter: %s\n", what);
    std::fflush(stderr);
    _exit(1);
}

void run(ULONG) {
    if (nx_udp_socket_create(&g_device, &g_device_udp, const_cast<CHAR*>("device udp"),
                             NX_IP_NORMAL, NX_FRAGMENT_OKAY, 0x80, 8) != NX_SUCCESS ||
        nx_udp_socket_bind(&g_device_udp, kDevicePort, NX_NO_WAIT) != NX_SUCCESS ||
        nx_udp_socket_create(&g_peer, &g_peer_udp, const_cast<CHAR*>("peer udp"), NX_IP_NORMAL,
                             NX_FRAGMENT_OKAY, 0x80, 8) != NX_SUCCESS ||
        nx_udp_socket_bind(&g_peer_udp, kPeerPort, NX_NO_WAIT) != NX_SUCCESS) {
        fail("cannot create the UDP sockets");
    }
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = "filter-bench";
    settings.transport.is_connected = &connected;
    settings.transport.send = &taken;
    settings.local_config = g_config;
    settings.local_config_length = long_windows();
    if (settings.local_config_length == 0 || vigil_netxduo_enable(&settings) != NX_SUCCESS) {
        fail("cannot enable Vigil");
    }
    tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 2);  // the agent's first ticks: active
    for (long i = 0; i < kWarmUpDatagrams + g_datagrams; ++i) {
        if (!exchange_one()) {
            fail("a datagram was lost");
        }
    }
    VIGIL_NETXDUO_COUNTS counts{};
    vigil_netxduo_counts(&counts);
    std::printf("datagrams %ld (+%d to start the flows); the filter saw %lu in, %lu out\n",
                g_datagrams, kWarmUpDatagrams, static_cast<unsigned long>(counts.packets_in),
                static_cast<unsigned long>(counts.packets_out));
    std::fflush(stdout);
    _exit(0);  // other ThreadX threads still run: no static destructors
}

}  // namespace

extern "C" void tx_application_define(void*) {
    create_network();
    tx_thread_create(&g_thread, const_cast<CHAR*>("bench"), run, 0, g_stack, sizeof(g_stack),
                     kBenchThreadPriority, kBenchThreadPriority, TX_NO_TIME_SLICE, TX_AUTO_START);
}

int main(int argc, char** argv) {
    g_datagrams = argc == 2 ? std::atol(argv[1]) : -1;
    if (g_datagrams < 0) {
        std::fprintf(stderr, "usage: vigil_bench_netxduo_filter COUNT\n");
        return 2;
    }
    tx_kernel_enter();
    return 1;
}

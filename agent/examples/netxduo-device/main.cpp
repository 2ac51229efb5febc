// An example device: Eclipse ThreadX and NetX Duo as a Linux process (the ThreadX Linux port),
// on a TAP device of the project's own driver, with a TCP echo service, a UDP service and Vigil
// enabled with one call, publishing over NetX Duo's MQTT client.
//
//   vigil-netxduo-device --tap vtap0 --ipv4 198.18.0.2/24 --ipv6 2001:db8:7::2
//                        --broker 198.18.0.1:1883 --device-id netx-1 [--interval S]
//                        [--username U --password P] [--echo-port 7000] [--udp-port 7001]
//
// Runs until SIGTERM or SIGINT, then prints its counts and exits 0. The MQTT add-on passes its
// client pointer through 32-bit ULONGs on 64-bit hosts, so the client is a static object and the
// program is linked without PIE (it then sits below 4 GiB).
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "nx_api.h"
#include "nxd_mqtt_client.h"
#include "services.hpp"
#include "tap_driver.hpp"
#include "tx_api.h"
#include "vigil/ports/netxduo.h"
#include "vigil/ports/netxduo_mqtt.h"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

namespace {

using namespace vigil::netxduo_device;

struct Options {
    std::string tap;
    ULONG ipv4 = 0;
    ULONG ipv4_mask = 0;
    ULONG ipv6[4] = {};
    bool has_ipv6 = false;
    ULONG broker = 0;
    UINT broker_port = 1883;
    std::string device_id;
    std::string username;
    std::string password;
    UINT echo_port = 7000;
    UINT udp_port = 7001;
    uint32_t interval_s = 0;  // 0: the build's defaults
};

Options g_options;

constexpr ULONG kMacMsw = 0x0200;
constexpr ULONG kMacLsw = 0x5E100002;
constexpr ULONG kPacketPayload = 1536;
constexpr size_t kPacketCount = 256;
constexpr ULONG kWait = 2 * TX_TIMER_TICKS_PER_SECOND;
constexpr ULONG kPollTicks = TX_TIMER_TICKS_PER_SECOND / 10;

NX_PACKET_POOL g_pool;
alignas(16) UCHAR g_pool_memory[kPacketCount * (kPacketPayload + sizeof(NX_PACKET) + 32)];
NX_IP g_ip;
alignas(16) UCHAR g_ip_stack[16384];
alignas(16) UCHAR g_arp_cache[2048];
TX_THREAD g_main_thread;
alignas(16) UCHAR g_main_stack[16384];

NXD_MQTT_CLIENT g_client;
alignas(16) UCHAR g_client_stack[16384];
alignas(16) UCHAR g_client_memory[4096];
VIGIL_NETXDUO_MQTT g_vigil_mqtt;
uint8_t g_config[128];

void note(const char* format, ...) __attribute__((format(printf, 1, 2)));
void note(const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vfprintf(stdout, format, args);
    va_end(args);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void usage() {
    std::fprintf(
        stderr,
        "usage: vigil-netxduo-device --tap NAME --ipv4 A.B.C.D/LEN --broker A.B.C.D[:PORT]\n"
        "         --device-id ID [--ipv6 ADDR (a /64)] [--interval S]\n"
        "         [--username U --password P] [--echo-port N] [--udp-port N]\n");
}

bool parse_ipv4(const char* text, ULONG& address) {
    in_addr parsed{};
    if (inet_pton(AF_INET, text, &parsed) != 1) {
        return false;
    }
    address = ntohl(parsed.s_addr);
    return true;
}

bool parse_options(int argc, char** argv, Options& options) {
    enum { kTap = 1, kIpv4, kIpv6, kBroker, kDeviceId, kUser, kPassword, kEcho, kUdp, kInterval };
    static const option kLong[] = {{"tap", required_argument, nullptr, kTap},
                                   {"ipv4", required_argument, nullptr, kIpv4},
                                   {"ipv6", required_argument, nullptr, kIpv6},
                                   {"broker", required_argument, nullptr, kBroker},
                                   {"device-id", required_argument, nullptr, kDeviceId},
                                   {"username", required_argument, nullptr, kUser},
                                   {"password", required_argument, nullptr, kPassword},
                                   {"echo-port", required_argument, nullptr, kEcho},
                                   {"udp-port", required_argument, nullptr, kUdp},
                                   {"interval", required_argument, nullptr, kInterval},
                                   {nullptr, 0, nullptr, 0}};
    int c = 0;
    while ((c = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
        const std::string value = optarg != nullptr ? optarg : "";
        switch (c) {
            case kTap:
                options.tap = value;
                break;
            case kIpv4: {
                const size_t slash = value.find('/');
                const int bits =
                    slash == std::string::npos ? 24 : std::atoi(value.c_str() + slash + 1);
                if (bits < 1 || bits > 30 ||
                    !parse_ipv4(value.substr(0, slash).c_str(), options.ipv4)) {
                    return false;
                }
                options.ipv4_mask = 0xFFFFFFFFu << (32 - bits);
                break;
            }
            case kIpv6: {
                in6_addr parsed{};
                if (inet_pton(AF_INET6, value.c_str(), &parsed) != 1) {
                    return false;
                }
                for (int word = 0; word < 4; ++word) {
                    const uint8_t* b = parsed.s6_addr + word * 4;
                    options.ipv6[word] = static_cast<ULONG>(b[0]) << 24 |
                                         static_cast<ULONG>(b[1]) << 16 |
                                         static_cast<ULONG>(b[2]) << 8 | b[3];
                }
                options.has_ipv6 = true;
                break;
            }
            case kBroker: {
                const size_t colon = value.find(':');
                if (!parse_ipv4(value.substr(0, colon).c_str(), options.broker)) {
                    return false;
                }
                if (colon != std::string::npos) {
                    options.broker_port = static_cast<UINT>(std::atoi(value.c_str() + colon + 1));
                }
                break;
            }
            case kDeviceId:
                options.device_id = value;
                break;
            case kUser:
                options.username = value;
                break;
            case kPassword:
                options.password = value;
                break;
            case kEcho:
                options.echo_port = static_cast<UINT>(std::atoi(value.c_str()));
                break;
            case kUdp:
                options.udp_port = static_cast<UINT>(std::atoi(value.c_str()));
                break;
            case kInterval:
                options.interval_s = static_cast<uint32_t>(std::atoi(value.c_str()));
                break;
            default:
                return false;
        }
    }
    return !options.tap.empty() && options.ipv4 != 0 && options.broker != 0 &&
           !options.device_id.empty();
}

uint32_t unix_time() {
    return static_cast<uint32_t>(std::time(nullptr));
}

/// The collection intervals of the command line as the device's starting config (version 0),
/// which a config from the hub replaces.
size_t starting_config() {
    if (g_options.interval_s == 0) {
        return 0;
    }
    vigil::wire::ConfigFields config;
    config.version = 0;
    for (uint32_t& interval : config.interval_s) {
        interval = g_options.interval_s;
    }
    config.retry_s = 1;
    vigil::cbor::Writer writer(g_config, sizeof g_config);
    vigil::wire::encode_config(writer, config);
    return writer.ok() ? writer.size() : 0;
}

bool stop_requested() {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

bool mqtt_connected() {
    return g_client.nxd_mqtt_client_state == NXD_MQTT_CLIENT_STATE_CONNECTED;
}

void connect_broker() {
    // The add-on forgets the credentials at every disconnect: set them before each connect.
    if (!g_options.username.empty() &&
        nxd_mqtt_client_login_set(&g_client, const_cast<CHAR*>(g_options.username.c_str()),
                                  static_cast<UINT>(g_options.username.size()),
                                  const_cast<CHAR*>(g_options.password.c_str()),
                                  static_cast<UINT>(g_options.password.size())) !=
            NXD_MQTT_SUCCESS) {
        note("error: the MQTT client refused the credentials");
        return;
    }
    NXD_ADDRESS broker{};
    broker.nxd_ip_version = NX_IP_VERSION_V4;
    broker.nxd_ip_address.v4 = g_options.broker;
    // A persistent session (clean session 0): QoS 1 messages the broker had not acknowledged
    // when the connection dropped stay in the client's queue and are sent again on reconnect.
    const UINT status =
        nxd_mqtt_client_connect(&g_client, &broker, g_options.broker_port, 60, NX_FALSE, kWait);
    if (status == NXD_MQTT_SUCCESS) {
        note("MQTT connected to the broker");
        const UINT subscribed =
            vigil_netxduo_mqtt_config_subscribe(&g_vigil_mqtt, g_options.device_id.c_str());
        if (subscribed != NXD_MQTT_SUCCESS) {
            note("error: cannot subscribe to the device's config topic: 0x%x", subscribed);
        }
    } else {
        // A refused or failed connect leaves the socket to be torn down before the next try.
        nxd_mqtt_client_disconnect(&g_client);
    }
}

bool bring_up() {
    if (nx_arp_enable(&g_ip, g_arp_cache, sizeof g_arp_cache) != NX_SUCCESS ||
        nx_tcp_enable(&g_ip) != NX_SUCCESS || nx_udp_enable(&g_ip) != NX_SUCCESS ||
        nxd_icmp_enable(&g_ip) != NX_SUCCESS || nxd_ipv6_enable(&g_ip) != NX_SUCCESS) {
        note("error: enabling NetX Duo's protocols failed");
        return false;
    }
    ULONG link = 0;
    if (nx_ip_status_check(&g_ip, NX_IP_LINK_ENABLED, &link, 5 * TX_TIMER_TICKS_PER_SECOND) !=
        NX_SUCCESS) {
        note("error: the TAP link did not come up");
        return false;
    }
    return true;
}

bool enable_vigil() {
    if (nxd_mqtt_client_create(&g_client, const_cast<CHAR*>("mqtt"),
                               const_cast<CHAR*>(g_options.device_id.c_str()),
                               static_cast<UINT>(g_options.device_id.size()), &g_ip, &g_pool,
                               g_client_stack, sizeof g_client_stack, 3, g_client_memory,
                               sizeof g_client_memory) != NXD_MQTT_SUCCESS) {
        note("error: cannot create the MQTT client");
        return false;
    }
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = g_options.device_id.c_str();
    settings.transport = vigil_netxduo_mqtt_transport(&g_vigil_mqtt, &g_client);
    settings.config_source = vigil_netxduo_mqtt_config_source(&g_vigil_mqtt);
    settings.board = "linux-tap";
    settings.firmware_version = "example-1";
    settings.unix_time_s = unix_time;
    settings.local_config = g_config;
    settings.local_config_length = starting_config();
    const UINT status = vigil_netxduo_enable(&settings);
    if (status != NX_SUCCESS) {
        note("error: vigil_netxduo_enable: 0x%x", status);
        return false;
    }
    return true;
}

void report_and_exit() {
    VIGIL_NETXDUO_COUNTS vigil{};
    vigil_netxduo_counts(&vigil);
    const TapCounts tap = tap_counts();
    const ServiceCounts services = service_counts();
    note(
        "frames in %lu out %lu (dropped %lu); vigil packets in %lu out %lu, ticks %lu; "
        "published %lu busy %lu failed %lu streams broken %lu; configs applied %lu refused %lu "
        "dropped %lu; "
        "echo sessions %lu (%lu bytes), datagrams %lu",
        static_cast<unsigned long>(tap.frames_in), static_cast<unsigned long>(tap.frames_out),
        static_cast<unsigned long>(tap.dropped_in), static_cast<unsigned long>(vigil.packets_in),
        static_cast<unsigned long>(vigil.packets_out), static_cast<unsigned long>(vigil.ticks),
        static_cast<unsigned long>(g_vigil_mqtt.published),
        static_cast<unsigned long>(g_vigil_mqtt.busy),
        static_cast<unsigned long>(g_vigil_mqtt.failed),
        static_cast<unsigned long>(g_vigil_mqtt.streams_broken),
        static_cast<unsigned long>(vigil.configs_applied),
        static_cast<unsigned long>(vigil.configs_refused),
        static_cast<unsigned long>(g_vigil_mqtt.configs_dropped),
        static_cast<unsigned long>(services.echo_sessions),
        static_cast<unsigned long>(services.echo_bytes),
        static_cast<unsigned long>(services.datagrams));
    ULONG sent = 0, sent_bytes = 0, received = 0, received_bytes = 0, invalid = 0, dropped = 0,
          checksum_errors = 0, send_dropped = 0, fragments_sent = 0, fragments_received = 0;
    nx_ip_info_get(&g_ip, &sent, &sent_bytes, &received, &received_bytes, &invalid, &dropped,
                   &checksum_errors, &send_dropped, &fragments_sent, &fragments_received);
    // "dropped" counts received packets (an IPv6 multicast the device did not join, say);
    // "send dropped" those NetX gave up sending (behind an unanswered ARP or neighbour request).
    note(
        "netx ip: sent %lu received %lu invalid %lu dropped %lu checksum errors %lu send dropped "
        "%lu",
        static_cast<unsigned long>(sent), static_cast<unsigned long>(received),
        static_cast<unsigned long>(invalid), static_cast<unsigned long>(dropped),
        static_cast<unsigned long>(checksum_errors), static_cast<unsigned long>(send_dropped));
    // The reader pthread blocks in read() and the ThreadX threads are parked by the port:
    // nothing is left to unwind.
    _exit(0);
}

void device_main(ULONG) {
    if (!bring_up() || !enable_vigil()) {
        _exit(1);
    }
    if (g_options.has_ipv6) {
        NXD_ADDRESS global{};
        global.nxd_ip_version = NX_IP_VERSION_V6;
        std::memcpy(global.nxd_ip_address.v6, g_options.ipv6, sizeof g_options.ipv6);
        UINT index = 0;
        if (nxd_ipv6_address_set(&g_ip, 0, NX_NULL, 10, &index) != NX_SUCCESS ||
            nxd_ipv6_address_set(&g_ip, 0, &global, 64, &index) != NX_SUCCESS) {
            note("error: cannot set the IPv6 addresses");
            _exit(1);
        }
    }
    if (!start_services(&g_ip, &g_pool, g_options.echo_port, g_options.udp_port)) {
        note("error: cannot start the services");
        _exit(1);
    }
    note("ready: echo on tcp %u, datagrams on udp %u, vigil enabled", g_options.echo_port,
         g_options.udp_port);
    ULONG next_connect = 0;
    while (!stop_requested()) {
        if (tap_counts().read_failed != 0) {
            note("error: the TAP %s is gone", g_options.tap.c_str());
            _exit(1);
        }
        if (!mqtt_connected() && tx_time_get() >= next_connect) {
            connect_broker();
            next_connect = tx_time_get() + TX_TIMER_TICKS_PER_SECOND;
        }
        tx_thread_sleep(kPollTicks);
    }
    report_and_exit();
}

}  // namespace

// The ThreadX Linux port gives its threads real-time priorities and, when it may not (this device
// runs without capabilities), lowers each ThreadX thread to nice 19 and its timer thread to nice
// 10 instead. Beside any busy process the device then gets a small fraction of a CPU: every
// context switch waits for a nice 19 thread, the timer thread is held meanwhile, the ticks it
// misses are never made up, and ThreadX time falls behind the wall clock by whole seconds. NetX's
// timeouts (duplicate address detection, ARP, TCP, MQTT keepalive) and Vigil's windows stretch
// with it while the peer keeps its own. Only one ThreadX thread runs at a time whatever its
// niceness, so the device keeps the niceness it was started with (the link wraps the port's
// nice()).
extern "C" int __wrap_nice(int) {
    errno = 0;
    return getpriority(PRIO_PROCESS, 0);
}

extern "C" void tx_application_define(void*) {
    nx_system_initialize();
    if (nx_packet_pool_create(&g_pool, const_cast<CHAR*>("packets"), kPacketPayload, g_pool_memory,
                              sizeof g_pool_memory) != NX_SUCCESS ||
        nx_ip_create(&g_ip, const_cast<CHAR*>("device"), g_options.ipv4, g_options.ipv4_mask,
                     &g_pool, tap_driver, g_ip_stack, sizeof g_ip_stack, 1) != NX_SUCCESS ||
        tx_thread_create(&g_main_thread, const_cast<CHAR*>("device"), device_main, 0, g_main_stack,
                         sizeof g_main_stack, 10, 10, TX_NO_TIME_SLICE,
                         TX_AUTO_START) != TX_SUCCESS) {
        note("error: cannot create the packet pool, the IP instance or the main thread");
        _exit(1);
    }
}

int main(int argc, char** argv) {
    if (!parse_options(argc, argv, g_options)) {
        usage();
        return 2;
    }
    TapSettings tap;
    tap.interface_name = g_options.tap.c_str();
    tap.mac_msw = kMacMsw;
    tap.mac_lsw = kMacLsw;
    if (!tap_open(tap)) {
        std::fprintf(stderr, "error: cannot open the TAP %s: %s\n", g_options.tap.c_str(),
                     std::strerror(errno));
        return 1;
    }
    // Every thread inherits this mask; the main ThreadX thread polls for the signals instead of
    // handling them, so no thread is interrupted and nothing runs in a signal handler.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    tx_kernel_enter();
    return 0;
}

// vigil-lwip-device: an example device on a real embedded TCP/IP stack. lwIP (Debian's liblwip)
// runs on a TAP interface with its own IPv4 and IPv6 addresses, serves a TCP echo service on
// lwIP sockets, and runs the Vigil agent on the lwIP port, which sees every frame the netif sends
// and receives. The agent's security messages go to an MQTT broker through the device's own
// MQTT client over lwIP sockets; configs arrive on devices/{id}/config/vigil.
//
// Threads: tcpip (lwIP's), tapif's rx thread, the echo service, and the main thread, which is the
// agent context: it runs the MQTT client and ticks the agent.
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "echo_service.hpp"
// Before any other lwIP header: it gives lwIP's C prototypes C linkage.
#include "vigil/ports/lwip_c.h"

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcpip.h"
#include "netif/tapif.h"
#include "vigil/agent/mqtt_transport.h"
#include "vigil/agent/vigil_agent.h"
#include "vigil/mqtt/client.h"
#include "vigil/mqtt/lwip_transport.h"
#include "vigil/ports/lwip.hpp"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

namespace {

using vigil::ports::lwip::LwipPort;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr uint32_t kLoopMs = 20;
// On SIGTERM: how long queued messages may take to reach the broker before the device gives up.
constexpr uint32_t kFlushTimeoutMs = 5000;

struct Settings {
    std::string device_id = "lwip-device";
    std::string tap;
    ip4_addr_t ipv4{};
    ip4_addr_t netmask{};
    ip4_addr_t gateway{};
    bool have_ipv4 = false;
    std::vector<std::string> ipv6;
    std::string broker_host;
    uint16_t broker_port = 1883;
    std::string username;
    std::string password;
    uint16_t service_port = 7;
    std::optional<uint32_t> intervals[vigil::wire::kPriorityCount];
    std::optional<uint32_t> retry_s;
    double duration_s = 0;  // 0: until SIGTERM / SIGINT
};

void usage(FILE* out) {
    std::fputs(
        "usage: vigil-lwip-device --tap NAME --ipv4 ADDR/PREFIX --broker HOST:PORT [options]\n"
        "\n"
        "Runs lwIP on an existing TAP interface, serves a TCP echo service on lwIP sockets and\n"
        "publishes the Vigil agent's security messages to an MQTT broker over lwIP.\n"
        "\n"
        "  --tap NAME             the TAP interface to attach to (PRECONFIGURED_TAPIF also works)\n"
        "  --ipv4 ADDR/PREFIX     the device's IPv4 address, e.g. 198.18.0.2/24\n"
        "  --gateway ADDR         IPv4 default gateway (default none)\n"
        "  --ipv6 ADDR            a global IPv6 address (repeatable); a link-local one is added\n"
        "  --broker HOST:PORT     MQTT broker as a literal address: 198.18.0.1:1883, "
        "[2001:db8::1]:1883\n"
        "  --username U --password P   MQTT credentials\n"
        "  --device-id ID         device id and MQTT client id (default lwip-device)\n"
        "  --service-port N       TCP echo service port (default 7)\n"
        "  --interval-high S      collection intervals of the priority groups in seconds,\n"
        "  --interval-medium S    applied as a config message at start (defaults 10 / 30 / 60)\n"
        "  --interval-low S\n"
        "  --retry S              seconds before a refused send is retried (default 3)\n"
        "  --duration S           stop after this long (default: run until SIGTERM)\n"
        "  --help\n"
        "\n"
        "Logs go to stderr. On SIGTERM or SIGINT the device sends what it has queued (at most 5 "
        "s)\n"
        "and exits 0. It exits 1 when the TAP interface goes away.\n",
        out);
}

__attribute__((format(printf, 1, 2))) void note(const char* format, ...) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::fprintf(stderr, "[%ld.%03ld] vigil-lwip-device: ", static_cast<long>(ts.tv_sec),
                 ts.tv_nsec / 1000000);
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
    std::fputc('\n', stderr);
}

bool parse_uint(const char* text, uint64_t max, uint64_t& out) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > max) {
        return false;
    }
    out = value;
    return true;
}

bool parse_ipv4(const std::string& text, ip4_addr_t& out) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) {
        return false;
    }
    out.addr = a.s_addr;
    return true;
}

bool parse_ipv4_prefix(const std::string& text, Settings& settings) {
    const size_t slash = text.find('/');
    uint64_t prefix = 24;
    if (slash != std::string::npos && !parse_uint(text.c_str() + slash + 1, 32, prefix)) {
        return false;
    }
    if (!parse_ipv4(text.substr(0, slash), settings.ipv4)) {
        return false;
    }
    const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    settings.netmask.addr = htonl(mask);
    settings.have_ipv4 = true;
    return true;
}

bool parse_broker(const std::string& text, Settings& settings) {
    std::string host;
    std::string port;
    if (!text.empty() && text[0] == '[') {
        const size_t close = text.find("]:");
        if (close == std::string::npos) {
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos) {
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    uint8_t scratch[16];
    uint64_t number = 0;
    if ((inet_pton(AF_INET, host.c_str(), scratch) != 1 &&
         inet_pton(AF_INET6, host.c_str(), scratch) != 1) ||
        !parse_uint(port.c_str(), 65535, number) || number == 0) {
        return false;
    }
    settings.broker_host = host;
    settings.broker_port = static_cast<uint16_t>(number);
    return true;
}

int parse_arguments(int argc, char** argv, Settings& settings) {
    enum : int {
        kTap = 256,
        kIpv4,
        kGateway,
        kIpv6,
        kBroker,
        kUser,
        kPassword,
        kDeviceId,
        kServicePort,
        kHigh,
        kMedium,
        kLow,
        kRetry,
        kDuration
    };
    const option options[] = {{"tap", required_argument, nullptr, kTap},
                              {"ipv4", required_argument, nullptr, kIpv4},
                              {"gateway", required_argument, nullptr, kGateway},
                              {"ipv6", required_argument, nullptr, kIpv6},
                              {"broker", required_argument, nullptr, kBroker},
                              {"username", required_argument, nullptr, kUser},
                              {"password", required_argument, nullptr, kPassword},
                              {"device-id", required_argument, nullptr, kDeviceId},
                              {"service-port", required_argument, nullptr, kServicePort},
                              {"interval-high", required_argument, nullptr, kHigh},
                              {"interval-medium", required_argument, nullptr, kMedium},
                              {"interval-low", required_argument, nullptr, kLow},
                              {"retry", required_argument, nullptr, kRetry},
                              {"duration", required_argument, nullptr, kDuration},
                              {"help", no_argument, nullptr, 'h'},
                              {nullptr, 0, nullptr, 0}};
    int c;
    uint64_t number = 0;
    while ((c = getopt_long(argc, argv, "h", options, nullptr)) != -1) {
        const std::string value = optarg != nullptr ? optarg : "";
        bool ok = true;
        switch (c) {
            case kTap:
                settings.tap = value;
                break;
            case kIpv4:
                ok = parse_ipv4_prefix(value, settings);
                break;
            case kGateway:
                ok = parse_ipv4(value, settings.gateway);
                break;
            case kIpv6: {
                uint8_t scratch[16];
                ok = inet_pton(AF_INET6, value.c_str(), scratch) == 1;
                settings.ipv6.push_back(value);
                break;
            }
            case kBroker:
                ok = parse_broker(value, settings);
                break;
            case kUser:
                settings.username = value;
                break;
            case kPassword:
                settings.password = value;
                break;
            case kDeviceId:
                settings.device_id = value;
                break;
            case kServicePort:
                ok = parse_uint(optarg, 65535, number) && number > 0;
                settings.service_port = static_cast<uint16_t>(number);
                break;
            case kHigh:
            case kMedium:
            case kLow:
                ok = parse_uint(optarg, UINT32_MAX, number);
                settings.intervals[c - kHigh] = static_cast<uint32_t>(number);
                break;
            case kRetry:
                ok = parse_uint(optarg, UINT32_MAX, number);
                settings.retry_s = static_cast<uint32_t>(number);
                break;
            case kDuration: {
                char* end = nullptr;
                settings.duration_s = std::strtod(optarg, &end);
                ok = end != optarg && *end == '\0' && settings.duration_s > 0;
                break;
            }
            case 'h':
                usage(stdout);
                std::exit(kExitOk);
            default:
                usage(stderr);
                return kExitUsage;
        }
        if (!ok) {
            std::fprintf(stderr, "vigil-lwip-device: bad value for --%s: %s\n",
                         options[c == 'h' ? 0 : c - kTap].name, value.c_str());
            return kExitUsage;
        }
    }
    if (optind != argc) {
        std::fprintf(stderr, "vigil-lwip-device: unexpected argument %s\n", argv[optind]);
        return kExitUsage;
    }
    if (settings.tap.empty()) {
        const char* env = std::getenv("PRECONFIGURED_TAPIF");
        settings.tap = env != nullptr ? env : "";
    }
    if (settings.tap.empty() || !settings.have_ipv4 || settings.broker_host.empty()) {
        std::fprintf(stderr, "vigil-lwip-device: --tap, --ipv4 and --broker are required\n");
        usage(stderr);
        return kExitUsage;
    }
    if (!settings.password.empty() && settings.username.empty()) {
        std::fprintf(stderr, "vigil-lwip-device: MQTT 3.1.1 needs --username with --password\n");
        return kExitUsage;
    }
    return kExitOk;
}

std::atomic<bool> g_stop{false};
std::atomic<bool> g_exiting{false};

extern "C" void on_signal(int) {
    g_stop.store(true);
}

// tapif calls exit(1) from its rx thread when the TAP interface can no longer be read (it was
// deleted, or its namespace went away). Say so plainly, and leave without running the other
// exit handlers while the lwIP threads are still running.
extern "C" void on_unexpected_exit() {
    if (!g_exiting.load()) {
        static const char message[] =
            "vigil-lwip-device: error: the TAP interface went away (lwIP's tapif could not read "
            "it and stopped the process)\n";
        (void)!write(STDERR_FILENO, message, sizeof message - 1);
        _exit(kExitFailure);
    }
}

uint64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

// The agent's transport: the MQTT client's adapter, remembering when a send was refused so the
// shutdown flush knows whether the agent still holds messages it will retry.
struct CountingTransport {
    vigil_transport inner{};
    std::atomic<uint64_t> last_refusal_ms{0};
    uint64_t refusals = 0;

    static bool is_connected(void* context) {
        auto* self = static_cast<CountingTransport*>(context);
        return self->inner.is_connected(self->inner.context);
    }
    static int32_t send(void* context, const char* topic, const char* property_bag,
                        const uint8_t* payload, size_t length) {
        auto* self = static_cast<CountingTransport*>(context);
        const int32_t result =
            self->inner.send(self->inner.context, topic, property_bag, payload, length);
        if (result <= 0) {
            self->last_refusal_ms.store(now_ms());
            ++self->refusals;
        }
        return result;
    }
    vigil_transport transport() {
        vigil_transport out{};
        out.context = this;
        out.is_connected = &CountingTransport::is_connected;
        out.send = &CountingTransport::send;
        return out;
    }
};

struct MqttContext {
    std::string config_topic;
};

void on_message(void* context, const char* topic, size_t topic_length, const uint8_t* payload,
                size_t payload_length) {
    const auto* mqtt = static_cast<const MqttContext*>(context);
    const std::string name(topic, topic_length);
    if (name != mqtt->config_topic) {
        note("ignoring a message on %s", name.c_str());
        return;
    }
    const vigil_status status = vigil_agent_apply_config(payload, payload_length);
    note("config of %zu bytes from the broker: %s", payload_length, vigil_status_string(status));
}

/// Applies the intervals given on the command line as the device's starting settings (version 0),
/// which any config the hub publishes replaces.
bool configure(const Settings& settings) {
    bool any = settings.retry_s.has_value();
    vigil::wire::ConfigFields desired;  // the build defaults, which are in force after init
    desired.version = 0;
    for (size_t g = 0; g < vigil::wire::kPriorityCount; ++g) {
        if (settings.intervals[g]) {
            desired.interval_s[g] = *settings.intervals[g];
            any = true;
        }
    }
    if (settings.retry_s) {
        desired.retry_s = *settings.retry_s;
    }
    if (!any) {
        return true;
    }
    uint8_t buffer[128];
    vigil::cbor::Writer writer(buffer, sizeof buffer);
    vigil::wire::encode_config(writer, desired);
    if (!writer.ok()) {
        note("error: the config does not fit its buffer");
        return false;
    }
    const vigil_status status = vigil_agent_apply_local_config(buffer, writer.size());
    if (status != VIGIL_OK) {
        note("error: the agent rejected the settings from the command line: %s",
             vigil_status_string(status));
        return false;
    }
    note("starting settings applied: intervals high %u s, medium %u s, low %u s, retry %u s",
         desired.interval_s[0], desired.interval_s[1], desired.interval_s[2], desired.retry_s);
    return true;
}

const char* state_name(vigil_state state) {
    switch (state) {
        case VIGIL_STATE_NOT_INITIALISED:
            return "not-initialised";
        case VIGIL_STATE_PENDING:
            return "pending";
        case VIGIL_STATE_ACTIVE:
            return "active";
        case VIGIL_STATE_SUSPENDED:
            return "suspended";
    }
    return "?";
}

// tcpip_init's callback runs in the new tcpip thread.
extern "C" void on_tcpip_ready(void* arg) {
    static_cast<std::atomic<bool>*>(arg)->store(true);
}

bool start_netif(struct netif& netif, const Settings& settings) {
    // tapif reads the interface name from the environment; without it, it would create "tap0"
    // itself and run ifconfig on the host side.
    setenv("PRECONFIGURED_TAPIF", settings.tap.c_str(), 1);
    LwipPort::set_driver_init(tapif_init);
    LOCK_TCPIP_CORE();
    // Race-free hooking: the input hook is in place before tapif_init starts its rx thread.
    const bool added =
        netif_add(&netif, &settings.ipv4, &settings.netmask, &settings.gateway, nullptr,
                  LwipPort::init_with_hooks, LwipPort::input_hook) != nullptr;
    if (added) {
        // tapif sets only BROADCAST|ETHARP|IGMP; without MLD6 lwIP never joins the
        // solicited-node groups and neighbour solicitations for its addresses are dropped.
        netif.flags |= NETIF_FLAG_MLD6;
        netif_create_ip6_linklocal_address(&netif, 1);
        for (const std::string& text : settings.ipv6) {
            ip6_addr_t address{};
            s8_t index = -1;
            if (ip6addr_aton(text.c_str(), &address) == 0 ||
                netif_add_ip6_address(&netif, &address, &index) != ERR_OK) {
                note("warning: could not add IPv6 address %s", text.c_str());
            }
        }
        netif_set_default(&netif);
        netif_set_link_up(&netif);
        netif_set_up(&netif);
    }
    UNLOCK_TCPIP_CORE();
    return added;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    if (const int code = parse_arguments(argc, argv, settings); code != kExitOk) {
        return code;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    std::atexit(on_unexpected_exit);

    LwipPort::Options port_options;
    port_options.firmware_version = "vigil-lwip-device 0.1";
    port_options.board = "tap";
    static LwipPort port(port_options);

    // LWIP_RAND() is rand() in this build: unseeded, every boot would pick the same first
    // ephemeral port (lwIP draws it in tcp_init, inside tcpip_init).
    std::srand(port.random32());
    std::atomic<bool> tcpip_ready{false};
    tcpip_init(on_tcpip_ready, &tcpip_ready);
    while (!tcpip_ready.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    // The MQTT client's memory: a slot holds one agent message (at most VIGIL_MAX_MESSAGE_BYTES
    // of CBOR) with its topic and property bag; the slots keep messages across a broker outage.
    static vigil::mqtt::StaticStorage<2048, 4096, 16, 1400> storage;
    static vigil::mqtt::Client client;
    static vigil::mqtt::LwipSocket socket;
    if (client.init(vigil::mqtt::lwip_transport(&socket), storage.view()) !=
        vigil::mqtt::Status::Ok) {
        note("error: MQTT client init failed");
        return kExitFailure;
    }
    static CountingTransport transport;
    transport.inner = vigil::agent::make_mqtt_transport(client);
    const vigil_transport agent_transport = transport.transport();

    vigil_options options{};
    options.first_collection_splay_max_ms = 0;
    const vigil_status init =
        vigil_agent_init(&port.port(), &agent_transport, settings.device_id.c_str(), &options);
    if (init != VIGIL_OK) {
        note("error: agent init failed: %s", vigil_status_string(init));
        return kExitFailure;
    }
    if (!configure(settings)) {
        return kExitFailure;
    }

    static struct netif netif;
    if (!start_netif(netif, settings)) {
        note("error: netif_add on TAP %s failed", settings.tap.c_str());
        return kExitFailure;
    }
    note("lwIP %s up on TAP %s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", LWIP_VERSION_STRING,
         settings.tap.c_str(), ip4addr_ntoa(&settings.ipv4), netif.hwaddr[0], netif.hwaddr[1],
         netif.hwaddr[2], netif.hwaddr[3], netif.hwaddr[4], netif.hwaddr[5]);

    vigil::examples::EchoService echo(settings.service_port);
    if (!echo.start()) {
        note("error: the echo service could not listen on port %u", settings.service_port);
        return kExitFailure;
    }
    note("echo service listening on port %u", settings.service_port);

    static MqttContext mqtt_context;
    mqtt_context.config_topic = std::string(vigil::wire::kTopicPrefix) + settings.device_id +
                                vigil::wire::kConfigTopicSuffix;
    vigil::mqtt::Settings mqtt;
    mqtt.host = settings.broker_host.c_str();
    mqtt.port = settings.broker_port;
    mqtt.connect.client_id = settings.device_id.c_str();
    mqtt.connect.username = settings.username.empty() ? nullptr : settings.username.c_str();
    mqtt.connect.password = settings.password.empty() ? nullptr : settings.password.c_str();
    mqtt.connect.keep_alive_s = 30;
    mqtt.on_message = on_message;
    mqtt.on_message_context = &mqtt_context;
    mqtt.backoff_min_ms = 1000;
    mqtt.backoff_max_ms = 8000;
    (void)client.subscribe(mqtt_context.config_topic.c_str(), 1);
    const uint64_t start_ms = now_ms();
    note("connecting to %s port %u", settings.broker_host.c_str(), settings.broker_port);
    const vigil::mqtt::Status started = client.start(mqtt, static_cast<uint32_t>(start_ms));
    if (started != vigil::mqtt::Status::Ok) {
        note("MQTT connect to %s port %u failed: %s (errno %d); retrying in the background",
             settings.broker_host.c_str(), settings.broker_port, vigil::mqtt::to_string(started),
             socket.last_errno);
    }

    bool was_connected = false;
    bool refusal_logged = false;
    uint32_t connects = 0;
    vigil_state state = vigil_agent_state();
    const uint64_t deadline_ms =
        settings.duration_s > 0 ? start_ms + static_cast<uint64_t>(settings.duration_s * 1000) : 0;

    auto step = [&]() {
        const uint64_t now = now_ms();
        const vigil::mqtt::Status s = client.process(static_cast<uint32_t>(now));
        if (s != vigil::mqtt::Status::Ok) {
            note("MQTT connection to the broker ended: %s (errno %d)", vigil::mqtt::to_string(s),
                 socket.last_errno);
        }
        const vigil::mqtt::Status last = client.last_error();
        const bool permanent = last == vigil::mqtt::Status::RefusedBadCredentials ||
                               last == vigil::mqtt::Status::RefusedNotAuthorized ||
                               last == vigil::mqtt::Status::RefusedIdentifier ||
                               last == vigil::mqtt::Status::RefusedProtocolVersion;
        if (permanent && !refusal_logged) {
            note(
                "error: the broker refused the connection: %s; not retrying, the agent keeps "
                "collecting",
                vigil::mqtt::to_string(last));
            refusal_logged = true;
        }
        if (client.is_connected() != was_connected) {
            was_connected = client.is_connected();
            if (was_connected) {
                ++connects;
                note("MQTT connected to the broker (connection %u)", connects);
            }
        }
        (void)vigil_agent_tick();
        const vigil_state now_state = vigil_agent_state();
        if (now_state != state) {
            note("agent state %s -> %s", state_name(state), state_name(now_state));
            state = now_state;
        }
    };

    while (!g_stop.load() && (deadline_ms == 0 || now_ms() < deadline_ms)) {
        step();
        std::this_thread::sleep_for(std::chrono::milliseconds(kLoopMs));
    }
    note(g_stop.load() ? "stopping on signal" : "stopping: duration reached");
    echo.stop();

    // Send what is queued: the client's in-flight publishes, and whatever the agent holds in its
    // backlog (it retries a refused send after its retry delay, so wait that long without one).
    const uint64_t flush_deadline = now_ms() + kFlushTimeoutMs;
    const uint64_t quiet_ms = uint64_t{settings.retry_s.value_or(3)} * 1000 + 500;
    while (now_ms() < flush_deadline) {
        step();
        const uint64_t refusal = transport.last_refusal_ms.load();
        const bool agent_idle = refusal == 0 || now_ms() > refusal + quiet_ms;
        if (client.is_connected() && client.in_flight() == 0 && agent_idle) {
            break;
        }
        if (refusal_logged) {
            break;  // the broker refused these credentials: nothing can be sent
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(kLoopMs));
    }
    const size_t unsent = client.in_flight();
    if (unsent > 0 || !client.is_connected()) {
        note("warning: %zu message(s) not acknowledged by the broker at exit", unsent);
    }
    (void)client.stop();
    (void)vigil_agent_disable();

    const vigil::ports::lwip::FrameCounts counts = port.counts();
    note(
        "frames in %llu (%llu bytes, %llu IP) out %llu (%llu bytes, %llu IP); echo connections "
        "%llu, echoed %llu bytes; MQTT connects %u",
        static_cast<unsigned long long>(counts.frames_in),
        static_cast<unsigned long long>(counts.bytes_in),
        static_cast<unsigned long long>(counts.ip_in),
        static_cast<unsigned long long>(counts.frames_out),
        static_cast<unsigned long long>(counts.bytes_out),
        static_cast<unsigned long long>(counts.ip_out),
        static_cast<unsigned long long>(echo.connections()),
        static_cast<unsigned long long>(echo.bytes_echoed()), connects);
    std::fflush(stderr);
    // lwIP has no way to stop its tcpip and tapif threads; leave without destructors or exit
    // handlers running under them.
    g_exiting.store(true);
    _exit(kExitOk);
}

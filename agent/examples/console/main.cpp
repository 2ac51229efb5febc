// vigil-console-demo: runs the agent core on the POSIX port over real packets (a capture file,
// or a live interface) and prints every message the agent would publish, decoded to JSON.
//
// Replaying a file, the capture's timestamps are the agent's clock: the agent is ticked every
// 100 ms of capture time, so an hour-long capture replays in moments with the same collection
// windows it would have had on the device.
#include <arpa/inet.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/agent/agent.hpp"
#include "vigil/ports/capture.hpp"
#include "vigil/ports/link_layer.hpp"
#include "vigil/ports/posix.hpp"
#include "vigil/ports/replay.hpp"
#include "vigil/protocol/message.h"

namespace {

using vigil::ports::posix::address_text;
using vigil::ports::posix::Capture;
using vigil::ports::posix::IpSlice;
using vigil::ports::posix::LocalAddresses;
using vigil::ports::posix::parse_address;
using vigil::ports::posix::PosixPort;
using vigil::ports::posix::Survey;

constexpr uint64_t kTickMs = 100;
/// Across a silence longer than this the replay jumps instead of ticking through it, so a
/// capture with a broken timestamp cannot stall the replay; the agent counts the missed
/// collections as schedule drift, as it would on a device that slept.
constexpr uint64_t kMaxTickedGapMs = 24ull * 3600 * 1000;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the input could not be read, or a message did not decode
constexpr int kExitUsage = 2;

struct Settings {
    std::string pcap;
    std::string live;
    double live_seconds = 0;  // 0: until interrupted
    std::string device_id = "console-demo";
    std::vector<std::string> locals;
    std::optional<uint32_t> intervals[vigil::wire::kPriorityCount];
    bool json_lines = false;
};

void usage(FILE* out) {
    std::fputs(
        "usage: vigil-console-demo (--pcap FILE | --live IFACE) [options]\n"
        "\n"
        "Runs the Vigil agent core on the packets of a capture file (pcap or pcapng) or of a live\n"
        "interface and prints every message it would publish: topic, property bag, size and the\n"
        "message decoded to JSON.\n"
        "\n"
        "  --pcap FILE            replay a capture; its timestamps drive the agent's clock\n"
        "  --live IFACE           capture on an interface (needs CAP_NET_RAW); stop with Ctrl-C\n"
        "  --duration SECONDS     with --live: stop after this long\n"
        "  --local ADDR           an address of the device (repeatable); packets from it are\n"
        "                         outbound. Default: per address family, the address seen in\n"
        "                         most packets (with --live: the interface's addresses)\n"
        "  --device-id ID         device id in the topic (default console-demo)\n"
        "  --interval-high S      collection interval of the high / medium / low priority\n"
        "  --interval-medium S    group in seconds, applied as a runtime config message\n"
        "  --interval-low S       (defaults 10 / 30 / 60)\n"
        "  --json-lines           one JSON object per message on stdout, notes on stderr\n"
        "  --help\n",
        out);
}

bool parse_seconds(const char* text, uint32_t& out) {
    char* end = nullptr;
    errno = 0;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > UINT32_MAX) {
        return false;
    }
    out = static_cast<uint32_t>(value);
    return true;
}

/// Returns kExitOk, or the exit code to stop with.
int parse_arguments(int argc, char** argv, Settings& settings) {
    enum : int { kPcap = 256, kLive, kDuration, kLocal, kDeviceId, kHigh, kMedium, kLow, kJson };
    const option options[] = {{"pcap", required_argument, nullptr, kPcap},
                              {"live", required_argument, nullptr, kLive},
                              {"duration", required_argument, nullptr, kDuration},
                              {"local", required_argument, nullptr, kLocal},
                              {"device-id", required_argument, nullptr, kDeviceId},
                              {"interval-high", required_argument, nullptr, kHigh},
                              {"interval-medium", required_argument, nullptr, kMedium},
                              {"interval-low", required_argument, nullptr, kLow},
                              {"json-lines", no_argument, nullptr, kJson},
                              {"help", no_argument, nullptr, 'h'},
                              {nullptr, 0, nullptr, 0}};
    int option_char;
    while ((option_char = getopt_long(argc, argv, "h", options, nullptr)) != -1) {
        switch (option_char) {
            case kPcap:
                settings.pcap = optarg;
                break;
            case kLive:
                settings.live = optarg;
                break;
            case kDuration: {
                char* end = nullptr;
                settings.live_seconds = std::strtod(optarg, &end);
                if (end == optarg || *end != '\0' || !(settings.live_seconds > 0)) {
                    std::fprintf(stderr, "vigil-console-demo: --duration wants seconds > 0\n");
                    return kExitUsage;
                }
                break;
            }
            case kLocal:
                settings.locals.emplace_back(optarg);
                break;
            case kDeviceId:
                settings.device_id = optarg;
                break;
            case kHigh:
            case kMedium:
            case kLow: {
                uint32_t seconds = 0;
                if (!parse_seconds(optarg, seconds)) {
                    std::fprintf(stderr, "vigil-console-demo: %s is not a number of seconds\n",
                                 optarg);
                    return kExitUsage;
                }
                settings.intervals[option_char - kHigh] = seconds;
                break;
            }
            case kJson:
                settings.json_lines = true;
                break;
            case 'h':
                usage(stdout);
                std::exit(kExitOk);
            default:
                usage(stderr);
                return kExitUsage;
        }
    }
    if (optind != argc) {
        std::fprintf(stderr, "vigil-console-demo: unexpected argument %s\n", argv[optind]);
        return kExitUsage;
    }
    if (settings.pcap.empty() == settings.live.empty()) {
        std::fprintf(stderr, "vigil-console-demo: give one of --pcap FILE or --live IFACE\n");
        usage(stderr);
        return kExitUsage;
    }
    return kExitOk;
}

/// The transport: always connected, prints what it is given.
class Printer {
  public:
    Printer(const PosixPort& port, bool json_lines) : port_(port), json_lines_(json_lines) {}

    vigil_transport transport() { return vigil_transport{this, &connected, &send}; }
    void set_origin(uint64_t ms) { origin_ms_ = ms; }
    size_t messages() const { return messages_; }
    size_t bytes() const { return bytes_; }
    size_t failures() const { return failures_; }

  private:
    static bool connected(void*) { return true; }

    static int32_t send(void* context, const char* topic, const char* property_bag,
                        const uint8_t* payload, size_t length) {
        // The core is built without exceptions; none may unwind through it.
        try {
            static_cast<Printer*>(context)->print(topic, property_bag, payload, length);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "vigil-console-demo: cannot print a message: %s\n", e.what());
            ++static_cast<Printer*>(context)->failures_;
        }
        return 1;
    }

    void print(const char* topic, const char* property_bag, const uint8_t* payload, size_t length) {
        ++messages_;
        bytes_ += length;
        const uint64_t now = port_.now_ms();
        const double offset_s =
            static_cast<double>(now >= origin_ms_ ? now - origin_ms_ : 0) / 1000.0;
        vigil::protocol::Message message;
        const vigil::protocol::DecodeResult decoded =
            vigil::protocol::decode_message(payload, length, message);
        if (!decoded.ok()) {
            ++failures_;
        }
        if (json_lines_) {
            nlohmann::json line;
            line["topic"] = topic;
            line["property_bag"] = property_bag;
            line["size"] = length;
            line["capture_offset_ms"] = now >= origin_ms_ ? now - origin_ms_ : 0;
            if (decoded.ok()) {
                line["message"] = nlohmann::json::parse(vigil::protocol::to_json(message, -1));
            } else {
                line["decode_error"] = describe(decoded);
                line["payload_hex"] = hex(payload, length);
            }
            std::printf("%s\n", line.dump().c_str());
        } else {
            std::printf("\n-- message %zu, capture time +%.3f s ", messages_, offset_s);
            std::printf("%s\n", std::string(40, '-').c_str());
            std::printf("topic:        %s\nproperty bag: %s\nsize:         %zu bytes\n", topic,
                        property_bag, length);
            if (decoded.ok()) {
                std::printf("%s\n", vigil::protocol::to_json(message, 2).c_str());
            } else {
                std::printf("DECODE ERROR: %s\npayload: %s\n", describe(decoded).c_str(),
                            hex(payload, length).c_str());
            }
        }
        std::fflush(stdout);
    }

    static std::string describe(const vigil::protocol::DecodeResult& r) {
        return std::string(vigil::protocol::to_string(r.error)) + " at byte " +
               std::to_string(r.offset) + (r.detail.empty() ? "" : ": " + r.detail);
    }

    static std::string hex(const uint8_t* data, size_t length) {
        static const char kDigits[] = "0123456789abcdef";
        std::string out;
        for (size_t i = 0; i < length; ++i) {
            out.push_back(kDigits[data[i] >> 4]);
            out.push_back(kDigits[data[i] & 0x0F]);
        }
        return out;
    }

    const PosixPort& port_;
    bool json_lines_;
    uint64_t origin_ms_ = 0;
    size_t messages_ = 0;
    size_t bytes_ = 0;
    size_t failures_ = 0;
};

/// Notes for people: on stdout, or on stderr when stdout carries JSON lines.
FILE* g_notes = stdout;

__attribute__((format(printf, 1, 2))) void note(const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vfprintf(g_notes, format, args);
    va_end(args);
    std::fflush(g_notes);
}

// Agent<> holds its tables inline (tens of kilobytes): static storage, as on a device.
vigil::agent::Agent<> g_agent;

/// Sends the interval settings as a runtime config message, the way the hub would.
bool configure(const Settings& settings) {
    vigil::wire::ConfigFields desired = g_agent.config();
    desired.version = g_agent.config().version + 1;
    for (size_t g = 0; g < vigil::wire::kPriorityCount; ++g) {
        if (settings.intervals[g]) {
            desired.interval_s[g] = *settings.intervals[g];
        }
    }
    vigil::cbor::Writer counter;
    vigil::wire::encode_config(counter, desired);
    std::vector<uint8_t> buffer(counter.size());
    vigil::cbor::Writer writer(buffer.data(), buffer.size());
    vigil::wire::encode_config(writer, desired);
    const vigil::agent::Status status = g_agent.apply_config(buffer.data(), writer.size());
    if (status != vigil::agent::Status::Ok) {
        std::fprintf(stderr, "vigil-console-demo: the agent rejected the config: %s (%s)\n",
                     vigil::agent::to_string(status),
                     vigil::wire::to_string(g_agent.last_config_error()));
        return false;
    }
    const auto& in_force = g_agent.config();
    note(
        "config: version %u applied (%zu bytes of CBOR): intervals high %u s, medium %u s, "
        "low %u s\n",
        in_force.version, writer.size(), in_force.interval_s[0], in_force.interval_s[1],
        in_force.interval_s[2]);
    return true;
}

bool start_agent(PosixPort& port, Printer& printer, const Settings& settings) {
    vigil_options options{};
    options.first_collection_splay_max_ms = 0;  // a demo reports at once
    const vigil::agent::Status status =
        g_agent.init(port.port(), printer.transport(), settings.device_id.c_str(), &options);
    if (status != vigil::agent::Status::Ok) {
        std::fprintf(stderr, "vigil-console-demo: agent init failed: %s%s\n",
                     vigil::agent::to_string(status),
                     status == vigil::agent::Status::BadParameter
                         ? " (device ids are 1-127 characters of A-Z a-z 0-9 - . _ :)"
                         : "");
        return false;
    }
    return configure(settings);
}

uint64_t longest_interval_ms() {
    const auto& config = g_agent.config();
    return uint64_t{*std::max_element(std::begin(config.interval_s), std::end(config.interval_s))} *
           1000;
}

std::string join(const std::vector<vigil_address>& addresses) {
    std::string out;
    for (const vigil_address& a : addresses) {
        out += (out.empty() ? "" : ", ") + address_text(a);
    }
    return out.empty() ? "(none)" : out;
}

void print_summary(const Printer& printer, uint64_t frames, uint64_t fed, uint64_t skipped) {
    const vigil::agent::Counters& c = g_agent.counters();
    note(
        "\n== %zu messages, %zu bytes; %llu frames read, %llu IP packets given to the agent, "
        "%llu frames not IP; agent: %llu seen, %llu unparsed, %llu ignored, %llu in overflow, "
        "%llu messages dropped\n",
        printer.messages(), printer.bytes(), static_cast<unsigned long long>(frames),
        static_cast<unsigned long long>(fed), static_cast<unsigned long long>(skipped),
        static_cast<unsigned long long>(c.packets_seen),
        static_cast<unsigned long long>(c.packets_unparsed),
        static_cast<unsigned long long>(c.packets_ignored),
        static_cast<unsigned long long>(c.overflow_packets),
        static_cast<unsigned long long>(c.messages_dropped));
}

/// The --local addresses; false (after saying which) if one is not an IP address.
bool parse_locals(const Settings& settings, LocalAddresses& locals) {
    for (const std::string& text : settings.locals) {
        vigil_address address;
        if (!parse_address(text, address)) {
            std::fprintf(stderr, "vigil-console-demo: --local %s is not an IP address\n",
                         text.c_str());
            return false;
        }
        locals.add(address);
    }
    return true;
}

int replay(const Settings& settings) {
    LocalAddresses locals;
    if (!parse_locals(settings, locals)) {
        return kExitUsage;
    }
    std::string error;
    Survey survey;
    if (!vigil::ports::posix::survey_capture(settings.pcap, survey, error)) {
        std::fprintf(stderr, "vigil-console-demo: %s: %s\n", settings.pcap.c_str(), error.c_str());
        return kExitFailure;
    }
    const bool inferred = locals.empty();
    if (inferred) {
        survey.infer(locals);
    }
    std::unique_ptr<Capture> capture = Capture::open_file(settings.pcap, error);
    if (!capture) {
        std::fprintf(stderr, "vigil-console-demo: %s: %s\n", settings.pcap.c_str(), error.c_str());
        return kExitFailure;
    }
    const int dlt = capture->link_type();
    if (!vigil::ports::posix::link_type_supported(dlt)) {
        const char* name = vigil::ports::posix::pcap_link_type_name(dlt);
        std::fprintf(stderr,
                     "vigil-console-demo: %s: link type %d (%s) is not supported; use a capture "
                     "of Ethernet, raw IP or Linux cooked frames\n",
                     settings.pcap.c_str(), dlt, name != nullptr ? name : "unknown");
        return kExitFailure;
    }

    Capture::Frame frame;
    Capture::Next next = capture->next(frame);
    if (next == Capture::Next::Error) {
        std::fprintf(stderr, "vigil-console-demo: %s: %s\n", settings.pcap.c_str(),
                     capture->error().c_str());
        return kExitFailure;
    }
    const bool any = next == Capture::Next::Frame;
    const uint64_t start_ms = any ? frame.time_ms : 0;

    PosixPort port;
    port.use_replay_clock(start_ms);
    // The device is the one in the capture: report its addresses, not this host's.
    port.override_addresses(locals.all());
    port.override_macs(survey.macs_of(locals));
    Printer printer(port, settings.json_lines);
    printer.set_origin(start_ms);

    note("capture: %s (%s)\n", settings.pcap.c_str(), vigil::ports::posix::link_type_name(dlt));
    note("device: %s; local addresses %s: %s\n", settings.device_id.c_str(),
         inferred ? "inferred (set them with --local)" : "given", join(locals.all()).c_str());
    note("system facts and listening ports are this host's; network activity is the capture's\n");
    if (!start_agent(port, printer, settings)) {
        return kExitUsage;
    }
    if (!any) {
        note("the capture holds no packets\n");
    }

    uint64_t next_tick = start_ms;
    uint64_t frames = 0;
    uint64_t fed = 0;
    uint64_t skipped = 0;
    auto tick_until = [&](uint64_t until_ms) {
        if (until_ms > next_tick && until_ms - next_tick > kMaxTickedGapMs) {
            next_tick = until_ms - until_ms % kTickMs;
        }
        while (next_tick <= until_ms) {
            port.set_now_ms(next_tick);
            (void)g_agent.tick();
            next_tick += kTickMs;
        }
    };
    for (; next == Capture::Next::Frame; next = capture->next(frame)) {
        ++frames;
        tick_until(frame.time_ms);
        IpSlice ip;
        if (!vigil::ports::posix::ip_payload(dlt, frame.data, frame.captured, ip)) {
            ++skipped;
            continue;
        }
        ++fed;
        g_agent.packet(ip.data, ip.length, locals.outbound(ip) ? VIGIL_OUTBOUND : VIGIL_INBOUND, 0,
                       frame.time_ms);
    }
    if (next == Capture::Next::Error) {
        std::fprintf(stderr, "vigil-console-demo: %s: after %llu packets: %s\n",
                     settings.pcap.c_str(), static_cast<unsigned long long>(frames),
                     capture->error().c_str());
        return kExitFailure;
    }
    // Every collector runs once more after the last packet, so the open window is reported and
    // the last heartbeat counts every packet.
    tick_until(next_tick + longest_interval_ms());
    print_summary(printer, frames, fed, skipped);
    return printer.failures() == 0 ? kExitOk : kExitFailure;
}

std::atomic<bool> g_stop{false};

void on_signal(int) {
    g_stop = true;
}

int live(const Settings& settings) {
    LocalAddresses locals;
    if (!parse_locals(settings, locals)) {
        return kExitUsage;
    }
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) == 0) {
        for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
            if (it->ifa_addr == nullptr || settings.live != it->ifa_name) {
                continue;
            }
            vigil_address address{};
            if (it->ifa_addr->sa_family == AF_INET) {
                address.family = 4;
                std::memcpy(address.bytes, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr,
                            4);
                locals.add(address);
            } else if (it->ifa_addr->sa_family == AF_INET6) {
                address.family = 6;
                std::memcpy(address.bytes,
                            &reinterpret_cast<sockaddr_in6*>(it->ifa_addr)->sin6_addr, 16);
                locals.add(address);
            }
        }
        freeifaddrs(list);
    }
    std::string error;
    std::unique_ptr<Capture> capture =
        Capture::open_live(settings.live, static_cast<int>(kTickMs), error);
    if (!capture) {
        std::fprintf(stderr, "vigil-console-demo: %s: %s\n", settings.live.c_str(), error.c_str());
        return kExitFailure;
    }
    const int dlt = capture->link_type();
    if (!vigil::ports::posix::link_type_supported(dlt)) {
        std::fprintf(stderr, "vigil-console-demo: %s: link type %d is not supported\n",
                     settings.live.c_str(), dlt);
        return kExitFailure;
    }

    PosixPort port;
    Printer printer(port, settings.json_lines);
    printer.set_origin(port.now_ms());
    note("live capture: %s (%s)\n", settings.live.c_str(),
         vigil::ports::posix::link_type_name(dlt));
    note("device: %s; local addresses: %s\n", settings.device_id.c_str(),
         join(locals.all()).c_str());
    if (!start_agent(port, printer, settings)) {
        return kExitUsage;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    // The packet hook runs in the capture thread and the tick in this one, as on a device where
    // the stack and the application are different threads; the port's lock keeps them apart.
    std::atomic<uint64_t> frames{0}, fed{0}, skipped{0};
    std::atomic<bool> capture_failed{false};
    std::thread hook([&] {
        Capture::Frame frame;
        while (!g_stop) {
            const Capture::Next next = capture->next(frame);
            if (next == Capture::Next::Timeout) {
                continue;
            }
            if (next != Capture::Next::Frame) {
                capture_failed = next == Capture::Next::Error;
                g_stop = true;
                break;
            }
            ++frames;
            IpSlice ip;
            if (!vigil::ports::posix::ip_payload(dlt, frame.data, frame.captured, ip)) {
                ++skipped;
                continue;
            }
            ++fed;
            g_agent.packet(ip.data, ip.length, locals.outbound(ip) ? VIGIL_OUTBOUND : VIGIL_INBOUND,
                           0, port.now_ms());
        }
    });
    const auto started = std::chrono::steady_clock::now();
    while (!g_stop) {
        (void)g_agent.tick();
        std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
        if (settings.live_seconds > 0 && elapsed.count() >= settings.live_seconds) {
            g_stop = true;
        }
    }
    hook.join();
    (void)g_agent.tick();
    if (capture_failed) {
        std::fprintf(stderr, "vigil-console-demo: %s: %s\n", settings.live.c_str(),
                     capture->error().c_str());
        return kExitFailure;
    }
    print_summary(printer, frames, fed, skipped);
    return printer.failures() == 0 ? kExitOk : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    const int parsed = parse_arguments(argc, argv, settings);
    if (parsed != kExitOk) {
        return parsed;
    }
    if (settings.json_lines) {
        g_notes = stderr;
    }
    try {
        return settings.pcap.empty() ? live(settings) : replay(settings);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vigil-console-demo: %s\n", e.what());
        return kExitFailure;
    }
}

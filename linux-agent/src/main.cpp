// vigil-agent: the Vigil agent core as a daemon for embedded Linux devices and gateways.
//
// Live, it captures the interfaces' packets from an AF_PACKET ring in one thread and runs the
// agent (ticks, runtime config, publishing) in the main thread. With --pcap it replays a capture
// file instead, the file's timestamps driving the agent's clock, so a long capture replays in
// moments with the collection windows it would have had on the device.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "log.hpp"
#include "settings.hpp"
#include "sinks.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/agent/version.h"
#include "vigil/linux_agent/mosquitto_link.hpp"
#include "vigil/ports/capture.hpp"
#include "vigil/ports/link_layer.hpp"
#include "vigil/ports/packet_ring.hpp"
#include "vigil/ports/posix.hpp"
#include "vigil/ports/replay.hpp"

namespace {

namespace logging = vigil::linux_agent::logging;
using vigil::linux_agent::Settings;
using vigil::ports::posix::Capture;
using vigil::ports::posix::PacketRing;
using vigil::ports::posix::PosixPort;

// The exit codes, as docs/linux-agent.md and --help list them.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the capture, the broker's client or the output failed
constexpr int kExitConfig = 2;   // usage or settings
/// Stopped with messages that never reached the broker: dropped from a full backlog, still in
/// it, or published and never acknowledged. The summary logs how many.
constexpr int kExitUndelivered = 3;
constexpr const char* kExitCodesHelp =
    "Exit codes: 0 done, every message acknowledged by the broker; 1 the capture, the broker's "
    "client or the output failed; 2 bad settings or usage; 3 stopped with messages the broker "
    "never acknowledged (counted in the summary).";

constexpr uint64_t kTickMs = 100;
/// Across a silence longer than this a replay jumps instead of ticking through it; the agent
/// counts the skipped collections as schedule drift, as it would on a device that slept.
constexpr uint64_t kMaxTickedGapMs = 24ull * 3600 * 1000;
constexpr int kCaptureRetryMs = 5000;
constexpr size_t kMaxConfigsPerTick = 4;
/// A replay takes moments; it waits this long for the broker rather than fill the backlog.
constexpr int kReplayConnectWaitMs = 10000;

// A gateway sees more peers than a microcontroller: larger tables and a 1 MiB backlog, still a
// fixed footprint. Static storage, as on a device.
using LinuxAgent = vigil::agent::Agent<2048, 512, 1u << 20, 16384, 256>;
LinuxAgent g_agent;

std::atomic<bool> g_stop{false};

void on_signal(int) {
    g_stop = true;
}

struct Options {
    std::string config_file;
    bool check_config = false;
    bool once = false;
    bool to_stdout = false;
    double duration_s = 0;  // live: stop after this long; 0 runs until SIGTERM
};

struct Overrides {
    std::string device_id;
    std::vector<std::string> interfaces;
    std::string pcap;
    std::vector<std::string> locals;
    std::optional<uint32_t> pps;
    std::string broker;
    std::string log_level;
    std::optional<uint32_t> intervals[vigil::wire::kPriorityCount];
};

bool apply_overrides(const Overrides& o, Settings& s, std::vector<std::string>& errors) {
    if (!o.device_id.empty()) {
        s.device_id = o.device_id;
    }
    if (!o.interfaces.empty()) {
        s.capture.interfaces = o.interfaces;
    }
    if (!o.pcap.empty()) {
        s.replay.pcap = o.pcap;
    }
    if (!o.locals.empty()) {
        s.replay.local_addresses = o.locals;
    }
    if (o.pps) {
        s.replay.packets_per_second = *o.pps;
    }
    if (!o.log_level.empty()) {
        s.log_level = o.log_level;
    }
    for (size_t g = 0; g < vigil::wire::kPriorityCount; ++g) {
        if (o.intervals[g]) {
            s.collection.interval_s[g] = *o.intervals[g];
        }
    }
    if (!o.broker.empty()) {
        const size_t colon = o.broker.rfind(':');
        const bool bracketed = o.broker.front() == '[';
        std::string host = o.broker;
        if (colon != std::string::npos && (bracketed || o.broker.find(':') == colon)) {
            host = o.broker.substr(0, colon);
            const std::string port = o.broker.substr(colon + 1);
            char* end = nullptr;
            const unsigned long value = std::strtoul(port.c_str(), &end, 10);
            if (port.empty() || *end != '\0' || value == 0 || value > 65535) {
                errors.push_back("--broker: " + o.broker + ": the port must be 1-65535");
                return false;
            }
            s.mqtt.port = static_cast<uint16_t>(value);
        }
        if (bracketed && host.size() >= 2 && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        s.mqtt.host = host;
        s.mqtt_enabled = true;
    }
    return true;
}

long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return -1;
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/// Applies the configs the hub published; logs what was applied or why it was refused (the
/// heartbeat reports the same to the hub).
void apply_runtime_configs(vigil::linux_agent::MosquittoLink* link) {
    if (link == nullptr) {
        return;
    }
    std::vector<uint8_t> payload;
    for (size_t i = 0; i < kMaxConfigsPerTick && link->next_config(payload); ++i) {
        const uint32_t before = g_agent.config().version;
        const vigil::agent::Status status = g_agent.apply_config(payload.data(), payload.size());
        if (status == vigil::agent::Status::Ok) {
            if (g_agent.config().version != before) {
                const auto& c = g_agent.config();
                logging::info("config version {} applied: intervals {}/{}/{} s", c.version,
                              c.interval_s[0], c.interval_s[1], c.interval_s[2]);
            }
        } else {
            logging::warn("config refused: {} (version in force: {})",
                          vigil::wire::to_string(g_agent.last_config_error()),
                          g_agent.config().version);
        }
    }
}

/// The agent, its transport and what it runs on, for both live capture and replay.
class Runner {
  public:
    Runner(const Settings& settings, const Options& options)
        : settings_(settings), options_(options) {}

    int run() {
        if (!settings_.replay.pcap.empty()) {
            return replay();
        }
        return live();
    }

  private:
    /// Creates the link (if any) and starts the agent; false after logging why.
    bool start_agent(PosixPort& port, bool replaying) {
        vigil_transport transport{};
        if (options_.once) {
            transport = first_report_.transport();
        } else if (settings_.mqtt_enabled && !options_.to_stdout) {
            vigil::linux_agent::MqttSettings mqtt = settings_.mqtt;
            mqtt.config_topic = std::string(vigil::wire::kTopicPrefix) + settings_.device_id +
                                vigil::wire::kConfigTopicSuffix;
            std::string error;
            link_ = vigil::linux_agent::MosquittoLink::create(mqtt, error);
            if (!link_) {
                logging::error("mqtt: {}", error);
                return false;
            }
            link_->set_logger([](int level, const std::string& line) {
                using logging::Level;
                logging::log(level >= vigil::linux_agent::kLogError     ? Level::Error
                             : level == vigil::linux_agent::kLogWarning ? Level::Warning
                             : level == vigil::linux_agent::kLogInfo    ? Level::Info
                                                                        : Level::Debug,
                             "mqtt: {}", line);
            });
            if (replaying) {
                replay_link_.emplace(*link_, mqtt.max_unacked);
                transport = replay_link_->transport();
            } else {
                transport = link_->transport();
            }
        } else {
            transport = json_lines_.transport();
        }
        vigil_options agent_options{};
        agent_options.first_collection_splay_max_ms =
            replaying || options_.once ? 0 : settings_.first_collection_splay_s * 1000;
        vigil::agent::Status status =
            g_agent.init(port.port(), transport, settings_.device_id.c_str(), &agent_options);
        if (status == vigil::agent::Status::Ok) {
            vigil::wire::ConfigFields local = settings_.collection;
            local.version = 0;
            status = g_agent.apply_local_config(local);
        }
        if (status != vigil::agent::Status::Ok) {
            logging::error("agent: {} ({})", vigil::agent::to_string(status),
                           vigil::wire::to_string(g_agent.last_config_error()));
            return false;
        }
        if (link_) {
            // Waiting for the broker here would only delay collection: the agent starts
            // PENDING and keeps its messages until the link connects.
            link_->start();
        }
        logging::info("started: {}", vigil::linux_agent::describe(settings_));
        return true;
    }

    /// Publishes what the agent still holds and waits for the broker's acknowledgements. A
    /// replay's clock keeps moving with wall time meanwhile, so the agent's retry timer runs.
    /// Counts what never reached the broker in undelivered_.
    void finish(PosixPort& port) {
        undelivered_ = g_agent.counters().messages_dropped;
        if (!link_) {
            return;
        }
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(settings_.flush_timeout_s);
        while (g_agent.backlog_messages() > 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (port.replay_clock()) {
                port.set_now_ms(port.now_ms() + 10);
            }
            (void)g_agent.tick();
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        link_->stop(static_cast<int>(std::max<int64_t>(left.count(), 0)));
        const uint64_t unsent = g_agent.backlog_messages();
        const uint64_t unacknowledged = link_->unacked();
        undelivered_ += unsent + unacknowledged;
        if (unsent > 0 || unacknowledged > 0) {
            logging::error("stopped with {} messages unsent and {} unacknowledged by the broker",
                           unsent, unacknowledged);
        }
    }

    /// What a run that got this far exits with.
    int delivery_status() const { return undelivered_ == 0 ? kExitOk : kExitUndelivered; }

    bool wait_connected(int timeout_ms) {
        for (int waited = 0; waited < timeout_ms && !g_stop; waited += 10) {
            if (link_->connected()) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return link_->connected();
    }

    void log_summary(uint64_t frames, uint64_t fed, double wall_s) {
        const vigil::agent::Counters& c = g_agent.counters();
        char times[64];
        std::snprintf(times, sizeof(times), "CPU %.2f s in %.2f s", cpu_seconds(), wall_s);
        logging::info(
            "summary: {} frames, {} IP packets to the agent; agent: {} seen, {} unparsed, {} "
            "ignored, {} in overflow; {} messages sent, {} dropped, {} undelivered; peak RSS {} "
            "kB; {}",
            frames, fed, c.packets_seen, c.packets_unparsed, c.packets_ignored, c.overflow_packets,
            c.messages_sent, c.messages_dropped, undelivered_, peak_rss_kb(), times);
    }

    int print_report() {
        if (!first_report_.complete()) {
            logging::error("no report: the agent collected no network activity");
            return kExitFailure;
        }
        std::printf("%s\n", first_report_.json(settings_.device_id).c_str());
        return kExitOk;
    }

    int replay() {
        using namespace vigil::ports::posix;
        LocalAddresses locals;
        std::vector<std::string> errors;
        for (const vigil_address& address :
             vigil::linux_agent::local_addresses(settings_.replay, errors)) {
            locals.add(address);
        }
        if (!errors.empty()) {  // check_settings refused these already; never reached
            logging::error("{}", errors.front());
            return kExitConfig;
        }
        const std::string& path = settings_.replay.pcap;
        std::string error;
        Survey survey;
        if (!survey_capture(path, survey, error)) {
            logging::error("{}: {}", path, error);
            return kExitFailure;
        }
        if (locals.empty()) {
            survey.infer(locals);
        }
        std::unique_ptr<Capture> capture = Capture::open_file(path, error);
        if (!capture) {
            logging::error("{}: {}", path, error);
            return kExitFailure;
        }
        const int dlt = capture->link_type();
        if (!link_type_supported(dlt)) {
            logging::error("{}: link type {} is not supported", path, dlt);
            return kExitFailure;
        }
        Capture::Frame frame;
        Capture::Next next = capture->next(frame);
        const uint64_t start_ms = next == Capture::Next::Frame ? frame.time_ms : 0;

        PosixPort::Options port_options;
        port_options.firmware_version = settings_.firmware_version;
        PosixPort port(port_options);
        port.use_replay_clock(start_ms);
        port.override_addresses(locals.all());
        port.override_macs(survey.macs_of(locals));
        if (!start_agent(port, true)) {
            return kExitConfig;
        }
        logging::info("replay: {} ({}), device addresses {}", path, link_type_name(dlt),
                      join_addresses(locals.all()));
        if (link_ && !wait_connected(kReplayConnectWaitMs)) {
            logging::warn(
                "replay: not connected to the broker after {} s; replaying into the "
                "backlog",
                kReplayConnectWaitMs / 1000);
        }

        const auto wall_start = std::chrono::steady_clock::now();
        const uint32_t pps = settings_.replay.packets_per_second;
        uint64_t next_tick = start_ms;
        uint64_t frames = 0;
        uint64_t fed = 0;
        auto tick_until = [&](uint64_t until_ms) {
            if (until_ms > next_tick && until_ms - next_tick > kMaxTickedGapMs) {
                next_tick = until_ms - until_ms % kTickMs;
            }
            while (next_tick <= until_ms) {
                port.set_now_ms(next_tick);
                apply_runtime_configs(link_.get());
                (void)g_agent.tick();
                next_tick += kTickMs;
            }
        };
        for (; next == Capture::Next::Frame && !g_stop; next = capture->next(frame)) {
            ++frames;
            tick_until(frame.time_ms);
            if (options_.once && first_report_.complete()) {
                break;
            }
            if (pps > 0 && frames % 64 == 0) {
                // Paced: frame n is due n / pps seconds after the start.
                const auto due = wall_start + std::chrono::microseconds(frames * 1000000 / pps);
                std::this_thread::sleep_until(due);
            }
            IpSlice ip;
            if (!ip_payload(dlt, frame.data, frame.captured, ip)) {
                continue;
            }
            ++fed;
            g_agent.packet(ip.data, ip.length, locals.outbound(ip) ? VIGIL_OUTBOUND : VIGIL_INBOUND,
                           0, frame.time_ms);
        }
        if (next == Capture::Next::Error) {
            logging::error("{}: after {} frames: {}", path, frames, capture->error());
            finish(port);
            return kExitFailure;
        }
        // Every collector runs once more after the last packet, so the open window is reported.
        if (!g_stop && !(options_.once && first_report_.complete())) {
            const auto& c = g_agent.config();
            tick_until(next_tick + uint64_t{*std::max_element(std::begin(c.interval_s),
                                                              std::end(c.interval_s))} *
                                       1000);
        }
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - wall_start;
        finish(port);
        log_summary(frames, fed, wall.count());
        if (options_.once) {
            return print_report();
        }
        return json_lines_.decode_failures() == 0 ? delivery_status() : kExitFailure;
    }

    int live() {
        PosixPort::Options port_options;
        port_options.firmware_version = settings_.firmware_version;
        PosixPort port(port_options);
        PacketRing::Options ring_options;
        ring_options.interfaces = settings_.capture.interfaces;
        ring_options.snap_length = settings_.capture.snap_length;
        ring_options.block_size = settings_.capture.ring_block_kb * 1024;
        ring_options.block_count = settings_.capture.ring_blocks;
        std::string error;
        std::unique_ptr<PacketRing> ring = PacketRing::open(ring_options, error);
        if (!ring) {
            logging::error("capture: {}", error);
            return kExitFailure;
        }
        if (!start_agent(port, false)) {
            return kExitConfig;
        }

        // The packet hook runs in this capture thread and the tick in the main thread, as on a
        // device where the stack and the application are different threads; the port's lock
        // keeps them apart. When the ring fails (an interface went away), the thread reopens it
        // every few seconds, so a re-created interface is captured again.
        std::atomic<uint64_t> frames{0};
        std::thread capture([&] {
            bool reported = false;
            while (!g_stop) {
                if (!ring) {
                    std::string why;
                    ring = PacketRing::open(ring_options, why);
                    if (!ring) {
                        if (!reported) {
                            logging::warn("capture: cannot reopen: {}; retrying every {} s", why,
                                          kCaptureRetryMs / 1000);
                            reported = true;
                        }
                        for (int waited = 0; waited < kCaptureRetryMs && !g_stop; waited += 100) {
                            std::this_thread::sleep_for(std::chrono::milliseconds(100));
                        }
                        continue;
                    }
                    logging::info("capture: reopened");
                    reported = false;
                }
                const PacketRing::Result result =
                    ring->poll(static_cast<int>(kTickMs), [&](const PacketRing::Frame& f) {
                        frames.fetch_add(1, std::memory_order_relaxed);
                        g_agent.packet(f.ip, f.captured, f.direction, f.interface_index,
                                       port.now_ms());
                    });
                if (result == PacketRing::Result::Error) {
                    logging::error("capture: {}", ring->error());
                    ring.reset();
                }
            }
        });

        const auto started = std::chrono::steady_clock::now();
        while (!g_stop) {
            apply_runtime_configs(link_.get());
            (void)g_agent.tick();
            if (options_.once && first_report_.complete()) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
            const std::chrono::duration<double> elapsed =
                std::chrono::steady_clock::now() - started;
            if (options_.duration_s > 0 && elapsed.count() >= options_.duration_s) {
                break;
            }
        }
        g_stop = true;
        capture.join();
        const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - started;
        finish(port);
        log_summary(frames.load(), frames.load(), wall.count());
        if (options_.once) {
            return print_report();
        }
        return delivery_status();
    }

    static std::string join_addresses(const std::vector<vigil_address>& addresses) {
        std::string out;
        for (const vigil_address& a : addresses) {
            out += (out.empty() ? "" : ", ") + vigil::ports::posix::address_text(a);
        }
        return out.empty() ? "(none)" : out;
    }

    const Settings& settings_;
    const Options& options_;
    std::unique_ptr<vigil::linux_agent::MosquittoLink> link_;
    std::optional<vigil::linux_agent::ReplayLink> replay_link_;
    vigil::linux_agent::JsonLinesSink json_lines_;
    vigil::linux_agent::FirstReport first_report_;
    uint64_t undelivered_ = 0;
};

/// The settings from the file and the flags, checked: the one validation that both
/// --check-config and a run go through, so that whatever the check passes the run accepts.
/// A file that does not load is reported alone: what follows from a half-read file (such as a
/// missing device_id) would only mislead.
bool settle_settings(const Options& options, const Overrides& overrides, Settings& settings,
                     std::vector<std::string>& errors) {
    if (!options.config_file.empty() &&
        !vigil::linux_agent::load_settings_file(options.config_file, settings, errors)) {
        return false;
    }
    if (!apply_overrides(overrides, settings, errors)) {
        return false;
    }
    if (settings.mqtt.client_id.empty()) {
        settings.mqtt.client_id = settings.device_id;
    }
    if (!vigil::linux_agent::check_settings(settings, errors)) {
        return false;
    }
    // The run creates the link the same way (start_agent), so this is the run's own check of
    // the broker's files; the check makes it even when a run would print instead of publish.
    if (options.check_config && settings.mqtt_enabled) {
        std::string error;
        if (!vigil::linux_agent::MosquittoLink::create(settings.mqtt, error)) {
            errors.push_back("mqtt: " + error);
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "vigil-agent: watches this device's network activity and reports it to a Vigil hub"};
    Options options;
    Overrides overrides;
    app.add_option("-c,--config", options.config_file, "settings file (TOML)")
        ->check(CLI::ExistingFile);
    app.add_flag("--check-config", options.check_config,
                 "check the settings (and that the broker's files load), then exit");
    app.add_flag("--once", options.once,
                 "print the first report (one collection with network activity) as JSON, then "
                 "exit; publishes nothing");
    app.add_flag("--stdout", options.to_stdout,
                 "print every message as a JSON line instead of publishing");
    app.add_option("--device-id", overrides.device_id, "device id (overrides device_id)");
    app.add_option("-i,--interface", overrides.interfaces,
                   "capture on this interface (repeatable; overrides capture.interfaces)");
    app.add_option("--pcap", overrides.pcap,
                   "replay this capture file; its timestamps drive the agent's clock");
    app.add_option("--local", overrides.locals,
                   "replay: an address of the device in the capture (repeatable)");
    app.add_option("--replay-pps", overrides.pps, "replay: frames per second (0: at once)");
    app.add_option("--broker", overrides.broker, "broker HOST[:PORT] (overrides mqtt.host/port)");
    app.add_option("--high-interval", overrides.intervals[0], "seconds")
        ->check(CLI::Range(1u, vigil::wire::kMaxIntervalS));
    app.add_option("--medium-interval", overrides.intervals[1], "seconds")
        ->check(CLI::Range(1u, vigil::wire::kMaxIntervalS));
    app.add_option("--low-interval", overrides.intervals[2], "seconds")
        ->check(CLI::Range(1u, vigil::wire::kMaxIntervalS));
    app.add_option("--duration", options.duration_s, "live: stop after this many seconds")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--log-level", overrides.log_level, "error, warning, info or debug");
    app.footer(kExitCodesHelp);
    app.set_version_flag("--version", std::string("vigil-agent ") + vigil::agent::kVersionString);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? kExitOk : kExitConfig;
    }

    Settings settings;
    std::vector<std::string> errors;
    if (!settle_settings(options, overrides, settings, errors)) {
        for (const std::string& line : errors) {
            std::fprintf(stderr, "vigil-agent: %s\n", line.c_str());
        }
        return kExitConfig;
    }
    if (options.check_config) {
        std::printf("vigil-agent: settings OK: %s\n",
                    vigil::linux_agent::describe(settings).c_str());
        return kExitOk;
    }
    (void)logging::set_level(settings.log_level);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        Runner runner(settings, options);
        return runner.run();
    } catch (const std::exception& e) {
        logging::error("{}", e.what());
        return kExitFailure;
    }
}

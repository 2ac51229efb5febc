// vigil-sim: a fleet of virtual devices running the real agent core, publishing into a running
// vigil-hub, with attacks on a schedule (docs/sim.md).
//
//   vigil-sim --data HUB_DATA_DIR --scenario FILE [--speed X] [--duration S] [--report FILE]
//
// Prints one line per attack as it starts, a summary, BENCH lines, and with --report a JSON
// file of what each device sent, so a check can compare it with what the hub stored.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "enrolment.hpp"
#include "fleet.hpp"
#include "scenario.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
    g_stop.store(true);
}

// Every device holds a socket: a fleet of thousands needs more descriptors than the usual
// default of 1024. Returns how many the process may open.
rlim_t raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 1024;
    }
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            (void)getrlimit(RLIMIT_NOFILE, &limit);
        }
    }
    return limit.rlim_cur;
}

// Besides one socket per device: the standard streams, epoll, enrolment and report files.
constexpr rlim_t kSpareDescriptors = 32;

// The process's own CPU time in seconds (user and system, /proc/self/stat fields 14 and 15).
double own_cpu_seconds() {
    std::ifstream in("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces: count the fields after its closing ')'.
    const size_t close = text.rfind(')');
    if (close == std::string::npos) {
        return 0;
    }
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int n = 3; n <= 15 && fields >> field; ++n) {
        if (n == 14) {
            utime = std::stoull(field);
        } else if (n == 15) {
            stime = std::stoull(field);
        }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The most resident memory the process held (VmHWM in /proc/self/status), in MB.
double peak_rss_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stod(line.substr(6)) / 1024;
        }
    }
    return 0;
}

nlohmann::json to_json(const vigil::sim::FleetSummary& s, double drain_s, bool drained,
                       double cpu_percent, double rss_mb) {
    nlohmann::json devices = nlohmann::json::object();
    for (const vigil::sim::DeviceReport& d : s.devices) {
        const nlohmann::json counts = {{"messages_sent", d.messages_sent},
                                       {"unacknowledged", d.messages_unacknowledged},
                                       {"packets", d.packets},
                                       {"connects", d.connects},
                                       {"send_failures", d.agent.send_failures},
                                       {"messages_dropped", d.agent.messages_dropped},
                                       {"backlog_messages", d.backlog_messages}};
        if (!devices.contains(d.device_id)) {
            devices[d.device_id] = counts;
            devices[d.device_id]["profile"] = d.profile;
            devices[d.device_id]["agents"] = 1;
            continue;
        }
        // A clone under the same identity (shared_identity): the hub holds both as one device.
        nlohmann::json& both = devices[d.device_id];
        for (const auto& [key, value] : counts.items()) {
            both[key] = both[key].get<uint64_t>() + value.get<uint64_t>();
        }
        both["agents"] = both["agents"].get<int>() + 1;
    }
    nlohmann::json attacks = nlohmann::json::array();
    for (const vigil::sim::AttackReport& a : s.attacks) {
        attacks.push_back({{"kind", a.kind},
                           {"device", a.device_id},
                           {"at_s", static_cast<double>(a.at_ms) / 1000},
                           {"started", a.started},
                           {"finished", a.finished},
                           {"probes", a.probes}});
    }
    return {{"sim_seconds", static_cast<double>(s.sim_ms) / 1000},
            {"real_seconds", s.real_s},
            {"lag_seconds", static_cast<double>(s.lag_ms) / 1000},
            {"drain_seconds", drain_s},
            {"drained", drained},
            {"cpu_percent", cpu_percent},
            {"rss_mb", rss_mb},
            {"messages", s.messages},
            {"unacknowledged", s.unacknowledged},
            {"packets", s.packets},
            {"devices", devices},
            {"attacks", attacks}};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"vigil-sim: a fleet of virtual devices running the Vigil agent core"};
    std::string data_dir, scenario_path, credentials, report_path;
    double speed = 0, duration_s = -1, drain_timeout_s = 30;
    bool quiet = false;
    app.add_option("--data", data_dir, "the running vigil-hub's data directory")->required();
    app.add_option("--scenario", scenario_path, "the scenario file (TOML)")->required();
    app.add_option("--speed", speed, "simulated seconds per real second (overrides the file)");
    app.add_option("--duration", duration_s,
                   "simulated seconds to run, 0 until Ctrl-C (overrides the file)");
    app.add_option("--credentials", credentials,
                   "where the devices' credentials are kept (default "
                   "<data>/sim-credentials.json)");
    app.add_option("--report", report_path, "write what each device sent here (JSON)");
    app.add_option("--drain-timeout", drain_timeout_s,
                   "real seconds to wait at the end for the broker to acknowledge every publish");
    app.add_flag("--quiet", quiet, "print only the summary");
    CLI11_PARSE(app, argc, argv);

    std::vector<std::string> errors;
    auto scenario = vigil::sim::load_scenario(scenario_path, errors);
    if (!scenario) {
        for (const std::string& e : errors) {
            std::fprintf(stderr, "%s\n", e.c_str());
        }
        return 2;
    }
    if (speed > 0) {
        scenario->speed = speed;
    }
    if (duration_s >= 0) {
        scenario->duration_ms = static_cast<uint64_t>(duration_s * 1000);
    }
    if (credentials.empty()) {
        credentials = data_dir + "/sim-credentials.json";
    }
    const rlim_t descriptors = raise_descriptor_limit();
    const std::vector<std::string> ids = vigil::sim::Fleet::device_ids(*scenario);
    if (descriptors != RLIM_INFINITY && ids.size() + kSpareDescriptors > descriptors) {
        std::fprintf(stderr,
                     "vigil-sim: %zu devices need %zu open files, and this process may open only "
                     "%llu (the hard limit: raise it with ulimit -Hn or LimitNOFILE)\n",
                     ids.size(), ids.size() + static_cast<size_t>(kSpareDescriptors),
                     static_cast<unsigned long long>(descriptors));
        return 1;
    }
    vigil::sim::HubEndpoint hub;
    std::string error;
    if (!vigil::sim::enrol_devices(data_dir, credentials, ids, hub, error)) {
        std::fprintf(stderr, "vigil-sim: %s\n", error.c_str());
        return 1;
    }
    auto log = [quiet](const std::string& line) {
        if (!quiet) {
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
        }
    };
    vigil::sim::Fleet fleet(*scenario, hub, log);
    if (!fleet.start(error)) {
        std::fprintf(stderr, "vigil-sim: %s\n", error.c_str());
        return 1;
    }
    log("vigil-sim: " + std::to_string(ids.size()) + " devices, speed " +
        std::to_string(scenario->speed) + "x, broker " + hub.broker.host + ":" +
        std::to_string(hub.broker.port));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    const double cpu_before = own_cpu_seconds();
    fleet.run(g_stop);
    const double run_cpu_s = own_cpu_seconds() - cpu_before;
    const auto drain_start = std::chrono::steady_clock::now();
    const bool drained = fleet.drain(drain_timeout_s);
    const double drain_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - drain_start).count();
    const vigil::sim::FleetSummary summary = fleet.summary();
    fleet.stop();

    const double rate =
        summary.real_s > 0 ? static_cast<double>(summary.messages) / summary.real_s : 0;
    std::printf(
        "vigil-sim: %zu devices, %.0f simulated s in %.1f real s, %llu messages sent "
        "(%llu unacknowledged), %llu packets; %.1f simulated s behind the speed asked\n",
        ids.size(), static_cast<double>(summary.sim_ms) / 1000, summary.real_s,
        static_cast<unsigned long long>(summary.messages),
        static_cast<unsigned long long>(summary.unacknowledged),
        static_cast<unsigned long long>(summary.packets),
        static_cast<double>(summary.lag_ms) / 1000);
    // Of one core, while the fleet ran (enrolment, start and drain excluded).
    const double cpu_percent = summary.real_s > 0 ? 100 * run_cpu_s / summary.real_s : 0;
    const double rss_mb = peak_rss_mb();
    std::printf("BENCH sim_devices %zu devices\n", ids.size());
    std::printf("BENCH sim_rss_mb %.1f MB\n", rss_mb);
    std::printf("BENCH sim_cpu_percent %.1f %%\n", cpu_percent);
    std::printf("BENCH sim_messages_per_second %.1f msg/s\n", rate);
    std::printf("BENCH sim_packets_per_second %.0f packets/s\n",
                summary.real_s > 0 ? static_cast<double>(summary.packets) / summary.real_s : 0);
    if (!report_path.empty()) {
        std::ofstream(report_path, std::ios::trunc)
            << to_json(summary, drain_s, drained, cpu_percent, rss_mb).dump(1) << "\n";
    }
    if (!drained) {
        std::fprintf(stderr, "vigil-sim: %llu publishes not acknowledged after %.0f s\n",
                     static_cast<unsigned long long>(summary.unacknowledged), drain_timeout_s);
        return 3;
    }
    return 0;
}

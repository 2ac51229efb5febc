// vigil-sim: a fleet of virtual devices running the real agent core, publishing into a running
// vigil-hub, with attacks on a schedule (docs/sim.md).
//
//   vigil-sim --data HUB_DATA_DIR --scenario FILE [--speed X] [--duration S] [--report FILE]
//
// Prints one line per attack as it starts, a summary, BENCH lines, and with --report a JSON
// file of what each device sent, so a check can compare it with what the hub stored.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
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
// default of 1024.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &limit);
    }
}

nlohmann::json to_json(const vigil::sim::FleetSummary& s, double drain_s, bool drained) {
    nlohmann::json devices = nlohmann::json::object();
    for (const vigil::sim::DeviceReport& d : s.devices) {
        devices[d.device_id] = {{"profile", d.profile},
                                {"messages_sent", d.messages_sent},
                                {"unacknowledged", d.messages_unacknowledged},
                                {"packets", d.packets},
                                {"connects", d.connects},
                                {"send_failures", d.agent.send_failures},
                                {"messages_dropped", d.agent.messages_dropped},
                                {"backlog_messages", d.backlog_messages}};
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
    raise_descriptor_limit();

    const std::vector<std::string> ids = vigil::sim::Fleet::device_ids(*scenario);
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

    fleet.run(g_stop);
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
        summary.devices.size(), static_cast<double>(summary.sim_ms) / 1000, summary.real_s,
        static_cast<unsigned long long>(summary.messages),
        static_cast<unsigned long long>(summary.unacknowledged),
        static_cast<unsigned long long>(summary.packets),
        static_cast<double>(summary.lag_ms) / 1000);
    std::printf("BENCH sim_devices %zu devices\n", summary.devices.size());
    std::printf("BENCH sim_messages_per_second %.1f msg/s\n", rate);
    std::printf("BENCH sim_packets_per_second %.0f packets/s\n",
                summary.real_s > 0 ? static_cast<double>(summary.packets) / summary.real_s : 0);
    if (!report_path.empty()) {
        std::ofstream(report_path, std::ios::trunc)
            << to_json(summary, drain_s, drained).dump(1) << "\n";
    }
    if (!drained) {
        std::fprintf(stderr, "vigil-sim: %llu publishes not acknowledged after %.0f s\n",
                     static_cast<unsigned long long>(summary.unacknowledged), drain_timeout_s);
        return 3;
    }
    return 0;
}

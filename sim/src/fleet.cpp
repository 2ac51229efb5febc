#include "fleet.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "profiles.hpp"

namespace vigil::sim {
namespace {

int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

uint32_t mix(uint32_t seed, uint32_t n) {
    uint32_t h = seed * 2654435761u ^ (n + 0x9e3779b9u);
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h | 1;
}

// Every device's connection is looked after about once a real second (keep-alive, reconnects),
// even when it neither publishes nor receives.
constexpr double kHousekeepingPerDevicePerMs = 1.0 / 1000;

// The most simulated time one round may move the fleet on: an agent expects a tick at least
// every second of its clock.
constexpr uint64_t kMaxRoundMs = 1000;

// Connections opened at the start before the broker is given time to take them.
constexpr size_t kConnectBatch = 50;
constexpr int kConnectPauseMs = 5;

}  // namespace

Fleet::Fleet(const Scenario& scenario, const HubEndpoint& hub, Log log)
    : scenario_(scenario), hub_(hub), log_(std::move(log)) {}

Fleet::~Fleet() {
    stop();
}

std::vector<std::string> Fleet::device_ids(const Scenario& scenario) {
    std::vector<std::string> ids;
    for (const auto& [profile, count] : scenario.fleet) {
        for (uint32_t n = 0; n < count; ++n) {
            ids.push_back(device_id(scenario, profile, n));
        }
    }
    return ids;
}

uint32_t Fleet::real_ms() const {
    return static_cast<uint32_t>((steady_ns() - real_start_ns_) / 1000000);
}

bool Fleet::start(std::string& error) {
    if (!watch_.ok()) {
        error = "epoll_create1 failed";
        return false;
    }
    real_start_ns_ = steady_ns();
    const auto start_unix = static_cast<uint32_t>(std::time(nullptr));
    const auto run_nonce =
        static_cast<uint32_t>(std::chrono::system_clock::now().time_since_epoch().count());
    uint32_t global = 0;
    for (const auto& [profile_name, count] : scenario_.fleet) {
        const Profile* profile = find_profile(profile_name);
        const auto profile_index = static_cast<uint32_t>(profile - profiles().data());
        for (uint32_t n = 0; n < count; ++n, ++global) {
            const std::string id = device_id(scenario_, profile_name, n);
            const auto identity = hub_.identities.find(id);
            if (identity == hub_.identities.end()) {
                error = id + " has no credentials";
                return false;
            }
            const uint32_t seed = mix(scenario_.seed, global);
            // Devices were switched on at different times in the past week.
            const uint64_t up_ms = 3600000ull + seed % (7ull * 24 * 3600000);
            auto device =
                std::make_unique<VirtualDevice>(identity->second, *profile, profile_index, n,
                                                start_unix, up_ms, seed, mix(run_nonce, global));
            for (const AttackSpec& attack : scenario_.attacks) {
                if (std::find(attack.devices.begin(), attack.devices.end(), id) ==
                    attack.devices.end()) {
                    continue;
                }
                device->add_attack(attack, mix(seed, static_cast<uint32_t>(attack.at_ms)));
                if (attack.kind == AttackKind::SharedIdentity) {
                    // The same identity, addresses and traffic; a boot of its own.
                    Clone clone;
                    clone.at_ms = attack.at_ms;
                    clone.end_ms = attack.duration_ms > 0 ? attack.at_ms + attack.duration_ms : 0;
                    clone.device = std::make_unique<VirtualDevice>(
                        identity->second, *profile, profile_index, n, start_unix, up_ms / 2,
                        mix(seed, 0xc10e), mix(run_nonce ^ 0xc10e, global));
                    clones_.push_back(std::move(clone));
                }
            }
            if (!device->start(hub_.broker, real_ms())) {
                error = id + ": the agent or its MQTT client refused to start";
                return false;
            }
            announced_.emplace_back(device->attacks().size(), false);
            devices_.push_back(std::move(device));
            if (devices_.size() % kConnectBatch == 0) {
                // The broker accepts the last batch and answers its CONNECTs before the next
                // one connects: thousands at once overflow its listen queue, and every refused
                // SYN costs that device a second before it tries again.
                serve_network(kConnectPauseMs);
            }
        }
    }
    return true;
}

void Fleet::serve_network(int timeout_ms) {
    for (size_t i = 0; i < devices_.size(); ++i) {
        watch_.follow(i, devices_[i]->socket_fd());
    }
    watch_.wait(timeout_ms, ready_);
    const uint32_t now = real_ms();
    for (size_t owner : ready_) {
        devices_[owner]->process_network(now);
    }
    // A share of the fleet each round, in turn, as much as the time since the last round asks.
    housekeeping_due_ += static_cast<double>(now - last_housekeeping_ms_) *
                         kHousekeepingPerDevicePerMs * static_cast<double>(devices_.size());
    last_housekeeping_ms_ = now;
    while (housekeeping_due_ >= 1 && !devices_.empty()) {
        housekeeping_due_ -= 1;
        housekeeping_next_ = (housekeeping_next_ + 1) % devices_.size();
        devices_[housekeeping_next_]->process_network(now);
    }
}

void Fleet::announce_attacks() {
    for (size_t i = 0; i < devices_.size(); ++i) {
        const std::vector<AttackRun>& attacks = devices_[i]->attacks();
        for (size_t a = 0; a < attacks.size(); ++a) {
            if (attacks[a].started() && !announced_[i][a]) {
                announced_[i][a] = true;
                log_("attack " + std::string(to_string(attacks[a].spec().kind)) + " on " +
                     devices_[i]->device_id() + " at " +
                     std::to_string(attacks[a].spec().at_ms / 1000) + " s");
            }
        }
    }
}

void Fleet::follow_clones() {
    for (Clone& clone : clones_) {
        if (clone.device && sim_ms_ >= clone.at_ms) {
            clone.running = clone.device.get();
            if (!clone.running->start(hub_.broker, real_ms())) {
                log_("a clone of " + clone.running->device_id() + " could not start");
            }
            announced_.emplace_back();
            devices_.push_back(std::move(clone.device));
        }
        // Two clients with one client id take turns on the broker (each connection ends the
        // other's): the clone is switched off at its end, so the original can drain.
        if (clone.running != nullptr && clone.end_ms > 0 && sim_ms_ >= clone.end_ms) {
            clone.running->retire();
            clone.running = nullptr;
        }
    }
}

void Fleet::run(const std::atomic<bool>& stop) {
    const int64_t run_start_ns = steady_ns();
    // Long enough to leave the processor alone, short enough to step each device on time.
    const int wait_ms =
        std::clamp(static_cast<int>(static_cast<double>(kStepMs) / scenario_.speed / 4), 1, 20);
    bool last_round = false;
    while (!stop.load() && !last_round) {
        const double real_s = static_cast<double>(steady_ns() - run_start_ns) / 1e9;
        const auto target_ms = static_cast<uint64_t>(real_s * scenario_.speed * 1000) - lag_ms_;
        if (target_ms > sim_ms_ + kMaxRoundMs) {
            // The machine stalled or cannot keep up: the fleet falls behind instead of letting
            // its agents skip windows, which would thin out every rate they report.
            lag_ms_ += target_ms - sim_ms_ - kMaxRoundMs;
            sim_ms_ += kMaxRoundMs;
        } else {
            sim_ms_ = std::max(sim_ms_, target_ms);
        }
        if (scenario_.duration_ms > 0 && sim_ms_ >= scenario_.duration_ms) {
            sim_ms_ = scenario_.duration_ms;
            last_round = true;
        }
        follow_clones();
        const uint32_t now = real_ms();
        for (auto& device : devices_) {
            // What the tick published goes out now; bytes a full socket refused, once more.
            if (device->advance(sim_ms_) || device->has_unsent()) {
                device->process_network(now);
            }
        }
        announce_attacks();
        serve_network(wait_ms);
    }
    run_s_ = static_cast<double>(steady_ns() - run_start_ns) / 1e9;
}

bool Fleet::drain(double timeout_s) {
    const int64_t deadline = steady_ns() + static_cast<int64_t>(timeout_s * 1e9);
    while (steady_ns() < deadline) {
        const bool pending = std::any_of(devices_.begin(), devices_.end(), [](const auto& d) {
            return d->has_output() || !d->connected();
        });
        if (!pending) {
            return true;
        }
        serve_network(5);
        const uint32_t now = real_ms();
        for (auto& device : devices_) {
            if (device->has_output()) {
                device->process_network(now);
            }
        }
    }
    return false;
}

void Fleet::stop() {
    for (auto& device : devices_) {
        device->stop();
    }
}

FleetSummary Fleet::summary() const {
    FleetSummary s;
    s.sim_ms = sim_ms_;
    s.real_s = run_s_;
    s.lag_ms = lag_ms_;
    for (size_t i = 0; i < devices_.size(); ++i) {
        const DeviceReport r = devices_[i]->report();
        s.messages += r.messages_sent;
        s.unacknowledged += r.messages_unacknowledged;
        s.packets += r.packets;
        s.devices.push_back(r);
        for (const AttackRun& attack : devices_[i]->attacks()) {
            AttackReport a;
            a.kind = to_string(attack.spec().kind);
            a.device_id = devices_[i]->device_id();
            a.at_ms = attack.spec().at_ms;
            a.started = attack.started();
            a.finished = attack.finished();
            a.probes = attack.probes();
            s.attacks.push_back(a);
        }
    }
    return s;
}

}  // namespace vigil::sim

// The fleet: every virtual device of a scenario in one thread, their MQTT connections served
// by one epoll set, the simulated clock derived from the real one at the scenario's speed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connection_watch.hpp"
#include "enrolment.hpp"
#include "scenario.hpp"
#include "virtual_device.hpp"

namespace vigil::sim {

/// An attack as the run saw it.
struct AttackReport {
    std::string kind;
    std::string device_id;
    uint64_t at_ms = 0;
    bool started = false;
    bool finished = false;
    uint32_t probes = 0;
};

struct FleetSummary {
    std::vector<DeviceReport> devices;
    std::vector<AttackReport> attacks;
    uint64_t sim_ms = 0;
    double real_s = 0;      ///< from the first step to the end of the run (drain excluded)
    uint64_t lag_ms = 0;    ///< how far the fleet fell behind its speed (the machine stalled)
    uint64_t messages = 0;  ///< handed to the MQTT clients by the agents
    uint64_t unacknowledged = 0;
    uint64_t packets = 0;
};

class Fleet {
  public:
    using Log = std::function<void(const std::string&)>;

    Fleet(const Scenario& scenario, const HubEndpoint& hub, Log log);
    ~Fleet();

    /// Ids of every device the scenario makes, in fleet order.
    static std::vector<std::string> device_ids(const Scenario& scenario);

    /// Creates the devices and starts their agents and connections.
    bool start(std::string& error);
    /// Plays the scenario until its duration (or stop, when the duration is 0), at its speed.
    void run(const std::atomic<bool>& stop);
    /// Runs only the network until every publish is acknowledged; false at the timeout.
    bool drain(double timeout_s);
    /// Disconnects every device.
    void stop();
    FleetSummary summary() const;

  private:
    uint32_t real_ms() const;
    void serve_network(int timeout_ms);
    void announce_attacks();
    void follow_clones();

    /// A second agent under a device's identity (shared_identity), started at its time.
    struct Clone {
        std::unique_ptr<VirtualDevice> device;
        VirtualDevice* running = nullptr;  ///< once started (devices_ owns it then)
        uint64_t at_ms = 0;
        uint64_t end_ms = 0;  ///< 0: runs to the end
    };

    const Scenario& scenario_;
    const HubEndpoint& hub_;
    Log log_;
    std::vector<std::unique_ptr<VirtualDevice>> devices_;
    std::vector<std::vector<bool>> announced_;
    std::vector<Clone> clones_;
    int64_t real_start_ns_ = 0;
    uint64_t sim_ms_ = 0;
    uint64_t lag_ms_ = 0;  ///< simulated time the fleet fell behind its speed
    double run_s_ = 0;
    ConnectionWatch watch_;
    std::vector<size_t> ready_;
    size_t housekeeping_next_ = 0;
    double housekeeping_due_ = 0;
    uint32_t last_housekeeping_ms_ = 0;
};

}  // namespace vigil::sim

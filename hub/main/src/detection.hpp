// Detection in the running hub: the policy file and the feeds directory watched for changes,
// the engine that ingest's commits run, device silence swept on the hub's clock, and every alert
// event passed on to the outputs and the API's stream once the store has made it durable (with
// the devices' changes and the fleet's pulse, for the stream).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lookup_cache.hpp"
#include "vigil/hub/detect/engine.hpp"
#include "vigil/hub/detect/policy_file.hpp"
#include "vigil/hub/detect/threat_intel.hpp"
#include "vigil/hub/ingest.hpp"
#include "vigil/hub/outputs/alert_events.hpp"
#include "vigil/hub/outputs/fleet_pulse.hpp"
#include "vigil/hub/outputs/output_set.hpp"
#include "vigil/hub/recommend/broker_connections.hpp"
#include "vigil/hub/recommend/catalog_directory.hpp"
#include "vigil/hub/store.hpp"

namespace vigil::hub {

struct DetectionOptions {
    std::string policy_path;  ///< a missing file means the built-in defaults
    std::string feeds_dir;    ///< a missing directory means no threat intelligence
    /// Drop-in vulnerability catalogs (*.toml) added to the built-in one; may be missing.
    std::string vulnerabilities_dir;
    /// identity.shared by source address (recommend::HygieneSettings).
    int64_t shared_address_window_ms = 600'000;
    uint32_t watch_interval_ms = 1000;    ///< how often the policy, feeds and catalogs are checked
    uint32_t silence_interval_ms = 5000;  ///< how often silent devices are looked for
    bool enabled = true;                  ///< false: reports are stored and nothing is detected
    outputs::MqttConnection broker;       ///< where MQTT alert outputs publish (the hub's broker)
    /// How long a replaced output may go on sending what it holds when the policy changes.
    uint32_t output_drain_ms = 2000;
};

struct DetectionMetrics {
    std::map<std::string, uint64_t> alerts_opened;  ///< by category
    uint64_t alerts_repeated = 0, alerts_resolved = 0;
    uint64_t policy_reloads = 0, policy_refusals = 0;
    uint64_t feed_reloads = 0;
    size_t indicators = 0, feed_errors = 0, policy_errors = 0;
    uint64_t catalog_reloads = 0;
    size_t vulnerabilities = 0, catalog_errors = 0;
    std::map<std::string, uint64_t> recommendations_opened;  ///< by kind
    uint64_t recommendations_closed = 0;
    size_t devices = 0;
    uint64_t step_failures = 0;
};

class HubDetection {
  public:
    using Log = std::function<void(const std::string&)>;
    HubDetection(DetectionOptions options, Store& store, Log log);
    ~HubDetection();
    HubDetection(const HubDetection&) = delete;
    HubDetection& operator=(const HubDetection&) = delete;

    /// Loads the policy and the feeds once (logging what they hold), syncs the policy's
    /// suppressions to the store, and starts the watcher.
    void start();
    void stop();

    /// Ingest's write step: the batch and what detection makes of it in one commit, then the
    /// alert and recommendation events published.
    WriteFunction write_function();

    AlertEvents& events() { return events_; }
    /// How devices reach the embedded broker (its guard's reports), for the hygiene checks.
    recommend::BrokerConnections& connections() { return connections_; }
    /// The vulnerability catalogs: the built-in one and the drop-in directory.
    const recommend::CatalogDirectory& catalogs() const { return catalogs_; }
    std::shared_ptr<const detect::Policy> policy() const { return policy_file_.snapshot(); }
    std::shared_ptr<const std::vector<detect::PolicyError>> policy_errors() const {
        return policy_file_.last_errors();
    }
    std::string group_of(const std::string& device_id);
    /// The low-priority interval of the config the hub gives the device (its own, else its
    /// group's); 0 when the hub gives it none, so the agent runs its default.
    uint32_t low_interval_of(const std::string& device_id, const std::string& group);
    DetectionMetrics metrics() const;
    /// The detection and output families in Prometheus text format.
    std::string metrics_text() const;

  private:
    WriteResult write(const std::vector<Report>& reports);
    void publish(const std::vector<AlertEvent>& events);
    void publish(const std::vector<RecommendationEvent>& events);
    /// The devices' changes the batch made, and its messages to the fleet's pulse.
    void publish_activity(const std::vector<Report>& reports, const WriteResult& result);
    void reload_catalog(bool first);
    void watch_loop();
    void reload(bool first);
    void sweep_silence();
    void sync_suppressions(const detect::Policy& policy);
    void rebuild_outputs(const detect::Policy& policy);

    DetectionOptions options_;
    Store& store_;
    Log log_;
    detect::PolicyFile policy_file_;
    detect::FeedDirectory feeds_;
    recommend::CatalogDirectory catalogs_;
    recommend::BrokerConnections connections_;
    detect::Engine engine_;
    AlertEvents events_;
    // The watcher's loop ticks it, so its event comes within a watch interval of being due.
    static constexpr int64_t kFleetPulseMs = 5000;
    FleetPulse fleet_pulse_{events_, kFleetPulseMs};
    mutable std::mutex outputs_mutex_;  // guards outputs_ (replaced by the watcher)
    std::unique_ptr<outputs::OutputSet> outputs_;

    // A regrouping or a new config takes effect within this long.
    static constexpr int64_t kLookupTtlMs = 10'000;
    LookupCache<std::string> groups_{kLookupTtlMs};
    LookupCache<uint32_t> intervals_{kLookupTtlMs};

    mutable std::mutex metrics_mutex_;
    DetectionMetrics metrics_;

    std::mutex wake_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread watcher_;
};

/// DetectionMetrics in Prometheus text format (vigil_hub_detect_* families).
std::string prometheus_text(const DetectionMetrics& metrics);

}  // namespace vigil::hub

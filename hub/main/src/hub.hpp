// The running hub: its data directory, store, broker (embedded or external), ingest pipeline,
// config publisher and retention timer, started in that order and stopped in reverse. It is also
// the HubControl the HTTP API drives.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vigil/hub/broker.hpp"
#include "vigil/hub/control.hpp"
#include "vigil/hub/ingest.hpp"
#include "vigil/hub/sqlite_store.hpp"
#include "vigil/hub/store.hpp"

namespace vigil::hub {

class AdministrationWatch;
class BrokerAccounts;
class BrokerWatch;
class ConfigPublisher;
class DataDirLock;
class HubDetection;
class LogSink;

struct HubOptions {
    std::string data_dir = "./vigil-data";
    uint16_t broker_port = 1883;  ///< the embedded broker's plain listener, on 127.0.0.1
    uint16_t tls_port = 0;        ///< 0: no TLS listener
    std::string tls_address;      ///< "" every address
    std::vector<std::string> tls_names = {"IP:127.0.0.1", "DNS:localhost"};
    /// "mqtt://host:port": use that broker and run none.
    std::string broker_url;
    std::string ingest_username, ingest_password, admin_username, admin_password;
    /// The embedded broker's bounds and its guard plugin (BrokerSettings says what each does).
    uint32_t broker_max_queued_messages = BrokerSettings{}.max_queued_messages;
    uint64_t broker_max_queued_bytes = BrokerSettings{}.max_queued_bytes;
    uint64_t broker_max_inflight_bytes = BrokerSettings{}.max_inflight_bytes;
    std::string broker_guard_plugin = default_guard_plugin();
    std::string api_address = "127.0.0.1";
    uint16_t api_port = 8080;
    uint32_t retention_days = 7;
    uint32_t retention_interval_s = 3600;  ///< how often old telemetry is deleted
    Durability durability = Durability::Full;
    /// Longest the quick check of an existing store may take at start (0: no check).
    uint32_t store_check_ms = SqliteOptions{}.quick_check_ms;
    // A commit starts when this many messages are held or the oldest has waited this long (and
    // the previous commit has returned). Each commit ends in an fsync, so under load fewer,
    // larger commits leave more of the machine to the broker: 2000/50 ms ingested about a tenth
    // more than 500/20 ms in bench/hub_ingest.sh, and the wait stays far inside the 500 ms that
    // the ingest latency may take.
    size_t batch_messages = 2000;
    uint32_t batch_age_ms = 50;
    /// Lines about rejected messages: at most this many per reason in each interval.
    uint32_t rejection_log_lines = IngestSettings{}.rejection_log_lines;
    uint32_t rejection_log_interval_ms = IngestSettings{}.rejection_log_interval_ms;
    /// The log's longest line, escaped (LogSink).
    size_t log_line_bytes = 4096;
    /// Detection: the policy file (default <data>/policy.toml) and the feeds directory (default
    /// <data>/feeds); a missing one means the built-in defaults, or no threat intelligence.
    std::string policy_path, feeds_dir;
    /// Drop-in vulnerability catalogs, added to the built-in one (default
    /// <data>/vulnerabilities.d).
    std::string vulnerabilities_dir;
    /// identity.shared by source address: returns further apart than this start again.
    int64_t shared_address_window_s = 600;
    bool detection = true;
    /// How often the hub asks its broker whether it can still administer it (for /healthz). Each
    /// look is a connection the broker logs in three lines (mosquitto.log).
    uint32_t administration_check_ms = 15000;
};

/// The store file inside a data directory.
std::string store_path(const std::string& data_dir);

class Hub final : public HubControl {
  public:
    using Log = std::function<void(const std::string&)>;
    /// `sink`, when given, is where `log` writes: /metrics then counts the lines it cut.
    Hub(HubOptions options, Log log, const LogSink* sink = nullptr);
    ~Hub() override;
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    /// Every step in order, one log line each; false with `error` at the first that fails
    /// (what was started is stopped again).
    bool start(std::string& error);
    /// Ingest drains and commits, then the publisher, the retention timer and the broker stop.
    void stop();

    Store& store() { return *store_; }
    HubDetection& detection() { return *detection_; }
    const HubOptions& options() const { return options_; }

    // HubControl
    bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                    std::string& error) override;
    bool revoke_device(const std::string& device_id, std::string& error) override;
    bool publish_config(const std::string& device_id, const std::vector<uint8_t>& config,
                        std::string& error) override;
    std::string ingest_metrics_text() override;
    std::vector<std::string> health_problems() override;
    std::string detection_policy_json(const std::string& device_id) override;
    std::vector<VulnerabilityFile> vulnerability_files() override;
    VulnerabilityInstall install_vulnerability_file(const std::string& name,
                                                    const std::string& text) override;

  private:
    bool prepare_data_dir(std::string& error);
    bool lock_data_dir(std::string& error);
    bool open_store(std::string& error);
    bool start_broker(std::string& error);
    void start_detection();
    void start_ingest();
    void retention_loop();

    HubOptions options_;
    Log log_;
    const LogSink* sink_;
    std::unique_ptr<DataDirLock> lock_;  // held from start to the end of stop
    std::unique_ptr<Store> store_;
    std::unique_ptr<Broker> broker_;
    std::unique_ptr<BrokerAccounts> accounts_;             // enrolment at broker_
    std::unique_ptr<AdministrationWatch> administration_;  // of broker_, while it runs
    std::unique_ptr<HubDetection> detection_;
    std::unique_ptr<IngestPipeline> ingest_;
    std::unique_ptr<ConfigPublisher> publisher_;
    std::unique_ptr<BrokerWatch> watch_;  // embedded broker only
    std::mutex write_mutex_;              // one store commit at a time
    std::thread legacy_drain_;            // reads an earlier hub's ingest session, once
    std::atomic<bool> legacy_stop_{false};
    std::thread retention_;
    std::mutex retention_mutex_;
    std::condition_variable retention_wake_;
    bool stopping_ = false;
    bool started_ = false;
};

/// IngestMetrics in Prometheus text format (vigil_hub_ingest_* families).
std::string prometheus_text(const IngestMetrics& metrics, bool connected, uint32_t broker_restarts);
/// The log's own counters (vigil_hub_log_* families).
std::string log_metrics_text(const LogSink& sink);

/// `vigil-hub devices add|revoke ID` on a data directory: through the running hub's broker when
/// a hub holds the directory's lock and has said where its broker listens, else (holding the lock
/// itself) through an embedded broker started for the occasion; refused when someone else holds
/// the lock without a broker to reach. Prints the credentials (add) as JSON on stdout; returns
/// the process exit code.
int admin_devices(const HubOptions& options, const std::string& action,
                  const std::vector<std::string>& device_ids);

}  // namespace vigil::hub

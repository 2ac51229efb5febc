#include "hub.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>

#include "administration_watch.hpp"
#include "broker_accounts.hpp"
#include "broker_watch.hpp"
#include "data_dir_lock.hpp"
#include "detection.hpp"
#include "legacy_session.hpp"
#include "log_sink.hpp"
#include "publisher.hpp"
#include "vigil/hub/decode.hpp"
#include "vigil/hub/detect/policy_json.hpp"
#include "vigil/hub/detect/policy_parse.hpp"
#include "vigil/hub/recommend/catalog_directory.hpp"
#include "vigil/hub/runtime_file.hpp"
#include "vigil/protocol/topic.h"

namespace vigil::hub {

namespace fs = std::filesystem;

namespace {

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr uint32_t kPublishTimeoutMs = 5000;
// How long /healthz names a session the broker dropped: long enough for a scrape or a person to
// see it, after which the metric vigil_hub_ingest_sessions_lost_total keeps the record.
constexpr int64_t kSessionLostReportMs = 10 * 60 * 1000;
// After a kill -9 of the hub, its mosquitto (told by PR_SET_PDEATHSIG) may still be saving its
// sessions and holding the port when the hub starts again: wait that long for it to go.
constexpr int kPortRetryMs = 15000;

}  // namespace

std::string store_path(const std::string& data_dir) {
    return data_dir + "/vigil.db";
}

Hub::Hub(HubOptions options, Log log, const LogSink* sink)
    : options_(std::move(options)), log_(std::move(log)), sink_(sink) {}

Hub::~Hub() {
    stop();
}

bool Hub::prepare_data_dir(std::string& error) {
    std::error_code ec;
    const bool existed = fs::is_directory(options_.data_dir, ec);
    if (!existed) {
        // 0700: the store, the broker's accounts and the CA's key live here.
        if (mkdir(options_.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
            error = "cannot create the data directory " + options_.data_dir + ": " +
                    std::strerror(errno);
            return false;
        }
    }
    if (access(options_.data_dir.c_str(), W_OK | X_OK) != 0) {
        error =
            "the data directory " + options_.data_dir + " is not writable: " + std::strerror(errno);
        return false;
    }
    log_("data directory " + fs::absolute(options_.data_dir).string() +
         (existed ? "" : " (created)"));
    return true;
}

// Before anything in the directory is touched: a second hub stops here, leaving the first one's
// store and broker alone.
bool Hub::lock_data_dir(std::string& error) {
    lock_ = std::make_unique<DataDirLock>(options_.data_dir);
    if (!lock_->held()) {
        error = lock_->error();
        lock_.reset();
        return false;
    }
    log_("data directory locked (" + DataDirLock::path_in(options_.data_dir) + ", pid " +
         std::to_string(getpid()) + ")");
    return true;
}

bool Hub::open_store(std::string& error) {
    SqliteOptions store;
    store.path = store_path(options_.data_dir);
    store.durability = options_.durability;
    store.retention_ms = static_cast<int64_t>(options_.retention_days) * 24 * 3600 * 1000;
    store.quick_check_ms = options_.store_check_ms;
    store.log = [this](const std::string& line) { log_("store: " + line); };
    const bool existed = fs::exists(store.path);
    store_ = open_sqlite_store(store, error);
    if (!store_) {
        return false;
    }
    log_("store " + store.path + (existed ? "" : " (created)") + ", SQLite, synchronous " +
         (options_.durability == Durability::Full ? "FULL" : "NORMAL") + ", retention " +
         std::to_string(options_.retention_days) + " days");
    return true;
}

bool Hub::start_broker(std::string& error) {
    BrokerSettings settings;
    settings.data_dir = options_.data_dir;
    settings.url = options_.broker_url;
    settings.port = options_.broker_port;
    settings.tls = options_.tls_port != 0;
    settings.tls_port = options_.tls_port;
    settings.tls_address = options_.tls_address;
    settings.tls_names = options_.tls_names;
    settings.ingest_username = options_.ingest_username;
    settings.ingest_password = options_.ingest_password;
    settings.admin_username = options_.admin_username;
    settings.admin_password = options_.admin_password;
    settings.max_queued_messages = options_.broker_max_queued_messages;
    settings.max_queued_bytes = options_.broker_max_queued_bytes;
    settings.max_inflight_bytes = options_.broker_max_inflight_bytes;
    settings.guard_plugin = options_.broker_guard_plugin;
    settings.max_inflight_messages = std::max<uint32_t>(
        settings.max_inflight_messages, static_cast<uint32_t>(options_.batch_messages * 4));
    settings.log = [this](const std::string& line) { log_("broker: " + line); };
    broker_ = std::make_unique<Broker>(settings);
    accounts_ = std::make_unique<BrokerAccounts>(*broker_, options_.tls_port, log_);
    if (broker_->embedded()) {
        // We hold the data directory's lock: a broker on its files belongs to a hub that died.
        broker_->stop_leftovers();
    }
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kPortRetryMs);
    for (bool told = false;; told = true) {
        BrokerResult r = broker_->start();
        if (r.ok()) {
            break;
        }
        const bool busy = r.error.find("already in use") != std::string::npos;
        if (!busy || !broker_->embedded() || std::chrono::steady_clock::now() > deadline) {
            error = "broker: " + r.error;
            return false;
        }
        if (!told) {
            log_("broker: " + r.error + "; waiting for it to be free");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const BrokerEndpoint e = broker_->ingest_endpoint();
    if (broker_->embedded()) {
        if (const BrokerResult alerts = broker_->grant_hub_topics(); !alerts.ok()) {
            log_("broker: the alert topics stay closed to the hub: " + alerts.error);
        }
        log_("broker: mosquitto on " + e.host + ":" + std::to_string(e.port) +
             (settings.tls
                  ? " and TLS on " + (settings.tls_address.empty() ? "*" : settings.tls_address) +
                        ":" + std::to_string(settings.tls_port)
                  : std::string()) +
             ", pid " + std::to_string(broker_->pid()) + ", per-device accounts in " +
             options_.data_dir + "/broker");
    } else {
        log_("broker: external " + options_.broker_url + " as " + e.username);
    }
    // An external broker without an administrator configured has no administration to watch.
    if (broker_->embedded() || !options_.admin_username.empty()) {
        administration_ = std::make_unique<AdministrationWatch>(
            [this] { return broker_->check_administration().error; },
            options_.administration_check_ms,
            [this](const std::string& line) { log_("broker: " + line); });
    }
    return true;
}

void Hub::start_detection() {
    DetectionOptions settings;
    settings.policy_path =
        options_.policy_path.empty() ? options_.data_dir + "/policy.toml" : options_.policy_path;
    settings.feeds_dir =
        options_.feeds_dir.empty() ? options_.data_dir + "/feeds" : options_.feeds_dir;
    settings.vulnerabilities_dir = options_.vulnerabilities_dir.empty()
                                       ? options_.data_dir + "/vulnerabilities.d"
                                       : options_.vulnerabilities_dir;
    settings.enabled = options_.detection;
    settings.shared_address_window_ms = options_.shared_address_window_s * 1000;
    const BrokerEndpoint e = broker_->ingest_endpoint();
    settings.broker = {e.host, e.port, e.username, e.password,
                       std::string(wire::kHubClientIdPrefix) + "output-"};
    detection_ = std::make_unique<HubDetection>(settings, *store_,
                                                [this](const std::string& line) { log_(line); });
    detection_->start();
    if (!options_.detection) {
        log_("detection: off (--no-detection); reports are stored and nothing is detected");
    }
}

void Hub::start_ingest() {
    const BrokerEndpoint e = broker_->ingest_endpoint();
    IngestSettings settings;
    settings.host = e.host;
    settings.port = e.port;
    settings.username = e.username;
    settings.password = e.password;
    settings.batch_messages = options_.batch_messages;
    settings.batch_age_ms = options_.batch_age_ms;
    settings.rejection_log_lines = options_.rejection_log_lines;
    settings.rejection_log_interval_ms = options_.rejection_log_interval_ms;
    settings.log = [this](const std::string& line) { log_("ingest: " + line); };
    // One commit at a time, whichever session it comes from (the current one, or an earlier hub's
    // while it is read).
    WriteFunction write =
        [this, write = detection_->write_function()](const std::vector<Report>& reports) {
            std::lock_guard<std::mutex> lock(write_mutex_);
            return write(reports);
        };
    ingest_ = std::make_unique<IngestPipeline>(settings, &decode, write);
    ingest_->start();
    if (broker_->embedded()) {
        legacy_stop_ = false;
        legacy_drain_ = std::thread([this, settings, write] {
            // Only once the current session is subscribed: from then on it gets every new message.
            for (int waited_ms = 0; waited_ms < 30000 && !ingest_->subscribed() && !legacy_stop_;
                 waited_ms += 20) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            if (ingest_->subscribed()) {
                drain_legacy_session(settings, &decode, write, legacy_stop_, settings.log);
            }
        });
    }
    log_("ingest: subscribing as " + e.username + " to " + e.host + ":" + std::to_string(e.port) +
         " (persistent session " + settings.client_id + ", batches of " +
         std::to_string(settings.batch_messages) + " or " + std::to_string(settings.batch_age_ms) +
         " ms)");
}

bool Hub::start(std::string& error) {
    if (!prepare_data_dir(error) || !lock_data_dir(error) || !open_store(error) ||
        !start_broker(error)) {
        stop();
        return false;
    }
    start_detection();
    start_ingest();
    const BrokerEndpoint e = broker_->ingest_endpoint();
    publisher_ = std::make_unique<ConfigPublisher>(e.host, e.port, e.username, e.password);
    if (!publisher_->start(error)) {
        stop();
        return false;
    }
    log_("configs: publishing retained QoS 1 on devices/{id}/config/vigil");
    if (broker_->embedded()) {
        watch_ = std::make_unique<BrokerWatch>(
            e.host, e.port, e.username, e.password,
            [this](const std::string& report) { detection_->connections().take_report(report); });
        if (!watch_->start(error)) {
            stop();
            return false;
        }
    }
    retention_ = std::thread([this] { retention_loop(); });
    log_("retention: raw telemetry older than " + std::to_string(options_.retention_days) +
         " days deleted every " + std::to_string(options_.retention_interval_s) + " s");
    HubRuntime runtime;
    runtime.pid = getpid();
    runtime.broker_host = e.host;
    runtime.broker_port = e.port;
    runtime.api_address = options_.api_address;
    runtime.api_port = options_.api_port;
    if (!write_hub_runtime(options_.data_dir, runtime, error)) {
        stop();
        return false;
    }
    started_ = true;
    return true;
}

void Hub::retention_loop() {
    std::unique_lock<std::mutex> lock(retention_mutex_);
    while (!stopping_) {
        lock.unlock();
        const RetentionResult r = store_->apply_retention(wall_ms());
        if (!r.error.empty()) {
            log_("retention: " + r.error);
        } else if (r.messages > 0) {
            log_("retention: deleted " + std::to_string(r.messages) + " messages, " +
                 std::to_string(r.flows) + " flows");
        }
        lock.lock();
        retention_wake_.wait_for(lock, std::chrono::seconds(options_.retention_interval_s),
                                 [this] { return stopping_; });
    }
}

void Hub::stop() {
    legacy_stop_ = true;
    if (legacy_drain_.joinable()) {
        legacy_drain_.join();
    }
    if (ingest_) {
        ingest_->stop();  // commits and acknowledges what it holds first
        const IngestMetrics m = ingest_->metrics();
        uint64_t messages = 0;
        for (const auto& [format, count] : m.ingested) {
            messages += count;
        }
        char latency[96];
        std::snprintf(latency, sizeof latency, "receipt to commit p50 %.1f ms, p99 %.1f ms",
                      m.latency_ms.quantile(0.50), m.latency_ms.quantile(0.99));
        log_("ingest: stopped after " + std::to_string(messages) + " messages in " +
             std::to_string(m.batches) + " batches, " + latency);
        ingest_.reset();
    }
    if (detection_) {
        detection_->stop();
    }
    if (publisher_) {
        publisher_->stop();
        publisher_.reset();
    }
    if (watch_) {
        watch_->stop();
        watch_.reset();
    }
    {
        std::lock_guard<std::mutex> lock(retention_mutex_);
        stopping_ = true;
    }
    retention_wake_.notify_all();
    if (retention_.joinable()) {
        retention_.join();
    }
    administration_.reset();  // before the broker it asks
    if (broker_) {
        broker_->stop();
        accounts_.reset();
        broker_.reset();
    }
    if (started_) {
        std::error_code ec;
        fs::remove(runtime_path(options_.data_dir), ec);
        started_ = false;
        log_("stopped");
    }
    store_.reset();
    lock_.reset();  // last: the store and the broker are closed
}

bool Hub::add_device(const std::string& device_id, EnrolmentCredentials& out, std::string& error) {
    const bool added = accounts_->add_device(device_id, out, error);
    if (!added && administration_) {
        administration_->look_now();  // the broker may be the reason: /healthz says so at once
    }
    return added;
}

bool Hub::revoke_device(const std::string& device_id, std::string& error) {
    const bool revoked = accounts_->revoke_device(device_id, error);
    if (!revoked && administration_) {
        administration_->look_now();
    }
    return revoked;
}

bool Hub::publish_config(const std::string& device_id, const std::vector<uint8_t>& config,
                         std::string& error) {
    if (!wire::valid_device_id(device_id.data(), device_id.size())) {
        error = "invalid device id";
        return false;
    }
    return publisher_->publish(wire::kTopicPrefix + device_id + wire::kConfigTopicSuffix, config,
                               kPublishTimeoutMs, error);
}

std::string Hub::ingest_metrics_text() {
    return prometheus_text(ingest_->metrics(), ingest_->connected(), broker_->restarts()) +
           (sink_ ? log_metrics_text(*sink_) : std::string()) +
           (watch_ ? watch_->metrics_text() : std::string()) + detection_->metrics_text();
}

std::string Hub::detection_policy_json(const std::string& device_id) {
    const auto policy = detection_->policy();
    nlohmann::json errors = nlohmann::json::array();
    if (const auto refused = detection_->policy_errors()) {
        for (const detect::PolicyError& error : *refused) {
            errors.push_back(
                {{"line", error.line}, {"column", error.column}, {"message", error.message}});
        }
    }
    nlohmann::json body{{"policy", detect::to_json(*policy)}, {"errors", std::move(errors)}};
    if (!device_id.empty()) {
        body["device"] =
            detect::to_json(policy->resolve(device_id, detection_->group_of(device_id)));
    }
    return body.dump();
}

std::vector<VulnerabilityFile> Hub::vulnerability_files() {
    std::vector<VulnerabilityFile> files;
    files.push_back({"vulnerabilities.toml", true,
                     recommend::built_in_catalog()->vulnerabilities().size(), ""});
    for (const recommend::DropInFile& drop_in : detection_->catalogs().drop_ins()) {
        files.push_back({drop_in.name, false, drop_in.entries,
                         drop_in.errors.empty()
                             ? std::string()
                             : detect::format_error(drop_in.name, drop_in.errors.front())});
    }
    return files;
}

VulnerabilityInstall Hub::install_vulnerability_file(const std::string& name,
                                                     const std::string& text) {
    const recommend::DropInInstall done = detection_->catalogs().install(name, text);
    VulnerabilityInstall out;
    out.installed = done.installed;
    out.entries = done.entries;
    out.unavailable = done.unavailable;
    for (const detect::PolicyError& error : done.errors) {
        out.errors.push_back({error.line, error.column, error.message});
    }
    if (done.installed) {
        log_("vulnerabilities: drop-in " + name + " installed through the API (" +
             std::to_string(done.entries) + " entries)");
    }
    return out;
}

std::vector<std::string> Hub::health_problems() {
    std::vector<std::string> problems;
    if (!ingest_->connected()) {
        const std::string why = ingest_->last_error();
        problems.push_back("ingest: not connected to the broker" + (why.empty() ? "" : ": " + why));
    } else if (!ingest_->subscribed()) {
        problems.push_back("ingest: subscribing");
    }
    if (administration_) {
        if (const std::string failure = administration_->failure(); !failure.empty()) {
            problems.push_back("broker: administration failing: " + failure);
        }
    }
    const std::string commit_failure = ingest_->commit_failure();
    if (!commit_failure.empty()) {
        problems.push_back("store: commits failing: " + commit_failure);
    }
    const int64_t lost_ago_ms = ingest_->session_lost_ago_ms();
    if (lost_ago_ms >= 0 && lost_ago_ms < kSessionLostReportMs) {
        problems.push_back("ingest: the broker dropped the hub's session " +
                           std::to_string(lost_ago_ms / 1000) +
                           " s ago; messages it held for the hub are lost");
    }
    return problems;
}

}  // namespace vigil::hub

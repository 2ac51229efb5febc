#include "detection.hpp"

#include <algorithm>
#include <chrono>

#include "vigil/hub/detect/silence.hpp"
#include "vigil/hub/prometheus.hpp"
#include "vigil/hub/recommend/hygiene.hpp"
#include "vigil/protocol/wire.h"

namespace vigil::hub {

namespace {

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

recommend::HygieneSettings hygiene_settings(int64_t shared_address_window_ms) {
    recommend::HygieneSettings settings;
    settings.shared_address_window_ms = shared_address_window_ms;
    return settings;
}

constexpr uint32_t kSilencePage = 500;
constexpr int64_t kSilenceSkipMs = 10'000;

}  // namespace

HubDetection::HubDetection(DetectionOptions options, Store& store, Log log)
    : options_(std::move(options)),
      store_(store),
      log_(std::move(log)),
      policy_file_(options_.policy_path),
      feeds_(options_.feeds_dir),
      catalogs_(options_.vulnerabilities_dir),
      connections_(options_.shared_address_window_ms),
      engine_(detect::EngineSources{
          [this] { return policy_file_.snapshot(); }, [this] { return feeds_.snapshot(); },
          [this](const std::string& device_id) { return group_of(device_id); }, &store_,
          [] { return wall_ms(); },
          recommend::hygiene_check(
              [this] { return catalogs_.snapshot(); },
              hygiene_settings(options_.shared_address_window_ms),
              [this](const std::string& device_id) { return connections_.find(device_id); })}) {}

HubDetection::~HubDetection() {
    stop();
}

void HubDetection::start() {
    reload(true);
    // Devices silent when the hub last stopped stay silent until they report.
    AlertFilter silent;
    silent.type = detect::kSilenceType;
    silent.state = AlertState::Open;
    silent.include_suppressed = true;
    silent.limit = 1000;
    for (;;) {
        const auto page = store_.alerts(silent);
        if (!page.ok()) {
            log_("detection: cannot read open silence alerts: " + page.error);
            break;
        }
        for (const Alert& alert : page.value) {
            engine_.note_silent(alert.device_id);
        }
        if (page.value.size() < silent.limit) {
            break;
        }
        silent.before_id = page.value.back().id;
    }
    watcher_ = std::thread([this] { watch_loop(); });
}

void HubDetection::stop() {
    {
        std::lock_guard<std::mutex> lock(wake_mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    // The watcher may be replacing the outputs (draining the old ones for at most the drain
    // time): outputs_ is ended only once it has finished with them.
    if (watcher_.joinable()) {
        watcher_.join();
    }
    std::lock_guard<std::mutex> lock(outputs_mutex_);
    outputs_.reset();  // unsubscribes, and abandons what the outputs still hold
}

WriteFunction HubDetection::write_function() {
    return [this](const std::vector<Report>& reports) { return write(reports); };
}

WriteResult HubDetection::write(const std::vector<Report>& reports) {
    if (!options_.enabled) {
        WriteResult result = store_.write_batch(reports);
        publish_activity(reports, result);
        return result;
    }
    WriteResult result = store_.commit_batch(reports, engine_.detection_step());
    engine_.settle(result.ok);
    if (!result.ok) {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        ++metrics_.step_failures;
        return result;
    }
    publish(result.alert_events);
    publish(result.recommendation_events);
    publish_activity(reports, result);
    return result;
}

void HubDetection::publish_activity(const std::vector<Report>& reports, const WriteResult& result) {
    if (!result.ok) {
        return;
    }
    for (const DeviceEvent& event : result.device_events) {
        events_.publish(event);
    }
    int64_t latest_ms = 0;
    for (const Report& report : reports) {
        latest_ms = std::max(latest_ms, report.received_ms);
    }
    fleet_pulse_.reported(result.stored, latest_ms, wall_ms());
}

void HubDetection::publish(const std::vector<AlertEvent>& events) {
    {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        for (const AlertEvent& event : events) {
            switch (event.change) {
                case AlertChange::Opened:
                    ++metrics_.alerts_opened[to_string(event.alert.category)];
                    break;
                case AlertChange::Repeated:
                    ++metrics_.alerts_repeated;
                    break;
                case AlertChange::Resolved:
                    ++metrics_.alerts_resolved;
                    break;
                case AlertChange::Acknowledged:
                    break;
            }
        }
    }
    for (const AlertEvent& event : events) {
        events_.publish(event);
    }
}

void HubDetection::publish(const std::vector<RecommendationEvent>& events) {
    {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        for (const RecommendationEvent& event : events) {
            if (event.change == RecommendationChange::Opened ||
                event.change == RecommendationChange::Reopened) {
                ++metrics_.recommendations_opened[event.recommendation.kind];
            } else if (event.change == RecommendationChange::Closed) {
                ++metrics_.recommendations_closed;
            }
        }
    }
    for (const RecommendationEvent& event : events) {
        events_.publish(event);
    }
}

std::string HubDetection::group_of(const std::string& device_id) {
    return groups_.get(device_id, wall_ms(), [&] {
        // A store that cannot answer leaves the device with its group's settings unknown: the
        // defaults apply until the next lookup, rather than failing the batch.
        const auto group = store_.device_group(device_id);
        return group.ok() ? group.value.value_or("") : std::string();
    });
}

uint32_t HubDetection::low_interval_of(const std::string& device_id, const std::string& group) {
    return intervals_.get(device_id, wall_ms(), [&] {
        for (const auto& [scope, target] :
             {std::pair{ConfigScope::Device, device_id}, std::pair{ConfigScope::Group, group}}) {
            if (target.empty()) {
                continue;
            }
            const auto config = store_.desired_config(scope, target);
            if (!config.ok() || !config.value) {
                continue;
            }
            // The device's own config stands in place of its group's.
            wire::ConfigFields fields;
            uint32_t version = 0;
            return wire::decode_config_settings(config.value->body.data(),
                                                config.value->body.size(), fields,
                                                version) == wire::ConfigError::None
                       ? fields.interval_s[static_cast<int>(wire::Priority::Low)]
                       : 0u;
        }
        return 0u;
    });
}

void HubDetection::watch_loop() {
    auto next_silence = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(wake_mutex_);
    while (!stopping_) {
        lock.unlock();
        fleet_pulse_.tick(wall_ms());
        reload(false);
        if (std::chrono::steady_clock::now() >= next_silence) {
            sweep_silence();
            next_silence = std::chrono::steady_clock::now() +
                           std::chrono::milliseconds(options_.silence_interval_ms);
        }
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(options_.watch_interval_ms),
                       [this] { return stopping_; });
    }
}

void HubDetection::reload(bool first) {
    const detect::PolicyReload policy = policy_file_.reload_if_changed();
    if (policy == detect::PolicyReload::Taken) {
        const auto snapshot = policy_file_.snapshot();
        log_("detection: policy " +
             (snapshot->source.empty()
                  ? std::string("built-in defaults (no file at ") + options_.policy_path + ")"
                  : snapshot->source) +
             ": " + std::to_string(snapshot->groups.size()) + " groups, " +
             std::to_string(snapshot->devices.size()) + " devices of their own, " +
             std::to_string(snapshot->suppressions.size()) + " suppressions, " +
             std::to_string(snapshot->outputs.size()) + " outputs");
        sync_suppressions(*snapshot);
        rebuild_outputs(*snapshot);
    } else if (policy == detect::PolicyReload::Refused) {
        const auto errors = policy_file_.last_errors();
        log_("detection: policy " + options_.policy_path + " refused, " +
             std::to_string(errors->size()) + " errors; the previous policy stays in force");
        for (const detect::PolicyError& error : *errors) {
            log_("detection: " + detect::format_error(options_.policy_path, error));
        }
    }
    const auto reload_start = std::chrono::steady_clock::now();
    const bool feeds = feeds_.reload_if_changed();
    if (feeds) {
        const auto reload_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - reload_start)
                                   .count();
        const auto intel = feeds_.snapshot();
        log_("detection: feeds " + options_.feeds_dir + ": " + std::to_string(intel->indicators()) +
             " indicators in " + std::to_string(intel->feed_names().size()) + " feeds, " +
             std::to_string(intel->errors().size()) + " lines skipped, read in " +
             std::to_string(reload_ms) + " ms");
        size_t shown = 0;
        for (const detect::FeedError& error : intel->errors()) {
            if (++shown > 20) {
                log_("detection: ... and " + std::to_string(intel->errors().size() - 20) + " more");
                break;
            }
            log_("detection: " + error.feed + ":" + std::to_string(error.line) + ": " +
                 error.message);
        }
    }
    reload_catalog(first);
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    if (!first) {
        metrics_.policy_reloads += policy == detect::PolicyReload::Taken ? 1 : 0;
        metrics_.feed_reloads += feeds ? 1 : 0;
    }
    metrics_.policy_refusals += policy == detect::PolicyReload::Refused ? 1 : 0;
    const auto intel = feeds_.snapshot();
    metrics_.indicators = intel->indicators();
    metrics_.feed_errors = intel->errors().size();
    metrics_.policy_errors = policy_file_.last_errors() ? policy_file_.last_errors()->size() : 0;
}

void HubDetection::reload_catalog(bool first) {
    if (!catalogs_.reload_if_changed()) {
        return;
    }
    const auto catalog = catalogs_.snapshot();
    const auto errors = catalogs_.errors();
    log_("detection: vulnerability catalog: " + std::to_string(catalog->vulnerabilities().size()) +
         " entries, built in and from " + options_.vulnerabilities_dir + " (" +
         std::to_string(errors.size()) + " files left out)");
    for (const recommend::CatalogFileError& error : errors) {
        log_("detection: " + detect::format_error(error.file, error.error));
    }
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    metrics_.catalog_reloads += first ? 0 : 1;
    metrics_.vulnerabilities = catalog->vulnerabilities().size();
    metrics_.catalog_errors = errors.size();
}

void HubDetection::sync_suppressions(const detect::Policy& policy) {
    const Done done = store_.replace_policy_suppressions(policy.suppressions, wall_ms());
    if (!done.ok()) {
        log_("detection: cannot store the policy's suppressions: " + done.error);
    }
}

void HubDetection::rebuild_outputs(const detect::Policy& policy) {
    auto next = std::make_unique<outputs::OutputSet>(
        policy.outputs, options_.broker,
        [this](const std::string& line) { log_("output: " + line); });
    for (const std::string& error : next->errors()) {
        log_("detection: output left out: " + error);
    }
    std::unique_ptr<outputs::OutputSet> previous;
    {
        std::lock_guard<std::mutex> lock(outputs_mutex_);
        previous = std::move(outputs_);
        outputs_ = std::move(next);
    }
    if (previous) {
        previous->replace(*outputs_, std::chrono::milliseconds(options_.output_drain_ms));
    } else {
        outputs_->subscribe(events_);
    }
    if (outputs_->size() > 0) {
        log_("detection: " + std::to_string(outputs_->size()) + " alert outputs");
    }
}

void HubDetection::sweep_silence() {
    if (!options_.enabled) {
        return;
    }
    const int64_t now = wall_ms();
    const auto policy = policy_file_.snapshot();
    DeviceFilter filter;
    // A device seen within the last few seconds is not silent under any sensible policy: the
    // sweep skips the devices that are talking, and so stays cheap for a busy fleet.
    filter.seen_before_ms = now - kSilenceSkipMs;
    filter.limit = kSilencePage;
    for (;;) {
        const auto page = store_.list_devices(filter);
        if (!page.ok()) {
            log_("detection: silence sweep: " + page.error);
            return;
        }
        std::vector<detect::DeviceLiveness> devices;
        for (const DeviceRow& row : page.value.devices) {
            if (row.last_seen_ms && row.enrolment != Enrolment::Blocked) {
                const std::string group = group_of(row.id);
                devices.push_back(
                    {row.id, group, *row.last_seen_ms, low_interval_of(row.id, group)});
            }
        }
        for (const AlertRaise& alert : detect::silent_devices(*policy, devices, now)) {
            if (engine_.is_silent(alert.device_id)) {
                continue;
            }
            const auto raised = store_.raise_alert(alert);
            if (!raised.ok()) {
                log_("detection: silence of " + alert.device_id + ": " + raised.error);
                continue;
            }
            engine_.note_silent(alert.device_id);
            publish({raised.value});
        }
        if (page.value.next_after.empty()) {
            return;
        }
        filter.after = page.value.next_after;
    }
}

DetectionMetrics HubDetection::metrics() const {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    DetectionMetrics copy = metrics_;
    copy.devices = engine_.devices();
    return copy;
}

std::string HubDetection::metrics_text() const {
    std::string text = prometheus_text(metrics());
    std::lock_guard<std::mutex> lock(outputs_mutex_);
    if (outputs_) {
        PrometheusWriter out;
        outputs_->write_metrics(out);
        text += out.text();
    }
    return text;
}

std::string prometheus_text(const DetectionMetrics& metrics) {
    PrometheusWriter out;
    out.family("vigil_hub_detect_alerts_opened_total", "counter",
               "Alerts opened by detection, by category");
    for (const auto& [category, count] : metrics.alerts_opened) {
        out.sample("vigil_hub_detect_alerts_opened_total", {{"category", category}},
                   static_cast<double>(count));
    }
    out.family("vigil_hub_detect_alerts_repeated_total", "counter",
               "Raises that updated an alert already open");
    out.sample("vigil_hub_detect_alerts_repeated_total", {},
               static_cast<double>(metrics.alerts_repeated));
    out.family("vigil_hub_detect_alerts_resolved_total", "counter",
               "Alerts resolved because their condition cleared");
    out.sample("vigil_hub_detect_alerts_resolved_total", {},
               static_cast<double>(metrics.alerts_resolved));
    out.family("vigil_hub_detect_policy_reloads_total", "counter", "Policy files taken");
    out.sample("vigil_hub_detect_policy_reloads_total", {},
               static_cast<double>(metrics.policy_reloads));
    out.family("vigil_hub_detect_policy_refusals_total", "counter",
               "Policy files refused for errors");
    out.sample("vigil_hub_detect_policy_refusals_total", {},
               static_cast<double>(metrics.policy_refusals));
    out.family("vigil_hub_detect_policy_errors", "gauge",
               "Errors of the policy file in place (0 when it is in force)");
    out.sample("vigil_hub_detect_policy_errors", {}, static_cast<double>(metrics.policy_errors));
    out.family("vigil_hub_detect_feed_reloads_total", "counter", "Feed directory reloads");
    out.sample("vigil_hub_detect_feed_reloads_total", {},
               static_cast<double>(metrics.feed_reloads));
    out.family("vigil_hub_detect_indicators", "gauge", "Threat-intelligence indicators loaded");
    out.sample("vigil_hub_detect_indicators", {}, static_cast<double>(metrics.indicators));
    out.family("vigil_hub_detect_feed_errors", "gauge", "Feed lines skipped as unreadable");
    out.sample("vigil_hub_detect_feed_errors", {}, static_cast<double>(metrics.feed_errors));
    out.family("vigil_hub_recommend_catalog_reloads_total", "counter",
               "Reloads of the vulnerability catalog's drop-in directory");
    out.sample("vigil_hub_recommend_catalog_reloads_total", {},
               static_cast<double>(metrics.catalog_reloads));
    out.family("vigil_hub_recommend_vulnerabilities", "gauge",
               "Entries of the vulnerability catalog in force");
    out.sample("vigil_hub_recommend_vulnerabilities", {},
               static_cast<double>(metrics.vulnerabilities));
    out.family("vigil_hub_recommend_catalog_errors", "gauge",
               "Drop-in catalog files left out for errors");
    out.sample("vigil_hub_recommend_catalog_errors", {},
               static_cast<double>(metrics.catalog_errors));
    out.family("vigil_hub_recommend_opened_total", "counter",
               "Recommendations opened or reopened by the hygiene checks, by kind");
    for (const auto& [kind, count] : metrics.recommendations_opened) {
        out.sample("vigil_hub_recommend_opened_total", {{"kind", kind}},
                   static_cast<double>(count));
    }
    out.family("vigil_hub_recommend_closed_total", "counter",
               "Recommendations closed because the device no longer shows the problem");
    out.sample("vigil_hub_recommend_closed_total", {},
               static_cast<double>(metrics.recommendations_closed));
    out.family("vigil_hub_detect_devices", "gauge", "Devices whose detection state is held");
    out.sample("vigil_hub_detect_devices", {}, static_cast<double>(metrics.devices));
    out.family("vigil_hub_detect_step_failures_total", "counter",
               "Batches whose detection or commit failed (retried)");
    out.sample("vigil_hub_detect_step_failures_total", {},
               static_cast<double>(metrics.step_failures));
    return out.text();
}

}  // namespace vigil::hub

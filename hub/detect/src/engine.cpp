#include "vigil/hub/detect/engine.hpp"

#include <algorithm>

namespace vigil::hub::detect {

namespace {

int64_t event_time(const Report& report) {
    return report.device_time_ms > 0 ? report.device_time_ms : report.received_ms;
}

}  // namespace

Engine::Engine(EngineSources sources) : sources_(std::move(sources)) {}

Fetched<DetectionEffects> Engine::step(const std::vector<const Report*>& fresh) {
    Fetched<DetectionEffects> result;
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.clear();
    const std::shared_ptr<const Policy> policy =
        sources_.policy ? sources_.policy() : std::make_shared<const Policy>();
    const std::shared_ptr<const ThreatIntel> intel =
        sources_.intel ? sources_.intel() : std::make_shared<const ThreatIntel>();
    const int64_t now_ms = sources_.now_ms ? sources_.now_ms() : 0;

    // Each device's reports in its own order (device time, then message key), whatever order
    // the broker delivered the batch in; devices in the order of their first report.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Report*>> by_device;
    for (const Report* report : fresh) {
        auto& reports = by_device[report->device_id];
        if (reports.empty()) {
            order.push_back(report->device_id);
        }
        reports.push_back(report);
    }
    // Always the store's copies, never ones kept here: another hub worker may have taken a
    // device's last batch, and the store holds what was committed whoever committed it.
    std::map<std::string, std::vector<uint8_t>> stored;
    if (sources_.states) {
        auto loaded = sources_.states->load_detection_states(order);
        if (!loaded.ok()) {
            result.error = "detection states: " + loaded.error;
            return result;
        }
        stored = std::move(loaded.value);
    }
    for (const std::string& device_id : order) {
        std::vector<const Report*>& reports = by_device[device_id];
        std::stable_sort(reports.begin(), reports.end(), [](const Report* a, const Report* b) {
            const int64_t ta = event_time(*a), tb = event_time(*b);
            return ta != tb ? ta < tb : a->message_key < b->message_key;
        });
        DeviceState state;
        if (const auto saved = stored.find(device_id); saved != stored.end()) {
            state = decode_state(saved->second).value_or(DeviceState{});
        }
        const std::string group = sources_.group_of ? sources_.group_of(device_id) : "";
        const DeviceSettings settings = policy->resolve(device_id, group);
        const size_t clears_before = result.value.clears.size();
        for (const Report* report : reports) {
            process_report(settings, *intel, state, *report, now_ms, result.value, sources_.also);
        }
        if (silent_.count(device_id)) {
            AlertClear clear;
            clear.device_id = device_id;
            clear.type = kSilenceType;
            clear.observed_ms = event_time(*reports.back());
            clear.cleared_ms = now_ms;
            result.value.clears.insert(
                result.value.clears.begin() + static_cast<std::ptrdiff_t>(clears_before), clear);
        }
        result.value.states.push_back({device_id, encode_state(state)});
        pending_.push_back(device_id);
    }
    return result;
}

void Engine::settle(bool committed) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (committed) {
        for (const std::string& device_id : pending_) {
            silent_.erase(device_id);
            seen_.insert(device_id);
        }
    }
    pending_.clear();
}

void Engine::note_silent(const std::string& device_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    silent_.insert(device_id);
}

bool Engine::is_silent(const std::string& device_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return silent_.count(device_id) != 0;
}

size_t Engine::devices() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_.size();
}

}  // namespace vigil::hub::detect

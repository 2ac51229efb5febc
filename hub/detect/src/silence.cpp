#include "vigil/hub/detect/silence.hpp"

#include <nlohmann/json.hpp>

#include "vigil/hub/detect/engine.hpp"

namespace vigil::hub::detect {

std::vector<AlertRaise> silent_devices(const Policy& policy,
                                       const std::vector<DeviceLiveness>& devices, int64_t now_ms) {
    std::vector<AlertRaise> alerts;
    for (const DeviceLiveness& device : devices) {
        if (device.last_seen_ms <= 0) {
            continue;  // enrolled, never reported: nothing to fall silent from
        }
        const SilenceSettings settings = policy.resolve(device.device_id, device.group).silence;
        const uint32_t interval_s =
            device.low_interval_s > 0 ? device.low_interval_s : settings.default_interval_s;
        const int64_t limit_ms = static_cast<int64_t>(settings.intervals) * interval_s * 1000;
        const int64_t silent_ms = now_ms - device.last_seen_ms;
        if (!settings.enabled || silent_ms <= limit_ms) {
            continue;
        }
        AlertRaise& alert = alerts.emplace_back();
        alert.device_id = device.device_id;
        alert.type = kSilenceType;
        alert.category = AlertCategory::DeviceSilence;
        alert.severity = settings.severity;
        alert.first_observed_ms = device.last_seen_ms;
        alert.last_observed_ms = device.last_seen_ms;
        alert.raised_ms = now_ms;
        alert.title = "The device has been silent for " + std::to_string(silent_ms / 1000) + " s";
        alert.description = "Nothing has arrived from the device for " +
                            std::to_string(silent_ms / 1000) + " s, more than " +
                            std::to_string(settings.intervals) + " times its low-priority " +
                            "interval of " + std::to_string(interval_s) +
                            " s. Its agent, its network link or the device itself is down, or "
                            "someone has cut it off.";
        alert.remediation =
            "Check that the device is powered and connected and that its agent runs; a device "
            "that goes quiet right after other alerts may have been taken over.";
        alert.technique = "T0816 Device Restart/Shutdown";
        alert.evidence_json = nlohmann::json{
            {"last_seen_ms", device.last_seen_ms},
            {"silent_s", silent_ms / 1000},
            {"low_interval_s", interval_s},
            {"intervals",
             settings.intervals}}.dump();
    }
    return alerts;
}

}  // namespace vigil::hub::detect

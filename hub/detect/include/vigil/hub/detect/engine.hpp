// The detection engine: every report the hub commits, turned into alerts. It is a library: ingest
// hands it each batch's new reports inside the store's write transaction (a DetectionStep of
// TelemetryWriter::commit_batch), and it keeps each device's state as a value in the store
// (DetectionStateStore), so the state changes and the alerts they raise commit with the reports
// that caused them, or not at all.
//
// Detections run on the device's own window times (event time), never on the hub's clock; only
// device silence (silence.hpp) does. A device's reports are applied in its own order: a report
// older than what the state has already seen is still counted where it fits, and one seen twice
// never reaches the engine (the store skips duplicates).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigil/hub/detect/device_state.hpp"
#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/detect/threat_intel.hpp"
#include "vigil/hub/detection_state_store.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/telemetry_writer.hpp"

namespace vigil::hub::detect {

class DetectionContext;

/// Checks that read each report after the detections, through the same context (its flows
/// parsed once) and state: security hygiene (hub/recommend). Must be pure as the detections are.
using ReportCheck = std::function<void(DetectionContext& context)>;

/// One report applied to one device's state: the alerts it raises and clears, and the scans of
/// `also` (when set), are appended to `effects`. Pure: the same settings, intel, state and
/// report give the same result; `now_ms` is only written into the effects as the hub time.
void process_report(const DeviceSettings& settings, const ThreatIntel& intel, DeviceState& state,
                    const Report& report, int64_t now_ms, DetectionEffects& effects,
                    const ReportCheck& also = nullptr);

/// The alert type of device silence, raised on the hub's clock (silence.hpp).
constexpr const char* kSilenceType = "health.silent";

struct EngineSources {
    std::function<std::shared_ptr<const Policy>()> policy;
    std::function<std::shared_ptr<const ThreatIntel>()> intel;
    /// The device's group, "" none.
    std::function<std::string(const std::string& device_id)> group_of;
    DetectionStateStore* states = nullptr;
    std::function<int64_t()> now_ms;  ///< the hub clock
    ReportCheck also;                 ///< run on every report after the detections; may be empty
};

class Engine {
  public:
    explicit Engine(EngineSources sources);

    /// The DetectionStep: the states of the batch's devices, loaded from the store (what was
    /// committed, by this worker or another), advanced by the reports, and every effect.
    Fetched<DetectionEffects> step(const std::vector<const Report*>& fresh);
    /// After commit_batch returned: whether the batch committed. Only then does a silent
    /// device's report count as having ended its silence here.
    void settle(bool committed);

    /// A TelemetryWriter step bound to this engine.
    DetectionStep detection_step() {
        return [this](const std::vector<const Report*>& fresh) { return step(fresh); };
    }

    /// The device has an open device-silence alert (silence.hpp): its next report clears it.
    void note_silent(const std::string& device_id);
    bool is_silent(const std::string& device_id) const;

    /// Devices whose batches this engine has committed.
    size_t devices() const;

  private:
    EngineSources sources_;
    mutable std::mutex mutex_;
    std::vector<std::string> pending_;  // devices of the step not yet settled
    std::set<std::string> seen_;        // devices whose batches this engine committed
    std::set<std::string> silent_;
};

}  // namespace vigil::hub::detect

// What each check of a report gets: the device's settings and state, the report with its flows'
// addresses parsed once and their direction, and where to put the alerts it raises and clears.
// The detections (hub/detect) and the hygiene checks (hub/recommend) read reports through it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/detect/device_state.hpp"
#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/detect/threat_intel.hpp"
#include "vigil/hub/flow_direction.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/telemetry_writer.hpp"

namespace vigil::hub::detect {

/// Who opened a flow, as far as the report tells.
using Direction = FlowDirection;

struct FlowView {
    const Flow* flow = nullptr;
    std::optional<IpAddress> remote;  ///< empty when the text is not an address
    Direction direction = Direction::Unknown;
};

class DetectionContext {
  public:
    DetectionContext(const DeviceSettings& settings, const ThreatIntel& intel, DeviceState& state,
                     const Report& report, int64_t now_ms, DetectionEffects& effects);

    const DeviceSettings& settings;
    const ThreatIntel& intel;
    DeviceState& state;
    const Report& report;
    /// The device time the report covers: its window, or the instant it was collected.
    int64_t start_ms = 0, end_ms = 0;
    std::vector<FlowView> flows;

    /// A trusted address (the policy's list) is never reported as scanner, target or threat.
    bool trusted(const IpAddress& address) const;

    /// An alert about this device with its observed times set to the report's window; the
    /// caller fills in the words and the evidence.
    AlertRaise& raise(std::string type, AlertCategory category, std::string subject,
                      Severity severity);
    void clear(std::string type, std::string subject);
    /// The alert raise() returned last.
    AlertRaise& last_raised() { return effects_.alerts.back(); }
    /// A hygiene check's complete answer about this device for one kind (hub/recommend), with
    /// its observed time the end of the report's window; the caller adds the findings.
    RecommendationScan& scan(std::string kind);
    /// The hub's time the report is judged at.
    int64_t now_ms() const { return now_ms_; }

  private:
    int64_t now_ms_;
    DetectionEffects& effects_;
};

/// A flow as evidence: its record as the API shows it.
nlohmann::json flow_evidence(const Flow& flow);
/// "tcp/23", "udp/53", "icmp/8".
std::string service_name(ServiceKey service);
ServiceKey service_of(Protocol protocol, uint16_t port);

}  // namespace vigil::hub::detect

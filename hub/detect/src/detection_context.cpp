#include "vigil/hub/detect/detection_context.hpp"

#include "vigil/hub/report_json.hpp"

namespace vigil::hub::detect {

DetectionContext::DetectionContext(const DeviceSettings& settings_in, const ThreatIntel& intel_in,
                                   DeviceState& state_in, const Report& report_in, int64_t now_ms,
                                   DetectionEffects& effects)
    : settings(settings_in),
      intel(intel_in),
      state(state_in),
      report(report_in),
      now_ms_(now_ms),
      effects_(effects) {
    // A report without a device time (some legacy messages) is placed at its arrival.
    end_ms = report.device_time_ms > 0 ? report.device_time_ms : report.received_ms;
    start_ms = end_ms - static_cast<int64_t>(report.window_duration_ms);
    flows.reserve(report.flows.size());
    for (const Flow& flow : report.flows) {
        flows.push_back({&flow, parse_ip(flow.remote), direction_of(flow)});
    }
}

bool DetectionContext::trusted(const IpAddress& address) const {
    for (const Cidr& block : settings.trusted) {
        if (block.contains(address)) {
            return true;
        }
    }
    return false;
}

AlertRaise& DetectionContext::raise(std::string type, AlertCategory category, std::string subject,
                                    Severity severity) {
    AlertRaise& alert = effects_.alerts.emplace_back();
    alert.device_id = report.device_id;
    alert.type = std::move(type);
    alert.category = category;
    alert.subject = std::move(subject);
    alert.severity = severity;
    alert.first_observed_ms = start_ms;
    alert.last_observed_ms = end_ms;
    alert.raised_ms = now_ms_;
    return alert;
}

RecommendationScan& DetectionContext::scan(std::string kind) {
    RecommendationScan& scan = effects_.recommendation_scans.emplace_back();
    scan.device_id = report.device_id;
    scan.kind = std::move(kind);
    scan.observed_ms = end_ms;
    scan.scanned_ms = now_ms_;
    return scan;
}

void DetectionContext::clear(std::string type, std::string subject) {
    AlertClear& clear = effects_.clears.emplace_back();
    clear.device_id = report.device_id;
    clear.type = std::move(type);
    clear.subject = std::move(subject);
    clear.observed_ms = end_ms;
    clear.cleared_ms = now_ms_;
}

nlohmann::json flow_evidence(const Flow& flow) {
    nlohmann::json record;
    to_json(record, flow);
    return record;
}

ServiceKey service_of(Protocol protocol, uint16_t port) {
    return static_cast<ServiceKey>(protocol) << 16 | port;
}

std::string service_name(ServiceKey service) {
    return std::string(to_string(static_cast<Protocol>(service >> 16))) + "/" +
           std::to_string(service & 0xFFFF);
}

}  // namespace vigil::hub::detect

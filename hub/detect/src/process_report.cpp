// One report through every detection, in a fixed order so the alerts of a report always come out
// in the same order.
#include "detections.hpp"
#include "vigil/hub/detect/engine.hpp"

namespace vigil::hub::detect {

void process_report(const DeviceSettings& settings, const ThreatIntel& intel, DeviceState& state,
                    const Report& report, int64_t now_ms, DetectionEffects& effects,
                    const ReportCheck& also) {
    DetectionContext context(settings, intel, state, report, now_ms, effects);
    detect_malicious_ip(context);
    detect_inbound_scan(context);
    detect_outbound_scan(context);
    detect_flood(context);
    detect_allowlist(context);
    detect_listening_ports(context);
    detect_custom_rules(context);
    detect_agent_health(context);
    if (also) {
        also(context);
    }
    if (context.end_ms > state.latest_ms) {
        state.previous_report_ms = state.latest_ms;
        state.latest_ms = context.end_ms;
    }
}

}  // namespace vigil::hub::detect

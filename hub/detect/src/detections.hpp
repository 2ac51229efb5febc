// The detections, each in its own file; docs/detect.md describes each.
#pragma once

#include "vigil/hub/detect/detection_context.hpp"

namespace vigil::hub::detect {

void detect_malicious_ip(DetectionContext& context);
void detect_inbound_scan(DetectionContext& context);
void detect_outbound_scan(DetectionContext& context);
void detect_flood(DetectionContext& context);
void detect_allowlist(DetectionContext& context);
void detect_listening_ports(DetectionContext& context);
void detect_custom_rules(DetectionContext& context);
void detect_agent_health(DetectionContext& context);

}  // namespace vigil::hub::detect

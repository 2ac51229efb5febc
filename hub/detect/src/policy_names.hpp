// The policy's names for its enums and for the model's, as the file spells them.
#pragma once

#include <array>

namespace vigil::hub::detect {

inline constexpr std::array<const char*, 8> kRuleMetrics = {"bytes_in",
                                                            "bytes_out",
                                                            "packets_in",
                                                            "packets_out",
                                                            "established_connections",
                                                            "listening_tcp_ports",
                                                            "listening_udp_ports",
                                                            "remote_addresses"};
inline constexpr std::array<const char*, 3> kOutputKinds = {"webhook", "syslog", "mqtt"};
inline constexpr std::array<const char*, 5> kSeverityNames = {"info", "low", "medium", "high",
                                                              "critical"};
inline constexpr std::array<const char*, 12> kCategoryNames = {
    "malicious_ip",        "port_scan_inbound",  "scan_outbound", "flood",
    "allowlist_violation", "new_listening_port", "exfiltration",  "beaconing",
    "device_silence",      "baseline_deviation", "threshold",     "agent_health"};
inline constexpr std::array<const char*, 4> kChangeNames = {"opened", "repeated", "acknowledged",
                                                            "resolved"};

}  // namespace vigil::hub::detect

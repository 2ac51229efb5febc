// The detection policy: what each group of devices is allowed to do, the thresholds of every
// detection, the custom rules, the suppressions and the alert outputs. It is data, read from one
// TOML file (policy_file.hpp); with no file at all, Policy{} is the defaults.
//
// Settings inherit: the built-in defaults (DeviceSettings{}), then the file's [defaults], then
// the device's group, then the device's own [devices."id"] section; each level sets only what it
// names. What the engine uses for one device is the DeviceSettings that resolve() answers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/detect/ip_address.hpp"
#include "vigil/hub/suppression.hpp"

namespace vigil::hub::detect {

/// Zeek's scan policy: 15 distinct local ports from one remote in 5 minutes; failed attempts
/// (unanswered, refused, reset) count as well as accepted ones.
struct InboundScanSettings {
    bool enabled = true;
    uint32_t ports = 15;
    uint32_t window_s = 300;
    Severity severity = Severity::High;
};

/// The device opening to many hosts on one port (Mirai), or sweeping hosts with ICMP echo.
struct OutboundScanSettings {
    bool enabled = true;
    uint32_t hosts = 25;
    uint32_t window_s = 300;
    Severity severity = Severity::High;
};

/// Packets per second in one direction and protocol, averaged over one report's window.
struct FloodSettings {
    bool enabled = true;
    uint64_t packets_per_second = 1000;
    Severity severity = Severity::High;
};

struct MaliciousIpSettings {
    bool enabled = true;
    Severity severity = Severity::High;
};

/// Device silent: no message for `intervals` times its low-priority interval, on the hub clock.
struct SilenceSettings {
    bool enabled = true;
    uint32_t intervals = 3;
    /// The low-priority interval when the device's config does not say (the agent's default).
    uint32_t default_interval_s = 60;
    Severity severity = Severity::Medium;
};

/// The agent's own counters: dropping messages or packets, its backlog growing, a config it
/// refused, its clock far from the hub's.
struct AgentHealthSettings {
    bool enabled = true;
    uint32_t backlog_messages = 32;  ///< alarm at or above
    int64_t clock_skew_s = 300;      ///< |device time - hub receive time| above
    Severity severity = Severity::Low;
};

/// Who the group's devices may talk to; an absent list allows everything.
struct AllowList {
    std::optional<std::vector<Cidr>> outbound;       ///< remotes the device may open to
    std::optional<std::vector<Cidr>> inbound;        ///< remotes that may open to the device
    std::optional<std::vector<uint16_t>> tcp_ports;  ///< local TCP ports that may listen / accept
    std::optional<std::vector<uint16_t>> udp_ports;  ///< local UDP ports that may listen / accept
    Severity severity = Severity::High;
};

/// What a custom rule measures in each of its windows (AWS Device Defender's device metrics).
enum class RuleMetric : uint8_t {
    BytesIn,
    BytesOut,
    PacketsIn,
    PacketsOut,
    EstablishedConnections,  ///< TCP flows with a completed handshake in the window
    ListeningTcpPorts,       ///< how many
    ListeningUdpPorts,
    RemoteAddresses,  ///< distinct remotes in the window
};
const char* to_string(RuleMetric metric);  ///< "bytes_in", ..., "remote_addresses"

/// A threshold rule: a datapoint per window of `window_s` device seconds; the alert opens after
/// `alarm_after` consecutive breaching datapoints and clears after `clear_after` consecutive
/// ones that do not breach. Breaching: value > above, or value < below (either or both set).
struct CustomRule {
    std::string name;  ///< unique within its group; the alert type is "rule.<name>"
    RuleMetric metric = RuleMetric::BytesOut;
    std::optional<double> above, below;
    uint32_t window_s = 300;
    uint32_t alarm_after = 1;
    uint32_t clear_after = 1;
    Severity severity = Severity::Medium;
    AlertCategory category = AlertCategory::Threshold;  ///< e.g. exfiltration for bytes_out
    std::string description;  ///< the operator's words, shown in the alert
    int line = 0;             ///< where the file defines it
};

/// Everything the engine applies to one device.
struct DeviceSettings {
    std::string group;  ///< "" none
    MaliciousIpSettings malicious_ip;
    InboundScanSettings inbound_scan;
    OutboundScanSettings outbound_scan;
    FloodSettings flood;
    SilenceSettings silence;
    AgentHealthSettings agent_health;
    AllowList allow;
    std::vector<CustomRule> rules;
    /// Addresses never reported as malicious or as scanners (the hub, the site's own servers).
    std::vector<Cidr> trusted;
};

enum class OutputKind : uint8_t { Webhook = 0, Syslog = 1, Mqtt = 2 };
const char* to_string(OutputKind kind);  ///< "webhook", "syslog", "mqtt"

/// Where alerts go besides the store. Every output has its own bounded queue and thread.
struct OutputSettings {
    OutputKind kind = OutputKind::Webhook;
    std::string name;                       ///< unique; the metrics label
    Severity min_severity = Severity::Low;  ///< alerts below are not sent
    std::vector<AlertChange> changes = {AlertChange::Opened, AlertChange::Resolved};
    uint32_t queue = 1000;  ///< events held; more are dropped, counted
    // webhook
    std::string url;     ///< http://host:port/path (https:// when built with OpenSSL)
    std::string secret;  ///< HMAC-SHA256 key of the X-Vigil-Signature header; "" unsigned
    uint32_t timeout_ms = 5000;
    uint32_t retries = 5;  ///< after the first attempt, with doubling backoff
    uint32_t retry_min_ms = 500, retry_max_ms = 30000;
    // syslog (RFC 5424; TCP with octet counting, RFC 6587)
    std::string address;  ///< "host:port"
    bool tcp = false;
    uint8_t facility = 13;  ///< log audit
    std::string app_name = "vigil-hub";
    // mqtt: on the hub's own broker
    std::string topic = "vigil/alerts";
    uint8_t qos = 1;
    int line = 0;
};

/// What one section of the file ([defaults], [groups.NAME], [devices."ID"]) sets, field by
/// field, already validated: applying it to the settings inherited from the level above gives
/// this level's. A custom rule replaces an inherited rule of the same name, else it is added.
struct SettingsLayer {
    std::vector<std::function<void(DeviceSettings&)>> setters;
    int line = 0;  ///< of the section's header; 0 none
    void apply(DeviceSettings& settings) const {
        for (const auto& set : setters) {
            set(settings);
        }
    }
};

struct Policy {
    SettingsLayer defaults;
    std::map<std::string, SettingsLayer> groups;   ///< by group name
    std::map<std::string, SettingsLayer> devices;  ///< by device id
    std::vector<Suppression> suppressions;         ///< source Policy
    std::vector<OutputSettings> outputs;
    std::string source;  ///< the file it was read from; "" the built-in defaults

    /// The settings of a device in a group ("" none).
    DeviceSettings resolve(const std::string& device_id, const std::string& group) const;
};

}  // namespace vigil::hub::detect

// What detection remembers of one device between reports: a value, bounded in size, saved to the
// store as bytes after every batch that changed it, so any hub worker can pick the device up.
//
// Every table has a fixed ceiling; when one is full the entry seen longest ago (device time)
// gives way, so a device that talks to thousands of peers costs no more than one that talks to
// a few. A state that cannot be decoded (written by a newer hub, or damaged) is replaced by an
// empty one: detection then starts afresh for that device rather than failing its reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/detect/ip_address.hpp"

namespace vigil::hub::detect {

/// A protocol and port in one number: protocol << 16 | port (protocol as vigil::hub::Protocol).
using ServiceKey = uint32_t;

struct TimedService {
    ServiceKey service = 0;
    int64_t last_ms = 0;
};

struct TimedHost {
    IpAddress address;
    int64_t last_ms = 0;
};

/// One remote touching the device's ports (inbound scan).
struct InboundScanner {
    IpAddress remote;
    int64_t first_ms = 0, last_ms = 0;
    std::vector<TimedService> services;  ///< distinct local ports touched in the window
    uint32_t attempts = 0, completed = 0, refused = 0, unanswered = 0, reset = 0;
    bool alerted = false;
};

/// The device opening to many hosts on one service, or sweeping with ICMP echo (outbound scan).
struct OutboundProbe {
    ServiceKey service = 0;  ///< the remote port, or ICMP's echo request type
    int64_t first_ms = 0, last_ms = 0;
    std::vector<TimedHost> hosts;  ///< distinct remotes in the window
    uint32_t attempts = 0, failed = 0;
    bool alerted = false;
};

/// A custom rule's datapoints: one per window of the rule, on device time.
struct RuleProgress {
    std::string name;
    int64_t bucket = -1;  ///< the window being filled (device ms / window), -1 none yet
    double value = 0;
    bool bucket_breached = false;  ///< counted as breaching before the window closed
    uint32_t breaching = 0;        ///< consecutive breaching datapoints
    uint32_t clear = 0;            ///< consecutive datapoints that did not breach
    bool alarmed = false;
    int64_t first_breach_ms = 0;
};

/// The agent-health alerts raised and not yet cleared, one bit each (HealthProgress::alarmed).
enum HealthAlarm : uint32_t {
    kHealthDropped = 1,  ///< health.messages_dropped
    kHealthBacklog = 2,  ///< health.backlog
    kHealthConfig = 4,   ///< health.config_refused
    kHealthSkew = 8,     ///< health.clock_skew
};

struct HealthProgress {
    std::string boot;  ///< of the latest status (message key's boot part): counters restart
    uint64_t messages_dropped = 0, send_failures = 0;
    uint32_t alarmed = 0;                 ///< HealthAlarm bits
    int64_t skew_offsets[3] = {0, 0, 0};  ///< device minus hub ms, of the latest reports
    uint8_t skew_samples = 0;
};

/// Security hygiene's memory of a device (hub/recommend): what it showed recently, on device
/// time, so a recommendation closes once the device has not shown the problem for a while.
struct HygieneProgress {
    std::vector<TimedService>
        cleartext_accepted;  ///< cleartext services it accepted connections on
    std::vector<TimedService> cleartext_outbound;  ///< cleartext services it used to the internet
    std::vector<TimedService> exposed;  ///< services it accepted from outside its local networks
    /// Two agents under one identity: the boot ids of its messages (Vigil's message key), and
    /// how often the latest one went back to the one before.
    std::string boot, previous_boot;
    uint64_t boot_sequence = 0, previous_boot_sequence = 0;
    uint32_t boot_returns = 0;
    int64_t last_return_ms = 0;
    /// Messages and bytes since day_start_ms, and the last whole day's (the billing check).
    int64_t day_start_ms = 0;
    uint64_t day_messages = 0, day_bytes = 0;
    uint64_t last_day_messages = 0, last_day_bytes = 0;
};

struct DeviceState {
    int64_t latest_ms = 0;  ///< the latest device time seen; windows are pruned against it
    int64_t previous_report_ms = 0;
    std::vector<InboundScanner> scanners;
    std::vector<OutboundProbe> probes;
    bool listening_known = false;            ///< a listening-port report has been seen
    std::vector<ServiceKey> listening;       ///< the latest report's ports
    std::vector<ServiceKey> listening_seen;  ///< every port seen listening (new-port baseline)
    uint32_t flood_alarmed = 0;              ///< bit per direction and protocol
    std::vector<RuleProgress> rules;
    HealthProgress health;
    HygieneProgress hygiene;
};

/// Ceilings of the tables.
constexpr size_t kMaxScanners = 16;
constexpr size_t kMaxProbes = 16;
constexpr size_t kMaxTrackedPerEntry = 256;  ///< ports per scanner, hosts per probe
constexpr size_t kMaxListening = 128;
constexpr size_t kMaxRules = 64;
constexpr size_t kMaxHygieneServices = 32;  ///< per table of HygieneProgress

std::vector<uint8_t> encode_state(const DeviceState& state);
/// nullopt for bytes that are not a state this hub wrote.
std::optional<DeviceState> decode_state(const std::vector<uint8_t>& bytes);

}  // namespace vigil::hub::detect

// Security hygiene: what each report tells about what a device team should fix before anything
// happens. The checks run inside the detection engine on every report (a detect::ReportCheck),
// with the device's state, and answer one RecommendationScan per kind they could judge from the
// report: the store opens, updates and closes the recommendations from those scans, with the
// reports that caused them (docs/recommend.md lists every kind, its trigger and how it closes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vigil/hub/detect/engine.hpp"
#include "vigil/hub/recommend/broker_connections.hpp"
#include "vigil/hub/recommend/vulnerability_catalog.hpp"

namespace vigil::hub::recommend {

/// Stable kinds, one per check.
inline constexpr const char* kVulnerableFirmware = "firmware.vulnerable";
inline constexpr const char* kUnknownFirmwareVersion = "firmware.unknown_version";
inline constexpr const char* kCleartextService = "service.cleartext";
inline constexpr const char* kCleartextOutbound = "service.cleartext_outbound";
inline constexpr const char* kInternetExposure = "exposure.internet_inbound";
inline constexpr const char* kNoTls = "exposure.no_tls";
inline constexpr const char* kSharedIdentity = "identity.shared";
inline constexpr const char* kOutdatedAgent = "agent.outdated";
inline constexpr const char* kDataDropped = "agent.data_dropped";
inline constexpr const char* kConfigRefused = "config.refused";
inline constexpr const char* kCollectorDisabled = "agent.collector_disabled";
inline constexpr const char* kClockSkew = "clock.skew";
inline constexpr const char* kSmallMessages = "messages.small";

struct HygieneSettings {
    /// Vigil agents older than this get kOutdatedAgent.
    std::string oldest_supported_agent = "0.1.0";
    /// A service the device has not shown for this long (device time) no longer counts: its
    /// recommendation closes.
    int64_t forget_after_ms = 24LL * 3600 * 1000;
    /// Two agents under one identity: this many returns to an earlier boot id within
    /// forget_after_ms (one agent rebooting never returns to its old boot id).
    uint32_t shared_identity_returns = 3;
    /// The same count for the source addresses of the device's broker connections, on the hub's
    /// clock: returns further apart than this start again, and the recommendation closes once
    /// none came for this long (BrokerConnections takes it).
    int64_t shared_address_window_ms = 600LL * 1000;
    /// IoT hubs bill per message of up to this many bytes.
    uint64_t billing_unit_bytes = 4096;
    /// kSmallMessages when a day of messages averages below this size and there are at least
    /// small_messages_per_day of them.
    uint64_t small_message_bytes = 1024;
    uint64_t small_messages_per_day = 1440;
};

/// How a device reaches the hub's broker, when the hub knows (its embedded broker's guard).
using ConnectionLookup = std::function<std::optional<DeviceConnection>(const std::string&)>;

/// The engine's ReportCheck running every hygiene check. `catalog` gives the vulnerability
/// catalog in force (none: the firmware checks are skipped); `connections` how each device is
/// connected (none: the connection checks are skipped).
detect::ReportCheck hygiene_check(
    std::function<std::shared_ptr<const VulnerabilityCatalog>()> catalog,
    HygieneSettings settings = {}, ConnectionLookup connections = {});

}  // namespace vigil::hub::recommend

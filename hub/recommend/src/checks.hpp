// The hygiene checks, each in its own file; docs/recommend.md describes each.
#pragma once

#include "vigil/hub/detect/detection_context.hpp"
#include "vigil/hub/recommend/hygiene.hpp"

namespace vigil::hub::recommend {

class EntrySummaries;

void check_firmware(detect::DetectionContext& context,
                    const std::shared_ptr<const VulnerabilityCatalog>& catalog,
                    EntrySummaries& summaries);
void check_cleartext_services(detect::DetectionContext& context, const HygieneSettings& settings);
void check_internet_exposure(detect::DetectionContext& context, const HygieneSettings& settings);
void check_shared_identity(detect::DetectionContext& context, const HygieneSettings& settings,
                           const DeviceConnection* connection);
void check_broker_connection(detect::DetectionContext& context, const DeviceConnection& connection);
void check_agent(detect::DetectionContext& context, const HygieneSettings& settings);
void check_message_sizes(detect::DetectionContext& context, const HygieneSettings& settings);

/// Not a private-use, link-local, loopback, shared (CGNAT) or multicast address: a peer on the
/// internet rather than on the device's local networks.
bool on_the_internet(const detect::IpAddress& address);

/// A flow the device accepted: opened by the peer and answered (a TCP handshake completed, or
/// bytes sent back when the format does not say).
bool accepted_inbound(const detect::FlowView& flow);

/// Remembers `service` as seen at `when_ms` in a table of at most kMaxHygieneServices (the one
/// seen longest ago gives way), and forgets those not seen since `forget_before_ms`.
void remember_service(std::vector<detect::TimedService>& table, detect::ServiceKey service,
                      int64_t when_ms);
void forget_services(std::vector<detect::TimedService>& table, int64_t forget_before_ms);

/// Device text as evidence and titles show it: at most `limit` bytes, control characters and
/// bytes that are not UTF-8 escaped as \xNN, so nothing a device sends can forge a line.
std::string shown_text(const std::string& text, size_t limit = 64);

}  // namespace vigil::hub::recommend

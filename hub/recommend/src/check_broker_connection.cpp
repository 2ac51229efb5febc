// No TLS to the hub: the device's latest connection to the hub's broker came in on the plain
// MQTT listener, so its credentials and every report cross the network readable and alterable.
#include <algorithm>
#include <iterator>
#include <optional>

#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

namespace {

// The hub's plain listener is bound to loopback: a device reaching it from there runs on the
// hub's own host (a local bridge, a simulator), where no network is crossed. It is still told,
// as information, since the same device moved elsewhere would need TLS.
bool is_loopback(const std::string& address) {
    static const detect::Cidr kBlocks[] = {*detect::parse_cidr("127.0.0.0/8").cidr,
                                           *detect::parse_cidr("::1/128").cidr,
                                           *detect::parse_cidr("::ffff:127.0.0.0/104").cidr};
    const std::optional<detect::IpAddress> parsed = detect::parse_ip(address);
    return parsed &&
           std::any_of(std::begin(kBlocks), std::end(kBlocks),
                       [&](const detect::Cidr& block) { return block.contains(*parsed); });
}

}  // namespace

void check_broker_connection(detect::DetectionContext& context,
                             const DeviceConnection& connection) {
    RecommendationScan& scan = context.scan(kNoTls);
    if (connection.tls) {
        return;
    }
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kNoTls;
    const bool local = is_loopback(connection.address);
    finding.severity = local ? Severity::Info : Severity::High;
    finding.title = shown_text(context.report.device_id) + " reaches the hub over plain MQTT";
    finding.rationale =
        "The device's connection to the hub's broker (from " + shown_text(connection.address) +
        ") uses the plaintext listener: " +
        (local ? std::string("on the hub's own host no network is crossed, but the same device "
                             "anywhere else would send its password and every report readable "
                             "and alterable by anyone on the path.")
               : std::string("its password and every report it sends can be read and changed by "
                             "anyone on the path, and a stolen password lets another device "
                             "report in its name."));
    finding.remediation =
        "Connect the device to the hub's TLS listener (vigil-hub --tls-port) with the client "
        "certificate its enrolment issued, and keep the plaintext listener for the hub itself.";
    finding.evidence_json = nlohmann::json{
        {"listener", "plain MQTT"},
        {"address", shown_text(connection.address)},
        {"since_ms", connection.since_ms},
        {"connection",
         connection.number}}.dump();
    // A dismissal holds while the device stays on plain MQTT, wherever it connects from.
    finding.evidence_key = "plain";
}

}  // namespace vigil::hub::recommend

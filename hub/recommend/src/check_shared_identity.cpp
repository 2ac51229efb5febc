// Shared identity: one device identity used by two agents at once. Vigil's message key is
// "<boot id>:<sequence>"; one agent that reboots moves to a new boot id and never goes back,
// while two agents under one identity keep returning to each other's boot id. The check counts
// those returns on device time. The hub's broker sees the same from the other side: the client id
// taken over in turns by connections from two source addresses (BrokerConnections counts those
// on the hub's clock, by the same rule).
#include <algorithm>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

namespace {

struct MessageKey {
    std::string boot;
    uint64_t sequence = 0;
};

std::optional<MessageKey> vigil_key(const Report& report) {
    if (report.format != Format::Vigil) {
        return std::nullopt;
    }
    const std::string& key = report.message_key;
    const size_t colon = key.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 >= key.size() || colon > 64) {
        return std::nullopt;
    }
    uint64_t sequence = 0;
    for (size_t i = colon + 1; i < key.size(); ++i) {
        if (key[i] < '0' || key[i] > '9' || sequence > UINT64_MAX / 10 - 10) {
            return std::nullopt;
        }
        sequence = sequence * 10 + static_cast<uint64_t>(key[i] - '0');
    }
    return MessageKey{key.substr(0, colon), sequence};
}

}  // namespace

void check_shared_identity(detect::DetectionContext& context, const HygieneSettings& settings,
                           const DeviceConnection* connection) {
    const std::optional<MessageKey> key = vigil_key(context.report);
    if (!key && connection == nullptr) {
        return;
    }
    detect::HygieneProgress& hygiene = context.state.hygiene;
    if (key) {
        const uint64_t sequence = hygiene.boot_sequence;
        if (note_turn(hygiene.boot, hygiene.previous_boot, hygiene.boot_returns,
                      hygiene.last_return_ms, key->boot, context.end_ms,
                      settings.forget_after_ms)) {
            hygiene.previous_boot_sequence = sequence;
            hygiene.boot_sequence = key->sequence;
        } else {
            hygiene.boot_sequence = std::max(hygiene.boot_sequence, key->sequence);
        }
    }
    // Either evidence is judged as of its own clock: boots on the device's, addresses on the
    // hub's (the broker's connections).
    const bool boots_taken = hygiene.boot_returns >= settings.shared_identity_returns &&
                             context.end_ms - hygiene.last_return_ms <= settings.forget_after_ms;
    const bool addresses_taken =
        connection != nullptr && connection->address_returns >= settings.shared_identity_returns &&
        context.now_ms() - connection->last_return_ms <= settings.shared_address_window_ms;
    RecommendationScan& scan = context.scan(kSharedIdentity);
    if (!boots_taken && !addresses_taken) {
        return;
    }
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kSharedIdentity;
    finding.severity = Severity::High;
    finding.title = "Two agents report as " + shown_text(context.report.device_id);
    nlohmann::json evidence = nlohmann::json::object();
    std::string seen;
    if (boots_taken) {
        std::string first = hygiene.boot, second = hygiene.previous_boot;
        if (second < first) {
            std::swap(first, second);
        }
        seen = "Messages of this identity alternate between two agent boots (" + shown_text(first) +
               " and " + shown_text(second) + ", " + std::to_string(hygiene.boot_returns) +
               " returns)";
        evidence.update(nlohmann::json{{"boots", {shown_text(first), shown_text(second)}},
                                       {"latest_boot", shown_text(hygiene.boot)},
                                       {"latest_sequence", hygiene.boot_sequence},
                                       {"other_sequence", hygiene.previous_boot_sequence},
                                       {"returns", hygiene.boot_returns},
                                       {"last_return_ms", hygiene.last_return_ms}});
        finding.evidence_key = first + " " + second;
    }
    if (addresses_taken) {
        std::string first = connection->address, second = connection->other_address;
        if (second < first) {
            std::swap(first, second);
        }
        seen += (seen.empty() ? "This identity's connections to the hub's broker"
                              : "; its connections to the hub's broker") +
                std::string(" take turns between two source addresses (") + shown_text(first) +
                " and " + shown_text(second) + ", " + std::to_string(connection->address_returns) +
                " returns)";
        evidence.update(nlohmann::json{{"addresses", {shown_text(first), shown_text(second)}},
                                       {"latest_address", shown_text(connection->address)},
                                       {"address_returns", connection->address_returns},
                                       {"last_address_return_ms", connection->last_return_ms}});
        finding.evidence_key += (finding.evidence_key.empty() ? "" : " ") + first + " " + second;
    }
    finding.rationale =
        seen +
        ": two devices share one identity and its credentials. Each hides the other's traffic "
        "from detection, and one stolen copy of the credentials cannot be revoked without the "
        "other.";
    finding.remediation =
        "Give every device its own identity and credentials (vigil devices add), "
        "and revoke the shared one once each has its own.";
    finding.evidence_json = evidence.dump();
}

}  // namespace vigil::hub::recommend

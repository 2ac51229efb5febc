// Shared identity: one device identity used by two agents at once. Vigil's message key is
// "<boot id>:<sequence>"; one agent that reboots moves to a new boot id and never goes back,
// while two agents under one identity keep returning to each other's boot id. The check counts
// those returns on device time.
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

void check_shared_identity(detect::DetectionContext& context, const HygieneSettings& settings) {
    const std::optional<MessageKey> key = vigil_key(context.report);
    if (!key) {
        return;
    }
    detect::HygieneProgress& hygiene = context.state.hygiene;
    // Returns older than forget_after_ms are forgotten before this report's is counted, so the
    // one agent left, going back to its own boot id a day later, is not a second one.
    if (hygiene.boot_returns > 0 &&
        context.end_ms - hygiene.last_return_ms > settings.forget_after_ms) {
        hygiene.boot_returns = 0;
    }
    if (hygiene.boot.empty() || key->boot == hygiene.boot) {
        hygiene.boot = key->boot;
        hygiene.boot_sequence = std::max(hygiene.boot_sequence, key->sequence);
    } else {
        if (key->boot == hygiene.previous_boot) {
            ++hygiene.boot_returns;
            hygiene.last_return_ms = context.end_ms;
        }
        std::swap(hygiene.previous_boot, hygiene.boot);
        std::swap(hygiene.previous_boot_sequence, hygiene.boot_sequence);
        hygiene.boot = key->boot;
        hygiene.boot_sequence = key->sequence;
    }
    RecommendationScan& scan = context.scan(kSharedIdentity);
    if (hygiene.boot_returns < settings.shared_identity_returns) {
        return;
    }
    std::string first = hygiene.boot, second = hygiene.previous_boot;
    if (second < first) {
        std::swap(first, second);
    }
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kSharedIdentity;
    finding.severity = Severity::High;
    finding.title = "Two agents report as " + shown_text(context.report.device_id);
    finding.rationale =
        "Messages of this identity alternate between two agent boots (" + shown_text(first) +
        " and " + shown_text(second) + ", " + std::to_string(hygiene.boot_returns) +
        " returns): two devices share one identity and its credentials. Each hides the other's "
        "traffic from detection, and one stolen copy of the credentials cannot be revoked "
        "without the other.";
    finding.remediation =
        "Give every device its own identity and credentials (vigil devices add), "
        "and revoke the shared one once each has its own.";
    finding.evidence_json = nlohmann::json{{"boots", {shown_text(first), shown_text(second)}},
                                           {"latest_boot", shown_text(hygiene.boot)},
                                           {"latest_sequence", hygiene.boot_sequence},
                                           {"other_sequence", hygiene.previous_boot_sequence},
                                           {"returns", hygiene.boot_returns},
                                           {"last_return_ms", hygiene.last_return_ms}}
                                .dump();
    finding.evidence_key = first + " " + second;
}

}  // namespace vigil::hub::recommend

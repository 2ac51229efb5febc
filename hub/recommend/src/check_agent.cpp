// Agent and configuration health, as recommendations: an agent older than the hub supports, and
// the conditions agent-health detection alarms on (data dropped, a config refused, a clock far
// from the hub's), read from the alarm bits those detections keep, so each condition has one rule.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "vigil/protocol/wire.h"

namespace vigil::hub::recommend {

using detect::DetectionContext;

namespace {

void outdated_agent(DetectionContext& context, const HygieneSettings& settings) {
    const Report& report = context.report;
    if (report.format != Format::Vigil || report.agent_version.empty()) {
        return;
    }
    const std::optional<Version> oldest = read_version(settings.oldest_supported_agent).version;
    const std::optional<Version> running = read_version(report.agent_version).version;
    if (!oldest || !running) {
        return;
    }
    RecommendationScan& scan = context.scan(kOutdatedAgent);
    if (!(*running < *oldest)) {
        return;
    }
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kOutdatedAgent;
    finding.severity = Severity::Medium;
    finding.title = "Vigil agent " + running->text() + " is older than the hub supports";
    finding.rationale = "The device runs Vigil agent " + running->text() + "; the hub supports " +
                        oldest->text() +
                        " and later. Older agents miss detections' inputs and fixes.";
    finding.remediation = "Update the device's Vigil agent to " + oldest->text() + " or later.";
    finding.evidence_json = nlohmann::json{
        {"agent_version", running->text()},
        {"oldest_supported",
         oldest->text()}}.dump();
    finding.evidence_key = running->text();
}

// The collectors whose data detection and the other hygiene checks stand on; the heartbeat
// collector cannot be off while its report says so.
struct SecurityCollector {
    wire::CollectorId id;
    const char* what;
};
constexpr SecurityCollector kSecurityCollectors[] = {
    {wire::CollectorId::Network,
     "network activity: scans, floods, malicious peers and cleartext or exposed services go "
     "unseen"},
    {wire::CollectorId::System,
     "system information: vulnerable firmware and outdated agents go unseen"},
    {wire::CollectorId::ListeningPorts,
     "listening ports: services the device offers but nobody has used yet go unseen"},
};

void disabled_collectors(DetectionContext& context, uint32_t enabled) {
    RecommendationScan& scan = context.scan(kCollectorDisabled);
    for (const SecurityCollector& collector : kSecurityCollectors) {
        const auto id = static_cast<uint32_t>(collector.id);
        const char* name = wire::collector_name(id);
        if ((enabled & (1U << id)) != 0) {
            continue;
        }
        RecommendationFinding& finding = scan.findings.emplace_back();
        finding.kind = kCollectorDisabled;
        finding.subject = name;
        finding.severity = Severity::Medium;
        finding.title = std::string("The agent's ") + name + " collector is off";
        finding.rationale = std::string("The agent's heartbeat says its ") + name +
                            " collector is disabled, so " + collector.what + ".";
        finding.remediation = std::string("Enable the ") + name +
                              " collector in the device's config (vigil config) or its agent "
                              "settings.";
        finding.evidence_json =
            nlohmann::json{{"collector", name}, {"collectors_enabled", enabled}}.dump();
        finding.evidence_key = name;
    }
}

void from_health_alarm(DetectionContext& context, const char* kind, detect::HealthAlarm alarm,
                       const std::function<void(RecommendationFinding&)>& describe) {
    RecommendationScan& scan = context.scan(kind);
    if ((context.state.health.alarmed & alarm) == 0) {
        return;
    }
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kind;
    finding.severity = Severity::Medium;
    describe(finding);
}

}  // namespace

void check_agent(DetectionContext& context, const HygieneSettings& settings) {
    outdated_agent(context, settings);
    if (const auto& status = context.report.status) {
        if (status->collectors) {
            disabled_collectors(context, *status->collectors);
        }
        from_health_alarm(
            context, kDataDropped, detect::kHealthDropped, [&](RecommendationFinding& finding) {
                finding.title = "The agent drops data it collected";
                finding.rationale = "The agent's heartbeat counts " +
                                    std::to_string(status->messages_dropped) +
                                    " messages dropped: what they held is invisible to detection.";
                finding.remediation =
                    "Give the agent a larger backlog or longer intervals, and check "
                    "the device's link to the hub.";
                finding.evidence_json =
                    nlohmann::json{{"messages_dropped", status->messages_dropped},
                                   {"send_failures", status->send_failures},
                                   {"backlog_messages", status->backlog_messages},
                                   {"overflow_packets", status->overflow_packets}}
                        .dump();
            });
        from_health_alarm(
            context, kConfigRefused, detect::kHealthConfig, [&](RecommendationFinding& finding) {
                const uint32_t version = status->rejected_config_version.value_or(0);
                finding.title = "The agent refused config version " + std::to_string(version);
                finding.rationale = "The agent runs config version " +
                                    std::to_string(status->config_version) +
                                    " and refused version " + std::to_string(version) + " (" +
                                    shown_text(status->rejected_config_reason, 200) +
                                    "): the settings the hub holds for it are not in force.";
                finding.remediation =
                    "Fix the desired config (vigil config) so the agent accepts "
                    "it, and push it again.";
                finding.evidence_json =
                    nlohmann::json{{"config_version", status->config_version},
                                   {"rejected_config_version", version},
                                   {"reason", shown_text(status->rejected_config_reason, 200)}}
                        .dump();
                finding.evidence_key = std::to_string(version);
            });
    }
    from_health_alarm(
        context, kClockSkew, detect::kHealthSkew, [&](RecommendationFinding& finding) {
            const detect::HealthProgress& health = context.state.health;
            const int64_t offset_s = health.skew_offsets[2] / 1000;
            finding.severity = Severity::Low;
            finding.title = "The device's clock is far from the hub's";
            finding.rationale = "The device's clock is " + std::to_string(std::llabs(offset_s)) +
                                " s " + (offset_s > 0 ? "ahead of" : "behind") +
                                " the hub's: its events sort wrongly against other devices', "
                                "and certificates may be refused or accepted past their validity.";
            finding.remediation = "Set the device's clock from NTP (or the hub's time) at boot.";
            finding.evidence_json = nlohmann::json{{"offsets_ms",
                                                    {health.skew_offsets[0], health.skew_offsets[1],
                                                     health.skew_offsets[2]}}}
                                        .dump();
        });
}

}  // namespace vigil::hub::recommend

// Many small messages: IoT hubs bill per message of up to 4 KB, so a device that sends many small
// ones pays for room it does not use. Judged once per day of device time, with the saving
// computed from the device's own figures.
#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

uint64_t units(uint64_t bytes, uint64_t unit) {
    return (bytes + unit - 1) / unit;
}

}  // namespace

void check_message_sizes(detect::DetectionContext& context, const HygieneSettings& settings) {
    detect::HygieneProgress& hygiene = context.state.hygiene;
    if (hygiene.day_start_ms == 0) {
        hygiene.day_start_ms = context.end_ms;
    }
    if (context.end_ms < hygiene.day_start_ms) {
        return;  // a late report of a day already judged
    }
    if (context.end_ms - hygiene.day_start_ms < kDayMs) {
        ++hygiene.day_messages;
        hygiene.day_bytes += context.report.payload_bytes;
        return;
    }
    // This report opens the next day: the day before is whole, and judged.
    hygiene.last_day_messages = hygiene.day_messages;
    hygiene.last_day_bytes = hygiene.day_bytes;
    hygiene.day_start_ms = context.end_ms;
    hygiene.day_messages = 1;
    hygiene.day_bytes = context.report.payload_bytes;

    RecommendationScan& scan = context.scan(kSmallMessages);
    const uint64_t messages = hygiene.last_day_messages;
    const uint64_t average = messages == 0 ? 0 : hygiene.last_day_bytes / messages;
    if (messages < settings.small_messages_per_day || average >= settings.small_message_bytes) {
        return;
    }
    const uint64_t unit = settings.billing_unit_bytes;
    const uint64_t batched = units(hygiene.last_day_bytes, unit);
    const uint64_t factor = average == 0 ? 1 : std::max<uint64_t>(1, unit / average);
    RecommendationFinding& finding = scan.findings.emplace_back();
    finding.kind = kSmallMessages;
    finding.severity = Severity::Low;
    finding.title = std::to_string(messages) + " small messages a day";
    finding.rationale = "The device sent " + std::to_string(messages) +
                        " messages in a day, averaging " + std::to_string(average) +
                        " bytes. IoT hubs bill each message of up to " + std::to_string(unit) +
                        " bytes as one: the same data in full messages is " +
                        std::to_string(batched) + " a day, " +
                        std::to_string(messages > batched ? messages - batched : 0) + " fewer.";
    finding.remediation = "Lengthen the agent's intervals about " + std::to_string(factor) +
                          " times (vigil config) so each message carries more.";
    finding.evidence_json =
        nlohmann::json{{"messages_per_day", messages}, {"bytes_per_day", hygiene.last_day_bytes},
                       {"average_bytes", average},     {"billing_unit_bytes", unit},
                       {"billed_now", messages},       {"billed_if_full", batched},
                       {"interval_factor", factor}}
            .dump();
    finding.evidence_key = std::to_string(factor);
}

}  // namespace vigil::hub::recommend

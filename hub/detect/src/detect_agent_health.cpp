// Agent health, from the agent's own counters (Vigil's heartbeat; the other formats report none)
// and, for every format, the device's clock: messages dropped, the backlog growing, a config the
// agent refused, a clock far from the hub's. Each clears when its counter says so again.
#include <algorithm>
#include <cstdlib>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

// A device clock that is wrong is wrong by the same amount in report after report; one whose
// reports arrive late (a backlog sent after an outage, a capture replayed) drifts against the
// hub's clock instead. Only offsets that agree this closely count as a skewed clock.
constexpr int64_t kSteadyOffsetMs = 5'000;

class Health {
  public:
    Health(DetectionContext& context)
        : context_(context), settings_(context.settings.agent_health) {}

    void set(HealthAlarm bit, bool condition, const char* type,
             const std::function<void()>& raise) {
        uint32_t& alarmed = context_.state.health.alarmed;
        if (condition) {
            alarmed |= bit;
            raise();
        } else if (alarmed & bit) {
            alarmed &= ~bit;
            context_.clear(type, "");
        }
    }

    AlertRaise& raise(const char* type, std::string title, std::string description,
                      std::string remediation) {
        AlertRaise& alert =
            context_.raise(type, AlertCategory::AgentHealth, "", settings_.severity);
        alert.title = std::move(title);
        alert.description = std::move(description);
        alert.remediation = std::move(remediation);
        return alert;
    }

  private:
    DetectionContext& context_;
    const AgentHealthSettings& settings_;
};

std::string boot_of(const std::string& message_key) {
    const size_t colon = message_key.find(':');
    return colon == std::string::npos ? std::string() : message_key.substr(0, colon);
}

void check_status(DetectionContext& context, Health& health) {
    const AgentStatus& status = *context.report.status;
    HealthProgress& progress = context.state.health;
    const AgentHealthSettings& settings = context.settings.agent_health;
    const std::string boot = boot_of(context.report.message_key);
    // Counters count from the agent's start: a new boot, or counters that went back, start
    // over without an alert.
    const bool same_run =
        boot == progress.boot && status.messages_dropped >= progress.messages_dropped;
    const uint64_t dropped = same_run ? status.messages_dropped - progress.messages_dropped : 0;
    progress.boot = boot;
    progress.messages_dropped = status.messages_dropped;
    progress.send_failures = status.send_failures;

    health.set(kHealthDropped, dropped > 0, "health.messages_dropped", [&] {
        health
            .raise("health.messages_dropped",
                   "The agent dropped " + std::to_string(dropped) + " messages",
                   "Since its previous heartbeat the agent dropped " + std::to_string(dropped) +
                       " security messages it could not send or hold (" +
                       std::to_string(status.messages_dropped) +
                       " since it started). What "
                       "they held is missing from the hub.",
                   "Check the device's connection to the hub and the agent's backlog size; a "
                   "link that is cut on purpose hides an attack.")
            .evidence_json = nlohmann::json{{"dropped", dropped},
                                            {"dropped_since_start", status.messages_dropped},
                                            {"send_failures", status.send_failures}}
                                 .dump();
    });
    health.set(kHealthBacklog, status.backlog_messages >= settings.backlog_messages,
               "health.backlog", [&] {
                   health
                       .raise("health.backlog",
                              "The agent's backlog holds " +
                                  std::to_string(status.backlog_messages) + " messages",
                              "The agent holds " + std::to_string(status.backlog_messages) +
                                  " messages (" + std::to_string(status.backlog_bytes) +
                                  " bytes) it has not been able to send; the rule alerts at " +
                                  std::to_string(settings.backlog_messages) + ".",
                              "Check the device's link to the hub and the broker's health.")
                       .evidence_json =
                       nlohmann::json{{"backlog_messages", status.backlog_messages},
                                      {"backlog_bytes", status.backlog_bytes},
                                      {"send_failures", status.send_failures}}
                           .dump();
               });
    health.set(
        kHealthConfig, status.rejected_config_version.has_value(), "health.config_refused", [&] {
            health
                .raise("health.config_refused",
                       "The agent refused config version " +
                           std::to_string(status.rejected_config_version.value_or(0)),
                       "The agent refused the configuration the hub sent (version " +
                           std::to_string(status.rejected_config_version.value_or(0)) +
                           "): " + status.rejected_config_reason + ". It keeps running version " +
                           std::to_string(status.config_version) + ".",
                       "Correct the configuration and publish it again.")
                .evidence_json =
                nlohmann::json{{"rejected_version", status.rejected_config_version.value_or(0)},
                               {"reason", status.rejected_config_reason},
                               {"running_version", status.config_version}}
                    .dump();
        });
}

void check_clock(DetectionContext& context, Health& health) {
    const Report& report = context.report;
    if (report.device_time_ms <= 0 || report.received_ms <= 0) {
        return;
    }
    HealthProgress& progress = context.state.health;
    std::rotate(std::begin(progress.skew_offsets), std::begin(progress.skew_offsets) + 1,
                std::end(progress.skew_offsets));
    progress.skew_offsets[2] = report.device_time_ms - report.received_ms;
    progress.skew_samples = static_cast<uint8_t>(std::min(progress.skew_samples + 1, 3));
    const int64_t limit_ms = context.settings.agent_health.clock_skew_s * 1000;
    const auto [low, high] =
        std::minmax_element(std::begin(progress.skew_offsets), std::end(progress.skew_offsets));
    const bool skewed = progress.skew_samples == 3 && *high - *low <= kSteadyOffsetMs &&
                        std::llabs(progress.skew_offsets[2]) > limit_ms;
    const bool clearly_fine = std::llabs(progress.skew_offsets[2]) <= limit_ms;
    if (!skewed && !clearly_fine) {
        return;  // drifting: no verdict either way
    }
    health.set(kHealthSkew, skewed, "health.clock_skew", [&] {
        const int64_t offset_s = progress.skew_offsets[2] / 1000;
        health
            .raise("health.clock_skew",
                   "The device's clock is " + std::to_string(std::llabs(offset_s)) + " s " +
                       (offset_s > 0 ? "ahead of" : "behind") + " the hub's",
                   "Three reports in a row carried times " + std::to_string(std::llabs(offset_s)) +
                       " s " + (offset_s > 0 ? "ahead of" : "behind") +
                       " their arrival at the hub. Detections run on the device's time, so "
                       "its alerts are placed that far off.",
                   "Check the device's time source (NTP, RTC battery); a clock set back can "
                   "also replay old certificates.")
            .evidence_json =
            nlohmann::json{
                {"offsets_ms",
                 {progress.skew_offsets[0], progress.skew_offsets[1], progress.skew_offsets[2]}},
                {"limit_s", context.settings.agent_health.clock_skew_s}}
                .dump();
    });
}

}  // namespace

void detect_agent_health(DetectionContext& context) {
    if (!context.settings.agent_health.enabled) {
        context.state.health.alarmed = 0;
        return;
    }
    Health health(context);
    if (context.report.status) {
        check_status(context, health);
    }
    check_clock(context, health);
}

}  // namespace vigil::hub::detect

#include "vigil/hub/outputs/fleet_pulse.hpp"

#include <algorithm>

namespace vigil::hub {

void FleetPulse::reported(uint64_t messages, int64_t last_report_ms, int64_t now_ms) {
    if (messages == 0) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        pending_.reported += messages;
        pending_.last_report_ms = std::max(pending_.last_report_ms, last_report_ms);
    }
    tick(now_ms);
}

void FleetPulse::tick(int64_t now_ms) {
    if (const std::optional<FleetEvent> due = take_due(now_ms)) {
        events_.publish(*due);
    }
}

std::optional<FleetEvent> FleetPulse::take_due(int64_t now_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.reported == 0 ||
        (last_published_ms_ && now_ms - *last_published_ms_ < interval_ms_)) {
        return std::nullopt;
    }
    last_published_ms_ = now_ms;
    const FleetEvent due = pending_;
    pending_.reported = 0;
    return due;
}

}  // namespace vigil::hub

// The fleet's activity for live consumers without one event per message: ingest tells it how
// many messages each commit stored, and it publishes a FleetEvent at most once per interval, when
// any arrived since the previous one. Whoever holds it calls tick() now and then, so that a quiet
// spell after a commit still gets its event once the interval has passed.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "vigil/hub/outputs/alert_events.hpp"

namespace vigil::hub {

class FleetPulse {
  public:
    FleetPulse(AlertEvents& events, int64_t interval_ms)
        : events_(events), interval_ms_(interval_ms) {}

    /// `messages` stored, the latest received at `last_report_ms`; publishes when due.
    void reported(uint64_t messages, int64_t last_report_ms, int64_t now_ms);
    /// Publishes what was reported since the previous event, when due.
    void tick(int64_t now_ms);

  private:
    /// The event to publish now, if any; taken under the lock, published outside it.
    std::optional<FleetEvent> take_due(int64_t now_ms);

    AlertEvents& events_;
    const int64_t interval_ms_;
    std::mutex mutex_;
    FleetEvent pending_;
    std::optional<int64_t> last_published_ms_;
};

}  // namespace vigil::hub

// One client of GET /api/alerts/stream: a bounded queue of the alert, recommendation, device and
// fleet events published since it subscribed, which the connection's worker thread drains into
// server-sent events. The publisher never waits for a slow client: past the bound, events are
// dropped and counted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "vigil/hub/outputs/alert_events.hpp"

namespace vigil::hub::api {

using StreamEvent = std::variant<AlertEvent, RecommendationEvent, DeviceEvent, FleetEvent>;

class AlertStreamQueue final : public AlertSubscriber {
  public:
    explicit AlertStreamQueue(size_t capacity) : capacity_(capacity) {}

    void deliver(const AlertEvent& event) override;
    void deliver(const RecommendationEvent& event) override;
    void device_changed(const DeviceEvent& event) override;
    void fleet_reported(const FleetEvent& event) override;

    struct Taken {
        std::vector<StreamEvent> events;
        uint64_t dropped = 0;  ///< since the previous take()
        bool closed = false;   ///< the server is stopping: end the stream
    };
    /// What is queued, waiting up to `wait` for something (an event or close()).
    Taken take(std::chrono::milliseconds wait);
    void close();

  private:
    void enqueue(StreamEvent event);

    const size_t capacity_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<StreamEvent> queued_;
    uint64_t dropped_ = 0;
    bool closed_ = false;
};

/// The event as text/event-stream: "event: opened\nid: 12\ndata: {...}\n\n".
std::string to_server_sent_event(const AlertEvent& event);
/// "event: recommendation.opened\nid: recommendation-3\ndata: {...}\n\n".
std::string to_server_sent_event(const RecommendationEvent& event);
/// "event: device\ndata: {\"device_id\": ..., \"change\": \"enrolled\", \"at_ms\": ...}\n\n".
std::string to_server_sent_event(const DeviceEvent& event);
/// "event: fleet\ndata: {\"reported\": ..., \"last_report_ms\": ...}\n\n".
std::string to_server_sent_event(const FleetEvent& event);

}  // namespace vigil::hub::api

#include "alert_stream.hpp"

#include "json_views.hpp"

namespace vigil::hub::api {

void AlertStreamQueue::deliver(const AlertEvent& event) {
    enqueue(event);
}

void AlertStreamQueue::deliver(const RecommendationEvent& event) {
    enqueue(event);
}

void AlertStreamQueue::device_changed(const DeviceEvent& event) {
    enqueue(event);
}

void AlertStreamQueue::fleet_reported(const FleetEvent& event) {
    enqueue(event);
}

void AlertStreamQueue::enqueue(StreamEvent event) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closed_) {
            return;
        }
        if (queued_.size() >= capacity_) {
            ++dropped_;
            return;
        }
        queued_.push_back(std::move(event));
    }
    changed_.notify_one();
}

AlertStreamQueue::Taken AlertStreamQueue::take(std::chrono::milliseconds wait) {
    Taken taken;
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, wait, [this] { return closed_ || !queued_.empty() || dropped_ != 0; });
    taken.events.assign(queued_.begin(), queued_.end());
    queued_.clear();
    taken.dropped = dropped_;
    dropped_ = 0;
    taken.closed = closed_;
    return taken;
}

void AlertStreamQueue::close() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

std::string to_server_sent_event(const AlertEvent& event) {
    // dump() escapes line breaks inside strings, so the JSON is one data line.
    return std::string("event: ") + to_string(event.change) +
           "\nid: " + std::to_string(event.alert.id) + "\ndata: " + to_json(event.alert).dump() +
           "\n\n";
}

std::string to_server_sent_event(const RecommendationEvent& event) {
    return std::string("event: recommendation.") + to_string(event.change) +
           "\nid: recommendation-" + std::to_string(event.recommendation.id) +
           "\ndata: " + to_json(event.recommendation).dump() + "\n\n";
}

std::string to_server_sent_event(const DeviceEvent& event) {
    const nlohmann::json data = {{"device_id", event.device_id},
                                 {"change", to_string(event.change)},
                                 {"at_ms", event.at_ms}};
    return "event: device\ndata: " + data.dump() + "\n\n";
}

std::string to_server_sent_event(const FleetEvent& event) {
    const nlohmann::json data = {{"reported", event.reported},
                                 {"last_report_ms", event.last_report_ms}};
    return "event: fleet\ndata: " + data.dump() + "\n\n";
}

}  // namespace vigil::hub::api

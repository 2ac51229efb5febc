#include "vigil/hub/outputs/alert_events.hpp"

#include <algorithm>

namespace vigil::hub {

void AlertEvents::publish(const AlertEvent& event) {
    std::vector<std::shared_ptr<AlertSubscriber>> subscribers;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        subscribers = subscribers_;
    }
    for (const auto& subscriber : subscribers) {
        subscriber->deliver(event);
    }
}

void AlertEvents::subscribe(std::shared_ptr<AlertSubscriber> subscriber) {
    std::lock_guard<std::mutex> lock(mutex_);
    subscribers_.push_back(std::move(subscriber));
}

void AlertEvents::unsubscribe(const AlertSubscriber* subscriber) {
    std::lock_guard<std::mutex> lock(mutex_);
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [&](const auto& held) { return held.get() == subscriber; }),
                       subscribers_.end());
}

}  // namespace vigil::hub

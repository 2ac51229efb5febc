#include "vigil/hub/outputs/alert_events.hpp"

#include <algorithm>

namespace vigil::hub {

template <typename Event>
void AlertEvents::publish_to_all(const Event& event) {
    std::shared_ptr<const Subscribers> subscribers;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        subscribers = subscribers_;
    }
    for (const auto& subscriber : *subscribers) {
        subscriber->deliver(event);
    }
}

void AlertEvents::publish(const AlertEvent& event) {
    publish_to_all(event);
}

void AlertEvents::publish(const RecommendationEvent& event) {
    publish_to_all(event);
}

void AlertEvents::subscribe(std::shared_ptr<AlertSubscriber> subscriber) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto next = std::make_shared<Subscribers>(*subscribers_);
    next->push_back(std::move(subscriber));
    subscribers_ = std::move(next);
}

void AlertEvents::unsubscribe(const AlertSubscriber* subscriber) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto next = std::make_shared<Subscribers>(*subscribers_);
    next->erase(std::remove_if(next->begin(), next->end(),
                               [&](const auto& held) { return held.get() == subscriber; }),
                next->end());
    subscribers_ = std::move(next);
}

}  // namespace vigil::hub

#include "vigil/hub/outputs/alert_events.hpp"

#include <algorithm>

namespace vigil::hub {

std::shared_ptr<const AlertEvents::Subscribers> AlertEvents::subscribers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscribers_;
}

template <typename Call>
void AlertEvents::for_each_subscriber(Call call) {
    // Held for the walk: a range-for over *subscribers() would drop the list at once, and an
    // unsubscribe meanwhile would free it under the loop.
    const std::shared_ptr<const Subscribers> now = subscribers();
    for (const auto& subscriber : *now) {
        call(*subscriber);
    }
}

void AlertEvents::publish(const AlertEvent& event) {
    for_each_subscriber([&](AlertSubscriber& subscriber) { subscriber.deliver(event); });
}

void AlertEvents::publish(const RecommendationEvent& event) {
    for_each_subscriber([&](AlertSubscriber& subscriber) { subscriber.deliver(event); });
}

void AlertEvents::publish(const DeviceEvent& event) {
    for_each_subscriber([&](AlertSubscriber& subscriber) { subscriber.device_changed(event); });
}

void AlertEvents::publish(const FleetEvent& event) {
    for_each_subscriber([&](AlertSubscriber& subscriber) { subscriber.fleet_reported(event); });
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

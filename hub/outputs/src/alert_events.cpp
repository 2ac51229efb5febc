#include "vigil/hub/outputs/alert_events.hpp"

#include <algorithm>

namespace vigil::hub {

std::shared_ptr<const AlertEvents::Subscribers> AlertEvents::subscribers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscribers_;
}

void AlertEvents::publish(const AlertEvent& event) {
    for (const auto& subscriber : *subscribers()) {
        subscriber->deliver(event);
    }
}

void AlertEvents::publish(const RecommendationEvent& event) {
    for (const auto& subscriber : *subscribers()) {
        subscriber->deliver(event);
    }
}

void AlertEvents::publish(const DeviceEvent& event) {
    for (const auto& subscriber : *subscribers()) {
        subscriber->device_changed(event);
    }
}

void AlertEvents::publish(const FleetEvent& event) {
    for (const auto& subscriber : *subscribers()) {
        subscriber->fleet_reported(event);
    }
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

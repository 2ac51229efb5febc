// AlertEvents: a publisher walks the subscribers of the moment while other threads subscribe and
// unsubscribe (stream clients come and go); the list it walks must outlive its walk.
#include "vigil/hub/outputs/alert_events.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace vigil::hub::outputs::test {
namespace {

class CountingSubscriber final : public AlertSubscriber {
  public:
    void deliver(const AlertEvent&) override { ++delivered; }
    void deliver(const RecommendationEvent&) override { ++delivered; }
    void device_changed(const DeviceEvent&) override { ++delivered; }
    void fleet_reported(const FleetEvent&) override { ++delivered; }
    std::atomic<uint64_t> delivered{0};
};

TEST(AlertEvents, PublishingWhileSubscribersComeAndGoDeliversToLiveOnes) {
    AlertEvents events;
    const auto staying = std::make_shared<CountingSubscriber>();
    events.subscribe(staying);
    std::atomic<bool> stop{false};
    std::thread churn([&] {
        while (!stop) {
            const auto passing = std::make_shared<CountingSubscriber>();
            events.subscribe(passing);
            events.unsubscribe(passing.get());
        }
    });
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
    uint64_t published = 0;
    while (std::chrono::steady_clock::now() < until) {
        events.publish(AlertEvent{});
        events.publish(RecommendationEvent{});
        events.publish(DeviceEvent{});
        events.publish(FleetEvent{});
        published += 4;
    }
    stop = true;
    churn.join();
    EXPECT_EQ(staying->delivered.load(), published);
}

}  // namespace
}  // namespace vigil::hub::outputs::test

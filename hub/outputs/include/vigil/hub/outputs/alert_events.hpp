// Alert and recommendation events, from where the store made them durable to everyone who
// follows them live: the outputs (webhook, syslog, MQTT) and the API's event stream; and the
// devices' changes and the fleet's activity, which only the stream follows. publish() never
// blocks: each subscriber keeps its own bounded queue and counts what it had to drop.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/device_event.hpp"
#include "vigil/hub/recommendation.hpp"

namespace vigil::hub {

class AlertSubscriber {
  public:
    virtual ~AlertSubscriber() = default;
    /// Called on the publishing thread (ingest's): queue the event and return at once.
    virtual void deliver(const AlertEvent& event) = 0;
    /// Idem; a subscriber that follows alerts only leaves it as it is.
    virtual void deliver(const RecommendationEvent& event) { (void)event; }
    /// Idem, for a device's change; ignored unless followed.
    virtual void device_changed(const DeviceEvent& event) { (void)event; }
    /// Idem, for the fleet's activity; ignored unless followed.
    virtual void fleet_reported(const FleetEvent& event) { (void)event; }
};

/// Fan-out to the subscribers of the moment; any thread may publish, subscribe or unsubscribe.
class AlertEvents {
  public:
    void publish(const AlertEvent& event);
    void publish(const RecommendationEvent& event);
    void publish(const DeviceEvent& event);
    void publish(const FleetEvent& event);
    void subscribe(std::shared_ptr<AlertSubscriber> subscriber);
    void unsubscribe(const AlertSubscriber* subscriber);

  private:
    using Subscribers = std::vector<std::shared_ptr<AlertSubscriber>>;
    /// The subscribers of the moment.
    std::shared_ptr<const Subscribers> subscribers();
    /// Calls `call` with each subscriber of the moment.
    template <typename Call>
    void for_each_subscriber(Call call);
    std::mutex mutex_;
    /// Replaced, never changed in place: publish() takes the list of the moment with one
    /// reference count instead of copying it for every event.
    std::shared_ptr<const Subscribers> subscribers_ = std::make_shared<const Subscribers>();
};

}  // namespace vigil::hub

// Alert events, from where the store made them durable to everyone who follows them live: the
// outputs (webhook, syslog, MQTT) and the API's event stream. publish() never blocks: each
// subscriber keeps its own bounded queue and counts what it had to drop.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "vigil/hub/alert.hpp"

namespace vigil::hub {

class AlertSubscriber {
  public:
    virtual ~AlertSubscriber() = default;
    /// Called on the publishing thread (ingest's): queue the event and return at once.
    virtual void deliver(const AlertEvent& event) = 0;
};

/// Fan-out to the subscribers of the moment; any thread may publish, subscribe or unsubscribe.
class AlertEvents {
  public:
    void publish(const AlertEvent& event);
    void subscribe(std::shared_ptr<AlertSubscriber> subscriber);
    void unsubscribe(const AlertSubscriber* subscriber);

  private:
    std::mutex mutex_;
    std::vector<std::shared_ptr<AlertSubscriber>> subscribers_;
};

}  // namespace vigil::hub

// The outputs of one policy, subscribed to the hub's alert events. A policy reload builds a new
// set and swaps it in with replace(): the new outputs are subscribed before the old ones leave,
// so no event falls between them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/outputs/alert_events.hpp"
#include "vigil/hub/outputs/mqtt_output.hpp"
#include "vigil/hub/outputs/output.hpp"

namespace vigil::hub::outputs {

class OutputSet {
  public:
    /// Builds one output per settings entry; an entry that cannot be built (bad URL, address,
    /// topic, duplicate name) is left out and described in errors(). Nothing is subscribed yet.
    OutputSet(const std::vector<detect::OutputSettings>& settings, const MqttConnection& connection,
              const OutputLog& log = nullptr);
    /// Unsubscribes (when subscribed) and stops the outputs at once, abandoning their queues.
    ~OutputSet();
    OutputSet(const OutputSet&) = delete;
    OutputSet& operator=(const OutputSet&) = delete;

    const std::vector<std::string>& errors() const { return errors_; }
    size_t size() const { return outputs_.size(); }

    /// `events` must outlive the set, or the set must be unsubscribed by replace() first.
    void subscribe(AlertEvents& events);

    /// Subscribes `next` to the events this set follows, then unsubscribes this set and stops
    /// its outputs. Each old output keeps sending what it had queued, in parallel with the
    /// others, until its queue is empty or `drain` has passed; then an attempt still in progress
    /// is cut short (it lasts at most its timeout) and what is left in the queue is counted as
    /// abandoned and lost. The caller waits for all of that. The events published meanwhile go
    /// to `next`.
    void replace(OutputSet& next, std::chrono::milliseconds drain);

    /// A new set's counters start at zero: Prometheus sees a counter reset at a reload.
    std::vector<OutputMetrics> metrics() const;
    /// The Prometheus families of every output (vigil_hub_output_sent_total{output,kind}, ...).
    void write_metrics(PrometheusWriter& out) const;

  private:
    void unsubscribe();

    std::vector<std::shared_ptr<Output>> outputs_;
    std::vector<std::string> errors_;
    AlertEvents* events_ = nullptr;
};

}  // namespace vigil::hub::outputs

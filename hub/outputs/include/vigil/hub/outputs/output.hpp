// One output of alert and recommendation events: the filter of its settings, a bounded queue, and a
// sender thread of its own that hands each event to a transport (webhook, syslog, MQTT), retrying
// with doubling backoff. deliver() runs on the publisher's thread and never waits for the
// transport.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/outputs/alert_events.hpp"
#include "vigil/hub/prometheus.hpp"

namespace vigil::hub::outputs {

/// What an output sends: an alert's change or a recommendation's.
using OutputEvent = std::variant<AlertEvent, RecommendationEvent>;

/// An event taken from the queue, with the number that identifies its delivery across retries.
struct PendingEvent {
    OutputEvent event;
    uint64_t sequence = 0;
};

/// What one attempt at sending came to.
enum class Attempt : uint8_t {
    Sent,
    Retry,   ///< the receiver is away or failed for now: try again after a pause
    Refused  ///< the receiver refused this event for good: do not try again
};

/// Where an output says what went wrong for good (an event given up), one line each.
using OutputLog = std::function<void(const std::string& line)>;

/// The transport of one output kind. attempt() runs on the output's sender thread only.
class Transport {
  public:
    virtual ~Transport() = default;
    /// Anything but Sent says why in `failure`: "HTTP 503", "connection refused".
    virtual Attempt attempt(const PendingEvent& pending, std::string& failure) = 0;
    /// Called from another thread when the output stops: cut an attempt in progress short.
    virtual void interrupt() {}
};

struct OutputMetrics {
    std::string name;
    std::string kind;
    uint64_t queued = 0;     ///< events accepted into the queue
    uint64_t sent = 0;       ///< events the receiver took
    uint64_t failed = 0;     ///< attempts that failed (each retry counts)
    uint64_t dropped = 0;    ///< events refused because the queue was full
    uint64_t given_up = 0;   ///< events abandoned after the last retry or a permanent refusal
    uint64_t abandoned = 0;  ///< events still queued when the output stopped
    size_t queue_depth = 0;
    size_t queue_capacity = 0;
    std::string last_failure;  ///< why the latest failed attempt failed; "" none yet
};

/// Writes the metrics of these outputs as Prometheus families labelled by output and kind.
void write_output_metrics(PrometheusWriter& out, const std::vector<OutputMetrics>& outputs);

class Output : public AlertSubscriber {
  public:
    /// Starts the sender thread.
    Output(const detect::OutputSettings& settings, std::string kind,
           std::unique_ptr<Transport> transport, OutputLog log = nullptr);
    ~Output() override;
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    /// Filters (severity, change, suppressed) and queues, or counts the event as dropped.
    void deliver(const AlertEvent& event) override;
    /// Filters by severity (the policy's changes name alerts' changes) and queues, or counts
    /// the event as dropped.
    void deliver(const RecommendationEvent& event) override;

    /// Lets the sender work through the queue until `deadline`, then cuts short what is still
    /// being sent (a transport attempt is bounded by its timeout) and counts the events left in
    /// the queue as abandoned. begin_stop() returns at once, so that several outputs drain in
    /// parallel; finish_stop() waits. stop() is both.
    void begin_stop(std::chrono::steady_clock::time_point deadline);
    void finish_stop();
    void stop(std::chrono::milliseconds drain);

    OutputMetrics metrics() const;
    const std::string& name() const { return name_; }

  private:
    bool accepts(const AlertEvent& event) const;
    /// Copies the event only when the queue has room for it.
    template <typename Event>
    void enqueue(const Event& event);
    void run();
    void send_with_retries(const PendingEvent& pending);
    /// Sleeps for `pause` unless the output is cut short first; false when it was.
    bool pause(std::chrono::milliseconds pause);

    const std::string name_;
    const std::string kind_;
    const Severity min_severity_;
    const std::vector<AlertChange> changes_;
    const size_t capacity_;
    const uint32_t retries_;
    const std::chrono::milliseconds retry_min_, retry_max_;
    std::unique_ptr<Transport> transport_;
    const OutputLog log_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<PendingEvent> queue_;
    uint64_t next_sequence_ = 1;
    bool stopping_ = false;   ///< drain what is queued, then end
    bool cut_short_ = false;  ///< end now
    bool finished_ = false;
    std::chrono::steady_clock::time_point deadline_;
    std::string last_failure_;

    std::atomic<size_t> depth_{0};  ///< queue_.size(), read without the lock
    std::atomic<uint64_t> queued_{0}, sent_{0}, failed_{0}, dropped_{0}, given_up_{0},
        abandoned_{0};
    std::thread thread_;
};

}  // namespace vigil::hub::outputs

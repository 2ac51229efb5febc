#include "vigil/hub/outputs/output.hpp"

#include <algorithm>
#include <utility>

namespace vigil::hub::outputs {

namespace {

// "alert 7 (opened)", "recommendation 3 (closed)", for the log.
std::string describe(const OutputEvent& event) {
    if (const auto* alert = std::get_if<AlertEvent>(&event)) {
        return "alert " + std::to_string(alert->alert.id) + " (" + to_string(alert->change) + ")";
    }
    const auto& recommendation = std::get<RecommendationEvent>(event);
    return "recommendation " + std::to_string(recommendation.recommendation.id) + " (" +
           to_string(recommendation.change) + ")";
}

}  // namespace

Output::Output(const detect::OutputSettings& settings, std::string kind,
               std::unique_ptr<Transport> transport, OutputLog log)
    : name_(settings.name),
      kind_(std::move(kind)),
      min_severity_(settings.min_severity),
      changes_(settings.changes),
      capacity_(std::max<size_t>(settings.queue, 1)),
      retries_(settings.retries),
      retry_min_(std::max<uint32_t>(settings.retry_min_ms, 1)),
      retry_max_(std::max(settings.retry_max_ms, settings.retry_min_ms)),
      transport_(std::move(transport)),
      log_(std::move(log)) {
    thread_ = std::thread([this] { run(); });
}

Output::~Output() {
    stop(std::chrono::milliseconds(0));
}

bool Output::accepts(const AlertEvent& event) const {
    return event.alert.suppressed_by == 0 && event.alert.severity >= min_severity_ &&
           std::find(changes_.begin(), changes_.end(), event.change) != changes_.end();
}

void Output::deliver(const AlertEvent& event) {
    if (accepts(event)) {
        enqueue(event);
    }
}

void Output::deliver(const RecommendationEvent& event) {
    if (event.recommendation.severity >= min_severity_) {
        enqueue(event);
    }
}

template <typename Event>
void Output::enqueue(const Event& event) {
    // A full queue is the case to be fast in: a receiver that hangs must not slow ingest down.
    if (depth_.load(std::memory_order_relaxed) >= capacity_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            return;
        }
        if (queue_.size() >= capacity_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        queue_.push_back(PendingEvent{OutputEvent(event), next_sequence_++});
        depth_.store(queue_.size(), std::memory_order_relaxed);
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
    wake_.notify_all();  // the sender, whichever wait of its own it is in
}

void Output::run() {
    for (;;) {
        PendingEvent pending;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return cut_short_ || stopping_ || !queue_.empty(); });
            if (cut_short_ || queue_.empty()) {
                break;  // stopping with nothing left, or out of time
            }
            pending = std::move(queue_.front());
            queue_.pop_front();
            depth_.store(queue_.size(), std::memory_order_relaxed);
        }
        send_with_retries(pending);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    abandoned_.fetch_add(queue_.size(), std::memory_order_relaxed);
    queue_.clear();
    depth_.store(0, std::memory_order_relaxed);
    finished_ = true;
    wake_.notify_all();
}

void Output::send_with_retries(const PendingEvent& pending) {
    std::chrono::milliseconds backoff = retry_min_;
    for (uint32_t attempt = 0;; ++attempt) {
        std::string failure;
        const Attempt result = transport_->attempt(pending, failure);
        if (result == Attempt::Sent) {
            sent_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        failed_.fetch_add(1, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            last_failure_ = failure;
        }
        if (result == Attempt::Refused || attempt >= retries_ || !pause(backoff)) {
            given_up_.fetch_add(1, std::memory_order_relaxed);
            if (log_) {
                log_("output \"" + name_ + "\" (" + kind_ + "): gave up " +
                     describe(pending.event) + " after " + std::to_string(attempt + 1) +
                     (attempt == 0 ? " attempt: " : " attempts: ") + failure);
            }
            return;
        }
        backoff = std::min(backoff * 2, retry_max_);
    }
}

bool Output::pause(std::chrono::milliseconds pause) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, pause, [&] { return cut_short_; });
    return !cut_short_;
}

void Output::begin_stop(std::chrono::steady_clock::time_point deadline) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        deadline_ = deadline;
    }
    wake_.notify_all();
}

void Output::finish_stop() {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!thread_.joinable()) {
            return;
        }
        wake_.wait_until(lock, deadline_, [&] { return finished_; });
        cut_short_ = true;
    }
    wake_.notify_all();
    transport_->interrupt();
    thread_.join();
}

void Output::stop(std::chrono::milliseconds drain) {
    begin_stop(std::chrono::steady_clock::now() + drain);
    finish_stop();
}

OutputMetrics Output::metrics() const {
    OutputMetrics m;
    m.name = name_;
    m.kind = kind_;
    m.queued = queued_.load(std::memory_order_relaxed);
    m.sent = sent_.load(std::memory_order_relaxed);
    m.failed = failed_.load(std::memory_order_relaxed);
    m.dropped = dropped_.load(std::memory_order_relaxed);
    m.given_up = given_up_.load(std::memory_order_relaxed);
    m.abandoned = abandoned_.load(std::memory_order_relaxed);
    m.queue_capacity = capacity_;
    std::lock_guard<std::mutex> lock(mutex_);
    m.queue_depth = queue_.size();
    m.last_failure = last_failure_;
    return m;
}

void write_output_metrics(PrometheusWriter& out, const std::vector<OutputMetrics>& outputs) {
    struct Family {
        const char* name;
        const char* type;
        const char* help;
        double (*value)(const OutputMetrics&);
    };
    static const Family kFamilies[] = {
        {"vigil_hub_output_queued_total", "counter", "Alert events an output accepted.",
         [](const OutputMetrics& m) { return static_cast<double>(m.queued); }},
        {"vigil_hub_output_sent_total", "counter", "Alert events an output's receiver took.",
         [](const OutputMetrics& m) { return static_cast<double>(m.sent); }},
        {"vigil_hub_output_failed_total", "counter",
         "Attempts to send an alert event that failed, every retry counted.",
         [](const OutputMetrics& m) { return static_cast<double>(m.failed); }},
        {"vigil_hub_output_dropped_total", "counter",
         "Alert events dropped because the output's queue was full.",
         [](const OutputMetrics& m) { return static_cast<double>(m.dropped); }},
        {"vigil_hub_output_given_up_total", "counter",
         "Alert events given up after the last retry or a refusal by the receiver.",
         [](const OutputMetrics& m) { return static_cast<double>(m.given_up); }},
        {"vigil_hub_output_abandoned_total", "counter",
         "Alert events still queued when the output stopped (policy reload, shutdown).",
         [](const OutputMetrics& m) { return static_cast<double>(m.abandoned); }},
        {"vigil_hub_output_queue_depth", "gauge", "Alert events waiting in the output's queue.",
         [](const OutputMetrics& m) { return static_cast<double>(m.queue_depth); }},
        {"vigil_hub_output_queue_capacity", "gauge", "Alert events the output's queue holds.",
         [](const OutputMetrics& m) { return static_cast<double>(m.queue_capacity); }},
    };
    if (outputs.empty()) {
        return;
    }
    for (const Family& family : kFamilies) {
        out.family(family.name, family.type, family.help);
        for (const OutputMetrics& m : outputs) {
            out.sample(family.name, {{"output", m.name}, {"kind", m.kind}}, family.value(m));
        }
    }
}

}  // namespace vigil::hub::outputs

// GET /api/alerts/stream: alert, recommendation, device and fleet events as server-sent events,
// live, for as long as the client stays. Each stream holds one of the server's worker threads, so
// their number is bounded.
#include <algorithm>

#include "alert_stream.hpp"
#include "http_util.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

// How long a stream waits for events before it looks again at whether the server is stopping.
constexpr std::chrono::milliseconds kStreamPoll{200};

}  // namespace

void ApiServer::Impl::stream_alerts(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    // As in the list: suppressed alerts are left out unless asked for.
    const bool include_suppressed = query.flag("suppressed");
    if (!query.ok()) {
        return;
    }
    if (settings_.alert_events == nullptr) {
        api::send_error(res, 503, "unavailable", "this hub publishes no alert events");
        return;
    }
    auto queue = std::make_shared<api::AlertStreamQueue>(settings_.alert_stream_queue);
    {
        std::lock_guard<std::mutex> lock(streams_mutex_);
        if (streams_.size() >= settings_.max_alert_streams) {
            api::send_error(res, 503, "too_many_streams",
                            "this hub serves at most " +
                                std::to_string(settings_.max_alert_streams) +
                                " alert streams at once");
            return;
        }
        streams_.push_back(queue);
    }
    settings_.alert_events->subscribe(queue);
    const auto keepalive = std::chrono::milliseconds(settings_.alert_stream_keepalive_ms);
    const auto poll = std::min(keepalive, kStreamPoll);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, queue, keepalive, poll, include_suppressed, greeted = false,
         last_write = std::chrono::steady_clock::now()](size_t, httplib::DataSink& sink) mutable {
            std::string out;
            if (!greeted) {
                // The client knows it is subscribed from the first bytes on.
                out = ": subscribed\n\n";
                greeted = true;
            }
            api::AlertStreamQueue::Taken taken = queue->take(poll);
            if (taken.closed) {
                return false;
            }
            for (const api::StreamEvent& event : taken.events) {
                const auto* alert = std::get_if<AlertEvent>(&event);
                if (alert == nullptr) {
                    out += std::visit(
                        [](const auto& other) { return api::to_server_sent_event(other); }, event);
                } else if (include_suppressed || alert->alert.suppressed_by == 0) {
                    out += api::to_server_sent_event(*alert);
                }
            }
            if (taken.dropped != 0) {
                dropped_stream_events_ += taken.dropped;
                out += ": dropped " + std::to_string(taken.dropped) +
                       " events: the stream fell behind\n\n";
            }
            const auto now = std::chrono::steady_clock::now();
            if (out.empty() && now - last_write >= keepalive) {
                out = ": keep-alive\n\n";
            }
            if (out.empty()) {
                return true;
            }
            last_write = now;
            // A write to a client that left fails: the stream ends and the releaser runs.
            return sink.write(out.data(), out.size());
        },
        [this, queue](bool) { end_stream(queue.get()); });
}

void ApiServer::Impl::end_stream(const api::AlertStreamQueue* queue) {
    settings_.alert_events->unsubscribe(queue);
    std::lock_guard<std::mutex> lock(streams_mutex_);
    streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                  [&](const auto& held) { return held.get() == queue; }),
                   streams_.end());
}

void ApiServer::Impl::close_streams() {
    std::lock_guard<std::mutex> lock(streams_mutex_);
    for (const auto& queue : streams_) {
        queue->close();
    }
}

size_t ApiServer::Impl::open_streams() {
    std::lock_guard<std::mutex> lock(streams_mutex_);
    return streams_.size();
}

}  // namespace vigil::hub

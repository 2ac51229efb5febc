#include "vigil/hub/ingest.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <future>
#include <iterator>

#include "vigil/mqtt/client.h"
#include "vigil/mqtt/posix_transport.h"
#include "vigil/protocol/topic.h"

namespace vigil::hub {

namespace {

// Room for the topic and MQTT headers around the largest payload.
constexpr size_t kHeaderRoom = 64 * 1024;
// PUBACKs and responses; a batch of 500 acknowledgements takes 2 KB.
constexpr size_t kSendBufferBytes = 256 * 1024;

int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The client's clock is a free-running 32-bit millisecond counter.
uint32_t client_ms() {
    return static_cast<uint32_t>(steady_ms());
}

}  // namespace

std::string device_id_from_topic(const std::string& topic) {
    const wire::TopicParts parts = wire::split_topic(topic.data(), topic.size());
    // A thing name becomes the device's id in the store, so it must be a device id as well: the
    // decoder took it as a thing name, and only a device id is safe in the API's paths and in
    // metric labels (a 128-byte thing name is not one).
    const bool valid =
        parts.kind != wire::TopicKind::Other && wire::valid_device_id(parts.id, parts.id_length);
    return valid ? std::string(parts.id, parts.id_length) : std::string();
}

namespace {

// The last PUBACKs must reach the broker before a successor takes the session over: mosquitto
// drops what it has not yet read from a connection it replaces. So on stop the socket is
// half-closed after DISCONNECT and the broker's own close awaited (bounded) before closing.
struct GracefulSocket {
    mqtt::PosixSocket socket;  // first, so the transport's context points at both
    bool graceful = false;
};

void close_gracefully(void* context) {
    auto* s = reinterpret_cast<GracefulSocket*>(context);
    if (s->graceful && s->socket.fd >= 0) {
        ::shutdown(s->socket.fd, SHUT_WR);
        const int64_t deadline = steady_ms() + 1000;
        uint8_t sink[4096];
        while (steady_ms() < deadline) {
            pollfd p{s->socket.fd, POLLIN, 0};
            if (::poll(&p, 1, 50) > 0 && ::recv(s->socket.fd, sink, sizeof sink, 0) <= 0) {
                break;  // the broker closed its side: it has read everything before
            }
        }
    }
    mqtt::posix_transport(&s->socket).close(&s->socket);
}

}  // namespace

struct IngestPipeline::Held {
    uint16_t packet_id = 0;  // 0: QoS 0, nothing to acknowledge
    uint32_t connection = 0;
    int64_t receipt_ms = 0;  // steady clock, for the latency
    // On the heap: a Report is about 700 bytes, and a batch's vector of Held grows to tens of
    // thousands under load.
    std::unique_ptr<Report> report;
    std::optional<Response> response;
};

// Everything the pipeline's thread owns. A batch is written to the store on a thread of its own
// while the loop goes on receiving and decoding the next one, so the two use separate cores; the
// loop alone talks to the broker, and acknowledges a batch only once its commit has returned.
struct IngestPipeline::Loop {
    struct Committed {
        std::vector<Held> held;
        std::vector<Report> reports;  // emptied, kept for its capacity
        WriteResult written;
        int64_t finished_ms = 0;  // steady clock, for the latency
    };

    explicit Loop(IngestPipeline& p)
        : pipeline(p),
          rx(p.settings_.max_message_bytes + kHeaderRoom),
          tx(kSendBufferBytes),
          events_topic(p.settings_.share_group.empty()
                           ? std::string(wire::kEventsFilter)
                           : "$share/" + p.settings_.share_group + "/" + wire::kEventsFilter),
          aws_topic(p.settings_.share_group.empty()
                        ? std::string(wire::kAwsMetricsFilter)
                        : "$share/" + p.settings_.share_group + "/" + wire::kAwsMetricsFilter) {}

    static void on_publish(void* context, const mqtt::IncomingPublish& message) {
        static_cast<Loop*>(context)->receive(message);
    }

    bool setup();
    void track_connection(mqtt::Status processed);
    void wait(int64_t now, bool stopping) const;
    void receive(const mqtt::IncomingPublish& m);
    void start_commit();
    bool commit_finished() const {
        return pending.valid() &&
               pending.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    }
    void finish_commit(bool stopping);
    void send_acks();
    void log(const std::string& line) const { pipeline.log(line); }

    IngestPipeline& pipeline;
    std::vector<uint8_t> rx, tx;
    std::string events_topic, aws_topic;
    GracefulSocket socket;
    mqtt::Client client;
    std::vector<Held> held;
    // Emptied vectors of earlier batches, kept for their capacity: growing a batch's vectors
    // afresh each time (tens of thousands of entries under load) showed in the hub's profile as
    // a fifth of its CPU, in malloc and page faults.
    std::vector<Held> spare_held;
    std::vector<Report> spare_reports;
    std::future<Committed> pending;  // the batch being committed; valid() while it is
    int64_t oldest_ms = 0;
    int64_t retry_at_ms = 0;
    uint32_t retry_ms = 0;
    std::deque<std::pair<uint16_t, uint32_t>> acks;  // (packet id, connection) to send
    mqtt::Status reported = mqtt::Status::Ok;        // the last connection error logged
};

void IngestPipeline::log(const std::string& line) const {
    if (settings_.log) {
        settings_.log(line);
    } else {
        std::fprintf(stderr, "vigil-hub ingest: %s\n", line.c_str());
    }
}

void IngestPipeline::Loop::receive(const mqtt::IncomingPublish& m) {
    Incoming incoming;
    incoming.topic.assign(m.topic, m.topic_length);
    incoming.payload.assign(m.payload, m.payload + m.payload_length);
    incoming.received_ms = wall_ms();
    Held h;
    h.packet_id = m.packet_id;
    h.connection = m.connection;
    h.receipt_ms = steady_ms();
    const std::string device = device_id_from_topic(incoming.topic);
    DecodeOutcome d;
    bool threw = false;
    try {
        d = pipeline.decode_(incoming);
    } catch (const std::exception& e) {
        threw = true;
        d = DecodeOutcome{};
        d.detail = e.what();
    }
    if (d.ok && device.empty()) {
        // Only a subscription this pipeline did not make could deliver such a topic.
        d.ok = false;
        d.reason = reason::kBadDeviceId;
        d.detail = "no device id in " + incoming.topic;
        d.response.reset();
    }
    {
        std::lock_guard<std::mutex> lock(pipeline.mutex_);
        IngestMetrics& metrics = pipeline.metrics_;
        metrics.redelivered += m.dup ? 1 : 0;
        if (threw) {
            ++metrics.decode_errors;
        } else if (!d.ok) {
            // The decoders set the format on failure too (from the topic).
            ++metrics.rejected[{d.reason, to_string(d.report.format)}];
        }
    }
    if (d.ok) {
        // The device is the one the broker let publish on this topic, whatever the payload says.
        d.report.device_id = device;
        d.report.received_ms = incoming.received_ms;
        if (d.report.payload_bytes == 0) {
            d.report.payload_bytes = static_cast<uint32_t>(incoming.payload.size());
        }
        h.report = std::make_unique<Report>(std::move(d.report));
    } else if (!d.detail.empty()) {
        log("rejected a message on " + incoming.topic + ": " + d.reason + " " + d.detail);
    }
    // A rejected message is acknowledged with its batch too: redelivering it cannot help.
    h.response = std::move(d.response);
    if (held.empty()) {
        oldest_ms = h.receipt_ms;
    }
    held.push_back(std::move(h));
}

void IngestPipeline::Loop::start_commit() {
    std::vector<Held> batch;
    batch.swap(held);
    held.swap(spare_held);
    const WriteFunction* write = &pipeline.write_;
    pending = std::async(std::launch::async, [write, batch = std::move(batch),
                                              reports = std::move(spare_reports)]() mutable {
        Committed c;
        c.held = std::move(batch);
        // The reports are moved out for the write and back after it, so a failed batch is
        // retried as it was; a moved-from report keeps its format, which the metrics count.
        reports.clear();
        reports.reserve(c.held.size());
        for (Held& h : c.held) {
            if (h.report) {
                reports.push_back(std::move(*h.report));
            }
        }
        if (reports.empty()) {
            c.written.ok = true;
        } else {
            try {
                c.written = (*write)(reports);
            } catch (const std::exception& e) {
                c.written.ok = false;
                c.written.error = e.what();
            }
        }
        c.finished_ms = steady_ms();
        size_t next = 0;
        for (Held& h : c.held) {
            if (h.report) {
                *h.report = std::move(reports[next++]);
            }
        }
        reports.clear();
        c.reports = std::move(reports);
        return c;
    });
}

void IngestPipeline::Loop::finish_commit(bool stopping) {
    Committed c = pending.get();
    spare_reports = std::move(c.reports);
    const WriteResult& written = c.written;
    const int64_t now = c.finished_ms;
    if (!written.ok) {
        // Nothing is acknowledged: the batch goes back in front of what arrived meanwhile and
        // stays held (and keeps growing) until a retry commits it, or the broker redelivers it
        // to whoever runs next.
        c.held.insert(c.held.end(), std::make_move_iterator(held.begin()),
                      std::make_move_iterator(held.end()));
        held = std::move(c.held);
        oldest_ms = held.front().receipt_ms;
        const IngestSettings& s = pipeline.settings_;
        retry_ms = retry_ms == 0 ? s.retry_min_ms : std::min(s.retry_max_ms, retry_ms * 2);
        retry_at_ms = steady_ms() + retry_ms;
        {
            std::lock_guard<std::mutex> lock(pipeline.mutex_);
            ++pipeline.metrics_.store_failures;
        }
        log("store failed (" + written.error + "), " + std::to_string(held.size()) +
            " messages held; retrying in " + std::to_string(retry_ms) + " ms" +
            (stopping ? " (stopping)" : ""));
        return;
    }
    retry_ms = 0;
    {
        std::lock_guard<std::mutex> lock(pipeline.mutex_);
        IngestMetrics& metrics = pipeline.metrics_;
        metrics.duplicates += written.duplicates;
        ++metrics.batches;
        for (const Held& h : c.held) {
            if (h.report) {
                ++metrics.ingested[to_string(h.report->format)];
            }
            const double latency = static_cast<double>(now - h.receipt_ms);
            const auto& bounds = IngestMetrics::kLatencyBucketsMs;
            const size_t bucket =
                std::lower_bound(bounds.begin(), bounds.end(), latency) - bounds.begin();
            ++metrics.latency_counts[bucket];
            metrics.latency_sum_ms += latency;
            ++metrics.latency_count;
        }
    }
    for (const Held& h : c.held) {
        if (h.packet_id != 0) {
            acks.emplace_back(h.packet_id, h.connection);
        }
    }
    send_acks();
    uint64_t dropped = 0;
    for (const Held& h : c.held) {
        if (h.response) {
            const Response& r = *h.response;
            if (client.publish(r.topic.c_str(), nullptr, r.payload.data(), r.payload.size(), 0) !=
                mqtt::Status::Ok) {
                ++dropped;
            }
        }
    }
    if (dropped > 0) {
        std::lock_guard<std::mutex> lock(pipeline.mutex_);
        pipeline.metrics_.responses_dropped += dropped;
    }
    c.held.clear();
    spare_held = std::move(c.held);
}

void IngestPipeline::Loop::send_acks() {
    while (!acks.empty()) {
        const mqtt::Status s = client.ack(acks.front().first, acks.front().second);
        if (s == mqtt::Status::Busy) {
            return;  // the send buffer drains in process(); the rest goes next time
        }
        // Ok, or the message came on a connection that has ended: the broker redelivers it on
        // the new one, and the store skips it as a duplicate.
        acks.pop_front();
    }
}

IngestPipeline::IngestPipeline(IngestSettings settings, DecodeFunction decode,
                               TelemetryWriter& writer)
    : IngestPipeline(
          std::move(settings), std::move(decode),
          [&writer](const std::vector<Report>& reports) { return writer.write_batch(reports); }) {}

IngestPipeline::IngestPipeline(IngestSettings settings, DecodeFunction decode, WriteFunction write)
    : settings_(std::move(settings)), decode_(std::move(decode)), write_(std::move(write)) {}

IngestPipeline::~IngestPipeline() {
    stop();
}

void IngestPipeline::start() {
    if (thread_.joinable()) {
        return;
    }
    stop_ = false;
    loop_ = std::make_unique<Loop>(*this);
    thread_ = std::thread([this] { run(); });
}

void IngestPipeline::stop() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::string IngestPipeline::last_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
}

IngestMetrics IngestPipeline::metrics() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return metrics_;
}

bool IngestPipeline::Loop::setup() {
    const IngestSettings& c = pipeline.settings_;
    const mqtt::Storage storage{rx.data(), rx.size(), tx.data(), tx.size(), nullptr, 0, nullptr, 0};
    mqtt::Settings s;
    s.host = c.host.c_str();
    s.port = c.port;
    s.connect.client_id = c.client_id.c_str();
    s.connect.username = c.username.empty() ? nullptr : c.username.c_str();
    s.connect.password = c.password.empty() ? nullptr : c.password.c_str();
    s.connect.keep_alive_s = c.keep_alive_s;
    s.connect.clean_session = false;  // the broker keeps what was not acknowledged
    s.manual_ack = true;
    s.on_publish = &Loop::on_publish;
    s.on_publish_context = this;
    s.backoff_min_ms = 100;
    s.backoff_max_ms = 5000;
    mqtt::Transport transport = mqtt::posix_transport(&socket.socket);
    transport.close = &close_gracefully;
    if (client.init(transport, storage) != mqtt::Status::Ok ||
        client.subscribe(events_topic.c_str(), 1) != mqtt::Status::Ok ||
        client.subscribe(aws_topic.c_str(), 1) != mqtt::Status::Ok) {
        return false;
    }
    // A failed first connection is retried by process() with backoff.
    (void)client.start(s, client_ms());
    return true;
}

void IngestPipeline::Loop::track_connection(mqtt::Status processed) {
    const mqtt::Status error = client.last_error();
    if (processed != mqtt::Status::Ok || error != reported) {
        if (error != reported && error != mqtt::Status::Ok) {
            log(std::string("broker connection: ") + mqtt::to_string(error));
        }
        reported = error;
        std::lock_guard<std::mutex> lock(pipeline.mutex_);
        pipeline.last_error_ = error == mqtt::Status::Ok ? "" : mqtt::to_string(error);
    }
    pipeline.connected_ = client.is_connected();
    pipeline.subscribed_ =
        client.is_subscribed(events_topic.c_str()) && client.is_subscribed(aws_topic.c_str());
}

// Waits for data, but no longer than the held batch or a retry may wait, nor than it takes to
// notice soon that a commit has finished.
void IngestPipeline::Loop::wait(int64_t now, bool stopping) const {
    int wait_ms = 5;
    if (pending.valid()) {
        wait_ms = 1;
    } else if (!held.empty() && !stopping) {
        const int64_t until =
            std::max(retry_at_ms, oldest_ms + pipeline.settings_.batch_age_ms) - now;
        wait_ms = static_cast<int>(std::clamp<int64_t>(until, 0, 5));
    }
    if (socket.socket.fd >= 0 && client.unsent() == 0) {
        pollfd p{socket.socket.fd, POLLIN, 0};
        (void)::poll(&p, 1, wait_ms);
    } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms > 0 ? 1 : 0));
    }
}

void IngestPipeline::run() {
    Loop& loop = *loop_;
    if (!loop.setup()) {
        log("cannot set up the MQTT client");
        return;
    }
    int64_t stop_deadline = 0;
    for (;;) {
        loop.track_connection(loop.client.process(client_ms()));
        const int64_t now = steady_ms();
        const bool stopping = stop_.load();
        if (stopping && stop_deadline == 0) {
            stop_deadline = now + settings_.stop_timeout_ms;
        }
        if (loop.commit_finished()) {
            loop.finish_commit(stopping);
        }
        // What arrives while a batch commits waits for the next, which then takes it all.
        const bool due =
            !loop.held.empty() && (stopping || loop.held.size() >= settings_.batch_messages ||
                                   now - loop.oldest_ms >= settings_.batch_age_ms);
        if (due && !loop.pending.valid() && steady_ms() >= loop.retry_at_ms) {
            loop.start_commit();
        }
        loop.send_acks();
        if (stopping && loop.held.empty() && !loop.pending.valid() && loop.acks.empty() &&
            (!loop.client.is_connected() || loop.client.unsent() == 0)) {
            break;
        }
        if (stopping && now >= stop_deadline) {
            log("stopping with " + std::to_string(loop.held.size()) +
                " messages uncommitted; the broker will redeliver them");
            break;
        }
        loop.wait(now, stopping);
    }
    if (loop.pending.valid()) {
        // A commit still running when stop gave up: it ends before the store may go, and what
        // it committed without an acknowledgement comes again, to be skipped as duplicates.
        loop.pending.wait();
    }
    loop.socket.graceful = true;
    (void)loop.client.stop();
    connected_ = false;
    subscribed_ = false;
}

}  // namespace vigil::hub

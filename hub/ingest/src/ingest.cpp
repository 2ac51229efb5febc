#include "vigil/hub/ingest.hpp"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>

#include "commit_thread.hpp"
#include "graceful_socket.hpp"
#include "rejection_log.hpp"
#include "vigil/hub/batcher.hpp"
#include "vigil/mqtt/client.h"
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

struct IngestPipeline::Held {
    uint16_t packet_id = 0;  // 0: QoS 0, nothing to acknowledge
    uint32_t connection = 0;
    int64_t receipt_ms = 0;  // steady clock, for the latency
    // On the heap: a Report is about 700 bytes, and a batch's vector of Held grows to tens of
    // thousands under load.
    std::unique_ptr<Report> report;
    std::optional<Response> response;
};

// Everything the pipeline's thread owns. The loop alone talks to the broker; a batch is written
// to the store on the commit thread while the loop goes on receiving and decoding the next one,
// and the loop acknowledges a batch only once its commit has returned.
struct IngestPipeline::Loop {
    // What the commit thread hands back: the batch (its reports moved back in), the outcome.
    struct Committed {
        std::vector<Held> held;
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
                        : "$share/" + p.settings_.share_group + "/" + wire::kAwsMetricsFilter),
          batcher(BatchPolicy{p.settings_.batch_messages, p.settings_.batch_age_ms,
                              p.settings_.retry_min_ms, p.settings_.retry_max_ms}) {}

    static void on_publish(void* context, const mqtt::IncomingPublish& message) {
        static_cast<Loop*>(context)->receive(message);
    }

    bool setup();
    void track_connection(mqtt::Status processed);
    void wait(int64_t now, bool stopping) const;
    void receive(const mqtt::IncomingPublish& m);
    void start_commit();
    void finish_commit(bool stopping);
    void count_committed(const Committed& c);
    void send_responses(const std::vector<Held>& held);
    void send_acks();
    void log(const std::string& line) const { pipeline.log(line); }
    void log_rejection_summaries(int64_t now_ms) {
        for (const std::string& line : rejection_log.due_summaries(now_ms)) {
            log(line);
        }
    }

    IngestPipeline& pipeline;
    std::vector<uint8_t> rx, tx;
    std::string events_topic, aws_topic;
    ingest_detail::GracefulSocket socket;
    mqtt::Client client;
    Batcher<Held> batcher;
    Committed committed;  // the commit thread's while committer.busy()
    // The reports of a batch, moved out of it for the write; kept for its capacity.
    std::vector<Report> reports;
    // After what its jobs use: it is destroyed (and joined) first.
    ingest_detail::CommitThread committer;
    std::deque<std::pair<uint16_t, uint32_t>> acks;  // (packet id, connection) to send
    ingest_detail::RejectionLog rejection_log{pipeline.settings_.rejection_log_lines,
                                              pipeline.settings_.rejection_log_interval_ms};
    mqtt::Status reported = mqtt::Status::Ok;  // the last connection error logged
    uint32_t seen_connection = 0;              // the last connection looked at
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
    const std::string rejection = threw ? "decode_error" : d.reason;
    bool logged = false;
    if (!d.ok && !d.detail.empty()) {
        log_rejection_summaries(h.receipt_ms);
        logged = rejection_log.admit(rejection, h.receipt_ms);
    }
    {
        std::lock_guard<std::mutex> lock(pipeline.mutex_);
        IngestMetrics& metrics = pipeline.metrics_;
        ++metrics.received;
        metrics.redelivered += m.dup ? 1 : 0;
        if (threw) {
            ++metrics.decode_errors;
        } else if (!d.ok) {
            // The decoders set the format on failure too (from the topic).
            ++metrics.rejected[{d.reason, to_string(d.report.format)}];
        }
        if (!d.ok && !d.detail.empty() && !logged) {
            ++metrics.rejections_unlogged[rejection];
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
    } else if (logged) {
        log("rejected a message on " + incoming.topic + ": " + rejection + " " + d.detail);
    }
    // A rejected message is acknowledged with its batch too: redelivering it cannot help.
    h.response = std::move(d.response);
    const int64_t receipt_ms = h.receipt_ms;
    batcher.add(std::move(h), receipt_ms);
}

void IngestPipeline::Loop::start_commit() {
    committed.held = batcher.take();
    const WriteFunction* write = &pipeline.write_;
    committer.run([this, write] {
        Committed& c = committed;
        // The reports are moved out for the write and back after it, so a failed batch is
        // retried as it was; a moved-from report keeps its format, which the metrics count.
        reports.clear();
        reports.reserve(c.held.size());
        for (Held& h : c.held) {
            if (h.report) {
                reports.push_back(std::move(*h.report));
            }
        }
        c.written = WriteResult{};
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
    });
}

void IngestPipeline::Loop::finish_commit(bool stopping) {
    committer.collected();
    const WriteResult& written = committed.written;
    if (!written.ok) {
        // Nothing is acknowledged: the batch is held again, in front of what arrived meanwhile,
        // until a retry commits it or the broker redelivers it to whoever runs next.
        const uint32_t retry_ms = batcher.failed(std::move(committed.held), steady_ms());
        {
            std::lock_guard<std::mutex> lock(pipeline.mutex_);
            ++pipeline.metrics_.store_failures;
            pipeline.commit_failure_ = written.error.empty() ? "the store failed" : written.error;
        }
        log("store failed (" + written.error + "), " + std::to_string(batcher.held()) +
            " messages held; retrying in " + std::to_string(retry_ms) + " ms" +
            (stopping ? " (stopping)" : ""));
        return;
    }
    count_committed(committed);
    for (const Held& h : committed.held) {
        if (h.packet_id != 0) {
            acks.emplace_back(h.packet_id, h.connection);
        }
    }
    send_acks();
    send_responses(committed.held);
    batcher.committed(std::move(committed.held));
}

void IngestPipeline::Loop::count_committed(const Committed& c) {
    std::lock_guard<std::mutex> lock(pipeline.mutex_);
    pipeline.commit_failure_.clear();
    IngestMetrics& metrics = pipeline.metrics_;
    metrics.duplicates += c.written.duplicates;
    ++metrics.batches;
    for (const Held& h : c.held) {
        if (h.report) {
            ++metrics.ingested[to_string(h.report->format)];
        }
        metrics.latency_ms.observe(static_cast<double>(c.finished_ms - h.receipt_ms));
    }
}

void IngestPipeline::Loop::send_responses(const std::vector<Held>& held) {
    uint64_t dropped = 0;
    for (const Held& h : held) {
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

int64_t IngestPipeline::session_lost_ago_ms() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_session_lost_ms_ < 0 ? -1 : steady_ms() - last_session_lost_ms_;
}

std::string IngestPipeline::last_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
}

std::string IngestPipeline::commit_failure() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return commit_failure_;
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
    if (client.init(ingest_detail::graceful_transport(&socket), storage) != mqtt::Status::Ok ||
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
    if (client.is_connected() && client.connection() != seen_connection) {
        // The session is persistent: only the first connection may find none. Any later one
        // without it means the broker dropped the session (its restart without persistence, or
        // another client taking the hub's id) and everything it held for the hub.
        if (seen_connection != 0 && !client.session_present()) {
            log("the broker dropped the hub's session " + pipeline.settings_.client_id +
                ": messages it held for the hub are lost; subscribing again");
            std::lock_guard<std::mutex> lock(pipeline.mutex_);
            ++pipeline.metrics_.sessions_lost;
            pipeline.last_session_lost_ms_ = steady_ms();
        }
        if (seen_connection == 0) {
            pipeline.resumed_session_ = client.session_present();
        }
        seen_connection = client.connection();
    }
    pipeline.connected_ = client.is_connected();
    pipeline.subscribed_ =
        client.is_subscribed(events_topic.c_str()) && client.is_subscribed(aws_topic.c_str());
}

// Waits for data, but no longer than the held batch or a retry may wait, nor than it takes to
// notice soon that a commit has finished.
void IngestPipeline::Loop::wait(int64_t now, bool stopping) const {
    const int wait_ms = committer.busy() ? 1 : static_cast<int>(batcher.wait_ms(now, stopping, 5));
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
        if (loop.committer.finished()) {
            loop.finish_commit(stopping);
        }
        // What arrives while a batch commits waits for the next, which then takes it all.
        if (loop.batcher.due(steady_ms(), stopping)) {
            loop.start_commit();
        }
        loop.send_acks();
        loop.log_rejection_summaries(now);
        if (stopping && loop.batcher.idle() && loop.acks.empty() &&
            (!loop.client.is_connected() || loop.client.unsent() == 0)) {
            break;
        }
        if (stopping && now >= stop_deadline) {
            log("stopping with " + std::to_string(loop.batcher.held()) +
                " messages uncommitted; the broker will redeliver them");
            break;
        }
        loop.wait(now, stopping);
    }
    if (loop.committer.busy()) {
        // A commit still running when stop gave up: it ends before the store may go, and what
        // it committed without an acknowledgement comes again, to be skipped as duplicates.
        loop.committer.wait();
    }
    loop.log_rejection_summaries(INT64_MAX);
    loop.socket.graceful = true;
    (void)loop.client.stop();
    connected_ = false;
    subscribed_ = false;
}

}  // namespace vigil::hub

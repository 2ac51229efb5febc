// The hub's subscription: every device message from the broker is decoded, written to the store
// in batches, and acknowledged to the broker only after the store has committed it.
//
// At-least-once, end to end: the pipeline's MQTT session is persistent (fixed client id, clean
// session off) and a message's PUBACK leaves only after write_batch() returned ok, so a hub
// that dies, a store that fails or a broker that restarts gets the message again; the store skips
// what it already holds (device_id, message_key). libmosquitto acknowledges before its callback
// runs, so the pipeline uses Vigil's own MQTT client (mqtt/) in its manual-ack mode.
//
// Nothing here assumes one worker: with share_group set, several hub processes split the
// messages through a shared subscription ($share/<group>/...), each with its own client id.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "vigil/hub/decode.hpp"
#include "vigil/hub/histogram.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/telemetry_writer.hpp"
#include "vigil/protocol/device_id.h"

namespace vigil::hub {

/// The decode step: vigil::hub::decode, or a stand-in in tests. It may throw; the message is
/// then counted as a decode error and dropped.
using DecodeFunction = std::function<DecodeOutcome(const Incoming&)>;
using WriteFunction = std::function<WriteResult(const std::vector<Report>&)>;

struct IngestSettings {
    std::string host = "127.0.0.1";  ///< numeric IPv4
    uint16_t port = 1883;
    std::string username, password;
    /// Fixed, so the broker keeps the session (and unacknowledged messages) across restarts.
    /// Each worker sharing a subscription needs its own. In the hub's namespace
    /// (wire::kHubClientIdPrefix), which no device id can enter.
    std::string client_id = std::string(wire::kHubClientIdPrefix) + "ingest";
    std::string share_group;      ///< non-empty: subscribe through $share/<group>/
    size_t batch_messages = 500;  ///< commit when this many are held...
    uint32_t batch_age_ms = 20;   ///< ...or when the oldest has waited this long
    uint32_t retry_min_ms = 50;   ///< after a store failure; doubled per failure
    uint32_t retry_max_ms = 5000;
    uint32_t stop_timeout_ms = 10000;  ///< stop() gives up committing after this long
    size_t max_message_bytes = 256 * 1024;
    uint16_t keep_alive_s = 30;
    /// Lines about rejected messages: at most this many per reason in each interval; the rest
    /// are counted (IngestMetrics::rejections_unlogged) and summed up in one line.
    uint32_t rejection_log_lines = 10;
    uint32_t rejection_log_interval_ms = 10000;
    std::function<void(const std::string&)> log;  ///< stderr when unset
};

/// Counters for the Prometheus export. Labels: format "vigil", "legacy-defender" or
/// "aws-defender"; reason one of the decoder's reason:: codes.
struct IngestMetrics {
    uint64_t received = 0;                     ///< messages the broker delivered
    std::map<std::string, uint64_t> ingested;  ///< committed messages per format (duplicates too)
    std::map<std::pair<std::string, std::string>, uint64_t> rejected;  ///< (reason, format)
    uint64_t decode_errors = 0;      ///< the decode function threw; the message is dropped
    uint64_t duplicates = 0;         ///< reports the store already held
    uint64_t store_failures = 0;     ///< write_batch calls that failed (the batch is retried)
    uint64_t batches = 0;            ///< committed batches
    uint64_t redelivered = 0;        ///< messages the broker flagged as possibly sent before
    uint64_t responses_dropped = 0;  ///< responses that could not be sent (QoS 0)
    /// Rejections not logged line by line, by reason ("decode_error" for a decoder that threw).
    std::map<std::string, uint64_t> rejections_unlogged;
    /// Reconnections on which the broker had no session for the hub: what it held is lost.
    uint64_t sessions_lost = 0;
    /// Broker receipt to store commit, per message, in ms.
    Histogram latency_ms{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}};
};

class IngestPipeline {
  public:
    IngestPipeline(IngestSettings settings, DecodeFunction decode, TelemetryWriter& writer);
    IngestPipeline(IngestSettings settings, DecodeFunction decode, WriteFunction write);
    ~IngestPipeline();
    IngestPipeline(const IngestPipeline&) = delete;
    IngestPipeline& operator=(const IngestPipeline&) = delete;

    /// Starts the pipeline's thread, which connects (and reconnects) on its own.
    void start();
    /// Commits and acknowledges what the pipeline holds, then disconnects. Gives up after
    /// stop_timeout_ms while the store keeps failing: the broker redelivers the rest.
    void stop();

    bool connected() const { return connected_.load(); }
    /// The broker confirmed every subscription on the current connection.
    bool subscribed() const { return subscribed_.load(); }
    /// The broker still held a session for the client id at the pipeline's first connection.
    bool resumed_session() const { return resumed_session_.load(); }
    /// Why the broker refused or dropped the last connection ("" while it never did).
    std::string last_error() const;
    /// Why the store refused the latest commit; "" once a commit succeeds again (and before the
    /// first). The failed batch is retried meanwhile, so this clears as soon as the store can
    /// commit.
    std::string commit_failure() const;
    /// Milliseconds since the broker last dropped the pipeline's session; -1 when it never did.
    int64_t session_lost_ago_ms() const;
    IngestMetrics metrics() const;

  private:
    struct Held;
    struct Loop;

    void run();
    void log(const std::string& line) const;

    IngestSettings settings_;
    DecodeFunction decode_;
    WriteFunction write_;
    std::unique_ptr<Loop> loop_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> connected_{false};
    std::atomic<bool> subscribed_{false};
    std::atomic<bool> resumed_session_{false};
    mutable std::mutex mutex_;  // guards metrics_, last_error_, commit_failure_ and
                                // last_session_lost_ms_
    IngestMetrics metrics_;
    std::string last_error_;
    std::string commit_failure_;
    int64_t last_session_lost_ms_ = -1;  // steady clock
};

/// The device id in a topic the broker authorised: devices/{id}/messages/events/... or
/// $aws/things/{id}/defender/metrics/...; "" when the topic is neither or the id is invalid.
std::string device_id_from_topic(const std::string& topic);

}  // namespace vigil::hub

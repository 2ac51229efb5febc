// The Linux agent's MQTT link: a libmosquitto client that carries the agent's security messages
// to the hub (QoS 1) and brings the hub's runtime config back.
//
// Threads. The link owns one network thread. It runs every libmosquitto callback and every
// connect, reconnect and disconnect; the agent's thread calls send(), is_connected() and
// next_config(). All state the two share is behind mutex_ (counts, mids, configs, errors), the
// leaf log_mutex_ (the logger), or in atomics.
//
// Nothing accepted is lost. send() answers "busy" (0) while the link is disconnected or while
// max_unacked publishes await their PUBACK, so while the broker is away messages wait in the
// agent's own bounded backlog, never in an unbounded libmosquitto queue. A message send() did
// accept stays in libmosquitto's memory until its PUBACK: libmosquitto 2.0 keeps its outgoing
// queue across reconnects and, after the next CONNACK, sends every unacknowledged QoS 1 message
// again with DUP set. Its reconnect path does not look at the clean-session flag, and the tests
// prove the resend with a clean session by killing a stopped broker with publishes in flight.
// So the link connects with a clean session: the broker keeps nothing for a device that went
// away, and the config arrives anyway because it is retained and the link subscribes again on
// every connect.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "vigil/agent/vigil_agent.h"

struct mosquitto;
struct mosquitto_message;

namespace vigil::linux_agent {

struct MqttSettings {
    std::string host = "127.0.0.1";
    uint16_t port = 1883;
    std::string client_id;  ///< required; usually the device id
    std::string username;   ///< empty: none
    std::string password;   ///< empty: none (needs a username when set)
    bool tls = false;
    std::string ca_file;                  ///< server CA (PEM); required with tls
    std::string cert_file;                ///< client certificate (PEM); optional, with key_file
    std::string key_file;                 ///< client private key (PEM, unencrypted)
    std::string tls_version = "tlsv1.2";  ///< tlsv1.2 or tlsv1.3
    uint16_t keepalive_s = 30;            ///< at least 5 (libmosquitto's floor)
    uint32_t reconnect_min_s = 1;         ///< first delay after a failure; doubles up to max
    uint32_t reconnect_max_s = 60;
    size_t max_unacked = 32;   ///< publishes awaiting PUBACK before send() answers "busy"
    std::string config_topic;  ///< subscribed (QoS 1) on every connect when not empty
};

/// Log levels passed to the logger.
constexpr int kLogDebug = 0;
constexpr int kLogInfo = 1;
constexpr int kLogWarning = 2;
constexpr int kLogError = 3;

class MosquittoLink {
  public:
    /// Config payloads kept for the agent's thread; older ones are dropped first.
    static constexpr size_t kMaxQueuedConfigs = 4;

    /// Validates the settings (files readable, key matches certificate, port, ids) and sets up
    /// TLS. Returns null and says why in `error` on failure. Initialises libmosquitto once per
    /// process.
    static std::unique_ptr<MosquittoLink> create(const MqttSettings& settings, std::string& error);

    ~MosquittoLink();
    MosquittoLink(const MosquittoLink&) = delete;
    MosquittoLink& operator=(const MosquittoLink&) = delete;

    /// Starts the network thread, which connects and keeps reconnecting with backoff until stop().
    void start();
    /// Waits up to flush_timeout_ms for outstanding PUBACKs, then disconnects and joins the network
    /// thread. Publishes still unacknowledged then are reported in the log.
    void stop(int flush_timeout_ms);

    /// The agent's transport; its context is this link, which must outlive the agent's use of it.
    vigil_transport transport();

    /// True between a successful CONNACK and the end of that connection.
    bool connected() const { return connected_.load(std::memory_order_acquire); }

    /// Takes the oldest config payload received on config_topic; false when none is queued.
    bool next_config(std::vector<uint8_t>& payload);
    /// Config payloads waiting for next_config().
    size_t queued_configs() const;

    /// Publishes accepted by send() and not yet acknowledged by the broker.
    size_t unacked() const;
    /// Waits until every accepted publish is acknowledged; false on timeout.
    bool wait_all_acked(int timeout_ms);

    struct Stats {
        uint64_t connects = 0;      ///< CONNACKs that accepted the connection
        uint64_t disconnects = 0;   ///< ends of accepted connections
        uint64_t published = 0;     ///< publishes send() accepted
        uint64_t acked = 0;         ///< PUBACKs for them
        uint64_t refused_busy = 0;  ///< sends answered "busy"
    };
    Stats stats() const;

    /// Why the last connect failed or the last connection ended, in words; empty before any.
    std::string last_error() const;

    /// Replaces the logger (default: one line per event on stderr). Called from the network thread
    /// and from stop(); it must not call back into the link.
    void set_logger(std::function<void(int level, const std::string& line)> logger);

    /// The transport's send, for callers that hold the link directly.
    int32_t send(const char* topic, const char* property_bag, const uint8_t* payload,
                 size_t length);

  private:
    explicit MosquittoLink(const MqttSettings& settings);
    bool configure(std::string& error);

    void run();
    bool wait_before_retry(uint32_t delay_s);
    uint32_t next_delay(bool auth_refused);
    std::string describe(int rc, int errno_value);
    void note_failure(const std::string& reason, uint32_t delay_s);
    void log(int level, const std::string& line);

    static void on_connect(struct mosquitto* client, void* self, int code);
    static void on_disconnect(struct mosquitto* client, void* self, int code);
    static void on_publish(struct mosquitto* client, void* self, int mid);
    static void on_message(struct mosquitto* client, void* self, const mosquitto_message* message);
    static void on_library_log(struct mosquitto* client, void* self, int level, const char* line);

    const MqttSettings settings_;
    struct mosquitto* client_ = nullptr;
    std::thread network_;
    std::atomic<bool> connected_{false};
    std::atomic<bool> stopping_{false};

    // Owned by the network thread, which also runs the connection callbacks.
    int refused_code_ = 0;      ///< CONNACK refusal code of the current attempt
    int disconnect_errno_ = 0;  ///< errno when libmosquitto reported the connection's end
    bool session_up_ = false;   ///< the current connection got a successful CONNACK
    uint32_t consecutive_failures_ = 0;

    mutable std::mutex mutex_;
    std::condition_variable changed_;  ///< a PUBACK arrived or stop() was called
    std::unordered_set<int> unacked_mids_;
    std::deque<std::vector<uint8_t>> configs_;
    Stats stats_;
    std::string last_error_;

    // A leaf lock: libmosquitto logs from inside mosquitto_publish, which send() calls holding
    // mutex_, so the log path must never take mutex_.
    mutable std::mutex log_mutex_;
    std::function<void(int, const std::string&)> logger_;
    std::string library_error_;  ///< last error line libmosquitto logged (OpenSSL's reason)
};

}  // namespace vigil::linux_agent

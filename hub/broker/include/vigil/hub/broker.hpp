// The MQTT broker the hub ingests from, and device enrolment at that broker.
//
// Embedded (BrokerSettings::url empty): the hub runs its own mosquitto from files it writes under
// <data_dir>/broker, restarts it with backoff when it dies and stops it on shutdown. Access control
// is mosquitto's dynamic security plugin: every device is a client with a random password and a
// role of its own, so it may publish only to its own topics and read only its own config, and
// deleting it disconnects a connected device at once (a password file reloaded by SIGHUP would
// re-read every device on each change, and needs a signal only a local parent can send). Before
// it, the hub's guard plugin (plugin/broker_guard.c) keeps devices to their formats' topics, takes
// the retain flag off their messages, keeps the hub's client ids for the hub's accounts and
// counts what it refused.
//
// External (url set): the hub uses that broker as given and supervises nothing; enrolment works
// when the broker runs the same plugin and BrokerSettings names its administrator.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::hub {

/// The guard plugin this build made.
std::string default_guard_plugin();

/// The outcome of a broker operation: empty error when it succeeded. Callers must look.
struct [[nodiscard]] BrokerResult {
    std::string error;
    bool ok() const { return error.empty(); }
};

/// Where the embedded broker's guard plugin publishes, retained, its counts of what it refused
/// or changed: {"epoch":"<broker start>","devices":{"<id>":{"<reason>":<count>,...},...}}, at
/// most once a second. Only the hub's accounts may read it.
constexpr const char* kGuardReportTopic = "$vigil/broker/guard";
/// Where the guard publishes, retained, each device's latest connections (the address it comes
/// from, whether over TLS, since when), numbered per device since the broker started:
/// {"epoch":"...","devices":{"<id>":{"connections":<n>,"recent":[[<number>,"<address>",<tls 0|1>,
/// <unix seconds>],...]}}}, oldest first, at most once a second. Only the hub's accounts may read
/// it.
constexpr const char* kGuardConnectionsTopic = "$vigil/broker/connections";
/// The guard's reasons: a publish refused on another device's topic, on a topic of the device's
/// own that no format uses, on a topic outside every device's; and a device's retained publish
/// whose retain flag was taken off (delivered, never kept).
constexpr const char* kGuardRefusalReasons[] = {"other_device", "not_a_format_topic",
                                                "not_a_device_topic"};
constexpr const char* kGuardRetainCleared = "retain_cleared";

struct BrokerSettings {
    /// The hub's data directory: the broker's files go in <data_dir>/broker, the CA in
    /// <data_dir>/pki, the hub's own broker credentials in <data_dir>/broker-credentials.json.
    std::string data_dir;
    /// "mqtt://host:port" of a broker the hub does not run; empty runs the embedded one.
    std::string url;

    // Embedded broker.
    std::string mosquitto = "/usr/sbin/mosquitto";
    std::string dynsec_plugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
    /// The guard plugin (hub/broker/plugin/broker_guard.c), loaded before dynamic security: a
    /// device publishes only on its formats' topics, never leaves a retained message, and never
    /// uses the hub's client ids. Empty runs without it (and without those protections).
    std::string guard_plugin = default_guard_plugin();
    uint16_t port = 1883;  ///< the plain listener, on 127.0.0.1 only
    /// A TLS listener for devices, with the hub's CA (created on first start) and a server
    /// certificate for tls_names. Devices then need a client certificate from add_device().
    bool tls = false;
    uint16_t tls_port = 8883;
    std::string tls_address;  ///< "" listens on every address
    std::vector<std::string> tls_names = {"IP:127.0.0.1", "DNS:localhost"};  ///< subjectAltName
    /// Seconds between saves of the broker's sessions and queues. mosquitto 2.0 keeps them in
    /// memory and writes a whole snapshot; a kill -9 loses what changed since the last save.
    uint32_t autosave_interval_s = 1;
    /// Unacknowledged messages the broker sends one client at once. The hub acknowledges only
    /// after its store commits, so this must cover what arrives during a commit and its fsync
    /// (at 20,000 messages/s, 2,000 stalled the broker's sends to the hub once a commit took
    /// 100 ms); max_inflight_bytes bounds the memory the hub holds for them.
    uint32_t max_inflight_messages = 20000;
    uint64_t max_inflight_bytes = 64ull * 1024 * 1024;
    /// Messages and bytes kept for a client beyond those in flight: while it is away (the hub's
    /// session across its restarts) or stalled. At either bound mosquitto drops what arrives for
    /// that client (the publisher has its PUBACK already) and counts it in
    /// $SYS/broker/publish/messages/dropped.
    uint32_t max_queued_messages = 1000000;
    uint64_t max_queued_bytes = 128ull * 1024 * 1024;
    /// Seconds between the broker's $SYS updates, which the hub's metrics read.
    uint32_t sys_interval_s = 2;
    uint32_t max_packet_bytes = 300 * 1024;  ///< 256 KB messages plus topic and headers
    /// Devices must connect with their id as the MQTT client id, so one device cannot take
    /// over another's session.
    bool bind_client_id = true;
    uint32_t restart_backoff_min_ms = 200;
    uint32_t restart_backoff_max_ms = 30000;

    // External broker: the hub's ingest account, and its dynamic-security administrator
    // (optional: without it add_device and revoke_device fail).
    std::string ingest_username, ingest_password, admin_username, admin_password;

    /// Where the broker's life is logged; stderr when unset.
    std::function<void(const std::string&)> log;
};

/// What a device needs to connect. cert_pem/key_pem/ca_pem are set when TLS is on.
struct DeviceCredentials {
    std::string device_id;
    std::string username;  ///< the device id
    std::string password;
    std::string client_id;  ///< the MQTT client id to connect with
    std::string cert_pem, key_pem, ca_pem;
};

struct [[nodiscard]] Enrolled {
    DeviceCredentials credentials;
    std::string error;
    bool ok() const { return error.empty(); }
};

/// Where the hub's own ingest client connects, with which account.
struct BrokerEndpoint {
    std::string host;  ///< numeric IPv4
    uint16_t port = 0;
    std::string username, password;
};

/// Makes `settings` those of the administrator of the broker a running vigil-hub keeps for
/// settings.data_dir (its password is in <data_dir>/broker-credentials.json), reached at
/// `host`:`port`: what programs that enrol devices through the data directory start a Broker
/// with. False when the directory holds no such account.
bool use_hub_administrator(BrokerSettings& settings, const std::string& host, int port);

class Broker {
  public:
    explicit Broker(BrokerSettings settings);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    /// Embedded: writes the configuration (the accounts, CA and certificates only on first
    /// start), starts mosquitto and waits until it listens. External: checks the url.
    BrokerResult start();
    /// Stops the embedded broker (SIGTERM, so it saves its sessions) and its supervision.
    void stop();

    /// Embedded: stops every mosquitto still running on this data directory's configuration,
    /// left by an owner that died (started as root, mosquitto changes its user, which clears
    /// PR_SET_PDEATHSIG, so a killed hub's broker lives on, holding the port and the hub's
    /// session). SIGTERM first, so it saves the sessions and queued messages; SIGKILL after 15 s.
    /// Only for whoever holds the data directory (its lock): anyone else's broker would go too.
    void stop_leftovers();

    BrokerEndpoint ingest_endpoint() const;
    std::string ca_pem() const;  ///< "" without TLS
    bool embedded() const { return settings_.url.empty(); }
    pid_t pid() const { return pid_.load(); }  ///< the running mosquitto; -1 when none
    uint32_t restarts() const { return restarts_.load(); }

    /// Creates the device's broker account (and, with TLS, its certificate). Fails when the id
    /// is not 1-127 of A-Z a-z 0-9 - . _ : (decode.hpp's rule; so no MQTT wildcard, '/' or '$'),
    /// or already enrolled.
    Enrolled add_device(const std::string& device_id);
    /// Enrols many devices, each answered as add_device() would. A broker this Broker runs and
    /// has not started yet gets every account in one write of its dynamic-security file, so
    /// 10,000 devices take seconds. Through a running broker each device is one administration
    /// exchange, and mosquitto 2.0's plugin rewrites its whole file after every command (each
    /// of a message's commands too), so n devices cost O(n^2) bytes written: minutes at 1,000.
    std::vector<Enrolled> add_devices(const std::vector<std::string>& device_ids);
    /// Deletes the device's account: a connected device is disconnected at once and cannot
    /// connect again.
    BrokerResult revoke_device(const std::string& device_id);
    /// Lets the hub's ingest account publish and subscribe under the alert topics ("vigil/#",
    /// where the MQTT alert output writes) and read the broker's $SYS topics and the guard's
    /// counts, also on a data directory made before they existed.
    BrokerResult grant_hub_topics();
    /// Asks the broker's dynamic-security plugin a question that changes nothing: ok while the
    /// hub can administer the broker (enrol and revoke devices).
    BrokerResult check_administration();

  private:
    BrokerResult prepare_files();
    BrokerResult load_or_create_accounts();
    BrokerResult write_config() const;
    BrokerResult spawn();
    std::vector<pid_t> leftover_pids() const;
    bool wait_listening(uint32_t timeout_ms);
    void supervise();
    void log(const std::string& line) const;
    BrokerResult admin(const std::string& commands_json, std::vector<std::string>* errors);
    BrokerResult revoke_locked(const std::string& device_id);
    bool issue_device_certificate(DeviceCredentials& credentials) const;

    BrokerSettings settings_;
    std::string broker_dir_, pki_dir_;
    std::string host_ = "127.0.0.1";
    uint16_t port_ = 0;
    std::string ingest_password_, admin_password_;
    std::string mosquitto_user_;  // the user mosquitto switches to when started as root

    std::atomic<pid_t> pid_{-1};
    std::atomic<uint32_t> restarts_{0};
    std::thread supervisor_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::mutex admin_mutex_;
};

}  // namespace vigil::hub

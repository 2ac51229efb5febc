#include "vigil/linux_agent/mosquitto_link.hpp"

#include <mosquitto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>

namespace vigil::linux_agent {
namespace {

// How long one mosquitto_loop() call may block: the bound on how late the network thread sees
// stop(). Keepalive and retries are driven by libmosquitto inside the loop, whatever this is.
constexpr int kLoopTimeoutMs = 100;
// Bound on the DISCONNECT handshake at stop.
constexpr int kDisconnectLoops = 10;

std::once_flag library_initialised;

// Never prompts for a key's pass phrase: the agent runs unattended, so keys are unencrypted files
// and an encrypted one is an error, not a question on a terminal that nobody reads.
int no_pass_phrase(char*, int, int, void*) {
    return 0;
}

struct FileCloser {
    void operator()(FILE* file) const { std::fclose(file); }
};
struct X509Free {
    void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::unique_ptr<FILE, FileCloser> open_readable(const std::string& path, const char* what,
                                                std::string& error) {
    std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
    if (!file) {
        error = std::string(what) + " " + path + " is not readable: " + std::strerror(errno);
    }
    return file;
}

std::unique_ptr<X509, X509Free> read_certificate(const std::string& path, const char* what,
                                                 std::string& error) {
    auto file = open_readable(path, what, error);
    if (!file) {
        return nullptr;
    }
    std::unique_ptr<X509, X509Free> cert(
        PEM_read_X509(file.get(), nullptr, no_pass_phrase, nullptr));
    if (!cert) {
        error = std::string(what) + " " + path + " holds no PEM certificate";
    }
    return cert;
}

// libmosquitto reads the certificate files only at the first connect, inside its network loop,
// where a wrong key would look like one more network failure retried for ever. Checking here
// turns it into a clear error at start-up.
bool check_tls_files(const MqttSettings& s, std::string& error) {
    if (s.ca_file.empty()) {
        error = "tls needs ca_file (the CA that signed the broker's certificate)";
        return false;
    }
    if (!read_certificate(s.ca_file, "ca_file", error)) {
        return false;
    }
    if (s.cert_file.empty() != s.key_file.empty()) {
        error = "cert_file and key_file go together: give both or neither";
        return false;
    }
    if (s.cert_file.empty()) {
        return true;
    }
    const auto cert = read_certificate(s.cert_file, "cert_file", error);
    if (!cert) {
        return false;
    }
    auto key_file = open_readable(s.key_file, "key_file", error);
    if (!key_file) {
        return false;
    }
    const std::unique_ptr<EVP_PKEY, KeyFree> key(
        PEM_read_PrivateKey(key_file.get(), nullptr, no_pass_phrase, nullptr));
    if (!key) {
        error = "key_file " + s.key_file + " holds no unencrypted PEM private key";
        return false;
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        error = "key_file " + s.key_file + " does not match cert_file " + s.cert_file;
        return false;
    }
    return true;
}

bool check_settings(const MqttSettings& s, std::string& error) {
    if (s.host.empty()) {
        error = "host is empty";
    } else if (s.port == 0) {
        error = "port 0 is not a broker port";
    } else if (s.client_id.empty()) {
        error = "client_id is empty";
    } else if (s.client_id.size() > 65535 ||
               mosquitto_validate_utf8(s.client_id.c_str(), static_cast<int>(s.client_id.size())) !=
                   MOSQ_ERR_SUCCESS) {
        error = "client_id is not a valid MQTT string";
    } else if (!s.password.empty() && s.username.empty()) {
        error = "a password needs a username";
    } else if (s.keepalive_s < 5) {
        error = "keepalive_s must be at least 5";
    } else if (s.reconnect_min_s == 0 || s.reconnect_max_s < s.reconnect_min_s) {
        error = "reconnect delays must satisfy 1 <= reconnect_min_s <= reconnect_max_s";
    } else if (s.max_unacked == 0 || s.max_unacked > 65535) {
        error = "max_unacked must be between 1 and 65535";
    } else if (!s.config_topic.empty() &&
               mosquitto_sub_topic_check(s.config_topic.c_str()) != MOSQ_ERR_SUCCESS) {
        error = "config_topic '" + s.config_topic + "' is not a valid subscription";
    } else if (s.tls && s.tls_version != "tlsv1.2" && s.tls_version != "tlsv1.3") {
        error = "tls_version must be tlsv1.2 or tlsv1.3";
    } else if (s.tls && !check_tls_files(s, error)) {
        // error set by check_tls_files
    } else {
        return true;
    }
    return false;
}

std::string connack_words(int code) {
    switch (code) {
        case 1:
            return "connection refused: unacceptable protocol version";
        case 2:
            return "connection refused: client id rejected";
        case 3:
            return "connection refused: broker unavailable";
        case 4:
            return "connection refused, not authorised: bad user name or password";
        case 5:
            return "connection refused: not authorised";
        default:
            return "connection refused: CONNACK code " + std::to_string(code);
    }
}

bool auth_refusal(int code) {
    return code == 4 || code == 5;
}

}  // namespace

std::unique_ptr<MosquittoLink> MosquittoLink::create(const MqttSettings& settings,
                                                     std::string& error) {
    if (!check_settings(settings, error)) {
        return nullptr;
    }
    std::call_once(library_initialised, [] { mosquitto_lib_init(); });
    std::unique_ptr<MosquittoLink> link(new MosquittoLink(settings));
    if (!link->configure(error)) {
        return nullptr;
    }
    return link;
}

MosquittoLink::MosquittoLink(const MqttSettings& settings) : settings_(settings) {
    logger_ = [](int level, const std::string& line) {
        static const char* const names[] = {"debug", "info", "warning", "error"};
        const char* name = level >= kLogDebug && level <= kLogError ? names[level] : "?";
        std::fprintf(stderr, "vigil-agent mqtt %s: %s\n", name, line.c_str());
    };
}

bool MosquittoLink::configure(std::string& error) {
    // Clean session: see the header. libmosquitto's own queue, not the broker's session, is what
    // carries unacknowledged publishes across a reconnect.
    client_ = mosquitto_new(settings_.client_id.c_str(), true, this);
    if (client_ == nullptr) {
        error = std::string("mosquitto_new failed: ") + std::strerror(errno);
        return false;
    }
    // The link runs its own network thread rather than mosquitto_loop_start(): libmosquitto's
    // thread retries failed connects silently (no callback sees them, so nothing could be logged)
    // and ends for good on a TLS error, while the link must log every failure and keep trying.
    mosquitto_threaded_set(client_, true);
    mosquitto_connect_callback_set(client_, on_connect);
    mosquitto_disconnect_callback_set(client_, on_disconnect);
    mosquitto_publish_callback_set(client_, on_publish);
    mosquitto_message_callback_set(client_, on_message);
    mosquitto_log_callback_set(client_, on_library_log);
    // Every publish send() accepts goes on the wire at once; send() itself stops at max_unacked.
    mosquitto_max_inflight_messages_set(client_, static_cast<unsigned int>(settings_.max_unacked));

    int rc = MOSQ_ERR_SUCCESS;
    if (!settings_.username.empty()) {
        rc = mosquitto_username_pw_set(
            client_, settings_.username.c_str(),
            settings_.password.empty() ? nullptr : settings_.password.c_str());
        if (rc != MOSQ_ERR_SUCCESS) {
            error = std::string("username/password rejected: ") + mosquitto_strerror(rc);
            return false;
        }
    }
    if (settings_.tls) {
        const char* cert = settings_.cert_file.empty() ? nullptr : settings_.cert_file.c_str();
        const char* key = settings_.key_file.empty() ? nullptr : settings_.key_file.c_str();
        rc = mosquitto_tls_set(client_, settings_.ca_file.c_str(), nullptr, cert, key,
                               no_pass_phrase);
        if (rc == MOSQ_ERR_SUCCESS) {
            // SSL_VERIFY_PEER (1): the broker must present a certificate the CA signed.
            rc = mosquitto_tls_opts_set(client_, 1, settings_.tls_version.c_str(), nullptr);
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            // Keeps the check that the certificate names settings_.host (DNS or IP SAN).
            rc = mosquitto_tls_insecure_set(client_, false);
        }
        if (rc != MOSQ_ERR_SUCCESS) {
            error = std::string("TLS setup failed: ") + mosquitto_strerror(rc);
            return false;
        }
    }
    return true;
}

MosquittoLink::~MosquittoLink() {
    stop(0);
    if (client_ != nullptr) {
        mosquitto_destroy(client_);
    }
}

void MosquittoLink::start() {
    if (network_.joinable()) {
        return;
    }
    stopping_ = false;
    network_ = std::thread([this] { run(); });
}

void MosquittoLink::stop(int flush_timeout_ms) {
    if (!network_.joinable()) {
        return;
    }
    if (!wait_all_acked(flush_timeout_ms)) {
        log(kLogWarning, std::to_string(unacked()) +
                             " publishes were not acknowledged before stop; the broker may not "
                             "have them");
    }
    {
        // From here send() answers "busy": nothing is accepted that could not be flushed.
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        connected_.store(false, std::memory_order_release);
    }
    changed_.notify_all();
    network_.join();
}

vigil_transport MosquittoLink::transport() {
    vigil_transport t{};
    t.context = this;
    t.is_connected = [](void* context) {
        return static_cast<MosquittoLink*>(context)->connected();
    };
    t.send = [](void* context, const char* topic, const char* property_bag, const uint8_t* payload,
                size_t length) {
        return static_cast<MosquittoLink*>(context)->send(topic, property_bag, payload, length);
    };
    return t;
}

int32_t MosquittoLink::send(const char* topic, const char* property_bag, const uint8_t* payload,
                            size_t length) {
    if (topic == nullptr || (payload == nullptr && length > 0) || length > INT_MAX) {
        return -1;
    }
    std::string full_topic(topic);
    if (property_bag != nullptr) {
        full_topic += property_bag;
    }
    if (mosquitto_pub_topic_check(full_topic.c_str()) != MOSQ_ERR_SUCCESS) {
        return -1;
    }
    // mutex_ is held across mosquitto_publish so that the PUBACK callback always finds the mid.
    // libmosquitto runs callbacks holding only its callback lock, which mosquitto_publish never
    // takes, so the two threads cannot wait on each other (ThreadSanitizer checks the order).
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connected_.load(std::memory_order_acquire) ||
        unacked_mids_.size() >= settings_.max_unacked) {
        ++stats_.refused_busy;
        return 0;
    }
    int mid = 0;
    const int rc = mosquitto_publish(client_, &mid, full_topic.c_str(), static_cast<int>(length),
                                     payload, 1, false);
    if (rc == MOSQ_ERR_SUCCESS) {
        unacked_mids_.insert(mid);
        ++stats_.published;
        return 1;
    }
    if (rc == MOSQ_ERR_NO_CONN) {
        // The connection ended after the check above. libmosquitto 2.0.11 still keeps a copy
        // and sends it after the reconnect, but that is not its documented contract, so the agent
        // keeps its own copy too: the hub may see the message twice and drops the repeat by its
        // (boot id, sequence) key.
        ++stats_.refused_busy;
        return 0;
    }
    return -1;
}

bool MosquittoLink::next_config(std::vector<uint8_t>& payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (configs_.empty()) {
        return false;
    }
    payload = std::move(configs_.front());
    configs_.pop_front();
    return true;
}

size_t MosquittoLink::queued_configs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return configs_.size();
}

size_t MosquittoLink::unacked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unacked_mids_.size();
}

bool MosquittoLink::wait_all_acked(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms),
                             [this] { return unacked_mids_.empty(); });
}

MosquittoLink::Stats MosquittoLink::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

std::string MosquittoLink::last_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
}

void MosquittoLink::set_logger(std::function<void(int, const std::string&)> logger) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    logger_ = std::move(logger);
}

void MosquittoLink::log(int level, const std::string& line) {
    std::function<void(int, const std::string&)> logger;
    {
        std::lock_guard<std::mutex> lock(log_mutex_);
        logger = logger_;
    }
    if (logger) {
        logger(level, line);
    }
}

// The network thread: connect, serve the connection until it ends, wait, connect again.
void MosquittoLink::run() {
    const std::string broker = settings_.host + ":" + std::to_string(settings_.port);
    bool host_set = false;
    uint32_t delay_s = 0;
    while (!stopping_) {
        if (delay_s > 0 && !wait_before_retry(delay_s)) {
            break;
        }
        refused_code_ = 0;
        disconnect_errno_ = 0;
        session_up_ = false;
        {
            std::lock_guard<std::mutex> lock(log_mutex_);
            library_error_.clear();
        }
        // Non-blocking connects: a broker that does not answer cannot hold up stop().
        errno = 0;
        int rc = host_set ? mosquitto_reconnect_async(client_)
                          : mosquitto_connect_async(client_, settings_.host.c_str(), settings_.port,
                                                    settings_.keepalive_s);
        const int connect_errno = errno;
        // After the first call the host is known; reconnect_async keeps libmosquitto's wake-up
        // socket pair, which a racing mosquitto_publish may write to, where connect_async would
        // close and replace it.
        host_set = true;
        if (rc != MOSQ_ERR_SUCCESS) {
            delay_s = next_delay(false);
            note_failure("cannot connect to " + broker + ": " + describe(rc, connect_errno),
                         delay_s);
            continue;
        }
        do {
            rc = mosquitto_loop(client_, kLoopTimeoutMs, 1);
        } while (rc == MOSQ_ERR_SUCCESS && !stopping_);
        if (stopping_) {
            break;
        }

        const std::string reason = describe(rc, disconnect_errno_);
        delay_s = next_delay(auth_refusal(refused_code_));
        note_failure((session_up_ ? "connection to " : "connect to ") + broker +
                         (session_up_ ? " ended: " : " failed: ") + reason,
                     delay_s);
    }

    // Stopping: say goodbye so the broker does not wait a keepalive to notice, within a bound.
    if (mosquitto_disconnect(client_) == MOSQ_ERR_SUCCESS) {
        for (int i = 0; i < kDisconnectLoops; ++i) {
            if (mosquitto_loop(client_, kLoopTimeoutMs, 1) != MOSQ_ERR_SUCCESS) {
                break;
            }
        }
    }
    connected_.store(false, std::memory_order_release);
}

// Why an attempt or a connection ended, in words, from libmosquitto's result, the errno it left,
// a CONNACK refusal and the error line libmosquitto logged (OpenSSL's reason for a TLS failure).
std::string MosquittoLink::describe(int rc, int errno_value) {
    std::string library_error;
    {
        std::lock_guard<std::mutex> lock(log_mutex_);
        library_error = library_error_;
    }
    if (refused_code_ != 0) {
        return connack_words(refused_code_);
    }
    if (rc == MOSQ_ERR_TLS || library_error.find("SSL") != std::string::npos) {
        return "TLS handshake failure" + (library_error.empty() ? "" : " (" + library_error + ")");
    }
    if (settings_.tls && !session_up_ &&
        (rc == MOSQ_ERR_PROTOCOL || rc == MOSQ_ERR_CONN_LOST ||
         (rc == MOSQ_ERR_ERRNO && (errno_value == EPROTO || errno_value == ECONNRESET)))) {
        // OpenSSL does not always report a broker's TLS alert as an error line.
        return std::string("TLS handshake failure: the broker closed the connection (") +
               mosquitto_strerror(rc) + "); it may require a client certificate";
    }
    switch (rc) {
        case MOSQ_ERR_ERRNO:
            return errno_value != 0 ? std::strerror(errno_value) : "socket error";
        case MOSQ_ERR_CONN_LOST:
            return "connection lost";
        case MOSQ_ERR_KEEPALIVE:
            return "the broker stopped answering (keepalive timeout)";
        case MOSQ_ERR_EAI:
            return "cannot resolve the host name";
        default:
            return mosquitto_strerror(rc);
    }
}

bool MosquittoLink::wait_before_retry(uint32_t delay_s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !changed_.wait_for(lock, std::chrono::seconds(delay_s),
                              [this] { return stopping_.load(); });
}

// Exponential backoff from reconnect_min_s, doubling up to reconnect_max_s. A broker that refuses
// the credentials will refuse them again until an operator fixes one side, so those retries go
// straight to the longest delay.
uint32_t MosquittoLink::next_delay(bool auth_refused) {
    if (auth_refused) {
        return settings_.reconnect_max_s;
    }
    const uint32_t shift = consecutive_failures_ < 31 ? consecutive_failures_ : 31;
    ++consecutive_failures_;
    const uint64_t delay = static_cast<uint64_t>(settings_.reconnect_min_s) << shift;
    return delay > settings_.reconnect_max_s ? settings_.reconnect_max_s
                                             : static_cast<uint32_t>(delay);
}

void MosquittoLink::note_failure(const std::string& reason, uint32_t delay_s) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = reason;
    }
    const bool needs_operator =
        auth_refusal(refused_code_) || reason.find("TLS") != std::string::npos;
    log(needs_operator ? kLogError : kLogWarning,
        reason + "; retrying in " + std::to_string(delay_s) + " s" +
            (needs_operator ? " (check the broker's and the device's credentials)" : ""));
}

void MosquittoLink::on_connect(struct mosquitto* client, void* self, int code) {
    auto* link = static_cast<MosquittoLink*>(self);
    if (code != 0) {
        link->refused_code_ = code;
        return;
    }
    link->session_up_ = true;
    link->consecutive_failures_ = 0;
    {
        std::lock_guard<std::mutex> lock(link->mutex_);
        ++link->stats_.connects;
        if (!link->stopping_) {
            link->connected_.store(true, std::memory_order_release);
        }
    }
    link->log(kLogInfo, "connected to " + link->settings_.host + ":" +
                            std::to_string(link->settings_.port) + " as " +
                            link->settings_.client_id);
    // Subscribed again on every connect: with a clean session the broker forgot the last one,
    // and the retained config comes with each new subscription.
    if (!link->settings_.config_topic.empty()) {
        const int rc =
            mosquitto_subscribe(client, nullptr, link->settings_.config_topic.c_str(), 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            link->log(kLogError, "cannot subscribe to " + link->settings_.config_topic + ": " +
                                     mosquitto_strerror(rc));
        }
    }
}

void MosquittoLink::on_disconnect(struct mosquitto*, void* self, int) {
    auto* link = static_cast<MosquittoLink*>(self);
    link->disconnect_errno_ = errno;
    if (link->connected_.exchange(false, std::memory_order_acq_rel)) {
        std::lock_guard<std::mutex> lock(link->mutex_);
        ++link->stats_.disconnects;
    }
}

void MosquittoLink::on_publish(struct mosquitto*, void* self, int mid) {
    auto* link = static_cast<MosquittoLink*>(self);
    {
        std::lock_guard<std::mutex> lock(link->mutex_);
        // A mid the link does not hold is a publish send() answered "busy" for (see send()).
        if (link->unacked_mids_.erase(mid) == 0) {
            return;
        }
        ++link->stats_.acked;
    }
    link->changed_.notify_all();
}

void MosquittoLink::on_message(struct mosquitto*, void* self, const mosquitto_message* message) {
    auto* link = static_cast<MosquittoLink*>(self);
    bool matches = false;
    if (link->settings_.config_topic.empty() ||
        mosquitto_topic_matches_sub(link->settings_.config_topic.c_str(), message->topic,
                                    &matches) != MOSQ_ERR_SUCCESS ||
        !matches) {
        return;
    }
    if (message->payloadlen <= 0) {
        // An empty retained message is how the hub clears the config; there is nothing to apply.
        return;
    }
    const auto* data = static_cast<const uint8_t*>(message->payload);
    std::lock_guard<std::mutex> lock(link->mutex_);
    if (link->configs_.size() == kMaxQueuedConfigs) {
        link->configs_.pop_front();
    }
    link->configs_.emplace_back(data, data + message->payloadlen);
}

void MosquittoLink::on_library_log(struct mosquitto*, void* self, int level, const char* line) {
    // Keeps libmosquitto's own error lines: for a TLS failure they carry OpenSSL's reason
    // ("certificate verify failed"), which the failure report then quotes.
    if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) == 0 || line == nullptr) {
        return;
    }
    auto* link = static_cast<MosquittoLink*>(self);
    {
        std::lock_guard<std::mutex> lock(link->log_mutex_);
        link->library_error_ = line;
    }
    link->log(kLogDebug, std::string("libmosquitto: ") + line);
}

}  // namespace vigil::linux_agent

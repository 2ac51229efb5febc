#include "vigil/hub/outputs/mqtt_output.hpp"

#include <mosquitto.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "vigil/hub/outputs/event_json.hpp"

namespace vigil::hub::outputs {

namespace {

constexpr int kKeepAliveS = 30;
constexpr int kLoopTimeoutMs = 100;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// A value inside one topic level: wildcards and level separators would change what the topic
// means to subscribers.
std::string topic_level(const std::string& value) {
    std::string out = value.empty() ? "_" : value;
    std::replace_if(
        out.begin(), out.end(),
        [](char c) { return c == '+' || c == '#' || c == '/' || c == '\0'; }, '_');
    return out;
}

// libmosquitto, driven by a network thread of this transport's own that reconnects with backoff
// for as long as the output lives; publishing happens on the output's sender thread.
class MqttTransport : public Transport {
  public:
    MqttTransport(const detect::OutputSettings& settings, const MqttConnection& connection)
        : connection_(connection),
          topic_(settings.topic),
          qos_(settings.qos),
          timeout_(std::max<uint32_t>(settings.timeout_ms, 1)),
          backoff_min_(std::max<uint32_t>(settings.retry_min_ms, 1)),
          backoff_max_(std::max(settings.retry_max_ms, settings.retry_min_ms)) {
        mosquitto_lib_init();
        const std::string client_id = connection.client_id_prefix + settings.name;
        client_ = mosquitto_new(client_id.c_str(), true, this);
        mosquitto_threaded_set(client_, true);
        if (!connection.username.empty()) {
            mosquitto_username_pw_set(client_, connection.username.c_str(),
                                      connection.password.c_str());
        }
        mosquitto_connect_callback_set(client_, [](mosquitto*, void* self, int rc) {
            static_cast<MqttTransport*>(self)->set_connected(rc == 0);
        });
        mosquitto_disconnect_callback_set(client_, [](mosquitto*, void* self, int) {
            static_cast<MqttTransport*>(self)->set_connected(false);
        });
        mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int mid) {
            static_cast<MqttTransport*>(self)->acknowledged(mid);
        });
        network_ = std::thread([this] { run_network(); });
    }

    ~MqttTransport() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closing_ = true;
        }
        changed_.notify_all();
        network_.join();
        mosquitto_destroy(client_);
    }

    Attempt attempt(const PendingEvent& pending, std::string& failure) override {
        const std::string payload = event_json(pending.event);
        const auto* alert = std::get_if<AlertEvent>(&pending.event);
        const std::string topic =
            alert != nullptr
                ? alert_topic(topic_, alert->alert)
                : recommendation_topic(std::get<RecommendationEvent>(pending.event).recommendation);
        std::unique_lock<std::mutex> lock(mutex_);
        if (!changed_.wait_for(lock, timeout_, [&] { return connected_ || interrupted_; }) ||
            interrupted_) {
            failure = "not connected to the broker at " + connection_.host + " port " +
                      std::to_string(connection_.port);
            return Attempt::Retry;
        }
        acknowledged_.clear();
        lock.unlock();
        int mid = 0;
        const int rc =
            mosquitto_publish(client_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                              payload.data(), qos_, false);
        if (rc != MOSQ_ERR_SUCCESS) {
            failure = std::string("publishing: ") + mosquitto_strerror(rc);
            return rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL ||
                           rc == MOSQ_ERR_MALFORMED_UTF8
                       ? Attempt::Refused
                       : Attempt::Retry;
        }
        if (qos_ == 0) {
            return Attempt::Sent;
        }
        lock.lock();
        // Without the broker's PUBACK (QoS 1) or PUBCOMP (QoS 2) in time the event is published
        // again: at least once, whatever the QoS.
        const bool acked = changed_.wait_for(
            lock, timeout_, [&] { return acknowledged_.count(mid) > 0 || interrupted_; });
        if (acked && acknowledged_.count(mid) > 0) {
            return Attempt::Sent;
        }
        failure =
            "no acknowledgement from the broker within " + std::to_string(timeout_.count()) + " ms";
        return Attempt::Retry;
    }

    void interrupt() override {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            interrupted_ = true;
        }
        changed_.notify_all();
    }

  private:
    void set_connected(bool connected) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            connected_ = connected;
        }
        changed_.notify_all();
    }

    void acknowledged(int mid) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            acknowledged_.insert(mid);
        }
        changed_.notify_all();
    }

    bool closing() {
        std::lock_guard<std::mutex> lock(mutex_);
        return closing_;
    }

    void run_network() {
        auto backoff = backoff_min_;
        while (!closing()) {
            if (mosquitto_connect(client_, connection_.host.c_str(), connection_.port,
                                  kKeepAliveS) == MOSQ_ERR_SUCCESS) {
                while (!closing() &&
                       mosquitto_loop(client_, kLoopTimeoutMs, 1) == MOSQ_ERR_SUCCESS) {
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (connected_) {
                        backoff = backoff_min_;
                    }
                }
            }
            set_connected(false);
            std::unique_lock<std::mutex> lock(mutex_);
            if (changed_.wait_for(lock, backoff, [&] { return closing_; })) {
                break;
            }
            backoff = std::min(backoff * 2, backoff_max_);
        }
        mosquitto_disconnect(client_);
    }

    const MqttConnection connection_;
    const std::string topic_;
    const int qos_;
    const std::chrono::milliseconds timeout_, backoff_min_, backoff_max_;
    mosquitto* client_ = nullptr;

    std::mutex mutex_;
    std::condition_variable changed_;
    bool connected_ = false;
    bool interrupted_ = false;
    bool closing_ = false;
    std::set<int> acknowledged_;
    std::thread network_;
};

}  // namespace

std::string alert_topic(const std::string& pattern, const Alert& alert) {
    return replace_all(replace_all(pattern, "{device_id}", topic_level(alert.device_id)),
                       "{category}", topic_level(to_string(alert.category)));
}

std::string recommendation_topic(const Recommendation& recommendation) {
    return std::string(kRecommendationTopicRoot) + "/" + topic_level(recommendation.device_id) +
           "/" + topic_level(recommendation.kind);
}

std::unique_ptr<Output> make_mqtt_output(const detect::OutputSettings& settings,
                                         const MqttConnection& connection, std::string& error,
                                         OutputLog log) {
    if (settings.topic.empty() || settings.topic.find_first_of("+#") != std::string::npos) {
        error = "MQTT topic \"" + settings.topic + "\" is empty or holds a wildcard";
        return nullptr;
    }
    if (settings.qos > 2) {
        error = "MQTT QoS " + std::to_string(settings.qos) + " is not 0, 1 or 2";
        return nullptr;
    }
    return std::make_unique<Output>(
        settings, "mqtt", std::make_unique<MqttTransport>(settings, connection), std::move(log));
}

}  // namespace vigil::hub::outputs

#include "publisher.hpp"

#include <mosquitto.h>

#include <chrono>
#include <string>
#include <utility>

namespace vigil::hub {

ConfigPublisher::ConfigPublisher(std::string host, uint16_t port, std::string username,
                                 std::string password)
    : account_{std::move(host), port, std::move(username), std::move(password)} {}

ConfigPublisher::~ConfigPublisher() {
    stop();
}

bool ConfigPublisher::start(std::string& error) {
    // A clean session: a config the hub failed to publish is reported to the caller, who
    // retries; nothing must be resent behind its back later.
    client_ = new_hub_client("config", account_, this, error);
    if (!client_) {
        return false;
    }
    mosquitto_connect_callback_set(client_, &ConfigPublisher::on_connect);
    mosquitto_disconnect_callback_set(client_, &ConfigPublisher::on_disconnect);
    mosquitto_publish_callback_set(client_, &ConfigPublisher::on_publish);
    return connect_hub_client(client_, account_, "config publisher", error);
}

void ConfigPublisher::stop() {
    end_hub_client(client_);
}

void ConfigPublisher::on_connect(struct mosquitto*, void* self, int rc) {
    auto* p = static_cast<ConfigPublisher*>(self);
    std::lock_guard<std::mutex> lock(p->mutex_);
    p->connected_ = rc == 0;
    p->refused_ = rc;
    p->changed_.notify_all();
}

void ConfigPublisher::on_disconnect(struct mosquitto*, void* self, int) {
    auto* p = static_cast<ConfigPublisher*>(self);
    std::lock_guard<std::mutex> lock(p->mutex_);
    p->connected_ = false;
    p->changed_.notify_all();
}

void ConfigPublisher::on_publish(struct mosquitto*, void* self, int mid) {
    auto* p = static_cast<ConfigPublisher*>(self);
    std::lock_guard<std::mutex> lock(p->mutex_);
    p->acknowledged_.insert(mid);
    p->changed_.notify_all();
}

bool ConfigPublisher::publish(const std::string& topic, const std::vector<uint8_t>& payload,
                              uint32_t timeout_ms, std::string& error) {
    if (!client_) {
        error = "the config publisher is not running";
        return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [this] { return connected_; })) {
        error = refused_ != 0 ? std::string("the broker refused the hub's publisher: ") +
                                    mosquitto_connack_string(refused_)
                              : "not connected to the broker";
        return false;
    }
    int mid = 0;
    // Published under the lock, so the acknowledgement cannot be recorded before we wait for it.
    const int rc = mosquitto_publish(client_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                                     payload.data(), 1, true);
    if (rc != MOSQ_ERR_SUCCESS) {
        error = std::string("publish failed: ") + mosquitto_strerror(rc);
        return false;
    }
    if (!changed_.wait_until(lock, deadline, [&] { return acknowledged_.count(mid) > 0; })) {
        error = "the broker did not acknowledge the config in time";
        return false;
    }
    acknowledged_.erase(mid);
    return true;
}

}  // namespace vigil::hub

// The hub's publishing connection: desired configs, retained at QoS 1, on
// devices/{id}/config/vigil. A connection of its own, so a publish never waits behind an ingest
// batch, and so the ingest client's session stays about receiving.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

struct mosquitto;

#include "hub_client.hpp"

namespace vigil::hub {

class ConfigPublisher {
  public:
    ConfigPublisher(std::string host, uint16_t port, std::string username, std::string password);
    ~ConfigPublisher();
    ConfigPublisher(const ConfigPublisher&) = delete;
    ConfigPublisher& operator=(const ConfigPublisher&) = delete;

    /// Starts connecting (and reconnecting) in libmosquitto's own thread.
    bool start(std::string& error);
    void stop();
    /// Publishes retained at QoS 1 and waits (up to timeout_ms) for the broker's PUBACK.
    bool publish(const std::string& topic, const std::vector<uint8_t>& payload, uint32_t timeout_ms,
                 std::string& error);

  private:
    static void on_connect(struct mosquitto* m, void* self, int rc);
    static void on_disconnect(struct mosquitto* m, void* self, int rc);
    static void on_publish(struct mosquitto* m, void* self, int mid);

    HubClientAccount account_;
    struct mosquitto* client_ = nullptr;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool connected_ = false;
    int refused_ = 0;  // the broker's last CONNACK refusal code
    std::set<int> acknowledged_;
};

}  // namespace vigil::hub

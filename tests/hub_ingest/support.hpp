// Shared pieces of the ingest tests: a temporary data directory, a free loopback port, a
// libmosquitto publisher standing in for devices, a trivial decode step and a small store.
#pragma once

#include <arpa/inet.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.hpp"
#include "vigil/hub/broker.hpp"
#include "vigil/hub/ingest.hpp"
#include "vigil/mqtt/client.h"
#include "vigil/mqtt/posix_transport.h"

namespace vigil::hub::test {

using vigil::test::free_port;

inline std::string temp_dir() {
    char dir[] = "/tmp/vigil_hub_ingest_XXXXXX";
    return mkdtemp(dir) != nullptr ? std::string(dir) : std::string();
}

// Every wait in these tests is bounded.
using vigil::test::wait_for;

inline BrokerSettings broker_settings(const std::string& dir) {
    BrokerSettings s;
    s.data_dir = dir;
    s.port = free_port();
    s.restart_backoff_min_ms = 100;
    s.log = [](const std::string&) {};
    return s;
}

/// A test with a broker of its own in a fresh directory: skipped where mosquitto is missing; the
/// directory goes afterwards unless VIGIL_KEEP_TEST_DIRS=1 keeps the broker's files and log for a
/// look after a failure.
class BrokerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (access("/usr/sbin/mosquitto", X_OK) != 0) {
            GTEST_SKIP() << "mosquitto is missing";
        }
        dir_ = temp_dir();
        ASSERT_FALSE(dir_.empty());
        settings_ = broker_settings(dir_);
    }
    void TearDown() override {
        broker_.reset();
        if (!dir_.empty() && std::getenv("VIGIL_KEEP_TEST_DIRS") == nullptr) {
            std::system(("rm -rf " + dir_).c_str());
        }
    }
    void start_broker() {
        broker_ = std::make_unique<Broker>(settings_);
        const BrokerResult r = broker_->start();
        ASSERT_TRUE(r.ok()) << r.error;
    }

    std::string dir_;
    BrokerSettings settings_;
    std::unique_ptr<Broker> broker_;
};

// A device: libmosquitto with its own network thread, QoS 1, counting PUBACKs.
class Device {
  public:
    // tls: {ca file, certificate file, key file}, or empty for plain MQTT.
    Device(uint16_t port, const std::string& user, const std::string& password,
           const std::string& client_id, const std::vector<std::string>& tls = {}) {
        mosquitto_lib_init();
        m_ = mosquitto_new(client_id.c_str(), true, this);
        if (tls.size() == 3) {
            mosquitto_tls_set(m_, tls[0].c_str(), nullptr, tls[1].c_str(), tls[2].c_str(), nullptr);
        }
        mosquitto_username_pw_set(m_, user.c_str(), password.c_str());
        mosquitto_max_inflight_messages_set(m_, 0);  // no limit: the test floods on purpose
        mosquitto_reconnect_delay_set(m_, 100, 1000, false);
        mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
            static_cast<Device*>(self)->connack_ = rc;
            static_cast<Device*>(self)->connected_ = rc == 0;
        });
        mosquitto_disconnect_callback_set(m_, [](mosquitto*, void* self, int) {
            static_cast<Device*>(self)->connected_ = false;
            ++static_cast<Device*>(self)->disconnects_;
        });
        mosquitto_publish_callback_set(
            m_, [](mosquitto*, void* self, int) { ++static_cast<Device*>(self)->acked_; });
        mosquitto_connect_async(m_, "127.0.0.1", port, 30);
        mosquitto_loop_start(m_);
    }
    ~Device() {
        mosquitto_disconnect(m_);
        mosquitto_loop_stop(m_, true);
        mosquitto_destroy(m_);
    }
    bool wait_connected(int timeout_ms = 5000) {
        return wait_for([&] { return connected_.load(); }, timeout_ms);
    }
    bool publish(const std::string& topic, const std::string& payload) {
        ++sent_;
        return mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                 payload.data(), 1, false) == MOSQ_ERR_SUCCESS;
    }
    bool wait_acked(int timeout_ms = 20000) {
        return wait_for([&] { return acked_.load() >= sent_.load(); }, timeout_ms);
    }
    bool connected() const { return connected_.load(); }
    int connack() const { return connack_.load(); }
    int disconnects() const { return disconnects_.load(); }

  private:
    mosquitto* m_ = nullptr;
    std::atomic<bool> connected_{false};
    std::atomic<int> connack_{-1};
    std::atomic<int> disconnects_{0};
    std::atomic<int> sent_{0};
    std::atomic<int> acked_{0};
};

// A hub-side reader with libmosquitto: persistent session when clean is false.
class Reader {
  public:
    Reader(const BrokerEndpoint& e, const std::string& client_id, bool clean) {
        mosquitto_lib_init();
        m_ = mosquitto_new(client_id.c_str(), clean, this);
        mosquitto_username_pw_set(m_, e.username.c_str(), e.password.c_str());
        mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
            static_cast<Reader*>(self)->connected_ = rc == 0;
        });
        mosquitto_subscribe_callback_set(m_, [](mosquitto*, void* self, int, int, const int* q) {
            static_cast<Reader*>(self)->granted_ = q[0];
        });
        mosquitto_message_callback_set(m_, [](mosquitto*, void* self, const mosquitto_message* m) {
            auto* r = static_cast<Reader*>(self);
            std::lock_guard<std::mutex> lock(r->mutex_);
            r->messages_.push_back(std::string(m->topic) + " " +
                                   std::string(static_cast<const char*>(m->payload),
                                               static_cast<size_t>(m->payloadlen)));
        });
        mosquitto_connect_async(m_, e.host.c_str(), e.port, 30);
        mosquitto_loop_start(m_);
    }
    ~Reader() {
        mosquitto_disconnect(m_);
        mosquitto_loop_stop(m_, true);
        mosquitto_destroy(m_);
    }
    bool subscribe(const std::string& filter) {
        if (!wait_for([&] { return connected_.load(); }, 5000)) {
            return false;
        }
        mosquitto_subscribe(m_, nullptr, filter.c_str(), 1);
        return wait_for([&] { return granted_.load() >= 0; }, 5000) && granted_.load() <= 1;
    }
    bool wait_connected() {
        return wait_for([&] { return connected_.load(); }, 5000);
    }
    bool publish(const std::string& topic, const std::string& payload) {
        return mosquitto_publish(m_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                 payload.data(), 1, false) == MOSQ_ERR_SUCCESS;
    }
    std::vector<std::string> messages() {
        std::lock_guard<std::mutex> lock(mutex_);
        return messages_;
    }
    bool wait_message(const std::string& text, int timeout_ms = 5000) {
        return wait_for(
            [&] {
                for (const std::string& m : messages()) {
                    if (m == text) {
                        return true;
                    }
                }
                return false;
            },
            timeout_ms);
    }

  private:
    mosquitto* m_ = nullptr;
    std::atomic<bool> connected_{false};
    std::atomic<int> granted_{-1};
    std::mutex mutex_;
    std::vector<std::string> messages_;
};

// A device on Vigil's own MQTT client, driven by a thread of its own: it reconnects after a
// broker restart and resends its unacknowledged QoS 1 publishes (libmosquitto 2.0.11's
// loop_start thread does not reconnect after the broker closes the connection).
class Publisher {
  public:
    Publisher(uint16_t port, const DeviceCredentials& d)
        : user_(d.username), password_(d.password), client_id_(d.client_id) {
        (void)client_.init(vigil::mqtt::posix_transport(&socket_), storage_.view());
        vigil::mqtt::Settings s;
        s.host = "127.0.0.1";
        s.port = port;
        s.connect.client_id = client_id_.c_str();
        s.connect.username = user_.c_str();
        s.connect.password = password_.c_str();
        s.connect.keep_alive_s = 30;
        s.backoff_min_ms = 100;
        s.backoff_max_ms = 500;
        s.retry_ms = 3000;
        (void)client_.start(s, now());
        thread_ = std::thread([this] { run(); });
    }
    ~Publisher() {
        stop_ = true;
        thread_.join();
    }
    bool wait_connected(int timeout_ms = 5000) {
        return wait_for([&] { return connected_.load(); }, timeout_ms);
    }
    void publish(const std::string& topic, const std::string& payload) {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.emplace_back(topic, payload);
        ++queued_;
    }
    bool wait_acked(int timeout_ms = 30000) {
        return wait_for([&] { return acked_.load() == queued_.load(); }, timeout_ms);
    }

  private:
    static uint32_t now() {
        return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now().time_since_epoch())
                                         .count());
    }
    void run() {
        while (!stop_) {
            (void)client_.process(now());
            for (;;) {
                std::pair<std::string, std::string> next;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (queue_.empty()) {
                        break;
                    }
                    next = queue_.front();
                }
                const auto* data = reinterpret_cast<const uint8_t*>(next.second.data());
                if (client_.publish(next.first.c_str(), nullptr, data, next.second.size(), 1) !=
                    vigil::mqtt::Status::Ok) {
                    break;  // every slot is taken: wait for PUBACKs
                }
                ++handed_;
                std::lock_guard<std::mutex> lock(mutex_);
                queue_.pop_front();
            }
            acked_ = handed_ - static_cast<int>(client_.in_flight());
            connected_ = client_.is_connected();
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        (void)client_.stop();
    }

    std::string user_, password_, client_id_;
    vigil::mqtt::PosixSocket socket_;
    vigil::mqtt::Client client_;
    vigil::mqtt::StaticStorage<4096, 16384, 64, 256> storage_;
    std::thread thread_;
    std::mutex mutex_;
    std::deque<std::pair<std::string, std::string>> queue_;
    int handed_ = 0;
    std::atomic<int> queued_{0};
    std::atomic<int> acked_{0};
    std::atomic<bool> connected_{false};
    std::atomic<bool> stop_{false};
};

inline std::string events_topic(const std::string& device) {
    return "devices/" + device + "/messages/events/";
}

// The payload is the message key; "bad..." is refused as malformed.
inline DecodeOutcome trivial_decode(const Incoming& in) {
    DecodeOutcome out;
    const std::string text(in.payload.begin(), in.payload.end());
    out.report.format = Format::Vigil;
    if (text.rfind("bad", 0) == 0) {
        out.reason = reason::kMalformed;
        out.detail = "test payload";
        return out;
    }
    out.ok = true;
    out.report.message_key = text;
    if (in.topic.rfind("$aws/", 0) == 0) {
        out.report.format = Format::AwsDefender;
        out.response = Response{in.topic + "/accepted", std::vector<uint8_t>{'o', 'k'}};
    }
    return out;
}

// A store that keeps (device, key) pairs in memory, dedupes like the real one, and can be told
// to fail.
class MemoryStore {
  public:
    WriteResult write_batch(const std::vector<Report>& reports) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        WriteResult r;
        if (fail_) {
            r.error = "store told to fail";
            return r;
        }
        for (const Report& report : reports) {
            if (keys_.insert({report.device_id, report.message_key}).second) {
                ++r.stored;
            } else {
                ++r.duplicates;
            }
            ++writes_;
        }
        r.ok = true;
        return r;
    }
    WriteFunction writer() {
        return [this](const std::vector<Report>& reports) { return write_batch(reports); };
    }
    void set_fail(bool fail) {
        std::lock_guard<std::mutex> lock(mutex_);
        fail_ = fail;
    }
    size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return keys_.size();
    }
    size_t writes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return writes_;
    }
    size_t calls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return calls_;
    }
    bool has(const std::string& device, const std::string& key) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return keys_.count({device, key}) > 0;
    }

  private:
    mutable std::mutex mutex_;
    std::set<std::pair<std::string, std::string>> keys_;
    size_t writes_ = 0;
    size_t calls_ = 0;
    bool fail_ = false;
};

inline IngestSettings ingest_settings(const BrokerEndpoint& endpoint,
                                      const std::string& client_id = "vigil-hub-ingest") {
    IngestSettings s;
    s.host = endpoint.host;
    s.port = endpoint.port;
    s.username = endpoint.username;
    s.password = endpoint.password;
    s.client_id = client_id;
    s.log = [](const std::string&) {};
    return s;
}

}  // namespace vigil::hub::test

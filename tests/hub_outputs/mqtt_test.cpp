// The MQTT output against a mosquitto the test starts on a free loopback port, read back by a
// libmosquitto subscriber.
#include <mosquitto.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "test_broker.hpp"
#include "vigil/hub/outputs/mqtt_output.hpp"

namespace vigil::hub::outputs::test {
namespace {

using vigil::test::TestBroker;

// Collects "topic payload" of every message on the filter it subscribed to. Its network loop is a
// thread of its own that ends by a flag: libmosquitto's loop_stop(force) cancels its thread while
// it may hold a lock.
class Subscriber {
  public:
    Subscriber(uint16_t port, const std::string& filter) : filter_(filter) {
        mosquitto_lib_init();
        client_ = mosquitto_new("outputs-test-subscriber", true, this);
        mosquitto_connect_callback_set(client_, [](mosquitto* m, void* self, int rc) {
            if (rc == 0) {
                mosquitto_subscribe(m, nullptr, static_cast<Subscriber*>(self)->filter_.c_str(), 1);
            }
        });
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            static_cast<Subscriber*>(self)->subscribed_ = true;
        });
        mosquitto_message_callback_set(client_, [](mosquitto*, void* self,
                                                   const mosquitto_message* m) {
            auto* s = static_cast<Subscriber*>(self);
            std::lock_guard<std::mutex> lock(s->mutex_);
            s->messages_.emplace_back(m->topic, std::string(static_cast<const char*>(m->payload),
                                                            static_cast<size_t>(m->payloadlen)));
        });
        network_ = std::thread([this, port] {
            while (!stop_ &&
                   mosquitto_connect(client_, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            while (!stop_) {
                mosquitto_loop(client_, 50, 1);
            }
        });
    }
    ~Subscriber() {
        stop_ = true;
        network_.join();
        mosquitto_disconnect(client_);
        mosquitto_destroy(client_);
    }
    bool wait_subscribed() {
        return wait_for([&] { return subscribed_.load(); }, 5000);
    }
    std::vector<std::pair<std::string, std::string>> messages() {
        std::lock_guard<std::mutex> lock(mutex_);
        return messages_;
    }

  private:
    std::string filter_;
    mosquitto* client_ = nullptr;
    std::atomic<bool> subscribed_{false};
    std::atomic<bool> stop_{false};
    std::thread network_;
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> messages_;
};

class MqttOutputTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!TestBroker::installed()) {
            GTEST_SKIP() << "mosquitto is missing";
        }
        ASSERT_TRUE(broker_.init("vigil_hub_outputs_"));
    }
    std::unique_ptr<Output> output(uint8_t qos) {
        detect::OutputSettings s = settings_of(detect::OutputKind::Mqtt, "bus");
        s.topic = "vigil/alerts/{category}/{device_id}";
        s.qos = qos;
        s.retries = 1000;
        MqttConnection connection;
        connection.port = broker_.port();
        std::string error;
        auto made = make_mqtt_output(s, connection, error);
        EXPECT_NE(made, nullptr) << error;
        return made;
    }
    TestBroker broker_;
};

TEST_F(MqttOutputTest, PublishesEventJsonOnTheAlertsTopic) {
    ASSERT_TRUE(broker_.start());
    Subscriber subscriber(broker_.port(), "vigil/alerts/#");
    ASSERT_TRUE(subscriber.wait_subscribed());
    for (const uint8_t qos : {uint8_t{0}, uint8_t{1}, uint8_t{2}}) {
        auto out = output(qos);
        out->deliver(sample_event(50 + qos));
        ASSERT_TRUE(wait_for([&] { return out->metrics().sent == 1; }, 5000)) << int(qos);
    }
    ASSERT_TRUE(wait_for([&] { return subscriber.messages().size() == 3; }, 5000));
    const auto messages = subscriber.messages();
    for (size_t i = 0; i < 3; ++i) {
        const auto& [topic, payload] = messages[i];
        EXPECT_EQ(topic, "vigil/alerts/port_scan_inbound/plc-7");
        const auto body = nlohmann::json::parse(payload);
        EXPECT_EQ(body["change"], "opened");
        EXPECT_EQ(body["alert"]["id"], 50 + i);
        EXPECT_EQ(body["alert"]["evidence"]["window_s"], 300);
    }
}

// Recommendation events go beside the alerts, on vigil/recommendations/<device>/<kind>, whatever
// the output's topic for alerts.
TEST_F(MqttOutputTest, PublishesRecommendationsBesideTheAlerts) {
    ASSERT_TRUE(broker_.start());
    Subscriber subscriber(broker_.port(), "vigil/#");
    ASSERT_TRUE(subscriber.wait_subscribed());
    auto out = output(1);
    out->deliver(sample_recommendation_event(7));
    out->deliver(sample_event(8));
    ASSERT_TRUE(wait_for([&] { return subscriber.messages().size() == 2; }, 5000));
    const auto messages = subscriber.messages();
    EXPECT_EQ(messages[0].first, "vigil/recommendations/plc-7/service.cleartext");
    const auto body = nlohmann::json::parse(messages[0].second);
    EXPECT_EQ(body["event"], "recommendation.opened");
    EXPECT_EQ(body["recommendation"]["id"], 7);
    EXPECT_EQ(messages[1].first, "vigil/alerts/port_scan_inbound/plc-7");
}

TEST_F(MqttOutputTest, ConnectsOnceTheBrokerIsUpAndAgainAfterARestart) {
    auto out = output(1);
    out->deliver(sample_event(61));  // no broker yet
    ASSERT_TRUE(wait_for([&] { return out->metrics().failed >= 1; }, 5000));
    ASSERT_TRUE(broker_.start());
    {
        Subscriber subscriber(broker_.port(), "vigil/alerts/#");
        ASSERT_TRUE(subscriber.wait_subscribed());
        // The event waited in the output and reaches the subscriber if it subscribed in time;
        // what matters here is that the output got through.
        ASSERT_TRUE(wait_for([&] { return out->metrics().sent == 1; }, 10000));
    }
    broker_.stop(SIGTERM);
    ASSERT_TRUE(broker_.start());
    Subscriber subscriber(broker_.port(), "vigil/alerts/#");
    ASSERT_TRUE(subscriber.wait_subscribed());
    out->deliver(sample_event(62));
    ASSERT_TRUE(wait_for([&] { return subscriber.messages().size() == 1; }, 10000));
    EXPECT_EQ(nlohmann::json::parse(subscriber.messages()[0].second)["alert"]["id"], 62);
    EXPECT_EQ(out->metrics().sent, 2u);
}

TEST(MqttTopic, PlaceholdersAndWildcards) {
    Alert alert = sample_event(1).alert;
    alert.device_id = "a/b+c#";
    EXPECT_EQ(alert_topic("x/{device_id}/{category}", alert), "x/a_b_c_/port_scan_inbound");
    Recommendation recommendation = sample_recommendation_event(1).recommendation;
    recommendation.device_id = "a/b+c#";
    recommendation.kind = "";
    EXPECT_EQ(recommendation_topic(recommendation), "vigil/recommendations/a_b_c_/_");
    std::string error;
    detect::OutputSettings s = settings_of(detect::OutputKind::Mqtt, "bus");
    s.topic = "vigil/#";
    EXPECT_EQ(make_mqtt_output(s, MqttConnection{}, error), nullptr);
    s.topic = "vigil/alerts";
    s.qos = 3;
    EXPECT_EQ(make_mqtt_output(s, MqttConnection{}, error), nullptr);
}

}  // namespace
}  // namespace vigil::hub::outputs::test

// The Linux agent's MQTT link against a real mosquitto, started per test on a free loopback port
// with a config generated in a temporary directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.hpp"
#include "test_broker.hpp"
#include "vigil/agent/vigil_agent.h"
#include "vigil/linux_agent/mosquitto_link.hpp"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

using namespace vigil::linux_agent;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kDevice = "dev-1";

std::string events_topic() {
    return std::string(vigil::wire::kTopicPrefix) + kDevice + vigil::wire::kTopicSuffix;
}
std::string config_topic() {
    return std::string(vigil::wire::kTopicPrefix) + kDevice + vigil::wire::kConfigTopicSuffix;
}

using vigil::test::TestBroker;
// Every wait in these tests is bounded.
using vigil::test::wait_for;

bool run(const std::string& command) {
    return std::system((command + " 2>/dev/null").c_str()) == 0;
}

std::vector<uint8_t> bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

// A plain libmosquitto client on the test's side: the hub's subscriber or config publisher.
class Peer {
  public:
    struct Message {
        std::string topic;
        std::string payload;
        bool retained;
    };

    Peer(uint16_t port, const std::string& id, bool clean_session) : port_(port) {
        mosquitto_lib_init();
        client_ = mosquitto_new(id.c_str(), clean_session, this);
        mosquitto_connect_callback_set(client_, [](mosquitto*, void* self, int rc) {
            auto* peer = static_cast<Peer*>(self);
            if (rc == 0 && !peer->subscription_.empty()) {
                // Again on every connect, in case the broker lost the session.
                mosquitto_subscribe(peer->client_, nullptr, peer->subscription_.c_str(), 1);
            }
        });
        mosquitto_subscribe_callback_set(client_, [](mosquitto*, void* self, int, int, const int*) {
            auto* peer = static_cast<Peer*>(self);
            std::lock_guard<std::mutex> lock(peer->mutex_);
            ++peer->subacks_;
        });
        mosquitto_message_callback_set(
            client_, [](mosquitto*, void* self, const mosquitto_message* m) {
                auto* peer = static_cast<Peer*>(self);
                std::lock_guard<std::mutex> lock(peer->mutex_);
                peer->messages_.push_back({m->topic,
                                           std::string(static_cast<const char*>(m->payload),
                                                       static_cast<size_t>(m->payloadlen)),
                                           m->retain});
            });
        mosquitto_publish_callback_set(client_, [](mosquitto*, void* self, int) {
            auto* peer = static_cast<Peer*>(self);
            std::lock_guard<std::mutex> lock(peer->mutex_);
            ++peer->pubacks_;
        });
        mosquitto_reconnect_delay_set(client_, 1, 1, false);
    }

    ~Peer() {
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, false);
        mosquitto_destroy(client_);
    }

    // Connects, starts libmosquitto's thread and, with a subscription, waits for its SUBACK.
    bool start(const std::string& subscription = "") {
        subscription_ = subscription;
        if (mosquitto_connect(client_, "127.0.0.1", port_, 30) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client_) != MOSQ_ERR_SUCCESS) {
            return false;
        }
        return subscription.empty() || wait_for([this] { return subacks() > 0; }, 3000);
    }

    bool publish(const std::string& topic, const std::string& payload, bool retain) {
        const int before = pubacks();
        return mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                                 payload.data(), 1, retain) == MOSQ_ERR_SUCCESS &&
               wait_for([&] { return pubacks() > before; }, 3000);
    }

    std::vector<Message> messages() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return messages_;
    }
    int subacks() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return subacks_;
    }
    int pubacks() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return pubacks_;
    }

  private:
    uint16_t port_;
    mosquitto* client_ = nullptr;
    std::string subscription_;
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
    int subacks_ = 0;
    int pubacks_ = 0;
};

class LinuxMqtt : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!TestBroker::installed()) {
            GTEST_SKIP() << TestBroker::kMosquitto << " is missing (apt-get install mosquitto)";
        }
        ASSERT_TRUE(broker_.init("vigil_linux_mqtt_"));
        dir_ = broker_.dir();
        port_ = broker_.port();
    }

    void TearDown() override {
        link_.reset();
        broker_.stop(SIGKILL);
    }

    // The listener and whatever the test adds (authentication, TLS, persistence).
    void write_config(const std::string& extra = "allow_anonymous true\n",
                      bool persistence = false) {
        broker_.write_config(extra, persistence);
    }

    void start_broker() {
        ASSERT_TRUE(broker_.start()) << "mosquitto did not listen; its log:\n" << broker_.log();
    }

    // A stopped broker is resumed too, as it acts on SIGTERM only once running.
    void stop_broker(int signal) { broker_.stop(signal); }

    MqttSettings settings() const {
        MqttSettings s;
        s.port = port_;
        s.client_id = kDevice;
        s.reconnect_min_s = 1;
        s.reconnect_max_s = 2;
        return s;
    }

    // Creates the link, collects its log lines, starts it.
    void start_link(const MqttSettings& s) {
        std::string error;
        link_ = MosquittoLink::create(s, error);
        ASSERT_NE(link_, nullptr) << error;
        link_->set_logger([this](int level, const std::string& line) {
            if (std::getenv("VIGIL_MQTT_TEST_LOG") != nullptr) {
                std::fprintf(stderr, "link log %d: %s\n", level, line.c_str());
            }
            std::lock_guard<std::mutex> lock(log_mutex_);
            log_.emplace_back(level, line);
        });
        link_->start();
    }

    bool log_has(const std::string& words) const {
        std::lock_guard<std::mutex> lock(log_mutex_);
        return std::any_of(log_.begin(), log_.end(), [&](const auto& entry) {
            return entry.second.find(words) != std::string::npos;
        });
    }

    int32_t send(const std::string& payload) {
        const vigil_transport t = link_->transport();
        return t.send(t.context, events_topic().c_str(), vigil::wire::kPropertyBag,
                      reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    }

    TestBroker broker_;
    std::string dir_;
    uint16_t port_ = 0;
    std::unique_ptr<MosquittoLink> link_;
    mutable std::mutex log_mutex_;
    std::vector<std::pair<int, std::string>> log_;
};

TEST_F(LinuxMqtt, PublishesEveryMessageOnTheEventsTopicWithThePropertyBag) {
    start_broker();
    Peer hub(port_, "hub", true);
    ASSERT_TRUE(hub.start("devices/+/messages/events/#"));
    MqttSettings s = settings();
    s.max_unacked = 8;
    start_link(s);
    const vigil_transport t = link_->transport();
    ASSERT_EQ(t.context, link_.get());
    ASSERT_TRUE(wait_for([&] { return t.is_connected(t.context); }, 3000));

    constexpr int kMessages = 200;
    int busy = 0;
    for (int i = 0; i < kMessages;) {
        const int32_t rc = send("msg-" + std::to_string(i));
        ASSERT_GE(rc, 0);
        if (rc > 0) {
            ++i;
        } else {
            ++busy;  // eight in flight: wait for PUBACKs as the agent's backlog would
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ASSERT_TRUE(wait_for([&] { return hub.messages().size() == kMessages; }, 10000))
        << hub.messages().size();
    const auto messages = hub.messages();
    for (int i = 0; i < kMessages; ++i) {
        EXPECT_EQ(messages[i].topic, events_topic() + vigil::wire::kPropertyBag);
        EXPECT_EQ(messages[i].payload, "msg-" + std::to_string(i));
    }
    EXPECT_EQ(messages[0].topic,
              "devices/dev-1/messages/events/mti=vigil.1&%24.ct=application%2Fcbor");
    EXPECT_TRUE(link_->wait_all_acked(3000));
    const MosquittoLink::Stats stats = link_->stats();
    EXPECT_EQ(stats.published, static_cast<uint64_t>(kMessages));
    EXPECT_EQ(stats.acked, static_cast<uint64_t>(kMessages));
    EXPECT_EQ(stats.refused_busy, static_cast<uint64_t>(busy));
    EXPECT_EQ(stats.connects, 1u);

    // Bad input is an error, not "busy": wildcards cannot be published, null needs no length.
    const uint8_t byte = 1;
    EXPECT_LT(t.send(t.context, "devices/+/messages/events/", nullptr, &byte, 1), 0);
    EXPECT_LT(t.send(t.context, nullptr, nullptr, &byte, 1), 0);
    EXPECT_LT(t.send(t.context, events_topic().c_str(), nullptr, nullptr, 1), 0);

    link_->stop(2000);
    EXPECT_FALSE(link_->connected());
    EXPECT_EQ(send("after stop"), 0);
}

TEST_F(LinuxMqtt, SendIsBusyUntilTheBrokerAcceptsTheConnection) {
    MqttSettings s = settings();
    start_link(s);
    EXPECT_FALSE(link_->connected());
    EXPECT_EQ(send("early"), 0);
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("Connection refused"), std::string::npos)
        << link_->last_error();
    EXPECT_TRUE(log_has("retrying in"));

    start_broker();
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 5000));
    EXPECT_EQ(send("late"), 1);
    EXPECT_TRUE(link_->wait_all_acked(3000));
    EXPECT_EQ(link_->stats().refused_busy, 1u);
}

TEST_F(LinuxMqtt, RetainedConfigArrivesOnConnectAndNewOnesWhileConnected) {
    start_broker();
    Peer hub(port_, "hub", true);
    ASSERT_TRUE(hub.start());
    ASSERT_TRUE(hub.publish(config_topic(), "config-1", true));

    MqttSettings s = settings();
    s.config_topic = config_topic();
    start_link(s);
    std::vector<uint8_t> config;
    ASSERT_TRUE(wait_for([&] { return link_->next_config(config); }, 3000));
    EXPECT_EQ(config, bytes("config-1"));
    EXPECT_FALSE(link_->next_config(config));

    ASSERT_TRUE(hub.publish(config_topic(), "config-2", true));
    ASSERT_TRUE(wait_for([&] { return link_->next_config(config); }, 3000));
    EXPECT_EQ(config, bytes("config-2"));

    // Other topics are not configs; a cleared retained config has nothing to apply.
    ASSERT_TRUE(hub.publish("devices/dev-2/config/vigil", "not mine", false));
    ASSERT_TRUE(hub.publish(config_topic(), "", true));
    ASSERT_TRUE(hub.publish(config_topic(), "config-3", false));
    ASSERT_TRUE(wait_for([&] { return link_->next_config(config); }, 3000));
    EXPECT_EQ(config, bytes("config-3"));
    EXPECT_FALSE(link_->next_config(config));
}

TEST_F(LinuxMqtt, ConfigQueueKeepsTheNewest) {
    start_broker();
    Peer hub(port_, "hub", true);
    ASSERT_TRUE(hub.start());
    MqttSettings s = settings();
    s.config_topic = config_topic();
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));
    // The SUBACK is not visible through the link: wait until a first config comes through.
    std::vector<uint8_t> config;
    ASSERT_TRUE(wait_for(
        [&] { return hub.publish(config_topic(), "probe", false) && link_->next_config(config); },
        3000));
    constexpr size_t kSent = MosquittoLink::kMaxQueuedConfigs + 3;
    for (size_t i = 0; i < kSent; ++i) {
        ASSERT_TRUE(hub.publish(config_topic(), "v" + std::to_string(i), false));
    }
    // QoS 1 and one connection keep the order, so v{kSent-1} arriving means all have arrived.
    ASSERT_TRUE(wait_for(
        [&] { return link_->queued_configs() == MosquittoLink::kMaxQueuedConfigs; }, 3000));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (size_t i = kSent - MosquittoLink::kMaxQueuedConfigs; i < kSent; ++i) {
        ASSERT_TRUE(link_->next_config(config));
        EXPECT_EQ(config, bytes("v" + std::to_string(i)));
    }
    EXPECT_FALSE(link_->next_config(config));
}

class LinuxMqttAuth : public LinuxMqtt {
  protected:
    void SetUp() override {
        LinuxMqtt::SetUp();
        if (IsSkipped()) {
            return;
        }
        const std::string passwd = dir_ + "/passwd";
        if (!run("mosquitto_passwd -b -c " + passwd + " vigil secret")) {
            GTEST_SKIP() << "mosquitto_passwd is missing (apt-get install mosquitto)";
        }
        chmod(passwd.c_str(), 0644);
        write_config("allow_anonymous false\npassword_file " + passwd + "\n");
        start_broker();
    }
};

TEST_F(LinuxMqttAuth, RightPasswordConnectsAndPublishes) {
    MqttSettings s = settings();
    s.username = "vigil";
    s.password = "secret";
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000)) << link_->last_error();
    EXPECT_EQ(send("hello"), 1);
    EXPECT_TRUE(link_->wait_all_acked(3000));
}

TEST_F(LinuxMqttAuth, WrongPasswordIsReportedAsNotAuthorisedAndRetriedAtTheLongestDelay) {
    MqttSettings s = settings();
    s.username = "vigil";
    s.password = "wrong";
    s.reconnect_min_s = 1;
    s.reconnect_max_s = 30;
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("not authorised"), std::string::npos) << link_->last_error();
    EXPECT_FALSE(link_->connected());
    EXPECT_EQ(send("refused"), 0);
    EXPECT_TRUE(log_has("retrying in 30 s")) << "credentials errors wait the longest delay";
    EXPECT_EQ(link_->stats().connects, 0u);
    // stop() is not held up by the 30 s wait.
    const auto before = Clock::now();
    link_->stop(0);
    EXPECT_LT(Clock::now() - before, std::chrono::seconds(2));
}

TEST_F(LinuxMqttAuth, MissingCredentialsAreRefused) {
    start_link(settings());
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("not authorised"), std::string::npos) << link_->last_error();
    EXPECT_FALSE(link_->connected());
}

// Certificates made with the openssl command line: a CA, a server certificate for 127.0.0.1
// (IP SAN), a client certificate, and a second CA that signed neither.
class LinuxMqttTls : public LinuxMqtt {
  protected:
    void SetUp() override {
        LinuxMqtt::SetUp();
        if (IsSkipped()) {
            return;
        }
        if (!run("command -v openssl >/dev/null")) {
            GTEST_SKIP() << "openssl is missing (apt-get install openssl)";
        }
        const std::string d = dir_ + "/";
        const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        // The server's certificate names the address the link dials; "elsewhere" names another.
        for (const auto& [name, san] : {std::pair<const char*, const char*>{"server", "127.0.0.1"},
                                        {"elsewhere", "127.0.0.2"}}) {
            std::ofstream ext(d + name + ".ext");
            ext << "subjectAltName=IP:" << san << "\n";
        }
        ASSERT_TRUE(run("openssl req -x509" + key + " -days 1 -subj /CN=vigil-test-ca -keyout " +
                        d + "ca.key -out " + d + "ca.crt"));
        ASSERT_TRUE(run("openssl req -x509" + key + " -days 1 -subj /CN=other-ca -keyout " + d +
                        "other.key -out " + d + "other.crt"));
        for (const std::string name : {"server", "elsewhere", "client"}) {
            const std::string n = d + name;
            ASSERT_TRUE(run("openssl req" + key + " -subj /CN=" + name + " -keyout " + n +
                            ".key -out " + n + ".csr"));
            ASSERT_TRUE(run("openssl x509 -req -days 1 -in " + n + ".csr -CA " + d +
                            "ca.crt -CAkey " + d + "ca.key -CAcreateserial -out " + n + ".crt" +
                            (name == "client" ? "" : " -extfile " + n + ".ext")));
        }
        run("chmod 0644 " + d + "*.key");
        start_broker_as("server");
    }

    void start_broker_as(const std::string& name) {
        const std::string d = dir_ + "/";
        write_config("allow_anonymous true\ncafile " + d + "ca.crt\ncertfile " + d + name +
                     ".crt\nkeyfile " + d + name + ".key\nrequire_certificate true\n");
        start_broker();
    }

    MqttSettings tls_settings() const {
        MqttSettings s = settings();
        s.tls = true;
        s.ca_file = dir_ + "/ca.crt";
        s.cert_file = dir_ + "/client.crt";
        s.key_file = dir_ + "/client.key";
        return s;
    }
};

TEST_F(LinuxMqttTls, ClientCertificateConnectsAndPublishes) {
    start_link(tls_settings());
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000)) << link_->last_error();
    EXPECT_EQ(send("over tls"), 1);
    EXPECT_TRUE(link_->wait_all_acked(3000));
}

TEST_F(LinuxMqttTls, TlsVersionOneThreeConnects) {
    MqttSettings s = tls_settings();
    s.tls_version = "tlsv1.3";
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000)) << link_->last_error();
}

TEST_F(LinuxMqttTls, WrongCaIsReportedAsATlsFailure) {
    MqttSettings s = tls_settings();
    s.ca_file = dir_ + "/other.crt";
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("TLS"), std::string::npos) << link_->last_error();
    EXPECT_FALSE(link_->connected());
    // The link keeps trying (the operator may fix the CA): a second failure is logged too.
    ASSERT_TRUE(wait_for(
        [&] {
            std::lock_guard<std::mutex> lock(log_mutex_);
            return std::count_if(log_.begin(), log_.end(), [](const auto& e) {
                       return e.second.find("retrying in") != std::string::npos;
                   }) >= 2;
        },
        5000));
    EXPECT_FALSE(link_->connected());
}

TEST_F(LinuxMqttTls, CertificateForAnotherAddressIsAHostnameFailure) {
    stop_broker(SIGTERM);
    start_broker_as("elsewhere");
    start_link(tls_settings());
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("TLS"), std::string::npos) << link_->last_error();
    EXPECT_FALSE(link_->connected());
}

TEST_F(LinuxMqttTls, BrokerRequiringACertificateRefusesAClientWithout) {
    MqttSettings s = tls_settings();
    s.cert_file.clear();
    s.key_file.clear();
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return !link_->last_error().empty(); }, 3000));
    EXPECT_NE(link_->last_error().find("TLS"), std::string::npos) << link_->last_error();
    EXPECT_FALSE(link_->connected());
}

TEST_F(LinuxMqttTls, CreateChecksTheFiles) {
    std::string error;
    MqttSettings s = tls_settings();
    s.key_file = dir_ + "/server.key";
    EXPECT_EQ(MosquittoLink::create(s, error), nullptr);
    EXPECT_NE(error.find("does not match"), std::string::npos) << error;

    s = tls_settings();
    s.ca_file = dir_ + "/missing.crt";
    EXPECT_EQ(MosquittoLink::create(s, error), nullptr);
    EXPECT_NE(error.find("not readable"), std::string::npos) << error;

    s = tls_settings();
    s.ca_file = dir_ + "/server.ext";  // not a certificate
    EXPECT_EQ(MosquittoLink::create(s, error), nullptr);
    EXPECT_NE(error.find("no PEM certificate"), std::string::npos) << error;

    s = tls_settings();
    s.key_file.clear();
    EXPECT_EQ(MosquittoLink::create(s, error), nullptr);
    EXPECT_NE(error.find("go together"), std::string::npos) << error;

    s = tls_settings();
    s.tls_version = "sslv3";
    EXPECT_EQ(MosquittoLink::create(s, error), nullptr);
    EXPECT_NE(error.find("tls_version"), std::string::npos) << error;

    error.clear();
    EXPECT_NE(MosquittoLink::create(tls_settings(), error), nullptr) << error;
}

TEST(LinuxMqttSettings, CreateRejectsBadSettings) {
    const auto rejected = [](const std::function<void(MqttSettings&)>& change,
                             const std::string& words) {
        MqttSettings s;
        s.client_id = "dev-1";
        change(s);
        std::string error;
        const bool refused = MosquittoLink::create(s, error) == nullptr;
        return refused && error.find(words) != std::string::npos;
    };
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.client_id.clear(); }, "client_id"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.port = 0; }, "port"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.host.clear(); }, "host"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.password = "x"; }, "username"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.keepalive_s = 2; }, "keepalive"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.reconnect_max_s = 0; }, "reconnect"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.max_unacked = 0; }, "max_unacked"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.config_topic = "a/#/b"; }, "config_topic"));
    EXPECT_TRUE(rejected([](MqttSettings& s) { s.tls = true; }, "ca_file"));
    std::string error;
    MqttSettings good;
    good.client_id = "dev-1";
    EXPECT_NE(MosquittoLink::create(good, error), nullptr) << error;
}

TEST_F(LinuxMqtt, SendIsBusyOnceMaxUnackedPublishesAwaitTheirPuback) {
    start_broker();
    MqttSettings s = settings();
    s.max_unacked = 5;
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));
    ASSERT_EQ(kill(broker_.pid(), SIGSTOP), 0);
    int accepted = 0;
    for (int i = 0; i < 20; ++i) {
        const int32_t rc = send("held-" + std::to_string(i));
        ASSERT_GE(rc, 0);
        accepted += rc > 0 ? 1 : 0;
    }
    EXPECT_EQ(accepted, 5);
    EXPECT_EQ(link_->unacked(), 5u);
    EXPECT_EQ(link_->stats().refused_busy, 15u);
    EXPECT_TRUE(link_->connected()) << "a stopped broker still holds the connection";
    EXPECT_FALSE(link_->wait_all_acked(200));

    ASSERT_EQ(kill(broker_.pid(), SIGCONT), 0);
    EXPECT_TRUE(link_->wait_all_acked(5000));
    EXPECT_EQ(send("after"), 1);
    EXPECT_TRUE(link_->wait_all_acked(3000));
    EXPECT_EQ(link_->stats().acked, 6u);
}

// The broker is stopped with publishes on the wire, killed, and started again on the same port.
// Everything send() accepted must reach the hub's subscriber, the in-flight ones included: it
// proves that libmosquitto sends unacknowledged QoS 1 messages again after reconnecting with a
// clean session. The subscriber's persistent session is in the broker's saved database, so the
// restarted broker queues for it whatever arrives before the subscriber reconnects.
TEST_F(LinuxMqtt, NothingAcceptedIsLostWhenTheBrokerIsKilledAndRestarted) {
    write_config("allow_anonymous true\n", true);
    start_broker();
    Peer hub(port_, "hub-persistent", false);
    ASSERT_TRUE(hub.start("devices/+/messages/events/#"));
    // The first save (within about two seconds) holds the subscription made just after start.
    ASSERT_TRUE(
        wait_for([&] { return access((dir_ + "/mosquitto.db").c_str(), F_OK) == 0; }, 5000));

    MqttSettings s = settings();
    s.max_unacked = 10;
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));

    std::set<std::string> accepted;
    int next = 0;
    const auto send_next = [&]() {
        const std::string payload = "m" + std::to_string(next);
        const int32_t rc = send(payload);
        EXPECT_GE(rc, 0);
        if (rc > 0) {
            accepted.insert(payload);
            ++next;
        }
        return rc;
    };
    // Before: a steady flow, acknowledged.
    while (next < 30) {
        if (send_next() == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ASSERT_TRUE(link_->wait_all_acked(3000));
    // The broker acknowledges a publish before it has passed it on, and a broker killed with -9
    // loses what it held only in memory: what this test follows is the link's in-flight
    // publishes, so the flow before them must have reached the hub first.
    const auto all_received = [&] {
        std::set<std::string> received;
        for (const auto& m : hub.messages()) {
            received.insert(m.payload);
        }
        return std::includes(received.begin(), received.end(), accepted.begin(), accepted.end());
    };
    ASSERT_TRUE(wait_for(all_received, 3000));

    // Stopped: publishes reach the broker's socket and are never acknowledged.
    ASSERT_EQ(kill(broker_.pid(), SIGSTOP), 0);
    while (send_next() > 0) {
    }
    const size_t in_flight = link_->unacked();
    EXPECT_EQ(in_flight, 10u);

    stop_broker(SIGKILL);
    ASSERT_TRUE(wait_for([&] { return !link_->connected(); }, 3000));
    EXPECT_EQ(send_next(), 0) << "busy while the broker is away";
    EXPECT_EQ(link_->unacked(), in_flight) << "the in-flight publishes are still held";

    start_broker();
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 8000)) << link_->last_error();
    EXPECT_FALSE(link_->last_error().empty());
    // After: the flow resumes on the new broker.
    const int target = next + 30;
    while (next < target) {
        if (send_next() == 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    ASSERT_TRUE(link_->wait_all_acked(5000));
    if (!wait_for(all_received, 8000)) {
        std::set<std::string> received;
        for (const auto& m : hub.messages()) {
            received.insert(m.payload);
        }
        std::string missing;
        for (const auto& payload : accepted) {
            if (received.count(payload) == 0) {
                missing += payload + " ";
            }
        }
        FAIL() << "the hub did not get: " << missing << "\nbroker log:\n" << broker_.log();
    }
    // The restarted broker got the in-flight ones as retransmissions (DUP set).
    EXPECT_NE(broker_.log().find("Received PUBLISH from dev-1 (d1, q1"), std::string::npos);
    const MosquittoLink::Stats stats = link_->stats();
    EXPECT_EQ(stats.connects, 2u);
    EXPECT_EQ(stats.disconnects, 1u);
    EXPECT_EQ(stats.published, accepted.size());
    EXPECT_EQ(stats.acked, accepted.size());
}

TEST_F(LinuxMqtt, StopFlushesOutstandingPublishes) {
    start_broker();
    Peer hub(port_, "hub", true);
    ASSERT_TRUE(hub.start("devices/+/messages/events/#"));
    start_link(settings());
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(send("f" + std::to_string(i)), 1);
    }
    link_->stop(3000);
    EXPECT_EQ(link_->unacked(), 0u);
    EXPECT_TRUE(wait_for([&] { return hub.messages().size() == 10; }, 3000));
    // A second stop, and destruction after it, are harmless.
    link_->stop(0);
}

}  // namespace

namespace {

uint64_t steady_ms(void*) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count());
}

std::string config_message(uint32_t version) {
    vigil::wire::ConfigFields config;
    config.version = version;
    config.interval_s[0] = 5;
    vigil::cbor::Writer counter;
    vigil::wire::encode_config(counter, config);
    std::string out(counter.size(), '\0');
    vigil::cbor::Writer writer(reinterpret_cast<uint8_t*>(out.data()), out.size());
    vigil::wire::encode_config(writer, config);
    return out;
}

// The agent core's C ABI (one static instance per process, so one test) publishing through the
// link, and a config from the hub reaching it through next_config on the agent's thread.
TEST_F(LinuxMqtt, AgentCorePublishesThroughTheLinkAndAppliesTheHubsConfig) {
    start_broker();
    Peer hub(port_, "hub", true);
    ASSERT_TRUE(hub.start("devices/+/messages/events/#"));
    ASSERT_TRUE(hub.publish(config_topic(), config_message(3), true));
    MqttSettings s = settings();
    s.config_topic = config_topic();
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));

    vigil_port port{};
    port.now_ms = steady_ms;
    vigil_options options{};
    const vigil_transport transport = link_->transport();
    ASSERT_EQ(vigil_agent_init(&port, &transport, kDevice, &options), VIGIL_OK);
    bool config_applied = false;
    std::vector<uint8_t> config;
    const auto agent_runs_until = [&](const std::function<bool()>& done) {
        return wait_for(
            [&] {
                while (link_->next_config(config)) {
                    config_applied =
                        vigil_agent_apply_config(config.data(), config.size()) == VIGIL_OK;
                }
                (void)vigil_agent_tick();
                return done();
            },
            5000);
    };
    ASSERT_TRUE(agent_runs_until([&] { return !hub.messages().empty() && config_applied; }));
    EXPECT_EQ(vigil_agent_state(), VIGIL_STATE_ACTIVE);
    const auto message = hub.messages().front();
    EXPECT_EQ(message.topic, events_topic() + vigil::wire::kPropertyBag);
    ASSERT_FALSE(message.payload.empty());
    EXPECT_EQ(static_cast<uint8_t>(message.payload[0]) >> 5, 5) << "a CBOR map";
    EXPECT_TRUE(link_->wait_all_acked(3000));
    EXPECT_GE(link_->stats().acked, 1u);
}

// The agent's thread sends, reads configs and statistics without pause while the network thread
// loses the broker and reconnects to a new one; the ThreadSanitizer run checks this one.
TEST_F(LinuxMqtt, ConcurrencyAgentThreadKeepsSendingWhileTheLinkReconnects) {
    start_broker();
    MqttSettings s = settings();
    s.config_topic = config_topic();
    s.max_unacked = 4;
    start_link(s);
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 3000));
    std::atomic<bool> done{false};
    std::atomic<int> accepted{0};
    std::thread agent([&] {
        const vigil_transport t = link_->transport();
        std::vector<uint8_t> config;
        const uint8_t payload[] = {0xA0};
        while (!done) {
            if (t.is_connected(t.context) &&
                t.send(t.context, events_topic().c_str(), vigil::wire::kPropertyBag, payload,
                       sizeof payload) > 0) {
                ++accepted;
            }
            (void)link_->next_config(config);
            (void)link_->stats();
            (void)link_->unacked();
            (void)link_->last_error();
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop_broker(SIGKILL);
    ASSERT_TRUE(wait_for([&] { return !link_->connected(); }, 3000));
    start_broker();
    ASSERT_TRUE(wait_for([&] { return link_->connected(); }, 5000));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    done = true;
    agent.join();
    EXPECT_TRUE(link_->wait_all_acked(5000));
    const MosquittoLink::Stats stats = link_->stats();
    EXPECT_EQ(stats.published, static_cast<uint64_t>(accepted.load()));
    EXPECT_EQ(stats.acked, stats.published);
    EXPECT_EQ(stats.connects, 2u);
    link_->stop(1000);
}

}  // namespace

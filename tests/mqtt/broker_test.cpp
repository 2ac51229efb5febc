// The client against a real mosquitto, started per test on a free loopback port.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"
#include "test_broker.hpp"
#include "vigil/agent/mqtt_transport.h"
#include "vigil/mqtt/client.h"
#include "vigil/mqtt/posix_transport.h"

using namespace vigil::mqtt;

namespace {

uint32_t now_ms() {
    return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

using vigil::test::TestBroker;

struct Received {
    std::vector<std::string> topics;
    std::vector<std::string> payloads;
};

void on_message(void* context, const char* topic, size_t topic_length, const uint8_t* payload,
                size_t length) {
    auto* r = static_cast<Received*>(context);
    r->topics.emplace_back(topic, topic_length);
    r->payloads.emplace_back(reinterpret_cast<const char*>(payload), length);
}

class MqttBroker : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!TestBroker::installed()) {
            GTEST_SKIP() << TestBroker::kMosquitto << " is missing (apt-get install mosquitto)";
        }
        ASSERT_TRUE(broker_.init("vigil_mqtt_"));
        dir_ = broker_.dir();
        port_ = broker_.port();
    }

    void TearDown() override { stop_broker(SIGTERM); }

    void write_config(const std::string& extra = "allow_anonymous true\n") {
        broker_.write_config(extra);
    }

    void start_broker() {
        ASSERT_TRUE(broker_.start()) << "mosquitto did not listen; its log:\n" << broker_.log();
    }

    void stop_broker(int signal) { broker_.stop(signal); }

    void init_client(Client& client, PosixSocket& socket) {
        ASSERT_EQ(client.init(posix_transport(&socket), storage_.view()), Status::Ok);
    }

    Settings settings(const char* client_id, Received* received) {
        Settings s;
        s.host = "127.0.0.1";
        s.port = port_;
        s.connect.client_id = client_id;
        s.connect.keep_alive_s = 30;
        s.on_message = on_message;
        s.on_message_context = received;
        s.backoff_min_ms = 300;
        s.backoff_max_ms = 2000;
        s.retry_ms = 1000;
        return s;
    }

    // Drives the client until done() or timeout; every wait in these tests is bounded.
    bool run_until(Client& client, const std::function<bool()>& done, int timeout_ms = 3000) {
        const uint32_t start = now_ms();
        while (!done()) {
            (void)client.process(now_ms());
            if (now_ms() - start > static_cast<uint32_t>(timeout_ms)) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return true;
    }

    bool connect_and_subscribe(Client& client, const Settings& s, const char* topic) {
        if (client.start(s, now_ms()) != Status::Ok) {
            return false;
        }
        if (!run_until(client, [&] { return client.is_connected(); })) {
            return false;
        }
        return client.subscribe(topic, 1) == Status::Ok &&
               run_until(client, [&] { return client.is_subscribed(topic); });
    }

    TestBroker broker_;
    std::string dir_;
    uint16_t port_ = 0;
    StaticStorage<1024, 1024, 16, 256> storage_;
};

TEST_F(MqttBroker, ConnectSubscribePublishQos1AndReceiveIt) {
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Received received;
    ASSERT_TRUE(connect_and_subscribe(client, settings("vigil-one", &received), "vigil/test"));
    const uint8_t payload[] = {'h', 'e', 'l', 'l', 'o'};
    uint16_t id = 0;
    ASSERT_EQ(client.publish("vigil/test", nullptr, payload, sizeof payload, 1, &id), Status::Ok);
    EXPECT_NE(id, 0);
    ASSERT_TRUE(
        run_until(client, [&] { return !received.payloads.empty() && !client.in_flight(); }));
    EXPECT_EQ(received.topics[0], "vigil/test");
    EXPECT_EQ(received.payloads[0], "hello");
    ASSERT_EQ(client.publish("vigil/test", nullptr, payload, 2, 0), Status::Ok);
    ASSERT_TRUE(run_until(client, [&] { return received.payloads.size() == 2; }));
    EXPECT_EQ(received.payloads[1], "he");
    EXPECT_EQ(client.stop(), Status::Ok);
    EXPECT_FALSE(client.is_connected());
}

TEST_F(MqttBroker, HundredQos1PublishesAreAllAcknowledged) {
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Received received;
    ASSERT_TRUE(connect_and_subscribe(client, settings("vigil-hundred", &received), "vigil/n"));
    int published = 0;
    int busy = 0;
    const uint32_t start = now_ms();
    while (published < 100 && now_ms() - start < 5000) {
        const std::string payload = std::to_string(published);
        const Status s =
            client.publish("vigil/n", nullptr, reinterpret_cast<const uint8_t*>(payload.data()),
                           payload.size(), 1);
        if (s == Status::Ok) {
            ++published;
        } else {
            ASSERT_EQ(s, Status::Busy);
            ++busy;
            (void)client.process(now_ms());
        }
    }
    ASSERT_EQ(published, 100);
    EXPECT_GT(busy, 0) << "16 slots should have filled at least once";
    ASSERT_TRUE(run_until(
        client, [&] { return client.in_flight() == 0 && received.payloads.size() == 100; }));
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(received.payloads[static_cast<size_t>(i)], std::to_string(i));
    }
    EXPECT_EQ(client.stats().retransmits, 0u);
}

TEST_F(MqttBroker, KeepAlivePingIsAnswered) {
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Settings s = settings("vigil-ping", nullptr);
    s.on_message = nullptr;
    s.connect.keep_alive_s = 1;
    ASSERT_EQ(client.start(s, now_ms()), Status::Ok);
    ASSERT_TRUE(run_until(
        client, [&] { return client.stats().pings_answered >= 2; }, 4000));
    EXPECT_TRUE(client.is_connected());
    EXPECT_EQ(client.stats().connects, 1u);
}

TEST_F(MqttBroker, ReconnectsAfterBrokerRestartAndDeliversQueuedPublishes) {
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Received received;
    ASSERT_TRUE(connect_and_subscribe(client, settings("vigil-restart", &received), "vigil/r"));
    stop_broker(SIGKILL);
    ASSERT_TRUE(run_until(client, [&] { return !client.is_connected(); }));
    EXPECT_EQ(client.last_error(), Status::ConnectionClosed);
    for (int i = 0; i < 3; ++i) {
        const uint8_t payload = static_cast<uint8_t>('a' + i);
        ASSERT_EQ(client.publish("vigil/r", nullptr, &payload, 1, 1), Status::Ok);
    }
    EXPECT_EQ(client.in_flight(), 3u);
    start_broker();
    ASSERT_TRUE(run_until(
        client,
        [&] {
            return client.is_connected() && client.in_flight() == 0 &&
                   received.payloads.size() == 3;
        },
        5000));
    EXPECT_EQ(client.stats().connects, 2u);
    EXPECT_EQ(received.payloads, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(MqttBroker, VigilTransportPublishesWithThePropertyBag) {
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Received received;
    ASSERT_TRUE(connect_and_subscribe(client, settings("vigil-adapter", &received),
                                      "devices/d1/messages/events/#"));
    const vigil_transport transport = vigil::agent::make_mqtt_transport(client);
    EXPECT_TRUE(transport.is_connected(transport.context));
    const uint8_t payload[] = {0xA1, 0x01, 0x02};
    EXPECT_EQ(transport.send(transport.context, "devices/d1/messages/events/", "kind=flows",
                             payload, sizeof payload),
              1);
    ASSERT_TRUE(run_until(client, [&] { return !received.payloads.empty(); }));
    EXPECT_EQ(received.topics[0], "devices/d1/messages/events/kind=flows");
    EXPECT_EQ(received.payloads[0], std::string("\xA1\x01\x02", 3));
    EXPECT_LT(transport.send(transport.context, "devices/d1/#", nullptr, payload, 1), 0);
}

TEST_F(MqttBroker, BadPasswordIsRefused) {
    const std::string passwd = dir_ + "/passwd";
    const std::string command = "mosquitto_passwd -b -c " + passwd + " vigil secret 2>/dev/null";
    if (std::system(command.c_str()) != 0) {
        GTEST_SKIP() << "mosquitto_passwd is missing";
    }
    chmod(passwd.c_str(), 0644);
    write_config("allow_anonymous false\npassword_file " + passwd + "\n");
    start_broker();
    Client client;
    PosixSocket socket;
    init_client(client, socket);
    Settings s = settings("vigil-auth", nullptr);
    s.connect.username = "vigil";
    s.connect.password = "wrong";
    ASSERT_EQ(client.start(s, now_ms()), Status::Ok);
    ASSERT_TRUE(run_until(client, [&] {
        return client.last_error() == Status::RefusedBadCredentials ||
               client.last_error() == Status::RefusedNotAuthorized;
    }));
    EXPECT_FALSE(client.is_connected());

    Client good;
    PosixSocket good_socket;
    init_client(good, good_socket);
    s.connect.password = "secret";
    ASSERT_EQ(good.start(s, now_ms()), Status::Ok);
    EXPECT_TRUE(run_until(good, [&] { return good.is_connected(); }));
}

struct Held {
    std::vector<IncomingPublish> messages;  // the pointers are dropped after the call
    std::vector<std::string> payloads;
};

void on_publish(void* context, const IncomingPublish& m) {
    auto* h = static_cast<Held*>(context);
    h->messages.push_back(m);
    h->payloads.emplace_back(reinterpret_cast<const char*>(m.payload), m.payload_length);
}

TEST_F(MqttBroker, ManualAckUnacknowledgedMessagesAreRedeliveredToThePersistentSession) {
    start_broker();
    Held held;
    Settings s = settings("vigil-manual", nullptr);
    s.connect.clean_session = false;
    s.manual_ack = true;
    s.on_publish = on_publish;
    s.on_publish_context = &held;
    {
        Client receiver;
        PosixSocket socket;
        init_client(receiver, socket);
        ASSERT_TRUE(connect_and_subscribe(receiver, s, "vigil/m"));
        Client sender;
        PosixSocket sender_socket;
        StaticStorage<1024, 1024, 16, 256> sender_storage;
        ASSERT_EQ(sender.init(posix_transport(&sender_socket), sender_storage.view()), Status::Ok);
        ASSERT_EQ(sender.start(settings("vigil-sender", nullptr), now_ms()), Status::Ok);
        for (const char* p : {"a", "b"}) {
            ASSERT_EQ(sender.publish("vigil/m", nullptr, reinterpret_cast<const uint8_t*>(p), 1, 1),
                      Status::Ok);
        }
        ASSERT_TRUE(run_until(sender, [&] { return sender.in_flight() == 0; }));
        ASSERT_TRUE(run_until(receiver, [&] { return held.payloads.size() == 2; }));
        // Only "a" is acknowledged; the session ends with "b" unacknowledged.
        ASSERT_EQ(receiver.ack(held.messages[0].packet_id, held.messages[0].connection),
                  Status::Ok);
        ASSERT_TRUE(run_until(receiver, [&] { return receiver.unsent() == 0; }));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        EXPECT_EQ(receiver.stop(), Status::Ok);
        (void)sender.stop();
    }
    held = Held{};
    Client again;
    PosixSocket socket;
    init_client(again, socket);
    ASSERT_EQ(again.start(s, now_ms()), Status::Ok);
    ASSERT_TRUE(run_until(again, [&] { return held.payloads.size() == 1; }));
    EXPECT_EQ(held.payloads[0], "b");
    EXPECT_TRUE(held.messages[0].dup);
    ASSERT_EQ(again.ack(held.messages[0].packet_id, held.messages[0].connection), Status::Ok);
    // Nothing else arrives: "a" was acknowledged.
    EXPECT_FALSE(run_until(
        again, [&] { return held.payloads.size() > 1; }, 500));
}

}  // namespace

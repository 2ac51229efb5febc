// The client against a scripted in-memory transport, for timings a real broker does not give.
#include <gtest/gtest.h>

#include <vector>

#include "vigil/mqtt/client.h"

using namespace vigil::mqtt;
using Bytes = std::vector<uint8_t>;

namespace {

struct FakeNetwork {
    bool open = false;
    int connects = 0;
    bool refuse_connect = false;
    Bytes sent;
    Bytes inbox;
};

Transport fake_transport(FakeNetwork* net) {
    Transport t{};
    t.context = net;
    t.connect = [](void* c, const char*, uint16_t) {
        auto* n = static_cast<FakeNetwork*>(c);
        if (n->refuse_connect) {
            return -1;
        }
        n->open = true;
        ++n->connects;
        return 0;
    };
    t.send = [](void* c, const uint8_t* data, size_t length) {
        auto* n = static_cast<FakeNetwork*>(c);
        if (!n->open) {
            return -1;
        }
        n->sent.insert(n->sent.end(), data, data + length);
        return static_cast<int>(length);
    };
    t.recv = [](void* c, uint8_t* data, size_t length) {
        auto* n = static_cast<FakeNetwork*>(c);
        if (!n->open) {
            return -1;
        }
        // One byte at a time, so every packet arrives split across calls.
        if (n->inbox.empty() || length == 0) {
            return 0;
        }
        data[0] = n->inbox.front();
        n->inbox.erase(n->inbox.begin());
        return 1;
    };
    t.close = [](void* c) { static_cast<FakeNetwork*>(c)->open = false; };
    return t;
}

class MqttClientFake : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_EQ(client.init(fake_transport(&net), storage.view()), Status::Ok);
        settings.host = "10.0.0.1";
        settings.connect.client_id = "dev";
        settings.connect.keep_alive_s = 10;
        settings.retry_ms = 500;
    }

    void pump(uint32_t now, int rounds = 64) {
        for (int i = 0; i < rounds; ++i) {
            (void)client.process(now);
        }
    }

    void connect(uint32_t now) {
        ASSERT_EQ(client.start(settings, now), Status::Ok);
        net.sent.clear();
        net.inbox = {0x20, 0x02, 0x00, 0x00};
        pump(now);
        ASSERT_TRUE(client.is_connected());
    }

    FakeNetwork net;
    Client client;
    Settings settings;
    StaticStorage<64, 64, 2, 32> storage;
};

TEST_F(MqttClientFake, RetransmitsWithDupAfterTimeoutAndStopsOnPuback) {
    connect(0);
    const uint8_t payload = 'x';
    uint16_t id = 0;
    ASSERT_EQ(client.publish("t", nullptr, &payload, 1, 1, &id), Status::Ok);
    pump(1);
    const Bytes first = {0x32, 0x06, 0x00, 0x01, 't', 0x00, static_cast<uint8_t>(id), 'x'};
    EXPECT_EQ(net.sent, first);
    net.sent.clear();
    pump(400);
    EXPECT_TRUE(net.sent.empty());
    pump(501);
    Bytes dup = first;
    dup[0] |= 0x08;
    EXPECT_EQ(net.sent, dup);
    EXPECT_EQ(client.stats().retransmits, 1u);
    net.inbox = {0x40, 0x02, 0x00, static_cast<uint8_t>(id)};
    pump(502);
    EXPECT_EQ(client.in_flight(), 0u);
}

TEST_F(MqttClientFake, FullInFlightTableReturnsBusy) {
    const uint8_t payload = 'x';
    ASSERT_EQ(client.publish("t", nullptr, &payload, 1, 1), Status::Ok);
    ASSERT_EQ(client.publish("t", nullptr, &payload, 1, 1), Status::Ok);
    EXPECT_EQ(client.publish("t", nullptr, &payload, 1, 1), Status::Busy);
    EXPECT_EQ(client.publish("t", nullptr, &payload, 1, 0), Status::NotConnected);
    Bytes big(40, 0);
    EXPECT_EQ(client.in_flight(), 2u);
    connect(0);
    net.inbox = {0x40, 0x02, 0x00, 0x01};
    pump(1);
    EXPECT_EQ(client.publish("t", nullptr, big.data(), big.size(), 1), Status::BufferTooSmall);
}

TEST_F(MqttClientFake, MalformedIncomingPacketClosesTheConnection) {
    connect(0);
    net.inbox = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    Status last = Status::Ok;
    for (int i = 0; i < 10 && last == Status::Ok; ++i) {
        last = client.process(1);
    }
    EXPECT_EQ(last, Status::MalformedRemainingLength);
    EXPECT_FALSE(client.is_connected());
    EXPECT_FALSE(net.open);
}

TEST_F(MqttClientFake, UnknownPacketTypeAndOversizedPacketClose) {
    connect(0);
    net.inbox = {0xF0, 0x00};
    pump(1);
    EXPECT_EQ(client.last_error(), Status::UnexpectedPacket);
    pump(2000);  // backoff 1 s, then CONNECT again
    net.inbox = {0x20, 0x02, 0x00, 0x00, 0x30, 0x80, 0x01};
    pump(2001);
    EXPECT_EQ(client.last_error(), Status::PacketTooLarge);
    EXPECT_EQ(net.connects, 2);
}

TEST_F(MqttClientFake, NoPingrespWithinKeepAliveDisconnects) {
    connect(0);
    net.sent.clear();
    pump(10000);
    EXPECT_EQ(net.sent, (Bytes{0xC0, 0x00}));
    EXPECT_TRUE(client.is_connected());
    pump(19999);
    EXPECT_TRUE(client.is_connected());
    pump(20000);
    EXPECT_FALSE(client.is_connected());
    EXPECT_EQ(client.last_error(), Status::KeepAliveTimeout);
}

TEST_F(MqttClientFake, BackoffDoublesToTheCapAndResetsOnConnack) {
    settings.backoff_min_ms = 1000;
    settings.backoff_max_ms = 4000;
    net.refuse_connect = true;
    EXPECT_EQ(client.start(settings, 0), Status::ConnectFailed);
    // Attempts at 0, 1000, 3000, 7000, 11000: waits of 1, 2, 4, 4 seconds.
    const uint32_t attempts[] = {999, 1000, 2999, 3000, 6999, 7000, 10999, 11000};
    for (uint32_t t : attempts) {
        pump(t, 1);
    }
    EXPECT_EQ(client.last_error(), Status::ConnectFailed);
    net.refuse_connect = false;
    pump(15000, 1);
    EXPECT_EQ(net.connects, 1);
    net.inbox = {0x20, 0x02, 0x00, 0x00};
    pump(15000);
    EXPECT_TRUE(client.is_connected());
    net.open = false;
    pump(15001, 1);
    EXPECT_FALSE(client.is_connected());
    pump(16000, 1);
    EXPECT_EQ(net.connects, 1);
    pump(16001, 1);
    EXPECT_EQ(net.connects, 2);
}

TEST_F(MqttClientFake, RefusedCredentialsStopRetrying) {
    ASSERT_EQ(client.start(settings, 0), Status::Ok);
    net.inbox = {0x20, 0x02, 0x00, 0x04};
    pump(1);
    EXPECT_EQ(client.last_error(), Status::RefusedBadCredentials);
    pump(100000);
    EXPECT_EQ(net.connects, 1);
}

TEST_F(MqttClientFake, IncomingQos1IsDeliveredAndAcknowledged) {
    int delivered = 0;
    settings.on_message = [](void* c, const char*, size_t, const uint8_t*, size_t) {
        ++*static_cast<int*>(c);
    };
    settings.on_message_context = &delivered;
    connect(0);
    net.sent.clear();
    net.inbox = {0x32, 0x06, 0x00, 0x01, 't', 0x12, 0x34, 'p'};
    pump(1);
    EXPECT_EQ(delivered, 1);
    EXPECT_EQ(net.sent, (Bytes{0x40, 0x02, 0x12, 0x34}));
}

struct Handed {
    std::vector<IncomingPublish> messages;
};

TEST_F(MqttClientFake, ManualAckHoldsThePubackUntilAck) {
    Handed handed;
    settings.manual_ack = true;
    settings.on_publish = [](void* c, const IncomingPublish& m) {
        static_cast<Handed*>(c)->messages.push_back(m);
    };
    settings.on_publish_context = &handed;
    connect(0);
    net.sent.clear();
    net.inbox = {0x3A, 0x06, 0x00, 0x01, 't', 0x12, 0x34, 'p'};  // QoS 1 with DUP
    pump(1);
    ASSERT_EQ(handed.messages.size(), 1u);
    EXPECT_EQ(handed.messages[0].packet_id, 0x1234);
    EXPECT_EQ(handed.messages[0].qos, 1);
    EXPECT_TRUE(handed.messages[0].dup);
    EXPECT_EQ(handed.messages[0].connection, 1u);
    EXPECT_TRUE(net.sent.empty());
    EXPECT_EQ(client.ack(0x1234, handed.messages[0].connection), Status::Ok);
    pump(2);
    EXPECT_EQ(net.sent, (Bytes{0x40, 0x02, 0x12, 0x34}));
    EXPECT_EQ(client.ack(0, 1), Status::BadParameter);
}

TEST_F(MqttClientFake, ManualAckOfAnEarlierConnectionIsRefused) {
    Handed handed;
    settings.manual_ack = true;
    settings.on_publish = [](void* c, const IncomingPublish& m) {
        static_cast<Handed*>(c)->messages.push_back(m);
    };
    settings.on_publish_context = &handed;
    settings.backoff_min_ms = 10;
    connect(0);
    net.inbox = {0x32, 0x06, 0x00, 0x01, 't', 0x00, 0x07, 'p'};
    pump(1);
    ASSERT_EQ(handed.messages.size(), 1u);
    net.open = false;  // the connection drops before the message is stored
    pump(2);
    EXPECT_FALSE(client.is_connected());
    EXPECT_EQ(client.ack(7, 1), Status::NotConnected);
    net.inbox = {0x20, 0x02, 0x00, 0x00};
    pump(20);
    ASSERT_TRUE(client.is_connected());
    EXPECT_EQ(client.connection(), 2u);
    net.sent.clear();
    EXPECT_EQ(client.ack(7, 1), Status::NotConnected);
    EXPECT_EQ(client.unsent(), 0u);
}

TEST_F(MqttClientFake, AckWithoutManualAckModeIsABadParameter) {
    connect(0);
    EXPECT_EQ(client.ack(1, client.connection()), Status::BadParameter);
}

}  // namespace

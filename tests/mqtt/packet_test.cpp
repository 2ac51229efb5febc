#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "vigil/mqtt/packet.h"

using namespace vigil::mqtt;
using Bytes = std::vector<uint8_t>;

namespace {

Bytes connect_bytes(const ConnectOptions& options) {
    uint8_t out[256];
    size_t n = 0;
    EXPECT_EQ(encode_connect(options, out, sizeof out, &n), Status::Ok);
    return Bytes(out, out + n);
}

}  // namespace

TEST(MqttRemainingLength, BoundariesMatchTheSpecTable) {
    struct Case {
        uint32_t value;
        Bytes bytes;
    };
    // 3.1.1 section 2.2.3, table 2.4.
    const Case cases[] = {
        {0, {0x00}},
        {127, {0x7F}},
        {128, {0x80, 0x01}},
        {16383, {0xFF, 0x7F}},
        {16384, {0x80, 0x80, 0x01}},
        {2097151, {0xFF, 0xFF, 0x7F}},
        {2097152, {0x80, 0x80, 0x80, 0x01}},
        {268435455, {0xFF, 0xFF, 0xFF, 0x7F}},
    };
    for (const Case& c : cases) {
        uint8_t out[4];
        const size_t n = encode_remaining_length(c.value, out);
        EXPECT_EQ(Bytes(out, out + n), c.bytes) << c.value;
        uint32_t value = 0;
        size_t used = 0;
        ASSERT_EQ(decode_remaining_length(c.bytes.data(), c.bytes.size(), &value, &used),
                  Status::Ok);
        EXPECT_EQ(value, c.value);
        EXPECT_EQ(used, c.bytes.size());
        if (c.bytes.size() > 1) {
            EXPECT_EQ(decode_remaining_length(c.bytes.data(), c.bytes.size() - 1, &value, &used),
                      Status::NeedMore);
        }
    }
    uint8_t out[4];
    EXPECT_EQ(encode_remaining_length(268435456, out), 0u);
    const uint8_t five[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    uint32_t value = 0;
    size_t used = 0;
    EXPECT_EQ(decode_remaining_length(five, sizeof five, &value, &used),
              Status::MalformedRemainingLength);
}

TEST(MqttEncode, ConnectMinimal) {
    ConnectOptions o;
    o.client_id = "ab";
    o.keep_alive_s = 60;
    const Bytes expected = {0x10, 14,   0x00, 0x04, 'M',  'Q',  'T', 'T',
                            0x04, 0x02, 0x00, 60,   0x00, 0x02, 'a', 'b'};
    EXPECT_EQ(connect_bytes(o), expected);
}

TEST(MqttEncode, ConnectWithCredentialsAndPersistentSession) {
    ConnectOptions o;
    o.client_id = "c";
    o.username = "u";
    o.password = "pw";
    o.clean_session = false;
    o.keep_alive_s = 0x0102;
    const Bytes expected = {0x10, 20,   0x00, 0x04, 'M',  'Q',  'T', 'T',  0x04, 0xC0, 0x01,
                            0x02, 0x00, 0x01, 'c',  0x00, 0x01, 'u', 0x00, 0x02, 'p',  'w'};
    EXPECT_EQ(connect_bytes(o), expected);
}

TEST(MqttEncode, ConnectRejectsBadOptions) {
    uint8_t out[64];
    size_t n = 0;
    ConnectOptions o;
    EXPECT_EQ(encode_connect(o, out, sizeof out, &n), Status::BadParameter);
    o.client_id = "";
    o.clean_session = false;
    EXPECT_EQ(encode_connect(o, out, sizeof out, &n), Status::BadParameter);
    o.client_id = "x";
    o.password = "p";
    EXPECT_EQ(encode_connect(o, out, sizeof out, &n), Status::BadParameter);
    o.password = nullptr;
    EXPECT_EQ(encode_connect(o, out, 10, &n), Status::BufferTooSmall);
}

TEST(MqttEncode, PublishQos0AndQos1WithDupAndSuffix) {
    const uint8_t payload[] = {'h', 'i'};
    uint8_t out[64];
    size_t n = 0;
    PublishFields f{"a/b", nullptr, payload, 2, 0, false, false, 0};
    ASSERT_EQ(encode_publish(f, out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n), (Bytes{0x30, 7, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'}));

    f = PublishFields{"a/", "x=1", payload, 2, 1, true, true, 0x1234};
    ASSERT_EQ(encode_publish(f, out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n),
              (Bytes{0x3B, 11, 0x00, 0x05, 'a', '/', 'x', '=', '1', 0x12, 0x34, 'h', 'i'}));

    f.packet_id = 0;
    EXPECT_EQ(encode_publish(f, out, sizeof out, &n), Status::BadParameter);
    f = PublishFields{"a/#", nullptr, payload, 2, 0, false, false, 0};
    EXPECT_EQ(encode_publish(f, out, sizeof out, &n), Status::BadParameter);
    f = PublishFields{"a", nullptr, payload, 2, 0, false, false, 0};
    EXPECT_EQ(encode_publish(f, out, 5, &n), Status::BufferTooSmall);
}

TEST(MqttEncode, PublishWithTwoByteRemainingLength) {
    std::vector<uint8_t> payload(200, 0xAB);
    std::vector<uint8_t> out(300);
    size_t n = 0;
    PublishFields f{"t", nullptr, payload.data(), payload.size(), 0, false, false, 0};
    ASSERT_EQ(encode_publish(f, out.data(), out.size(), &n), Status::Ok);
    // 2 + 1 + 200 = 203 = 0xCB 0x01
    EXPECT_EQ(n, 206u);
    EXPECT_EQ(out[1], 0xCB);
    EXPECT_EQ(out[2], 0x01);
}

TEST(MqttEncode, PubackSubscribePingreqDisconnect) {
    uint8_t out[32];
    size_t n = 0;
    ASSERT_EQ(encode_puback(0xBEEF, out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n), (Bytes{0x40, 0x02, 0xBE, 0xEF}));
    ASSERT_EQ(encode_subscribe(10, "a/+", 1, out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n), (Bytes{0x82, 8, 0x00, 0x0A, 0x00, 0x03, 'a', '/', '+', 0x01}));
    ASSERT_EQ(encode_pingreq(out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n), (Bytes{0xC0, 0x00}));
    ASSERT_EQ(encode_disconnect(out, sizeof out, &n), Status::Ok);
    EXPECT_EQ(Bytes(out, out + n), (Bytes{0xE0, 0x00}));
    EXPECT_EQ(encode_puback(0, out, sizeof out, &n), Status::BadParameter);
    EXPECT_EQ(encode_subscribe(1, "t", 2, out, sizeof out, &n), Status::BadParameter);
}

TEST(MqttDecode, ServerPackets) {
    Packet p{};
    const Bytes connack = {0x20, 0x02, 0x01, 0x05};
    ASSERT_EQ(decode_packet(connack.data(), connack.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.type, PacketType::Connack);
    EXPECT_TRUE(p.session_present);
    EXPECT_EQ(p.return_code, 5);
    EXPECT_EQ(p.size, 4u);

    const Bytes puback = {0x40, 0x02, 0x01, 0x02};
    ASSERT_EQ(decode_packet(puback.data(), puback.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.type, PacketType::Puback);
    EXPECT_EQ(p.packet_id, 0x0102);

    const Bytes suback = {0x90, 0x03, 0x00, 0x07, 0x01};
    ASSERT_EQ(decode_packet(suback.data(), suback.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.type, PacketType::Suback);
    EXPECT_EQ(p.packet_id, 7);
    EXPECT_EQ(p.return_code, 1);

    const Bytes pingresp = {0xD0, 0x00};
    ASSERT_EQ(decode_packet(pingresp.data(), pingresp.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.type, PacketType::Pingresp);

    const Bytes publish1 = {0x3B, 0x07, 0x00, 0x01, 't', 0x00, 0x09, 'o', 'k', 0xD0};
    ASSERT_EQ(decode_packet(publish1.data(), publish1.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.type, PacketType::Publish);
    EXPECT_EQ(p.qos, 1);
    EXPECT_TRUE(p.dup);
    EXPECT_TRUE(p.retain);
    EXPECT_EQ(p.packet_id, 9);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.topic), p.topic_length), "t");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(p.payload), p.payload_length), "ok");
    EXPECT_EQ(p.size, 9u);  // the trailing byte belongs to the next packet

    const Bytes publish0 = {0x30, 0x03, 0x00, 0x01, 'x'};
    ASSERT_EQ(decode_packet(publish0.data(), publish0.size(), 64, &p), Status::Ok);
    EXPECT_EQ(p.qos, 0);
    EXPECT_EQ(p.payload_length, 0u);
}

TEST(MqttDecode, MalformedPacketsAreRejectedWithAClearStatus) {
    Packet p{};
    auto decode = [&](const Bytes& b, size_t max = 64) {
        return decode_packet(b.data(), b.size(), max, &p);
    };
    EXPECT_EQ(decode({0x20, 0x03, 0, 0, 0}), Status::MalformedPacket);  // CONNACK length
    EXPECT_EQ(decode({0x21, 0x02, 0, 0}), Status::MalformedPacket);     // reserved flags
    EXPECT_EQ(decode({0x20, 0x02, 0x02, 0}), Status::MalformedPacket);  // ack flags
    EXPECT_EQ(decode({0x40, 0x02, 0, 0}), Status::MalformedPacket);     // packet id 0
    EXPECT_EQ(decode({0x90, 0x02, 0, 1}), Status::MalformedPacket);     // SUBACK w/o code
    EXPECT_EQ(decode({0xD0, 0x01, 0}), Status::MalformedPacket);
    EXPECT_EQ(decode({0x36, 0x03, 0, 1, 't'}), Status::MalformedPacket);     // QoS 3
    EXPECT_EQ(decode({0x34, 0x03, 0, 1, 't'}), Status::MalformedPacket);     // QoS 2
    EXPECT_EQ(decode({0x38, 0x03, 0, 1, 't'}), Status::MalformedPacket);     // DUP on QoS 0
    EXPECT_EQ(decode({0x30, 0x03, 0, 5, 't'}), Status::MalformedPacket);     // topic past end
    EXPECT_EQ(decode({0x32, 0x04, 0, 1, 't', 0}), Status::MalformedPacket);  // id past end
    EXPECT_EQ(decode({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), Status::MalformedRemainingLength);
    EXPECT_EQ(decode({0x30, 0x80, 0x01}, 64), Status::PacketTooLarge);
    for (int type : {0, 1, 5, 6, 7, 8, 10, 11, 12, 14, 15}) {
        EXPECT_EQ(decode({static_cast<uint8_t>(type << 4), 0x00}), Status::UnexpectedPacket)
            << int(type);
    }
    EXPECT_EQ(decode({0x40}), Status::NeedMore);
    EXPECT_EQ(decode({0x40, 0x02, 0x00}), Status::NeedMore);
    EXPECT_EQ(decode({0x30, 0x80}), Status::NeedMore);
}

TEST(MqttDecode, TruncationsAndRandomBytesNeverReadOutOfBounds) {
    std::mt19937 rng(1234);
    const Bytes valid[] = {
        {0x20, 0x02, 0x00, 0x00},
        {0x3B, 0x07, 0x00, 0x01, 't', 0x00, 0x09, 'o', 'k'},
        {0x90, 0x03, 0x00, 0x07, 0x01},
        {0x40, 0x02, 0x01, 0x02},
    };
    for (const Bytes& packet : valid) {
        for (size_t cut = 0; cut < packet.size(); ++cut) {
            // An exact-size heap copy lets ASan catch a read of even one byte too many.
            std::vector<uint8_t> copy(packet.begin(), packet.begin() + static_cast<long>(cut));
            Packet p{};
            const uint8_t* data = copy.empty() ? packet.data() : copy.data();
            EXPECT_EQ(decode_packet(data, cut, 64, &p), Status::NeedMore) << cut;
        }
    }
    for (int i = 0; i < 20000; ++i) {
        const size_t length = 1 + rng() % 40;
        std::vector<uint8_t> data(length);
        for (auto& b : data) {
            b = static_cast<uint8_t>(rng());
        }
        if (i % 2 == 0) {
            data[0] = static_cast<uint8_t>((data[0] & 0x0F) | 0x30);  // mostly PUBLISH
        }
        Packet p{};
        const Status s = decode_packet(data.data(), data.size(), 32, &p);
        if (s == Status::Ok) {
            ASSERT_LE(p.size, data.size());
            if (p.type == PacketType::Publish) {
                ASSERT_LE(p.payload + p.payload_length, data.data() + data.size());
                ASSERT_LE(p.topic + p.topic_length, data.data() + data.size());
            }
        }
    }
}

// Routing: the topic and its property bag choose the decoder; bad topics, device ids, sizes and
// spoofed identities are refused with their reason before any payload is parsed.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub {
namespace {

using test::decode_on;

std::vector<uint8_t> vigil_heartbeat() {
    protocol::Message message;
    message.boot_id = 7;
    message.sequence = 1;
    message.heartbeat = wire::HeartbeatFields{};
    return protocol::encode_message(message);
}

TEST(Route, vigil_bag_selects_vigil) {
    const DecodeOutcome outcome = decode_on(test::kVigilTopic, vigil_heartbeat());
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    EXPECT_EQ(outcome.report.format, Format::Vigil);
    EXPECT_EQ(outcome.report.device_id, "sensor-7");
    EXPECT_FALSE(outcome.response.has_value());
}

TEST(Route, vigil_mti_alone_is_enough) {
    EXPECT_TRUE(decode_on("devices/a.b:c_d-1/messages/events/mti=vigil.1", vigil_heartbeat()).ok);
}

TEST(Route, defender_bag_selects_defender) {
    const DecodeOutcome outcome =
        decode_on(test::kDefenderTopic, test::defender_fixture("heartbeat"));
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    EXPECT_EQ(outcome.report.format, Format::LegacyDefender);
    EXPECT_EQ(outcome.report.device_id, "sensor-7");
}

TEST(Route, defender_bag_in_any_order_and_old_mti) {
    const std::string topic =
        "devices/d1/messages/events/"
        "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&mti=2.0-1-0-0";
    EXPECT_TRUE(decode_on(topic, test::defender_fixture("heartbeat")).ok);
}

TEST(Route, defender_mti_without_interface_id_is_unknown_format) {
    const DecodeOutcome outcome =
        decode_on("devices/d1/messages/events/mti=2.3-1-0-0", test::defender_fixture("heartbeat"));
    EXPECT_EQ(outcome.reason, reason::kUnknownFormat);
    EXPECT_EQ(outcome.report.device_id, "d1");
}

TEST(Route, the_payload_never_chooses_the_format) {
    // A valid Defender buffer on the Vigil topic is read as Vigil, and refused.
    const DecodeOutcome outcome = decode_on(test::kVigilTopic, test::defender_fixture("heartbeat"));
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.report.format, Format::Vigil);
}

TEST(Route, unknown_or_missing_mti_is_unknown_format) {
    for (const char* topic :
         {"devices/d1/messages/events/mti=2.3-0-0-0", "devices/d1/messages/events/mti=vigil.2",
          "devices/d1/messages/events/", "devices/d1/messages/events/a=b"}) {
        const DecodeOutcome outcome = decode_on(topic, vigil_heartbeat());
        EXPECT_EQ(outcome.reason, reason::kUnknownFormat) << topic;
        EXPECT_FALSE(outcome.detail.empty());
    }
}

TEST(Route, bad_escape_or_repeated_property_is_unknown_format) {
    for (const char* topic :
         {"devices/d1/messages/events/mti=vigil.1&%2", "devices/d1/messages/events/mti=vigil%zz1",
          "devices/d1/messages/events/mti=vigil.1&mti=2.3-1-0-0"}) {
        EXPECT_EQ(decode_on(topic, vigil_heartbeat()).reason, reason::kUnknownFormat) << topic;
    }
}

TEST(Route, unknown_topics) {
    for (const char* topic :
         {"", "devices", "devices/d1", "devices/d1/messages/events",
          "devices/d1/messages/other/mti=vigil.1", "telemetry/d1",
          "$aws/things/t1/defender/metrics/xml", "$aws/things/t1/defender/metrics/json/accepted",
          "$aws/things/t1/shadow/update", "$aws/things/t1"}) {
        const DecodeOutcome outcome = decode_on(topic, vigil_heartbeat());
        EXPECT_EQ(outcome.reason, reason::kUnknownTopic) << topic;
        EXPECT_FALSE(outcome.response.has_value()) << topic;
    }
}

TEST(Route, device_ids_are_checked) {
    // The rule itself is tested with the protocol (tests/protocol/topic_test.cpp).
    EXPECT_TRUE(
        decode_on("devices/Sensor-7.floor_2:east/messages/events/mti=vigil.1", vigil_heartbeat())
            .ok);
    EXPECT_EQ(decode_on("devices/a%2Fb/messages/events/mti=vigil.1", vigil_heartbeat()).reason,
              reason::kBadDeviceId);
    const DecodeOutcome outcome = decode_on(
        "devices/" + std::string(128, 'x') + "/messages/events/mti=vigil.1", vigil_heartbeat());
    EXPECT_EQ(outcome.reason, reason::kBadDeviceId);
    EXPECT_EQ(decode_on("devices//messages/events/mti=vigil.1", vigil_heartbeat()).reason,
              reason::kBadDeviceId);
}

TEST(Route, thing_names_are_checked) {
    const DecodeOutcome outcome =
        decode_on("$aws/things/thing.one/defender/metrics/json", test::bytes_of("{}"));
    EXPECT_EQ(outcome.reason, reason::kBadDeviceId);
    EXPECT_FALSE(outcome.response.has_value());  // no valid thing to answer
}

TEST(Route, connection_device_id_naming_another_device_is_spoofed) {
    for (const char* key : {"%24.cdid", "iothub-connection-device-id"}) {
        const std::string topic =
            std::string("devices/sensor-7/messages/events/mti=vigil.1&") + key + "=sensor-8";
        const DecodeOutcome outcome = decode_on(topic, vigil_heartbeat());
        EXPECT_EQ(outcome.reason, reason::kSpoofed) << key;
        EXPECT_EQ(outcome.report.device_id, "sensor-7");
        EXPECT_NE(outcome.detail.find("sensor-8"), std::string::npos);
    }
    EXPECT_TRUE(decode_on("devices/sensor-7/messages/events/mti=vigil.1&%24.cdid=sensor-7",
                          vigil_heartbeat())
                    .ok);
}

TEST(Route, oversized_is_refused_unread) {
    // Garbage that would be malformed if it were parsed: the size alone decides.
    std::vector<uint8_t> payload(kMaxPayloadBytes + 1, 0xFF);
    for (const char* topic : {test::kVigilTopic, test::kDefenderTopic, test::kAwsJsonTopic}) {
        const DecodeOutcome outcome = decode_on(topic, payload);
        EXPECT_EQ(outcome.reason, reason::kOversized) << topic;
        EXPECT_EQ(outcome.report.payload_bytes, kMaxPayloadBytes + 1);
        EXPECT_EQ(outcome.report.device_id.empty(), false);
    }
    payload.resize(kMaxPayloadBytes);
    EXPECT_NE(decode_on(test::kVigilTopic, payload).reason, reason::kOversized);
}

TEST(Route, empty_payload) {
    for (const char* topic : {test::kVigilTopic, test::kDefenderTopic, test::kAwsCborTopic}) {
        EXPECT_EQ(decode_on(topic, {}).reason, reason::kEmpty) << topic;
    }
}

TEST(Route, failure_keeps_who_and_when_but_no_content) {
    const DecodeOutcome outcome = decode_on(test::kVigilTopic, {0x01, 0x02}, 42);
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.report.device_id, "sensor-7");
    EXPECT_EQ(outcome.report.received_ms, 42);
    EXPECT_EQ(outcome.report.payload_bytes, 2u);
    EXPECT_TRUE(outcome.report.message_key.empty());
}

TEST(DecodeFile, explicit_and_auto_formats) {
    const DecodeOutcome vigil = decode_file(vigil_heartbeat(), FileFormat::Vigil);
    EXPECT_TRUE(vigil.ok);
    EXPECT_TRUE(vigil.report.device_id.empty());
    EXPECT_EQ(decode_file(test::defender_fixture("network"), FileFormat::Auto).report.format,
              Format::LegacyDefender);
    EXPECT_EQ(decode_file(vigil_heartbeat(), FileFormat::Auto).report.format, Format::Vigil);
    const DecodeOutcome aws =
        decode_file(test::bytes_of(R"({"hed":{"rid":1,"v":"1.0"},"cmet":{}})"), FileFormat::Auto);
    EXPECT_TRUE(aws.ok);
    EXPECT_EQ(aws.report.format, Format::AwsDefender);
    EXPECT_FALSE(aws.response.has_value());
    const DecodeOutcome nothing = decode_file(test::bytes_of("hello"), FileFormat::Auto);
    EXPECT_EQ(nothing.reason, reason::kUnknownFormat);
    EXPECT_NE(nothing.detail.find("aws-cbor"), std::string::npos);
}

TEST(DecodeFile, format_names_round_trip) {
    for (FileFormat format : {FileFormat::Auto, FileFormat::Vigil, FileFormat::LegacyDefender,
                              FileFormat::AwsJson, FileFormat::AwsCbor}) {
        EXPECT_EQ(parse_file_format(to_string(format)), format);
    }
    EXPECT_FALSE(parse_file_format("xml").has_value());
}

}  // namespace
}  // namespace vigil::hub

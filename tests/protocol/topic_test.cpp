// The rules both sides share about names: the device id alphabet, AWS thing names, and the
// topics devices publish and subscribe on.
#include "vigil/protocol/topic.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::wire {
namespace {

bool device_id(const std::string& id) {
    return valid_device_id(id.data(), id.size());
}

bool thing_name(const std::string& name) {
    return valid_thing_name(name.data(), name.size());
}

/// Parts point into the topic, so the topic is a literal that outlives them.
TopicParts split(const char* topic) {
    return split_topic(topic, std::char_traits<char>::length(topic));
}

std::string id_of(const TopicParts& parts) {
    return std::string(parts.id, parts.id_length);
}

std::string rest_of(const TopicParts& parts) {
    return std::string(parts.rest, parts.rest_length);
}

TEST(DeviceId, AlphabetAndLength) {
    EXPECT_TRUE(device_id("a"));
    EXPECT_TRUE(device_id(std::string(127, 'x')));
    EXPECT_TRUE(device_id("Sensor-7.floor_2:east"));
    EXPECT_FALSE(device_id(""));
    EXPECT_FALSE(device_id(std::string(128, 'x')));
    for (const char* bad : {"a b", "a+b", "a#b", "a$b", "a/b", "caf\xc3\xa9", "a%2Fb"}) {
        EXPECT_FALSE(device_id(bad)) << bad;
    }
    EXPECT_FALSE(valid_device_id(nullptr, 0));
}

TEST(DeviceId, LengthOfATerminatedId) {
    EXPECT_EQ(device_id_length("sensor-7"), 8u);
    EXPECT_EQ(device_id_length(std::string(127, 'x').c_str()), 127u);
    EXPECT_EQ(device_id_length(std::string(128, 'x').c_str()), 0u);
    EXPECT_EQ(device_id_length(""), 0u);
    EXPECT_EQ(device_id_length("a b"), 0u);
    EXPECT_EQ(device_id_length(nullptr), 0u);
}

TEST(ThingName, AlphabetWithoutTheDot) {
    EXPECT_TRUE(thing_name(std::string(128, 'T')));
    EXPECT_FALSE(thing_name(std::string(129, 'T')));
    EXPECT_FALSE(thing_name("thing.one"));
    EXPECT_FALSE(thing_name(""));
}

TEST(Topics, NamesMatchTheHubConvention) {
    EXPECT_EQ(std::string(kTopicPrefix) + "dev-1" + kTopicSuffix + kPropertyBag,
              "devices/dev-1/messages/events/mti=vigil.1&%24.ct=application%2Fcbor");
    EXPECT_EQ(std::string(kTopicPrefix) + "dev-1" + kConfigTopicSuffix,
              "devices/dev-1/config/vigil");
}

TEST(SplitTopic, DeviceEventsGiveIdAndPropertyBag) {
    const TopicParts parts = split("devices/a.b_c:d/messages/events/mti=vigil.1");
    EXPECT_EQ(parts.kind, TopicKind::DeviceEvents);
    EXPECT_EQ(id_of(parts), "a.b_c:d");
    EXPECT_EQ(rest_of(parts), "mti=vigil.1");
    const TopicParts bare = split("devices/dev-1/messages/events/");
    EXPECT_EQ(bare.kind, TopicKind::DeviceEvents);
    EXPECT_EQ(id_of(bare), "dev-1");
    EXPECT_EQ(bare.rest_length, 0u);
    // The id is cut, not checked: an empty one is the caller's to refuse.
    EXPECT_EQ(split("devices//messages/events/").kind, TopicKind::DeviceEvents);
    EXPECT_EQ(split("devices//messages/events/").id_length, 0u);
}

TEST(SplitTopic, AwsMetricsGiveThingAndEncoding) {
    const TopicParts parts = split("$aws/things/thing-7/defender/metrics/json");
    EXPECT_EQ(parts.kind, TopicKind::AwsMetrics);
    EXPECT_EQ(id_of(parts), "thing-7");
    EXPECT_EQ(rest_of(parts), kAwsMetricsJson);
    EXPECT_EQ(rest_of(split("$aws/things/t/defender/metrics/cbor")), kAwsMetricsCbor);
}

TEST(SplitTopic, OtherTopics) {
    for (const char* topic :
         {"", "devices/", "devices/dev-1", "devices/dev-1/config/vigil", "devices/dev-1/messages/",
          "devices/dev-1/messages/events", "other/dev-1/messages/events/", "$aws/things/t",
          "$aws/things/t/shadow/update", "$aws/things/t/defender/metrics",
          "Devices/d/messages/events/"}) {
        EXPECT_EQ(split(topic).kind, TopicKind::Other) << topic;
    }
    EXPECT_EQ(split_topic(nullptr, 0).kind, TopicKind::Other);
}

TEST(SplitTopic, NeverReadsPastTheLength) {
    const std::string topic = "devices/dev-1/messages/events/";
    for (size_t length = 0; length < topic.size(); ++length) {
        // A copy of exactly `length` bytes, so a read past it shows under ASan.
        const std::string cut = topic.substr(0, length);
        std::vector<char> exact(cut.begin(), cut.end());
        EXPECT_EQ(split_topic(exact.data(), exact.size()).kind, TopicKind::Other) << length;
    }
}

}  // namespace
}  // namespace vigil::wire

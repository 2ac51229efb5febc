// Shared helpers of the decoder tests: fixture files and the topics each format arrives on.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vigil/hub/decode.hpp"

namespace vigil::hub::test {

inline std::vector<uint8_t> read_fixture(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    EXPECT_TRUE(file.good()) << path;
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

inline std::vector<uint8_t> defender_fixture(const std::string& name) {
    return read_fixture(std::string(HUB_DECODE_DEFENDER_DIR) + "/" + name + ".bin");
}

inline std::vector<uint8_t> bytes_of(const std::string& text) {
    return {text.begin(), text.end()};
}

constexpr char kVigilTopic[] =
    "devices/sensor-7/messages/events/mti=vigil.1&%24.ct=application%2Fcbor";
constexpr char kDefenderTopic[] =
    "devices/sensor-7/messages/events/"
    "mti=2.3-1-0-0&%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1";
constexpr char kAwsJsonTopic[] = "$aws/things/gateway_01/defender/metrics/json";
constexpr char kAwsCborTopic[] = "$aws/things/gateway_01/defender/metrics/cbor";

inline DecodeOutcome decode_on(const std::string& topic, std::vector<uint8_t> payload,
                               int64_t received_ms = 1700000000123) {
    Incoming message;
    message.topic = topic;
    message.payload = std::move(payload);
    message.received_ms = received_ms;
    return decode(message);
}

}  // namespace vigil::hub::test

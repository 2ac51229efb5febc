// The MQTT topics of both sides: the IoT-hub convention Vigil and legacy Defender devices
// publish on (devices/{device_id}/messages/events/{property bag}), the config topic the hub
// publishes each device's desired config on, and AWS IoT Device Defender's metrics topics, which
// the hub also reads. Freestanding: the agent core builds its topic from these constants.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vigil/protocol/device_id.h"

namespace vigil::wire {

/// Telemetry topic, IoT-hub convention: devices/{device_id}/messages/events/ then the property bag.
constexpr char kTopicPrefix[] = "devices/";
constexpr char kTopicSuffix[] = "/messages/events/";
/// URL-encoded property bag that names the payload: message type indicator and content type.
constexpr char kPropertyBag[] = "mti=vigil.1&%24.ct=application%2Fcbor";
/// Config topic the agent's transport subscribes to: devices/{device_id}/config/vigil.
constexpr char kConfigTopicSuffix[] = "/config/vigil";
/// Every device's telemetry, whatever its format (the hub's subscription).
constexpr char kEventsFilter[] = "devices/+/messages/events/#";

/// AWS IoT Device Defender: $aws/things/{thing}/defender/metrics/{json|cbor}.
constexpr char kAwsThingPrefix[] = "$aws/things/";
constexpr char kAwsMetricsSegment[] = "/defender/metrics/";
constexpr char kAwsMetricsJson[] = "json";
constexpr char kAwsMetricsCbor[] = "cbor";
constexpr char kAwsMetricsFilter[] = "$aws/things/+/defender/metrics/+";
/// An AWS IoT thing name: 1-128 bytes of A-Z a-z 0-9 - _ : (a device id's alphabet but the dot).
constexpr size_t kMaxThingNameBytes = 128;

constexpr bool valid_thing_name(const char* name, size_t length) {
    return valid_name(name, length, kMaxThingNameBytes, is_name_char);
}

enum class TopicKind : uint8_t {
    Other,         ///< neither convention
    DeviceEvents,  ///< devices/{id}/messages/events/{property bag}
    AwsMetrics,    ///< $aws/things/{thing}/defender/metrics/{encoding}
};

/// A topic cut into its parts, pointing into the caller's topic. The id is not checked: a caller
/// applies valid_device_id or valid_thing_name, so that it can say which was wrong.
struct TopicParts {
    TopicKind kind = TopicKind::Other;
    const char* id = nullptr;  ///< device id or thing name: up to the next '/'
    size_t id_length = 0;
    /// DeviceEvents: the property bag, still URL-encoded; AwsMetrics: the encoding ("json" or
    /// "cbor" when the topic is one the hub reads).
    const char* rest = nullptr;
    size_t rest_length = 0;
};

/// Splits a topic. Never reads past `length`.
TopicParts split_topic(const char* topic, size_t length);

}  // namespace vigil::wire

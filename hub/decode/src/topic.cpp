// Routing by topic and IoT-hub property bag. The payload is never looked at here: a device
// chooses its format by the topic it publishes on, and the broker authorised that topic.
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "formats.hpp"
#include "vigil/protocol/topic.h"

namespace vigil::hub {

namespace {

constexpr char kVigilMti[] = "vigil.1";
constexpr char kDefenderMti[] = "2.3-1-0-0";
constexpr char kDefenderOldMti[] = "2.0-1-0-0";  // NetX Duo before 6.1.7
constexpr char kSecurityInterfaceKey[] = "$.ifid";
constexpr char kSecurityInterfaceId[] = "urn:azureiot:Security:SecurityAgent:1";
// System properties an IoT hub stamps with the authenticated device; a device that sets one to
// another id is pretending to be that device.
constexpr const char* kConnectionDeviceKeys[] = {"$.cdid", "iothub-connection-device-id"};

bool starts_with(const std::string& text, const char* prefix) {
    return text.compare(0, std::strlen(prefix), prefix) == 0;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

using PropertyBag = std::map<std::string, std::string>;

/// Splits "k=v&k2=v2" into decoded pairs; a key repeated is an error, since two values for one
/// property would let the payload's reader and ours disagree.
std::optional<PropertyBag> parse_bag(const std::string& bag, std::string& error) {
    PropertyBag properties;
    size_t start = 0;
    while (start < bag.size()) {
        size_t end = bag.find('&', start);
        if (end == std::string::npos) {
            end = bag.size();
        }
        const std::string pair = bag.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) {
            continue;
        }
        const size_t equals = pair.find('=');
        const auto key = detail::url_decode(pair.substr(0, equals));
        const auto value =
            detail::url_decode(equals == std::string::npos ? "" : pair.substr(equals + 1));
        if (!key || !value) {
            error = "property bag: bad %-escape in \"" + pair + "\"";
            return std::nullopt;
        }
        if (!properties.emplace(*key, *value).second) {
            error = "property bag: \"" + *key + "\" given twice";
            return std::nullopt;
        }
    }
    return properties;
}

detail::Route failed(detail::Route route, const char* reason, std::string text) {
    route.ok = false;
    route.reason = reason;
    route.detail = std::move(text);
    return route;
}

detail::Route route_device(const std::string& topic) {
    detail::Route route;
    const wire::TopicParts parts = wire::split_topic(topic.data(), topic.size());
    if (parts.kind != wire::TopicKind::DeviceEvents) {
        return failed(route, reason::kUnknownTopic, "not devices/{id}/messages/events/");
    }
    const std::string id(parts.id, parts.id_length);
    if (!wire::valid_device_id(parts.id, parts.id_length)) {
        return failed(route, reason::kBadDeviceId,
                      "device id in topic is not 1-127 of A-Za-z0-9-._:");
    }
    route.device_id = id;

    std::string error;
    const auto bag = parse_bag(std::string(parts.rest, parts.rest_length), error);
    if (!bag) {
        return failed(route, reason::kUnknownFormat, error);
    }
    const auto mti = bag->find("mti");
    if (mti == bag->end()) {
        return failed(route, reason::kUnknownFormat, "property bag has no mti");
    }
    if (mti->second == kVigilMti) {
        route.format = Format::Vigil;
    } else if (mti->second == kDefenderMti || mti->second == kDefenderOldMti) {
        route.format = Format::LegacyDefender;
        const auto interface = bag->find(kSecurityInterfaceKey);
        if (interface == bag->end() || interface->second != kSecurityInterfaceId) {
            return failed(route, reason::kUnknownFormat,
                          "mti " + mti->second + " without $.ifid=" + kSecurityInterfaceId);
        }
    } else {
        return failed(route, reason::kUnknownFormat, "unknown mti \"" + mti->second + "\"");
    }
    for (const char* key : kConnectionDeviceKeys) {
        const auto claimed = bag->find(key);
        if (claimed != bag->end() && claimed->second != id) {
            return failed(
                route, reason::kSpoofed,
                std::string(key) + " names \"" + claimed->second + "\", topic \"" + id + "\"");
        }
    }
    route.ok = true;
    return route;
}

detail::Route route_aws(const std::string& topic) {
    detail::Route route;
    route.format = Format::AwsDefender;
    if (topic.find('/', std::strlen(wire::kAwsThingPrefix)) == std::string::npos) {
        return failed(route, reason::kUnknownTopic, "not $aws/things/{thing}/defender/metrics/...");
    }
    const wire::TopicParts parts = wire::split_topic(topic.data(), topic.size());
    const std::string encoding = parts.kind == wire::TopicKind::AwsMetrics
                                     ? std::string(parts.rest, parts.rest_length)
                                     : std::string();
    if (encoding == wire::kAwsMetricsJson) {
        route.aws_encoding = detail::AwsEncoding::Json;
    } else if (encoding == wire::kAwsMetricsCbor) {
        route.aws_encoding = detail::AwsEncoding::Cbor;
    } else {
        return failed(route, reason::kUnknownTopic,
                      "not $aws/things/{thing}/defender/metrics/json or /cbor");
    }
    if (!wire::valid_thing_name(parts.id, parts.id_length)) {
        return failed(route, reason::kBadDeviceId, "thing name is not 1-128 of A-Za-z0-9-_:");
    }
    route.device_id.assign(parts.id, parts.id_length);
    route.ok = true;
    return route;
}

}  // namespace

namespace detail {

std::optional<std::string> url_decode(const std::string& text) {
    std::string decoded;
    decoded.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            decoded.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            return std::nullopt;
        }
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        decoded.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return decoded;
}

Route route(const std::string& topic) {
    if (starts_with(topic, wire::kTopicPrefix)) {
        return route_device(topic);
    }
    if (starts_with(topic, wire::kAwsThingPrefix)) {
        return route_aws(topic);
    }
    return failed(Route{}, reason::kUnknownTopic, "no decoder for this topic");
}

}  // namespace detail
}  // namespace vigil::hub

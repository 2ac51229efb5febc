// The MQTT output: each alert event's JSON published on the hub's own broker, on a topic that may
// name the device ({device_id}) and the category ({category}), at QoS 0, 1 or 2; each
// recommendation event's on vigil/recommendations/<device>/<kind>. The connection is
// the hub's (its administration account), not the policy's; the output keeps it up by itself,
// reconnecting with the output's backoff.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "vigil/hub/outputs/output.hpp"
#include "vigil/protocol/device_id.h"

namespace vigil::hub::outputs {

struct MqttConnection {
    std::string host = "127.0.0.1";
    uint16_t port = 1883;
    std::string username, password;  ///< "" no authentication
    /// Each output connects as client_id_prefix + its name.
    std::string client_id_prefix = std::string(wire::kHubClientIdPrefix) + "output-";
};

/// nullptr and `error` set when the topic is empty or holds a wildcard, or the QoS is above 2.
std::unique_ptr<Output> make_mqtt_output(const detect::OutputSettings& settings,
                                         const MqttConnection& connection, std::string& error,
                                         OutputLog log = nullptr);

/// The topic with {device_id} and {category} filled in; MQTT wildcards in the values become '_'.
std::string alert_topic(const std::string& pattern, const Alert& alert);

/// Recommendation events go beside the alerts, whatever the output's topic:
/// vigil/recommendations/{device_id}/{kind}, the values made safe as in alert_topic().
constexpr const char* kRecommendationTopicRoot = "vigil/recommendations";
std::string recommendation_topic(const Recommendation& recommendation);

}  // namespace vigil::hub::outputs

// The agent's transport interface (vigil_transport) over Vigil's MQTT client, for devices that
// run that client: each agent message becomes a QoS 1 PUBLISH on the topic with the property bag
// appended, as IoT hubs expect. An application with an MQTT client of its own implements
// vigil_transport over that one instead.
#ifndef VIGIL_AGENT_MQTT_TRANSPORT_H
#define VIGIL_AGENT_MQTT_TRANSPORT_H

#include "vigil/agent/vigil_agent.h"
#include "vigil/mqtt/client.h"

namespace vigil::agent {

inline bool mqtt_transport_is_connected(void* context) {
    return static_cast<const mqtt::Client*>(context)->is_connected();
}

inline int32_t mqtt_transport_send(void* context, const char* topic, const char* property_bag,
                                   const uint8_t* payload, size_t length) {
    const mqtt::Status s =
        static_cast<mqtt::Client*>(context)->publish(topic, property_bag, payload, length, 1);
    if (s == mqtt::Status::Ok) {
        return 1;
    }
    return s == mqtt::Status::Busy ? 0 : -static_cast<int32_t>(s);
}

// The client must outlive the agent that uses the returned transport.
inline vigil_transport make_mqtt_transport(mqtt::Client& client) {
    vigil_transport transport{};
    transport.context = &client;
    transport.is_connected = mqtt_transport_is_connected;
    transport.send = mqtt_transport_send;
    return transport;
}

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_MQTT_TRANSPORT_H

// Lets the Vigil agent core publish through a vigil::mqtt::Client: each agent message becomes a
// QoS 1 PUBLISH on the topic with the property bag appended, as IoT hubs expect.
#ifndef VIGIL_MQTT_VIGIL_TRANSPORT_ADAPTER_H
#define VIGIL_MQTT_VIGIL_TRANSPORT_ADAPTER_H

#include "vigil/agent/vigil_agent.h"
#include "vigil/mqtt/client.h"

namespace vigil::mqtt {

inline bool vigil_transport_is_connected(void* context) {
    return static_cast<const Client*>(context)->is_connected();
}

inline int32_t vigil_transport_send(void* context, const char* topic, const char* property_bag,
                                    const uint8_t* payload, size_t length) {
    const Status s =
        static_cast<Client*>(context)->publish(topic, property_bag, payload, length, 1);
    if (s == Status::Ok) {
        return 1;
    }
    return s == Status::Busy ? 0 : -static_cast<int32_t>(s);
}

// The client must outlive the agent that uses the returned transport.
inline vigil_transport make_vigil_transport(Client& client) {
    vigil_transport transport{};
    transport.context = &client;
    transport.is_connected = vigil_transport_is_connected;
    transport.send = vigil_transport_send;
    return transport;
}

}  // namespace vigil::mqtt

#endif  // VIGIL_MQTT_VIGIL_TRANSPORT_ADAPTER_H

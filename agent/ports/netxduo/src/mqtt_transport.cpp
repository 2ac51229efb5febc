// The transport over NetX Duo's MQTT client. Runs in the Vigil thread.
#include <cstring>

#include "vigil/ports/netxduo_mqtt.h"

namespace {

bool is_connected(void* context) {
    const auto* mqtt = static_cast<const VIGIL_NETXDUO_MQTT*>(context);
    return mqtt->client != nullptr &&
           mqtt->client->nxd_mqtt_client_state == NXD_MQTT_CLIENT_STATE_CONNECTED;
}

int32_t send(void* context, const char* topic, const char* property_bag, const uint8_t* payload,
             size_t length) {
    auto* mqtt = static_cast<VIGIL_NETXDUO_MQTT*>(context);
    const size_t topic_length = std::strlen(topic);
    const size_t bag_length = property_bag != nullptr ? std::strlen(property_bag) : 0;
    if (topic_length + bag_length > sizeof(mqtt->topic) || length > 0xFFFFFFFFu) {
        ++mqtt->failed;
        return -1;
    }
    std::memcpy(mqtt->topic, topic, topic_length);
    if (bag_length != 0) {
        std::memcpy(mqtt->topic + topic_length, property_bag, bag_length);
    }
    // The client copies topic and payload into its own packet before it returns.
    const UINT status = nxd_mqtt_client_publish(
        mqtt->client, mqtt->topic, static_cast<UINT>(topic_length + bag_length),
        reinterpret_cast<CHAR*>(const_cast<uint8_t*>(payload)), static_cast<UINT>(length), 0, 1,
        NX_NO_WAIT);
    switch (status) {
        case NXD_MQTT_SUCCESS:
            ++mqtt->published;
            return 1;
        case NXD_MQTT_PACKET_POOL_FAILURE:
        case NXD_MQTT_COMMUNICATION_FAILURE:
        case NXD_MQTT_INTERNAL_ERROR:  // a packet append that found the pool empty
        case NX_NO_PACKET:
        case NX_WINDOW_OVERFLOW:
        case NX_TX_QUEUE_DEPTH:
            ++mqtt->busy;
            return 0;
        default:
            ++mqtt->failed;
            return -1;
    }
}

}  // namespace

extern "C" vigil_transport vigil_netxduo_mqtt_transport(VIGIL_NETXDUO_MQTT* mqtt,
                                                        NXD_MQTT_CLIENT* client) {
    vigil_transport transport{};
    if (mqtt == nullptr) {
        return transport;
    }
    *mqtt = VIGIL_NETXDUO_MQTT{};
    mqtt->client = client;
    transport.context = mqtt;
    transport.is_connected = &is_connected;
    transport.send = &send;
    return transport;
}

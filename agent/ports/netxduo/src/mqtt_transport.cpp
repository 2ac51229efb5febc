// The transport over NetX Duo's MQTT client, and the source of configs from the hub. Both run in
// the Vigil thread.
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

// The client's message_get leaves a message too long for the buffer at the head of its queue,
// where it would hold back every later one: take it off and release it, under the client's
// mutex as the client does.
void drop_oldest_message(NXD_MQTT_CLIENT* client) {
    tx_mutex_get(client->nxd_mqtt_client_mutex_ptr, TX_WAIT_FOREVER);
    NX_PACKET* oldest = client->message_receive_queue_head;
    if (oldest != nullptr && client->message_receive_queue_depth != 0) {
        client->message_receive_queue_head = oldest->nx_packet_queue_next;
        if (client->message_receive_queue_tail == oldest) {
            client->message_receive_queue_tail = nullptr;
        }
        --client->message_receive_queue_depth;
        nx_packet_release(oldest);
    }
    tx_mutex_put(client->nxd_mqtt_client_mutex_ptr);
}

// Bounds the work of one take when the queue holds other topics or oversized messages.
constexpr int kMessagesPerTake = 4;

const UCHAR* take_config(void* context, ULONG* length) {
    auto* mqtt = static_cast<VIGIL_NETXDUO_MQTT*>(context);
    NXD_MQTT_CLIENT* client = mqtt->client;
    // Unlocked look first: an idle tick costs no mutex. A message queued meanwhile waits a tick.
    if (client == nullptr || mqtt->config_topic_length == 0) {
        return nullptr;
    }
    for (int message = 0; message < kMessagesPerTake; ++message) {
        if (client->message_receive_queue_depth == 0) {
            return nullptr;
        }
        UINT topic_length = 0;
        UINT config_length = 0;
        const UINT status = nxd_mqtt_client_message_get(
            client, reinterpret_cast<UCHAR*>(mqtt->topic), sizeof(mqtt->topic), &topic_length,
            mqtt->config, sizeof(mqtt->config), &config_length);
        if (status == NXD_MQTT_INSUFFICIENT_BUFFER_SPACE) {
            drop_oldest_message(client);
            ++mqtt->configs_dropped;
            continue;
        }
        if (status != NXD_MQTT_SUCCESS) {
            return nullptr;
        }
        if (topic_length != mqtt->config_topic_length ||
            std::memcmp(mqtt->topic, mqtt->config_topic, topic_length) != 0) {
            ++mqtt->messages_ignored;
            continue;
        }
        ++mqtt->configs_taken;
        *length = config_length;
        return mqtt->config;
    }
    return nullptr;
}

}  // namespace

extern "C" VIGIL_NETXDUO_CONFIG_SOURCE vigil_netxduo_mqtt_config_source(VIGIL_NETXDUO_MQTT* mqtt) {
    VIGIL_NETXDUO_CONFIG_SOURCE source{};
    if (mqtt != nullptr) {
        source.context = mqtt;
        source.take = &take_config;
    }
    return source;
}

extern "C" UINT vigil_netxduo_mqtt_config_subscribe(VIGIL_NETXDUO_MQTT* mqtt,
                                                    const char* device_id) {
    if (mqtt == nullptr || mqtt->client == nullptr || device_id == nullptr) {
        return NX_PTR_ERROR;
    }
    static constexpr char kPrefix[] = "devices/";
    static constexpr char kSuffix[] = "/config/vigil";
    const size_t id_length = std::strlen(device_id);
    const size_t length = sizeof(kPrefix) - 1 + id_length + sizeof(kSuffix) - 1;
    if (id_length == 0 || length > sizeof(mqtt->config_topic)) {
        return NX_SIZE_ERROR;
    }
    // The same bytes on every reconnect, so the Vigil thread never reads a half-written topic.
    if (mqtt->config_topic_length == 0) {
        char* end = mqtt->config_topic;
        std::memcpy(end, kPrefix, sizeof(kPrefix) - 1);
        end += sizeof(kPrefix) - 1;
        std::memcpy(end, device_id, id_length);
        end += id_length;
        std::memcpy(end, kSuffix, sizeof(kSuffix) - 1);
        mqtt->config_topic_length = static_cast<UINT>(length);
    }
    return nxd_mqtt_client_subscribe(mqtt->client, mqtt->config_topic, mqtt->config_topic_length,
                                     1);
}

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

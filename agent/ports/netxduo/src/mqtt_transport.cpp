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

// Bytes of the PUBLISH the client builds at QoS 1: the fixed header with its remaining length,
// the topic with its length, the packet identifier and the payload.
ULONG publish_bytes(size_t topic_length, size_t payload_length) {
    const size_t remaining = 2 + topic_length + 2 + payload_length;
    size_t length_bytes = 1;
    for (size_t rest = remaining >> 7; rest != 0; rest >>= 7) {
        ++length_bytes;
    }
    return static_cast<ULONG>(1 + length_bytes + remaining);
}

ULONG packets_for(ULONG bytes, ULONG per_packet) {
    return per_packet == 0 ? bytes : (bytes + per_packet - 1) / per_packet;
}

// NetX sends what the TCP window takes of a packet and, without a wait, refuses the rest
// (nx_tcp_socket_send returns NX_WINDOW_OVERFLOW, NX_TX_QUEUE_DEPTH or NX_NO_PACKET with part of
// the packet on the wire); the add-on then drops the packet. The broker would read the start of
// the next message as the rest of that one. So the whole PUBLISH must fit what the socket can
// send now: the window (advertised and congestion, less what is in flight), the socket's
// transmit queue (a segment per MSS) and the packet pool (the message, the client's copy kept
// for a resend, the segments). Called with the IP instance's protection held, so nothing the
// IP thread does can shrink them before the publish.
bool socket_takes_whole(const NXD_MQTT_CLIENT* client, ULONG bytes) {
    const NX_TCP_SOCKET& socket = client->nxd_mqtt_client_socket;
    ULONG window = socket.nx_tcp_socket_tx_window_advertised;
    if (socket.nx_tcp_socket_tx_window_congestion < window) {
        window = socket.nx_tcp_socket_tx_window_congestion;
    }
    if (window <= socket.nx_tcp_socket_tx_outstanding_bytes ||
        window - socket.nx_tcp_socket_tx_outstanding_bytes < bytes) {
        return false;
    }
    const ULONG segments = packets_for(bytes, socket.nx_tcp_socket_connect_mss);
    if (socket.nx_tcp_socket_transmit_sent_count + segments >
        socket.nx_tcp_socket_transmit_queue_maximum) {
        return false;
    }
    const NX_PACKET_POOL* pool = client->nxd_mqtt_client_packet_pool_ptr;
    const ULONG room = pool->nx_packet_pool_payload_size > NX_IPv6_TCP_PACKET
                           ? pool->nx_packet_pool_payload_size - NX_IPv6_TCP_PACKET
                           : 0;
    return pool->nx_packet_pool_available >= 2 * packets_for(bytes, room) + segments;
}

// A QoS 1 publish that the socket refused leaves the client's copy of it at the tail of the
// transmit queue, where a reconnect would send it again beside the agent's own retry; the
// publish call held the client's mutex throughout, so the tail is that copy.
void withdraw_copy(NXD_MQTT_CLIENT* client, NX_PACKET* tail_before) {
    NX_PACKET* copy = client->message_transmit_queue_tail;
    if (copy == nullptr || copy == tail_before) {
        return;
    }
    if (client->message_transmit_queue_head == copy) {
        client->message_transmit_queue_head = nullptr;
    } else {
        NX_PACKET* before = client->message_transmit_queue_head;
        while (before->nx_packet_queue_next != copy) {
            before = before->nx_packet_queue_next;
        }
        before->nx_packet_queue_next = nullptr;
    }
    client->message_transmit_queue_tail = tail_before;
#ifdef NXD_MQTT_MAXIMUM_TRANSMIT_QUEUE_DEPTH
    --client->message_transmit_queue_depth;
#endif
    nx_packet_release(copy);
}

int32_t send(void* context, const char* topic, const char* property_bag, const uint8_t* payload,
             size_t length) {
    auto* mqtt = static_cast<VIGIL_NETXDUO_MQTT*>(context);
    const size_t topic_length = std::strlen(topic);
    const size_t bag_length = property_bag != nullptr ? std::strlen(property_bag) : 0;
    if (mqtt->client == nullptr || topic_length + bag_length > sizeof(mqtt->topic) ||
        length > 0x0FFFFFFFu) {
        ++mqtt->failed;
        return -1;
    }
    std::memcpy(mqtt->topic, topic, topic_length);
    if (bag_length != 0) {
        std::memcpy(mqtt->topic + topic_length, property_bag, bag_length);
    }
    NXD_MQTT_CLIENT* client = mqtt->client;
    // The client's mutex keeps its thread (PUBACK, PINGREQ) off the socket and the transmit
    // queue; the IP instance's protection keeps the IP thread off the window. The client takes
    // them in this order itself.
    tx_mutex_get(client->nxd_mqtt_client_mutex_ptr, TX_WAIT_FOREVER);
    NX_IP* ip = client->nxd_mqtt_client_ip_ptr;
    tx_mutex_get(&ip->nx_ip_protection, TX_WAIT_FOREVER);
    UINT status = NXD_MQTT_NOT_CONNECTED;
    bool broken = false;
    if (client->nxd_mqtt_client_state == NXD_MQTT_CLIENT_STATE_CONNECTED) {
        if (!socket_takes_whole(client, publish_bytes(topic_length + bag_length, length))) {
            status = NX_WINDOW_OVERFLOW;
        } else {
            const ULONG sequence_before = client->nxd_mqtt_client_socket.nx_tcp_socket_tx_sequence;
            NX_PACKET* const tail_before = client->message_transmit_queue_tail;
            // The client copies topic and payload into its own packet before it returns.
            status = nxd_mqtt_client_publish(client, mqtt->topic,
                                             static_cast<UINT>(topic_length + bag_length),
                                             reinterpret_cast<CHAR*>(const_cast<uint8_t*>(payload)),
                                             static_cast<UINT>(length), 0, 1, NX_NO_WAIT);
            if (status != NXD_MQTT_SUCCESS) {
                withdraw_copy(client, tail_before);
                broken =
                    client->nxd_mqtt_client_socket.nx_tcp_socket_tx_sequence != sequence_before;
            }
        }
    }
    tx_mutex_put(&ip->nx_ip_protection);
    tx_mutex_put(client->nxd_mqtt_client_mutex_ptr);
    if (broken) {
        // Part of the message is on the wire after all (the pool ran dry under a receive
        // interrupt): the stream cannot go on. The application's reconnect starts a clean one and
        // the agent sends the message again.
        ++mqtt->streams_broken;
        nxd_mqtt_client_disconnect(client);
    }
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

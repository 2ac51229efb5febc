// Vigil's messages over NetX Duo's own MQTT client. The device instance runs the client and the
// agent; the peer instance runs a minimal MQTT 3.1.1 broker written here on NetX TCP (CONNECT,
// PUBLISH at QoS 1, PINGREQ: all a publishing client needs), so the messages cross the real
// NetX stack and the client's real code. Each received message is decoded and checked.
//
// The add-on passes its client pointer through 32-bit ULONGs on 64-bit hosts, so the client is a
// static object and this program is linked without PIE (the object then sits below 4 GiB).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "nx_api.h"
#include "nxd_mqtt_client.h"
#include "one_second_config.hpp"
#include "two_instances.hpp"
#include "tx_api.h"
#include "vigil/ports/netxduo.h"
#include "vigil/ports/netxduo_mqtt.h"
#include "vigil/protocol/message.h"
#include "vigil/protocol/wire.h"

namespace {

using namespace vigil::test::netx;

constexpr char kDeviceId[] = "netx-mqtt-1";
constexpr UINT kBrokerPort = 1883;
constexpr ULONG kWait = 2 * TX_TIMER_TICKS_PER_SECOND;

NXD_MQTT_CLIENT g_client;
alignas(16) UCHAR g_client_stack[16384];
alignas(16) UCHAR g_client_memory[4096];
VIGIL_NETXDUO_MQTT g_vigil_mqtt;
NX_TCP_SOCKET g_broker;

NXD_ADDRESS g_broker_address;
constexpr UINT kConnectPending = 0xFFFFFFFFu;
UINT g_connect_status = kConnectPending;
TX_THREAD g_connector;
alignas(16) UCHAR g_connector_stack[16384];

void connect_client(ULONG) {
    g_connect_status =
        nxd_mqtt_client_connect(&g_client, &g_broker_address, kBrokerPort, 60, 1, kWait);
}

struct Publish {
    std::string topic;
    std::vector<uint8_t> payload;
};

void broker_send(std::initializer_list<uint8_t> bytes) {
    std::vector<uint8_t> data(bytes);
    NX_PACKET* packet = nullptr;
    ASSERT_EQ(nx_packet_allocate(&g_pool, &packet, NX_TCP_PACKET, kWait),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(
        nx_packet_data_append(packet, data.data(), static_cast<ULONG>(data.size()), &g_pool, kWait),
        static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_socket_send(&g_broker, packet, kWait), static_cast<UINT>(NX_SUCCESS));
}

// Takes every complete MQTT packet off the front of `stream`; answers CONNECT, PUBLISH (QoS 1)
// and PINGREQ the way a broker does.
void serve(std::vector<uint8_t>& stream, std::vector<Publish>& received, bool& connected) {
    for (;;) {
        if (stream.size() < 2) {
            return;
        }
        size_t remaining = 0;
        size_t header = 1;
        for (unsigned shift = 0;; shift += 7) {
            if (header >= stream.size() || shift > 21) {
                return;
            }
            const uint8_t byte = stream[header++];
            remaining |= static_cast<size_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) {
                break;
            }
        }
        if (stream.size() < header + remaining) {
            return;
        }
        const uint8_t type = stream[0] >> 4;
        const uint8_t* body = stream.data() + header;
        if (type == 1) {  // CONNECT
            broker_send({0x20, 0x02, 0x00, 0x00});
            connected = true;
        } else if (type == 3) {  // PUBLISH
            const unsigned qos = (stream[0] >> 1) & 3;
            const size_t topic_length = static_cast<size_t>(body[0] << 8 | body[1]);
            Publish publish;
            publish.topic.assign(reinterpret_cast<const char*>(body + 2), topic_length);
            size_t offset = 2 + topic_length;
            if (qos > 0) {
                broker_send({0x40, 0x02, body[offset], body[offset + 1]});  // PUBACK
                offset += 2;
            }
            publish.payload.assign(body + offset, body + remaining);
            received.push_back(std::move(publish));
        } else if (type == 12) {  // PINGREQ
            broker_send({0xD0, 0x00});
        }
        stream.erase(stream.begin(), stream.begin() + static_cast<long>(header + remaining));
    }
}

void receive_into(std::vector<uint8_t>& stream, ULONG wait) {
    NX_PACKET* packet = nullptr;
    if (nx_tcp_socket_receive(&g_broker, &packet, wait) != NX_SUCCESS) {
        return;
    }
    std::vector<uint8_t> bytes(packet->nx_packet_length);
    ULONG copied = 0;
    nx_packet_data_retrieve(packet, bytes.data(), &copied);
    stream.insert(stream.end(), bytes.begin(), bytes.begin() + static_cast<long>(copied));
    nx_packet_release(packet);
}

TEST(NetxduoMqtt, PublishesVigilMessagesThroughNetxDuosMqttClient) {
    ASSERT_EQ(nx_tcp_socket_create(&g_peer, &g_broker, const_cast<CHAR*>("broker"), NX_IP_NORMAL,
                                   NX_FRAGMENT_OKAY, 0x80, 16384, NX_NULL, NX_NULL),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(nx_tcp_server_socket_listen(&g_peer, kBrokerPort, &g_broker, 2, NX_NULL),
              static_cast<UINT>(NX_SUCCESS));
    ASSERT_EQ(
        nxd_mqtt_client_create(&g_client, const_cast<CHAR*>("mqtt"), const_cast<CHAR*>(kDeviceId),
                               sizeof(kDeviceId) - 1, &g_device, &g_pool, g_client_stack,
                               sizeof(g_client_stack), 3, g_client_memory, sizeof(g_client_memory)),
        static_cast<UINT>(NXD_MQTT_SUCCESS));
    NXD_ADDRESS broker{};
    broker.nxd_ip_version = NX_IP_VERSION_V4;
    broker.nxd_ip_address.v4 = kPeerV4;
    // The client's connect waits for CONNACK and this thread is the broker, so another thread
    // connects. (A connect that does not wait needs NX_ENABLE_EXTENDED_NOTIFY_SUPPORT.)
    g_broker_address = broker;
    ASSERT_EQ(tx_thread_create(&g_connector, const_cast<CHAR*>("connector"), connect_client, 0,
                               g_connector_stack, sizeof(g_connector_stack), 15, 15,
                               TX_NO_TIME_SLICE, TX_AUTO_START),
              static_cast<UINT>(TX_SUCCESS));
    ASSERT_EQ(nx_tcp_server_socket_accept(&g_broker, kWait), static_cast<UINT>(NX_SUCCESS));

    std::vector<uint8_t> stream;
    std::vector<Publish> received;
    bool connected = false;
    for (int i = 0; i < 20 && g_client.nxd_mqtt_client_state != NXD_MQTT_CLIENT_STATE_CONNECTED;
         ++i) {
        receive_into(stream, TX_TIMER_TICKS_PER_SECOND / 10);
        serve(stream, received, connected);
    }
    ASSERT_TRUE(connected);
    for (int i = 0; i < 20 && g_connect_status == kConnectPending; ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    ASSERT_EQ(g_connect_status, static_cast<UINT>(NXD_MQTT_SUCCESS));
    ASSERT_EQ(g_client.nxd_mqtt_client_state, static_cast<UINT>(NXD_MQTT_CLIENT_STATE_CONNECTED));

    const std::vector<uint8_t> config = one_second_config();
    VIGIL_NETXDUO_SETTINGS settings{};
    settings.device_id = kDeviceId;
    settings.transport = vigil_netxduo_mqtt_transport(&g_vigil_mqtt, &g_client);
    settings.local_config = config.data();
    settings.local_config_length = config.size();
    ASSERT_EQ(vigil_netxduo_enable(&settings), static_cast<UINT>(NX_SUCCESS));

    // Serve until a network-activity message arrives that holds the MQTT connection itself.
    bool saw_own_connection = false;
    bool saw_system = false;
    const std::string topic =
        std::string("devices/") + kDeviceId + "/messages/events/" + vigil::wire::kPropertyBag;
    for (int i = 0; i < 100 && !(saw_own_connection && saw_system); ++i) {
        receive_into(stream, TX_TIMER_TICKS_PER_SECOND / 10);
        serve(stream, received, connected);
        for (const Publish& publish : received) {
            EXPECT_EQ(publish.topic, topic);
            vigil::protocol::Message message;
            const auto result = vigil::protocol::decode_message(publish.payload.data(),
                                                                publish.payload.size(), message);
            ASSERT_TRUE(result.ok()) << result.detail;
            saw_system = saw_system || (message.system && message.system->stack_name == "NetX Duo");
            if (!message.network) {
                continue;
            }
            for (const auto& flow : message.network->flows) {
                const auto& local = message.network->local_addresses.at(flow.local_index);
                if (local.family == 4 && flow.fields.remote_port == kBrokerPort &&
                    flow.protocol() == vigil::wire::Protocol::Tcp &&
                    flow.fields.local_port == g_client.nxd_mqtt_client_socket.nx_tcp_socket_port &&
                    flow.fields.packets_out > 0) {
                    saw_own_connection = true;
                }
            }
        }
        received.clear();
    }
    EXPECT_TRUE(saw_system);
    EXPECT_TRUE(saw_own_connection) << "the MQTT connection is one of the flows it reports";
    // The broker can see a message before the publish call that sent it has returned.
    for (int i = 0; i < 20 && g_vigil_mqtt.published == 0; ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    EXPECT_GT(g_vigil_mqtt.published, 0u);
    EXPECT_EQ(g_vigil_mqtt.failed, 0u);

    ASSERT_EQ(vigil_netxduo_disable(), static_cast<UINT>(NX_SUCCESS));
}

// The cases below go on with the connection of the one above.

// What the broker has sent and not yet been served, and the publishes served.
std::vector<uint8_t> g_stream;
std::vector<Publish> g_received;

void serve_for(ULONG ticks) {
    bool connected = true;
    for (ULONG waited = 0; waited < ticks; waited += TX_TIMER_TICKS_PER_SECOND / 20) {
        receive_into(g_stream, TX_TIMER_TICKS_PER_SECOND / 20);
        serve(g_stream, g_received, connected);
    }
}

// NetX sends what fits of a TCP packet and refuses the rest when the window is short; a
// publish that went out in part would make the broker read the next message as its rest.
TEST(NetxduoMqtt, AMessageTheWindowCannotTakeWholeIsBusyAndNothingOfItIsSent) {
    ASSERT_EQ(g_client.nxd_mqtt_client_state, static_cast<UINT>(NXD_MQTT_CLIENT_STATE_CONNECTED));
    static VIGIL_NETXDUO_MQTT direct;
    const vigil_transport transport = vigil_netxduo_mqtt_transport(&direct, &g_client);
    serve_for(TX_TIMER_TICKS_PER_SECOND / 5);
    g_received.clear();

    // The broker reads nothing meanwhile: its 16 KiB receive window fills within 17 messages.
    constexpr char kTopic[] = "devices/netx-mqtt-1/window";
    constexpr size_t kMessageBytes = 1000;
    std::vector<std::vector<uint8_t>> accepted;
    std::vector<uint8_t> refused;
    for (int i = 0; i < 40 && refused.empty(); ++i) {
        std::vector<uint8_t> payload(kMessageBytes);
        for (size_t at = 0; at < payload.size(); ++at) {
            payload[at] = static_cast<uint8_t>(i * 31 + at);
        }
        const int32_t sent =
            transport.send(transport.context, kTopic, nullptr, payload.data(), payload.size());
        ASSERT_GE(sent, 0);
        if (sent > 0) {
            accepted.push_back(payload);
        } else {
            refused = payload;
        }
    }
    ASSERT_FALSE(refused.empty()) << "the broker's window never filled";
    EXPECT_EQ(direct.busy, 1u);

    // The broker reads; the refused message goes again, as the agent sends it after its retry
    // delay.
    serve_for(TX_TIMER_TICKS_PER_SECOND / 2);
    int32_t sent = 0;
    for (int i = 0; i < 20 && sent == 0; ++i) {
        sent = transport.send(transport.context, kTopic, nullptr, refused.data(), refused.size());
        serve_for(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    ASSERT_EQ(sent, 1);
    accepted.push_back(refused);
    for (int i = 0; i < 20 && g_received.size() < accepted.size(); ++i) {
        serve_for(TX_TIMER_TICKS_PER_SECOND / 10);
    }

    ASSERT_EQ(g_received.size(), accepted.size());
    for (size_t i = 0; i < accepted.size(); ++i) {
        EXPECT_EQ(g_received[i].topic, kTopic) << "message " << i;
        EXPECT_TRUE(g_received[i].payload == accepted[i]) << "message " << i << " arrived whole";
    }
    EXPECT_TRUE(g_stream.empty()) << g_stream.size() << " bytes of a message left over";
    // Every message the broker acknowledged leaves the client's queue; none that was refused
    // stays there, to go again (a duplicate) after a reconnect.
    for (int i = 0; i < 20 && g_client.message_transmit_queue_head != nullptr; ++i) {
        serve_for(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    EXPECT_EQ(g_client.message_transmit_queue_head, nullptr);
    EXPECT_EQ(direct.failed, 0u);
}

TEST(NetxduoMqtt, TheTransportSaysDisconnectedAfterTheBrokerResets) {
    static VIGIL_NETXDUO_MQTT direct;
    const vigil_transport transport = vigil_netxduo_mqtt_transport(&direct, &g_client);
    ASSERT_TRUE(transport.is_connected(transport.context));
    nx_tcp_socket_disconnect(&g_broker, NX_NO_WAIT);
    for (int i = 0; i < 20 && transport.is_connected(transport.context); ++i) {
        tx_thread_sleep(TX_TIMER_TICKS_PER_SECOND / 10);
    }
    EXPECT_FALSE(transport.is_connected(transport.context));
}

}  // namespace

// MQTT 3.1.1 packet encoding and decoding (OASIS standard, section 2 and 3). No heap, no
// exceptions: every function writes into a caller's buffer or points into the caller's bytes.
#ifndef VIGIL_MQTT_PACKET_H
#define VIGIL_MQTT_PACKET_H

#include <stddef.h>
#include <stdint.h>

namespace vigil::mqtt {

// Every public call returns one of these. Decoding errors close the connection with that status.
enum class [[nodiscard]] Status : uint8_t{
    Ok,                        // done
    BadParameter,              // an argument is null, empty or out of range
    NotConnected,              // QoS 0 needs a live connection
    Busy,                      // the in-flight table or the send buffer is full: try again later
    BufferTooSmall,            // the packet can never fit the buffer it must go through
    NeedMore,                  // the received bytes end inside a packet: wait for more
    MalformedRemainingLength,  // remaining length longer than 4 bytes
    MalformedPacket,           // a length or flag that contradicts the spec or the packet size
    PacketTooLarge,            // an incoming packet is larger than the receive buffer
    UnexpectedPacket,          // a packet type a server never sends to a client
    ConnectFailed,             // the transport could not open a connection
    ConnectionClosed,          // the peer closed, or the transport reported an error
    KeepAliveTimeout,          // no PINGRESP within the keep-alive period
    ConnackTimeout,            // no CONNACK in time after CONNECT
    RefusedProtocolVersion,    // CONNACK 1
    RefusedIdentifier,         // CONNACK 2
    RefusedServerUnavailable,  // CONNACK 3
    RefusedBadCredentials,     // CONNACK 4
    RefusedNotAuthorized,      // CONNACK 5, or any other non-zero code
    SubscribeRejected,         // SUBACK 0x80
};

const char* to_string(Status status);

enum class PacketType : uint8_t {
    Connect = 1,
    Connack = 2,
    Publish = 3,
    Puback = 4,
    Pubrec = 5,
    Pubrel = 6,
    Pubcomp = 7,
    Subscribe = 8,
    Suback = 9,
    Unsubscribe = 10,
    Unsuback = 11,
    Pingreq = 12,
    Pingresp = 13,
    Disconnect = 14,
};

constexpr uint32_t kMaxRemainingLength = 268435455;  // 0xFF 0xFF 0xFF 0x7F

// Writes the variable-length encoding into out (at least 4 bytes); returns the bytes written, or
// 0 when value exceeds kMaxRemainingLength.
size_t encode_remaining_length(uint32_t value, uint8_t* out);
// Ok, NeedMore (data ends inside the field) or MalformedRemainingLength.
Status decode_remaining_length(const uint8_t* data, size_t length, uint32_t* value, size_t* used);

struct ConnectOptions {
    const char* client_id = nullptr;  // may be empty only with clean_session
    const char* username = nullptr;   // null for none
    const char* password = nullptr;   // null for none; needs a username in 3.1.1
    uint16_t keep_alive_s = 60;       // 0 turns keep-alive off
    bool clean_session = true;
};

struct PublishFields {
    const char* topic;
    const char* topic_suffix;  // appended to topic (an IoT-hub property bag); may be null
    const uint8_t* payload;
    size_t payload_length;
    uint8_t qos;  // 0 or 1
    bool retain;
    bool dup;
    uint16_t packet_id;  // used only when qos > 0
};

// Each encoder writes one whole packet into out and sets *written, or returns BufferTooSmall /
// BadParameter and writes nothing meaningful.
Status encode_connect(const ConnectOptions& options, uint8_t* out, size_t capacity,
                      size_t* written);
Status encode_publish(const PublishFields& fields, uint8_t* out, size_t capacity, size_t* written);
Status encode_puback(uint16_t packet_id, uint8_t* out, size_t capacity, size_t* written);
Status encode_subscribe(uint16_t packet_id, const char* topic, uint8_t qos, uint8_t* out,
                        size_t capacity, size_t* written);
Status encode_pingreq(uint8_t* out, size_t capacity, size_t* written);
Status encode_disconnect(uint8_t* out, size_t capacity, size_t* written);

// A packet from the server, pointing into the bytes it was decoded from.
struct Packet {
    PacketType type;
    uint8_t flags;
    size_t size;  // fixed header + remaining length: what to consume
    // CONNACK
    bool session_present;
    uint8_t return_code;  // also SUBACK's first return code
    // PUBACK, SUBACK, PUBLISH with QoS 1
    uint16_t packet_id;
    // PUBLISH
    const uint8_t* topic;
    size_t topic_length;
    const uint8_t* payload;
    size_t payload_length;
    uint8_t qos;
    bool dup;
    bool retain;
};

// Decodes the first packet in data[0, length). Ok with *packet filled, NeedMore, or an error. Reads
// only inside data[0, length); a packet larger than max_packet gives PacketTooLarge as soon as its
// header says so. Only packets a server may send to a 3.1.1 client at QoS <= 1 are accepted.
Status decode_packet(const uint8_t* data, size_t length, size_t max_packet, Packet* packet);

}  // namespace vigil::mqtt

#endif  // VIGIL_MQTT_PACKET_H

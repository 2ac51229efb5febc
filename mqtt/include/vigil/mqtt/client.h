// A small MQTT 3.1.1 client for devices: QoS 0 and 1, one-topic subscriptions, keep-alive and
// reconnect with backoff. Written in the manner of coreMQTT because Debian packages no MQTT client
// that builds freestanding for a microcontroller next to lwIP.
//
// The caller owns every byte (see Storage) and drives the client with process(now_ms) from one
// context; no call blocks except whatever Transport::connect does, and nothing allocates.
#ifndef VIGIL_MQTT_CLIENT_H
#define VIGIL_MQTT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil/mqtt/packet.h"

#ifndef VIGIL_MQTT_MAX_SUBSCRIPTIONS
#define VIGIL_MQTT_MAX_SUBSCRIPTIONS 4
#endif

namespace vigil::mqtt {

// The network, as function pointers plus an opaque context, so one client serves lwIP on a device
// and POSIX sockets in tests.
struct Transport {
    void* context;
    // Opens a TCP connection; 0 when connected, < 0 on failure.
    int (*connect)(void* context, const char* host, uint16_t port);
    // Bytes taken (> 0), 0 to retry later, < 0 on error. Must not block.
    int (*send)(void* context, const uint8_t* data, size_t length);
    // Bytes read (> 0), 0 when nothing is pending, < 0 when closed or on error. Must not block.
    int (*recv)(void* context, uint8_t* data, size_t length);
    void (*close)(void* context);
};

// One QoS 1 publish awaiting its PUBACK; its packet lives in Storage::slot_bytes.
struct InFlight {
    uint16_t packet_id;
    uint16_t length;
    uint32_t sent_ms;
    bool used;
    bool pending;  // not yet handed to the transport on the current connection
};

// Memory the client uses; it must outlive the client. slot_count InFlight entries each own
// slot_size bytes of slot_bytes, which bounds the largest QoS 1 publish.
struct Storage {
    uint8_t* rx;
    size_t rx_size;
    uint8_t* tx;
    size_t tx_size;
    InFlight* slots;
    size_t slot_count;
    uint8_t* slot_bytes;
    size_t slot_size;
};

template <size_t RxBytes, size_t TxBytes, size_t Slots, size_t SlotBytes>
struct StaticStorage {
    uint8_t rx[RxBytes];
    uint8_t tx[TxBytes];
    InFlight slots[Slots];
    uint8_t slot_bytes[Slots * SlotBytes];
    Storage view() {
        return Storage{rx, RxBytes, tx, TxBytes, slots, Slots, slot_bytes, SlotBytes};
    }
};

// Called for each incoming PUBLISH; the pointers are valid only during the call.
using MessageCallback = void (*)(void* context, const char* topic, size_t topic_length,
                                 const uint8_t* payload, size_t payload_length);

// An incoming PUBLISH as the manual-ack mode hands it over; the pointers are valid only during
// the call. connection identifies the connection it came on (see Client::ack).
struct IncomingPublish {
    const char* topic;
    size_t topic_length;
    const uint8_t* payload;
    size_t payload_length;
    uint16_t packet_id;  // 0 for QoS 0
    uint8_t qos;
    bool dup;  // the broker may have delivered it before
    uint32_t connection;
};

using PublishCallback = void (*)(void* context, const IncomingPublish& message);

// Where to connect and how; every pointer must outlive the client.
struct Settings {
    const char* host = nullptr;
    uint16_t port = 1883;
    ConnectOptions connect;
    MessageCallback on_message = nullptr;
    void* on_message_context = nullptr;
    uint32_t retry_ms = 5000;  // resend an unacknowledged QoS 1 publish, with DUP, after this
    uint32_t connack_timeout_ms = 5000;
    uint32_t backoff_min_ms = 1000;  // first wait after a lost connection, doubled per failure
    uint32_t backoff_max_ms = 30000;
    // Manual acknowledgement: an incoming QoS 1 PUBLISH gets its PUBACK only when the caller calls
    // ack(), so a receiver can acknowledge a message once it has stored it. With a persistent
    // session (clean_session false) the broker redelivers what was never acknowledged. Messages
    // go to on_publish when set, else to on_message.
    bool manual_ack = false;
    PublishCallback on_publish = nullptr;
    void* on_publish_context = nullptr;
};

struct Stats {
    uint32_t connects;  // CONNACKs accepted
    uint32_t pings_sent;
    uint32_t pings_answered;
    uint32_t retransmits;
    uint32_t received;
};

class Client {
  public:
    Client() = default;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Status init(const Transport& transport, const Storage& storage);
    // Connects now (ConnectFailed if that first attempt fails) and keeps reconnecting with
    // backoff until stop(). A refusal other than "server unavailable" stops the client:
    // retrying with the same credentials cannot help.
    Status start(const Settings& settings, uint32_t now_ms);
    // Sends DISCONNECT and closes; in-flight publishes stay queued for the next start().
    Status stop();
    // Sends, receives, acknowledges, pings, retransmits and reconnects. Returns the status that
    // closed the connection during this call, or Ok.
    Status process(uint32_t now_ms);

    // QoS 1 is queued even while disconnected (Busy when every slot is taken); QoS 0 needs a
    // connection and room in the send buffer. topic_suffix is appended to topic, may be null.
    Status publish(const char* topic, const char* topic_suffix, const uint8_t* payload,
                   size_t length, uint8_t qos, uint16_t* packet_id = nullptr);
    // Remembered (topic must outlive the client) and sent again after every reconnect.
    Status subscribe(const char* topic, uint8_t qos);
    bool is_subscribed(const char* topic) const;

    // Manual-ack mode: queues the PUBACK of an incoming QoS 1 PUBLISH received on connection
    // (IncomingPublish::connection). NotConnected when that connection has ended: packet ids
    // belong to one connection, and the broker redelivers the message on the next one. Busy when
    // the send buffer is full (call process() and try again).
    Status ack(uint16_t packet_id, uint32_t connection);
    // Numbers the connections (CONNACKs accepted so far); 0 before the first.
    uint32_t connection() const { return stats_.connects; }
    // The broker's CONNACK of the current (or last) connection said it kept a session for our
    // client id: with clean_session false, false after the first connection means the broker
    // lost the session and whatever it had queued for it.
    bool session_present() const { return session_present_; }
    // Bytes queued for the transport and not yet taken by it.
    size_t unsent() const { return tx_end_ - tx_start_; }

    bool is_connected() const { return state_ == State::Connected; }
    size_t in_flight() const;
    // Why the last connection ended or was refused.
    Status last_error() const { return last_error_; }
    const Stats& stats() const { return stats_; }

  private:
    enum class State : uint8_t { Idle, Waiting, Connecting, Connected, Stopped };
    struct Subscription {
        const char* topic;
        uint16_t packet_id;
        uint8_t qos;
        bool acked;
    };

    Status enqueue(const uint8_t* data, size_t length);
    Status flush(uint32_t now_ms);
    Status receive(uint32_t now_ms);
    Status handle(const Packet& packet, uint32_t now_ms);
    void deliver_for_manual_ack(const Packet& packet);
    Status try_connect(uint32_t now_ms);
    void drop_connection(Status reason, uint32_t now_ms);
    void queue_slots(uint32_t now_ms);
    Status send_subscribe(Subscription& sub);
    uint16_t next_packet_id();

    Transport transport_{};
    Storage storage_{};
    Settings settings_{};
    State state_ = State::Idle;
    size_t rx_length_ = 0;
    size_t tx_start_ = 0;
    size_t tx_end_ = 0;
    uint16_t last_packet_id_ = 0;
    uint32_t next_attempt_ms_ = 0;
    uint32_t backoff_ms_ = 0;
    uint32_t connect_sent_ms_ = 0;
    uint32_t last_tx_ms_ = 0;
    uint32_t ping_sent_ms_ = 0;
    bool ping_outstanding_ = false;
    bool session_present_ = false;
    Status last_error_ = Status::Ok;
    Stats stats_{};
    Subscription subs_[VIGIL_MQTT_MAX_SUBSCRIPTIONS]{};
    size_t sub_count_ = 0;
};

}  // namespace vigil::mqtt

#endif  // VIGIL_MQTT_CLIENT_H

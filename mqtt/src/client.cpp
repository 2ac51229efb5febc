#include "vigil/mqtt/client.h"

#include <string.h>

namespace vigil::mqtt {

namespace {
// Wrap-safe elapsed time: now_ms is a free-running 32-bit millisecond counter.
bool reached(uint32_t now_ms, uint32_t deadline_ms) {
    return static_cast<int32_t>(now_ms - deadline_ms) >= 0;
}
}  // namespace

Status Client::init(const Transport& transport, const Storage& storage) {
    if (transport.connect == nullptr || transport.send == nullptr || transport.recv == nullptr ||
        transport.close == nullptr) {
        return Status::BadParameter;
    }
    // A CONNACK, PUBACK or SUBACK needs 5 bytes; anything smaller could never make progress.
    if (storage.rx == nullptr || storage.rx_size < 5 || storage.tx == nullptr ||
        storage.tx_size < 5 ||
        (storage.slot_count > 0 &&
         (storage.slots == nullptr || storage.slot_bytes == nullptr || storage.slot_size < 5)) ||
        storage.slot_size > 0xFFFF) {
        return Status::BadParameter;
    }
    transport_ = transport;
    storage_ = storage;
    for (size_t i = 0; i < storage_.slot_count; ++i) {
        storage_.slots[i] = InFlight{};
    }
    state_ = State::Idle;
    rx_length_ = tx_start_ = tx_end_ = 0;
    sub_count_ = 0;
    stats_ = Stats{};
    return Status::Ok;
}

Status Client::start(const Settings& settings, uint32_t now_ms) {
    if (transport_.send == nullptr) {
        return Status::BadParameter;
    }
    if (settings.host == nullptr || settings.connect.client_id == nullptr ||
        settings.backoff_min_ms == 0 || settings.backoff_max_ms < settings.backoff_min_ms) {
        return Status::BadParameter;
    }
    size_t probe = 0;
    // Validates the CONNECT options once, so a later reconnect cannot fail on them.
    Status s = encode_connect(settings.connect, storage_.tx, storage_.tx_size, &probe);
    if (s != Status::Ok) {
        return s;
    }
    if (state_ == State::Connecting || state_ == State::Connected) {
        transport_.close(transport_.context);
    }
    settings_ = settings;
    backoff_ms_ = settings_.backoff_min_ms;
    state_ = State::Waiting;
    next_attempt_ms_ = now_ms;
    return try_connect(now_ms) == Status::Ok ? Status::Ok : last_error_;
}

Status Client::stop() {
    if (state_ == State::Connected) {
        uint8_t packet[2];
        size_t n = 0;
        if (encode_disconnect(packet, sizeof packet, &n) == Status::Ok) {
            // Best effort: a socket that cannot take 2 bytes now is closed anyway.
            (void)transport_.send(transport_.context, packet, n);
        }
    }
    if (state_ == State::Connected || state_ == State::Connecting) {
        transport_.close(transport_.context);
    }
    state_ = State::Stopped;
    return Status::Ok;
}

uint16_t Client::next_packet_id() {
    for (;;) {
        ++last_packet_id_;
        if (last_packet_id_ == 0) {
            last_packet_id_ = 1;
        }
        bool taken = false;
        for (size_t i = 0; i < storage_.slot_count; ++i) {
            if (storage_.slots[i].used && storage_.slots[i].packet_id == last_packet_id_) {
                taken = true;
            }
        }
        // Fewer than 65535 slots exist, so a free id is always found.
        if (!taken) {
            return last_packet_id_;
        }
    }
}

size_t Client::in_flight() const {
    size_t n = 0;
    for (size_t i = 0; i < storage_.slot_count; ++i) {
        n += storage_.slots[i].used ? 1 : 0;
    }
    return n;
}

Status Client::enqueue(const uint8_t* data, size_t length) {
    if (length > storage_.tx_size) {
        return Status::BufferTooSmall;
    }
    if (storage_.tx_size - tx_end_ < length) {
        memmove(storage_.tx, storage_.tx + tx_start_, tx_end_ - tx_start_);
        tx_end_ -= tx_start_;
        tx_start_ = 0;
        if (storage_.tx_size - tx_end_ < length) {
            return Status::Busy;
        }
    }
    memcpy(storage_.tx + tx_end_, data, length);
    tx_end_ += length;
    return Status::Ok;
}

Status Client::flush(uint32_t now_ms) {
    while (tx_start_ < tx_end_) {
        const int n =
            transport_.send(transport_.context, storage_.tx + tx_start_, tx_end_ - tx_start_);
        if (n < 0) {
            return Status::ConnectionClosed;
        }
        if (n == 0) {
            break;
        }
        tx_start_ += static_cast<size_t>(n);
        last_tx_ms_ = now_ms;
    }
    if (tx_start_ == tx_end_) {
        tx_start_ = tx_end_ = 0;
    }
    return Status::Ok;
}

Status Client::try_connect(uint32_t now_ms) {
    rx_length_ = tx_start_ = tx_end_ = 0;
    ping_outstanding_ = false;
    if (transport_.connect(transport_.context, settings_.host, settings_.port) < 0) {
        drop_connection(Status::ConnectFailed, now_ms);
        return Status::ConnectFailed;
    }
    size_t n = 0;
    Status s = encode_connect(settings_.connect, storage_.tx, storage_.tx_size, &n);
    if (s != Status::Ok) {
        transport_.close(transport_.context);
        state_ = State::Stopped;
        last_error_ = s;
        return s;
    }
    tx_end_ = n;
    state_ = State::Connecting;
    connect_sent_ms_ = now_ms;
    s = flush(now_ms);
    if (s != Status::Ok) {
        drop_connection(s, now_ms);
    }
    return s;
}

void Client::drop_connection(Status reason, uint32_t now_ms) {
    if (state_ == State::Connecting || state_ == State::Connected) {
        transport_.close(transport_.context);
    }
    last_error_ = reason;
    rx_length_ = tx_start_ = tx_end_ = 0;
    for (size_t i = 0; i < sub_count_; ++i) {
        subs_[i].acked = false;
    }
    const bool permanent =
        reason == Status::RefusedProtocolVersion || reason == Status::RefusedIdentifier ||
        reason == Status::RefusedBadCredentials || reason == Status::RefusedNotAuthorized;
    if (permanent) {
        state_ = State::Stopped;
        return;
    }
    state_ = State::Waiting;
    next_attempt_ms_ = now_ms + backoff_ms_;
    backoff_ms_ =
        backoff_ms_ > settings_.backoff_max_ms / 2 ? settings_.backoff_max_ms : backoff_ms_ * 2;
}

void Client::queue_slots(uint32_t now_ms) {
    for (size_t i = 0; i < storage_.slot_count; ++i) {
        InFlight& slot = storage_.slots[i];
        if (!slot.used) {
            continue;
        }
        const bool retry = !slot.pending && reached(now_ms, slot.sent_ms + settings_.retry_ms);
        if (!slot.pending && !retry) {
            continue;
        }
        uint8_t* packet = storage_.slot_bytes + i * storage_.slot_size;
        if (enqueue(packet, slot.length) != Status::Ok) {
            return;  // the send buffer is full; keep the order and try on the next call
        }
        if (retry) {
            ++stats_.retransmits;
        }
        // Every later copy of this packet is a redelivery (3.3.1.1).
        packet[0] |= 0x08;
        slot.pending = false;
        slot.sent_ms = now_ms;
    }
}

Status Client::send_subscribe(Subscription& sub) {
    uint8_t packet[8 + 0x100];
    size_t n = 0;
    sub.packet_id = next_packet_id();
    sub.acked = false;
    Status s = encode_subscribe(sub.packet_id, sub.topic, sub.qos, packet, sizeof packet, &n);
    return s == Status::Ok ? enqueue(packet, n) : s;
}

Status Client::handle(const Packet& packet, uint32_t now_ms) {
    switch (packet.type) {
        case PacketType::Connack: {
            if (state_ != State::Connecting) {
                return Status::UnexpectedPacket;
            }
            switch (packet.return_code) {
                case 0:
                    break;
                case 1:
                    return Status::RefusedProtocolVersion;
                case 2:
                    return Status::RefusedIdentifier;
                case 3:
                    return Status::RefusedServerUnavailable;
                case 4:
                    return Status::RefusedBadCredentials;
                default:
                    return Status::RefusedNotAuthorized;
            }
            state_ = State::Connected;
            session_present_ = packet.session_present;
            ++stats_.connects;
            backoff_ms_ = settings_.backoff_min_ms;
            last_error_ = Status::Ok;
            // Subscriptions first, so our own queued publishes on those topics come back to us.
            for (size_t i = 0; i < sub_count_; ++i) {
                if (send_subscribe(subs_[i]) != Status::Ok) {
                    return Status::BufferTooSmall;
                }
            }
            for (size_t i = 0; i < storage_.slot_count; ++i) {
                storage_.slots[i].pending = storage_.slots[i].used;
            }
            queue_slots(now_ms);
            return Status::Ok;
        }
        case PacketType::Puback:
            for (size_t i = 0; i < storage_.slot_count; ++i) {
                InFlight& slot = storage_.slots[i];
                if (slot.used && slot.packet_id == packet.packet_id) {
                    slot = InFlight{};
                }
            }
            return Status::Ok;
        case PacketType::Suback:
            for (size_t i = 0; i < sub_count_; ++i) {
                if (subs_[i].packet_id == packet.packet_id) {
                    if (packet.return_code == 0x80) {
                        return Status::SubscribeRejected;
                    }
                    subs_[i].acked = true;
                }
            }
            return Status::Ok;
        case PacketType::Pingresp:
            if (ping_outstanding_) {
                ++stats_.pings_answered;
            }
            ping_outstanding_ = false;
            return Status::Ok;
        case PacketType::Publish:
            ++stats_.received;
            if (settings_.manual_ack) {
                deliver_for_manual_ack(packet);
                return Status::Ok;
            }
            if (settings_.on_message != nullptr) {
                settings_.on_message(settings_.on_message_context,
                                     reinterpret_cast<const char*>(packet.topic),
                                     packet.topic_length, packet.payload, packet.payload_length);
            }
            if (packet.qos == 1) {
                uint8_t ack[4];
                size_t n = 0;
                (void)encode_puback(packet.packet_id, ack, sizeof ack, &n);
                return enqueue(ack, n);  // room was checked before delivery
            }
            return Status::Ok;
        default:
            return Status::UnexpectedPacket;
    }
}

void Client::deliver_for_manual_ack(const Packet& packet) {
    if (settings_.on_publish != nullptr) {
        const IncomingPublish message{reinterpret_cast<const char*>(packet.topic),
                                      packet.topic_length,
                                      packet.payload,
                                      packet.payload_length,
                                      packet.qos == 1 ? packet.packet_id : uint16_t{0},
                                      packet.qos,
                                      packet.dup,
                                      stats_.connects};
        settings_.on_publish(settings_.on_publish_context, message);
    } else if (settings_.on_message != nullptr) {
        settings_.on_message(settings_.on_message_context,
                             reinterpret_cast<const char*>(packet.topic), packet.topic_length,
                             packet.payload, packet.payload_length);
    }
}

Status Client::ack(uint16_t packet_id, uint32_t connection) {
    if (packet_id == 0 || !settings_.manual_ack) {
        return Status::BadParameter;
    }
    if (state_ != State::Connected || connection != stats_.connects) {
        return Status::NotConnected;
    }
    uint8_t packet[4];
    size_t n = 0;
    (void)encode_puback(packet_id, packet, sizeof packet, &n);
    return enqueue(packet, n);
}

Status Client::receive(uint32_t now_ms) {
    for (;;) {
        if (rx_length_ < storage_.rx_size) {
            const int n = transport_.recv(transport_.context, storage_.rx + rx_length_,
                                          storage_.rx_size - rx_length_);
            if (n < 0) {
                return Status::ConnectionClosed;
            }
            rx_length_ += static_cast<size_t>(n);
            if (n == 0 && rx_length_ == 0) {
                return Status::Ok;
            }
        }
        size_t consumed = 0;
        bool progressed = false;
        for (;;) {
            Packet packet{};
            Status s = decode_packet(storage_.rx + consumed, rx_length_ - consumed,
                                     storage_.rx_size, &packet);
            if (s == Status::NeedMore) {
                break;
            }
            if (s != Status::Ok) {
                return s;
            }
            if (state_ == State::Connecting && packet.type != PacketType::Connack) {
                return Status::UnexpectedPacket;
            }
            // An incoming QoS 1 publish is delivered only when its PUBACK can be queued, so a
            // full send buffer delays it instead of losing the acknowledgement.
            if (packet.type == PacketType::Publish && packet.qos == 1 && !settings_.manual_ack &&
                storage_.tx_size - (tx_end_ - tx_start_) < 4) {
                break;
            }
            s = handle(packet, now_ms);
            if (s != Status::Ok) {
                return s;
            }
            consumed += packet.size;
            progressed = true;
        }
        if (consumed > 0) {
            memmove(storage_.rx, storage_.rx + consumed, rx_length_ - consumed);
            rx_length_ -= consumed;
        }
        if (!progressed) {
            return Status::Ok;
        }
        Status s = flush(now_ms);
        if (s != Status::Ok) {
            return s;
        }
    }
}

Status Client::process(uint32_t now_ms) {
    if (state_ == State::Idle || state_ == State::Stopped) {
        return Status::Ok;
    }
    if (state_ == State::Waiting) {
        if (!reached(now_ms, next_attempt_ms_)) {
            return Status::Ok;
        }
        const Status s = try_connect(now_ms);
        return s;
    }
    Status s = receive(now_ms);
    if (s == Status::Ok && state_ == State::Connecting &&
        reached(now_ms, connect_sent_ms_ + settings_.connack_timeout_ms)) {
        s = Status::ConnackTimeout;
    }
    if (s == Status::Ok && state_ == State::Connected) {
        queue_slots(now_ms);
        const uint32_t keep_alive_ms = settings_.connect.keep_alive_s * 1000u;
        if (keep_alive_ms > 0) {
            if (ping_outstanding_ && reached(now_ms, ping_sent_ms_ + keep_alive_ms)) {
                s = Status::KeepAliveTimeout;
            } else if (!ping_outstanding_ && reached(now_ms, last_tx_ms_ + keep_alive_ms)) {
                uint8_t ping[2];
                size_t n = 0;
                (void)encode_pingreq(ping, sizeof ping, &n);
                if (enqueue(ping, n) == Status::Ok) {
                    ping_outstanding_ = true;
                    ping_sent_ms_ = now_ms;
                    ++stats_.pings_sent;
                }
            }
        }
    }
    if (s == Status::Ok) {
        s = flush(now_ms);
    }
    if (s != Status::Ok) {
        drop_connection(s, now_ms);
    }
    return s;
}

Status Client::publish(const char* topic, const char* topic_suffix, const uint8_t* payload,
                       size_t length, uint8_t qos, uint16_t* packet_id) {
    if (topic == nullptr || qos > 1 || (payload == nullptr && length > 0)) {
        return Status::BadParameter;
    }
    PublishFields fields{topic, topic_suffix, payload, length, qos, false, false, 0};
    if (qos == 0) {
        if (state_ != State::Connected) {
            return Status::NotConnected;
        }
        // Encoding straight into the send buffer's free tail avoids a second copy.
        if (tx_start_ > 0) {
            memmove(storage_.tx, storage_.tx + tx_start_, tx_end_ - tx_start_);
            tx_end_ -= tx_start_;
            tx_start_ = 0;
        }
        size_t n = 0;
        Status s = encode_publish(fields, storage_.tx + tx_end_, storage_.tx_size - tx_end_, &n);
        if (s == Status::BufferTooSmall && tx_end_ > 0) {
            return Status::Busy;  // it may fit once the queued bytes are sent
        }
        if (s == Status::Ok) {
            tx_end_ += n;
        }
        return s;
    }
    size_t free_slot = storage_.slot_count;
    for (size_t i = 0; i < storage_.slot_count; ++i) {
        if (!storage_.slots[i].used) {
            free_slot = i;
            break;
        }
    }
    if (free_slot == storage_.slot_count) {
        return storage_.slot_count == 0 ? Status::BufferTooSmall : Status::Busy;
    }
    fields.packet_id = next_packet_id();
    size_t n = 0;
    Status s = encode_publish(fields, storage_.slot_bytes + free_slot * storage_.slot_size,
                              storage_.slot_size, &n);
    if (s != Status::Ok) {
        return s;
    }
    InFlight& slot = storage_.slots[free_slot];
    slot.used = true;
    slot.pending = true;
    slot.packet_id = fields.packet_id;
    slot.length = static_cast<uint16_t>(n);
    slot.sent_ms = 0;
    if (packet_id != nullptr) {
        *packet_id = fields.packet_id;
    }
    return Status::Ok;
}

Status Client::subscribe(const char* topic, uint8_t qos) {
    if (topic == nullptr || topic[0] == '\0' || qos > 1 || strlen(topic) > 0x100) {
        return Status::BadParameter;
    }
    if (sub_count_ == VIGIL_MQTT_MAX_SUBSCRIPTIONS) {
        return Status::Busy;
    }
    Subscription& sub = subs_[sub_count_];
    sub = Subscription{topic, 0, qos, false};
    if (state_ == State::Connected) {
        Status s = send_subscribe(sub);
        if (s != Status::Ok) {
            return s;
        }
    }
    ++sub_count_;
    return Status::Ok;
}

bool Client::is_subscribed(const char* topic) const {
    for (size_t i = 0; i < sub_count_; ++i) {
        if (subs_[i].acked && strcmp(subs_[i].topic, topic) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace vigil::mqtt

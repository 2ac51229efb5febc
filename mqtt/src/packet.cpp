#include "vigil/mqtt/packet.h"

#include <string.h>

namespace vigil::mqtt {

const char* to_string(Status status) {
    switch (status) {
        case Status::Ok:
            return "ok";
        case Status::BadParameter:
            return "bad parameter";
        case Status::NotConnected:
            return "not connected";
        case Status::Busy:
            return "busy";
        case Status::BufferTooSmall:
            return "buffer too small";
        case Status::NeedMore:
            return "need more bytes";
        case Status::MalformedRemainingLength:
            return "malformed remaining length";
        case Status::MalformedPacket:
            return "malformed packet";
        case Status::PacketTooLarge:
            return "packet too large";
        case Status::UnexpectedPacket:
            return "unexpected packet type";
        case Status::ConnectFailed:
            return "connect failed";
        case Status::ConnectionClosed:
            return "connection closed";
        case Status::KeepAliveTimeout:
            return "keep-alive timeout";
        case Status::ConnackTimeout:
            return "connack timeout";
        case Status::RefusedProtocolVersion:
            return "refused: protocol version";
        case Status::RefusedIdentifier:
            return "refused: identifier rejected";
        case Status::RefusedServerUnavailable:
            return "refused: server unavailable";
        case Status::RefusedBadCredentials:
            return "refused: bad user name or password";
        case Status::RefusedNotAuthorized:
            return "refused: not authorized";
        case Status::SubscribeRejected:
            return "subscribe rejected";
    }
    return "unknown";
}

size_t encode_remaining_length(uint32_t value, uint8_t* out) {
    if (value > kMaxRemainingLength) {
        return 0;
    }
    size_t n = 0;
    do {
        uint8_t byte = static_cast<uint8_t>(value % 128);
        value /= 128;
        if (value > 0) {
            byte |= 0x80;
        }
        out[n++] = byte;
    } while (value > 0);
    return n;
}

Status decode_remaining_length(const uint8_t* data, size_t length, uint32_t* value, size_t* used) {
    uint32_t result = 0;
    uint32_t multiplier = 1;
    for (size_t i = 0; i < 4; ++i) {
        if (i >= length) {
            return Status::NeedMore;
        }
        result += (data[i] & 0x7Fu) * multiplier;
        if ((data[i] & 0x80) == 0) {
            *value = result;
            *used = i + 1;
            return Status::Ok;
        }
        multiplier *= 128;
    }
    return Status::MalformedRemainingLength;
}

namespace {

size_t string_length(const char* s) {
    return s == nullptr ? 0 : strlen(s);
}

// Writes the fixed header; returns its size, or 0 when the whole packet does not fit.
size_t put_header(uint8_t first, size_t remaining, uint8_t* out, size_t capacity) {
    if (remaining > kMaxRemainingLength) {
        return 0;
    }
    uint8_t rl[4];
    size_t n = encode_remaining_length(static_cast<uint32_t>(remaining), rl);
    if (capacity < 1 + n + remaining) {
        return 0;
    }
    out[0] = first;
    memcpy(out + 1, rl, n);
    return 1 + n;
}

uint8_t* put_u16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v & 0xFF);
    return p + 2;
}

uint8_t* put_string(uint8_t* p, const char* s, size_t n) {
    p = put_u16(p, static_cast<uint16_t>(n));
    if (n > 0) {
        memcpy(p, s, n);
    }
    return p + n;
}

uint16_t get_u16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

bool has_wildcard(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '+' || s[i] == '#') {
            return true;
        }
    }
    return false;
}

}  // namespace

Status encode_connect(const ConnectOptions& options, uint8_t* out, size_t capacity,
                      size_t* written) {
    if (out == nullptr || written == nullptr || options.client_id == nullptr) {
        return Status::BadParameter;
    }
    const size_t id = strlen(options.client_id);
    const size_t user = string_length(options.username);
    const size_t pass = string_length(options.password);
    // 3.1.1 section 3.1.3.1: a server may reject an empty id unless the session is clean; 3.1.2.9:
    // a password without a user name is not allowed.
    if ((id == 0 && !options.clean_session) || id > 0xFFFF || user > 0xFFFF || pass > 0xFFFF ||
        (options.password != nullptr && options.username == nullptr)) {
        return Status::BadParameter;
    }
    size_t remaining = 10 + 2 + id;
    uint8_t flags = options.clean_session ? 0x02 : 0x00;
    if (options.username != nullptr) {
        remaining += 2 + user;
        flags |= 0x80;
    }
    if (options.password != nullptr) {
        remaining += 2 + pass;
        flags |= 0x40;
    }
    const size_t header = put_header(0x10, remaining, out, capacity);
    if (header == 0) {
        return Status::BufferTooSmall;
    }
    uint8_t* p = put_string(out + header, "MQTT", 4);
    *p++ = 4;  // protocol level 3.1.1
    *p++ = flags;
    p = put_u16(p, options.keep_alive_s);
    p = put_string(p, options.client_id, id);
    if (options.username != nullptr) {
        p = put_string(p, options.username, user);
    }
    if (options.password != nullptr) {
        p = put_string(p, options.password, pass);
    }
    *written = static_cast<size_t>(p - out);
    return Status::Ok;
}

Status encode_publish(const PublishFields& f, uint8_t* out, size_t capacity, size_t* written) {
    if (out == nullptr || written == nullptr || f.topic == nullptr || f.qos > 1 ||
        (f.payload == nullptr && f.payload_length > 0) || (f.qos > 0 && f.packet_id == 0)) {
        return Status::BadParameter;
    }
    const size_t base = strlen(f.topic);
    const size_t suffix = string_length(f.topic_suffix);
    const size_t topic = base + suffix;
    if (topic == 0 || topic > 0xFFFF || has_wildcard(f.topic, base) ||
        has_wildcard(f.topic_suffix, suffix)) {
        return Status::BadParameter;
    }
    const size_t remaining = 2 + topic + (f.qos > 0 ? 2 : 0) + f.payload_length;
    uint8_t first = static_cast<uint8_t>(0x30 | (f.qos << 1));
    if (f.dup && f.qos > 0) {
        first |= 0x08;
    }
    if (f.retain) {
        first |= 0x01;
    }
    const size_t header = put_header(first, remaining, out, capacity);
    if (header == 0) {
        return Status::BufferTooSmall;
    }
    uint8_t* p = put_u16(out + header, static_cast<uint16_t>(topic));
    memcpy(p, f.topic, base);
    p += base;
    if (suffix > 0) {
        memcpy(p, f.topic_suffix, suffix);
        p += suffix;
    }
    if (f.qos > 0) {
        p = put_u16(p, f.packet_id);
    }
    if (f.payload_length > 0) {
        memcpy(p, f.payload, f.payload_length);
        p += f.payload_length;
    }
    *written = static_cast<size_t>(p - out);
    return Status::Ok;
}

Status encode_puback(uint16_t packet_id, uint8_t* out, size_t capacity, size_t* written) {
    if (out == nullptr || written == nullptr || packet_id == 0) {
        return Status::BadParameter;
    }
    if (capacity < 4) {
        return Status::BufferTooSmall;
    }
    out[0] = 0x40;
    out[1] = 2;
    put_u16(out + 2, packet_id);
    *written = 4;
    return Status::Ok;
}

Status encode_subscribe(uint16_t packet_id, const char* topic, uint8_t qos, uint8_t* out,
                        size_t capacity, size_t* written) {
    if (out == nullptr || written == nullptr || topic == nullptr || packet_id == 0 || qos > 1) {
        return Status::BadParameter;
    }
    const size_t n = strlen(topic);
    if (n == 0 || n > 0xFFFF) {
        return Status::BadParameter;
    }
    // 3.8.1: SUBSCRIBE's fixed header flags are reserved as 0010.
    const size_t header = put_header(0x82, 2 + 2 + n + 1, out, capacity);
    if (header == 0) {
        return Status::BufferTooSmall;
    }
    uint8_t* p = put_u16(out + header, packet_id);
    p = put_string(p, topic, n);
    *p++ = qos;
    *written = static_cast<size_t>(p - out);
    return Status::Ok;
}

namespace {
Status encode_empty(uint8_t first, uint8_t* out, size_t capacity, size_t* written) {
    if (out == nullptr || written == nullptr) {
        return Status::BadParameter;
    }
    if (capacity < 2) {
        return Status::BufferTooSmall;
    }
    out[0] = first;
    out[1] = 0;
    *written = 2;
    return Status::Ok;
}
}  // namespace

Status encode_pingreq(uint8_t* out, size_t capacity, size_t* written) {
    return encode_empty(0xC0, out, capacity, written);
}

Status encode_disconnect(uint8_t* out, size_t capacity, size_t* written) {
    return encode_empty(0xE0, out, capacity, written);
}

Status decode_packet(const uint8_t* data, size_t length, size_t max_packet, Packet* packet) {
    if (data == nullptr || packet == nullptr) {
        return Status::BadParameter;
    }
    if (length < 2) {
        return Status::NeedMore;
    }
    const uint8_t type = data[0] >> 4;
    const uint8_t flags = data[0] & 0x0F;
    // Reject a type the server never sends before waiting for its body, so garbage fails early.
    switch (static_cast<PacketType>(type)) {
        case PacketType::Connack:
        case PacketType::Publish:
        case PacketType::Puback:
        case PacketType::Suback:
        case PacketType::Pingresp:
            break;
        default:
            return Status::UnexpectedPacket;
    }
    uint32_t remaining = 0;
    size_t used = 0;
    const Status rl = decode_remaining_length(data + 1, length - 1, &remaining, &used);
    if (rl != Status::Ok) {
        return rl;
    }
    const size_t header = 1 + used;
    const size_t total = header + remaining;
    if (total > max_packet) {
        return Status::PacketTooLarge;
    }
    if (length < total) {
        return Status::NeedMore;
    }
    const uint8_t* body = data + header;
    Packet p{};
    p.type = static_cast<PacketType>(type);
    p.flags = flags;
    p.size = total;
    switch (p.type) {
        case PacketType::Connack:
            if (flags != 0 || remaining != 2 || (body[0] & 0xFE) != 0) {
                return Status::MalformedPacket;
            }
            p.session_present = (body[0] & 0x01) != 0;
            p.return_code = body[1];
            break;
        case PacketType::Puback:
            if (flags != 0 || remaining != 2) {
                return Status::MalformedPacket;
            }
            p.packet_id = get_u16(body);
            break;
        case PacketType::Suback:
            if (flags != 0 || remaining < 3) {
                return Status::MalformedPacket;
            }
            p.packet_id = get_u16(body);
            p.return_code = body[2];
            break;
        case PacketType::Pingresp:
            if (flags != 0 || remaining != 0) {
                return Status::MalformedPacket;
            }
            break;
        case PacketType::Publish: {
            p.qos = (flags >> 1) & 0x03;
            p.dup = (flags & 0x08) != 0;
            p.retain = (flags & 0x01) != 0;
            // QoS 3 is malformed; QoS 2 is never granted because the client subscribes at most 1.
            if (p.qos > 1 || (p.qos == 0 && p.dup)) {
                return Status::MalformedPacket;
            }
            if (remaining < 2) {
                return Status::MalformedPacket;
            }
            p.topic_length = get_u16(body);
            size_t offset = 2 + p.topic_length;
            if (p.topic_length == 0 || offset > remaining) {
                return Status::MalformedPacket;
            }
            p.topic = body + 2;
            if (p.qos > 0) {
                if (offset + 2 > remaining) {
                    return Status::MalformedPacket;
                }
                p.packet_id = get_u16(body + offset);
                if (p.packet_id == 0) {
                    return Status::MalformedPacket;
                }
                offset += 2;
            }
            p.payload = body + offset;
            p.payload_length = remaining - offset;
            break;
        }
        default:
            return Status::UnexpectedPacket;
    }
    if ((p.type == PacketType::Puback || p.type == PacketType::Suback) && p.packet_id == 0) {
        return Status::MalformedPacket;
    }
    *packet = p;
    return Status::Ok;
}

}  // namespace vigil::mqtt

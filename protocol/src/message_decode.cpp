// The decoder of Vigil messages: walks the schema of docs/protocol.md, naming the field at fault
// when something is wrong; broken CBOR anywhere in the input is reported as such first.
#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "vigil/protocol/message.h"

namespace vigil::protocol {

namespace {

using cbor::MajorType;
using cbor::ReadError;

constexpr uint64_t kMaxU8 = 0xFF;
constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
/// Flags use bits 0-5 only (wire::flow_flag).
constexpr uint64_t kMaxFlowFlags = 0x3F;
constexpr uint64_t kMaxProtocol = static_cast<uint8_t>(wire::Protocol::Icmp);
constexpr uint64_t kMaxAgentState = static_cast<uint8_t>(wire::AgentState::Suspended);
constexpr uint64_t kLastConfigError = static_cast<uint8_t>(wire::ConfigError::Unavailable);
constexpr size_t kMacBytes = 6;

/// Names the item an error is about ("network.groups[2].flows[1].remote_port"). Lives on the
/// stack while the decoder descends and becomes text only when something fails, so a message
/// that decodes cleanly costs no string work.
struct Path {
    const Path* parent = nullptr;
    const char* name = nullptr;  ///< null for an array element
    size_t index = 0;
    bool indexed = false;
};

Path child(const Path& parent, const char* name) {
    return Path{&parent, name, 0, false};
}
Path element(const Path& parent, size_t index) {
    return Path{&parent, nullptr, index, true};
}

void append_path(std::string& out, const Path* path) {
    if (path == nullptr) {
        return;
    }
    append_path(out, path->parent);
    if (path->name != nullptr) {
        if (!out.empty()) {
            out += '.';
        }
        out += path->name;
    }
    if (path->indexed) {
        out += '[';
        out += std::to_string(path->index);
        out += ']';
    }
}

/// How many containers enclose the item at `path` (the message itself: none).
unsigned depth(const Path& path) {
    unsigned containers = 0;
    for (const Path* at = path.parent; at != nullptr; at = at->parent) {
        ++containers;
    }
    return containers;
}

std::string text(const Path& path) {
    std::string out;
    append_path(out, &path);
    return out.empty() ? std::string("message") : out;
}

const char* describe_item(uint8_t initial) {
    switch (static_cast<MajorType>(initial >> 5)) {
        case MajorType::Unsigned:
            return "an unsigned integer";
        case MajorType::Negative:
            return "a negative integer";
        case MajorType::Bytes:
            return "a byte string";
        case MajorType::Text:
            return "a text string";
        case MajorType::Array:
            return "an array";
        case MajorType::Map:
            return "a map";
        case MajorType::Tag:
            return "a tag";
        case MajorType::Simple:
            break;
    }
    if (initial == 0xF4 || initial == 0xF5) {
        return "a boolean";
    }
    return initial == 0xF6 ? "null" : "a simple value or float";
}

/// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. CBOR text strings
/// must be valid UTF-8 (RFC 8949 §3.1), and the JSON rendering depends on it.
bool valid_utf8(const char* data, size_t length) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(data);
    size_t i = 0;
    while (i < length) {
        const uint8_t lead = bytes[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        size_t size = 0;
        uint32_t code = 0;
        uint32_t minimum = 0;
        if ((lead & 0xE0) == 0xC0) {
            size = 2;
            code = lead & 0x1Fu;
            minimum = 0x80;
        } else if ((lead & 0xF0) == 0xE0) {
            size = 3;
            code = lead & 0x0Fu;
            minimum = 0x800;
        } else if ((lead & 0xF8) == 0xF0) {
            size = 4;
            code = lead & 0x07u;
            minimum = 0x10000;
        } else {
            return false;
        }
        if (length - i < size) {
            return false;
        }
        for (size_t k = 1; k < size; ++k) {
            const uint8_t next = bytes[i + k];
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            code = (code << 6) | (next & 0x3Fu);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += size;
    }
    return true;
}

/// Field names of one map, indexed by key; null marks a number the format leaves unused.
struct KeyNames {
    const char* const* names;
    size_t count;  ///< highest known key + 1
};

template <size_t N>
constexpr KeyNames key_names(const char* const (&names)[N]) {
    return KeyNames{names, N};
}

constexpr uint64_t key_bit(uint8_t key) {
    return uint64_t{1} << key;
}

constexpr const char* kEnvelopeNames[] = {
    nullptr, "version", "boot_id", "sequence", "unix_time", "uptime_s",        nullptr,
    nullptr, nullptr,   nullptr,   "network",  "system",    "listening_ports", "heartbeat"};
constexpr uint64_t kEnvelopeRequired =
    key_bit(wire::message_key::kVersion) | key_bit(wire::message_key::kBootId) |
    key_bit(wire::message_key::kSequence) | key_bit(wire::message_key::kUnixTime) |
    key_bit(wire::message_key::kUptime);

constexpr const char* kNetworkNames[] = {
    nullptr, "window_start_age_ms", "window_duration_ms", "local_addresses", "groups", "overflow",
    "part"};
constexpr uint64_t kNetworkRequired =
    key_bit(wire::network_key::kWindowStartAgeMs) | key_bit(wire::network_key::kWindowDurationMs) |
    key_bit(wire::network_key::kLocalAddresses) | key_bit(wire::network_key::kGroups);

constexpr const char* kSystemNames[] = {
    nullptr,         "agent_version",    "os_name", "os_version", "stack_name",
    "stack_version", "firmware_version", "board",   "addresses",  "macs"};

constexpr const char* kHeartbeatNames[] = {nullptr,
                                           "state",
                                           "config_version",
                                           "packets_seen",
                                           "packets_unparsed",
                                           "packets_ignored",
                                           "overflow_packets",
                                           "messages_sent",
                                           "send_failures",
                                           "messages_dropped",
                                           "backlog_messages",
                                           "backlog_bytes",
                                           "config_rejected",
                                           "schedule_drift",
                                           "clock_jumps",
                                           "collectors"};
/// Every heartbeat key but config_rejected, which is there only after a rejection.
constexpr uint64_t kHeartbeatRequired =
    (key_bit(wire::heartbeat_key::kCollectors + 1) - key_bit(wire::heartbeat_key::kState)) &
    ~key_bit(wire::heartbeat_key::kConfigRejected);

static_assert(sizeof(kEnvelopeNames) / sizeof(kEnvelopeNames[0]) ==
              wire::message_key::kHeartbeat + 1);
static_assert(sizeof(kNetworkNames) / sizeof(kNetworkNames[0]) == wire::network_key::kPart + 1);
static_assert(sizeof(kSystemNames) / sizeof(kSystemNames[0]) == wire::system_key::kMacs + 1);
static_assert(sizeof(kHeartbeatNames) / sizeof(kHeartbeatNames[0]) ==
              wire::heartbeat_key::kCollectors + 1);

/// Reads a message the schema way. The first error is kept in `result`; every step returns false
/// from then on.
class Decoder {
  public:
    Decoder(const uint8_t* data, size_t length, DecodeResult& result)
        : data_(data), in_(data, length), result_(result) {}

    bool message(Message& out);
    /// The message must end where the input does.
    bool finish() {
        const size_t at = in_.offset();
        return in_.finish() ||
               fail(DecodeError::Cbor, at, cbor::to_string(in_.error()), in_.error());
    }

  private:
    bool fail(DecodeError error, size_t offset, std::string detail,
              ReadError cbor_error = ReadError::None) {
        if (result_.error == DecodeError::None) {
            result_.error = error;
            result_.cbor_error = cbor_error;
            result_.offset = offset;
            result_.detail = std::move(detail);
        }
        return false;
    }

    /// Turns the reader's error for the item at `offset` into a DecodeError.
    bool reader_failed(size_t offset, const Path& path, const char* expected) {
        const ReadError error = in_.error();
        switch (error) {
            case ReadError::WrongType:
                return fail(DecodeError::WrongShape, offset,
                            text(path) + ": expected " + expected + ", found " +
                                describe_item(data_[offset]),
                            error);
            case ReadError::OutOfRange:
                return fail(DecodeError::BadValue, offset, text(path) + ": value out of range",
                            error);
            default:
                return fail(DecodeError::Cbor, offset, text(path) + ": " + cbor::to_string(error),
                            error);
        }
    }

    bool uint(const Path& path, uint64_t max, uint64_t& value) {
        const size_t at = in_.offset();
        if (!in_.read_uint(value)) {
            return reader_failed(at, path, "an unsigned integer");
        }
        if (value > max) {
            return fail(DecodeError::BadValue, at,
                        text(path) + ": " + std::to_string(value) + " is over the maximum " +
                            std::to_string(max));
        }
        return true;
    }

    template <typename T>
    bool uint_as(const Path& path, T& value, uint64_t max = std::numeric_limits<T>::max()) {
        uint64_t wide = 0;
        if (!uint(path, max, wide)) {
            return false;
        }
        value = static_cast<T>(wide);
        return true;
    }

    /// A TCP/UDP port: the port itself, or -1 - i for wire::kWellKnownPorts[i].
    bool port(const Path& path, uint16_t& value) {
        const size_t at = in_.offset();
        int64_t wide = 0;
        if (!in_.read_int(wide)) {
            return reader_failed(at, path, "an integer");
        }
        if (!wire::port_from_wire(wide, value)) {
            return fail(DecodeError::BadValue, at,
                        text(path) + ": " + std::to_string(wide) +
                            " is neither a port nor a well-known port index");
        }
        return true;
    }

    bool array(const Path& path, size_t& count) {
        const size_t at = in_.offset();
        return in_.read_array(count) || reader_failed(at, path, "an array");
    }

    bool fixed_array(const Path& path, size_t expected) {
        const size_t at = in_.offset();
        size_t count = 0;
        if (!array(path, count)) {
            return false;
        }
        if (count != expected) {
            return fail(DecodeError::WrongShape, at,
                        text(path) + ": array of " + std::to_string(count) + " items, expected " +
                            std::to_string(expected));
        }
        return true;
    }

    bool address(const Path& path, bool allow_any, wire::Address& out) {
        const size_t at = in_.offset();
        const uint8_t* bytes = nullptr;
        size_t length = 0;
        if (!in_.read_bytes(bytes, length)) {
            return reader_failed(at, path, "a byte string");
        }
        if (length != 4 && length != 16 && !(allow_any && length == 0)) {
            return fail(DecodeError::BadValue, at,
                        text(path) + ": address of " + std::to_string(length) +
                            " bytes, expected " + (allow_any ? "0, 4 or 16" : "4 or 16"));
        }
        out = wire::Address{};
        out.family = length == 4 ? 4 : length == 16 ? 6 : 0;
        if (length > 0) {
            std::memcpy(out.bytes, bytes, length);
        }
        return true;
    }

    bool system_string(const Path& path, std::optional<std::string>& out) {
        const size_t at = in_.offset();
        const char* chars = nullptr;
        size_t length = 0;
        if (!in_.read_text(chars, length)) {
            return reader_failed(at, path, "a text string");
        }
        if (length > wire::kMaxSystemString) {
            return fail(DecodeError::BadValue, at,
                        text(path) + ": " + std::to_string(length) + " bytes, at most " +
                            std::to_string(wire::kMaxSystemString));
        }
        if (!valid_utf8(chars, length)) {
            return fail(DecodeError::BadValue, at, text(path) + ": not valid UTF-8");
        }
        // The agent holds these as C strings, so a NUL could never have come from it.
        if (std::memchr(chars, '\0', length) != nullptr) {
            return fail(DecodeError::BadValue, at, text(path) + ": contains a NUL character");
        }
        out.emplace(chars, length);
        return true;
    }

    /// Reads a map with unsigned keys in strictly ascending order. Keys past the highest known
    /// one are skipped (newer agents may add them); unused numbers below it are rejected.
    /// `field(key, path, key_offset)` reads the value of each known key.
    template <typename Field>
    bool map(const Path& path, KeyNames keys, uint64_t required, Field&& field) {
        const size_t at = in_.offset();
        size_t pairs = 0;
        if (!in_.read_map(pairs)) {
            return reader_failed(at, path, "a map");
        }
        uint64_t seen = 0;
        uint64_t previous = 0;
        for (size_t i = 0; i < pairs; ++i) {
            const size_t key_at = in_.offset();
            uint64_t key = 0;
            if (!in_.read_uint(key)) {
                return reader_failed(key_at, path, "an unsigned integer key");
            }
            if (i > 0 && key <= previous) {
                return fail(
                    DecodeError::DuplicateKey, key_at,
                    text(path) + ": key " + std::to_string(key) +
                        (key == previous ? " repeated" : " after key " + std::to_string(previous)));
            }
            previous = key;
            if (key >= keys.count) {
                const size_t value_at = in_.offset();
                if (!in_.skip_nested(depth(path) + 1)) {
                    return reader_failed(value_at, path, "a data item");
                }
                continue;
            }
            const char* name = keys.names[key];
            if (name == nullptr) {
                return fail(DecodeError::WrongShape, key_at,
                            text(path) + ": unknown key " + std::to_string(key));
            }
            seen |= uint64_t{1} << key;
            if (!field(key, child(path, name), key_at)) {
                return false;
            }
        }
        const uint64_t missing = required & ~seen;
        if (missing != 0) {
            size_t key = 0;
            while ((missing & (uint64_t{1} << key)) == 0) {
                ++key;
            }
            return fail(
                DecodeError::MissingField, at,
                text(child(path, keys.names[key])) + ": missing (key " + std::to_string(key) + ")");
        }
        return true;
    }

    bool network(const Path& path, NetworkActivity& out);
    bool groups(const Path& path, NetworkActivity& out);
    bool flow_fields(const Path& path, wire::FlowFields& out);
    bool overflow(const Path& path, std::vector<wire::OverflowFields>& out);
    bool part(const Path& path, std::optional<std::pair<uint32_t, uint32_t>>& out);
    bool system(const Path& path, SystemInformation& out);
    bool listening_ports(const Path& path, std::vector<wire::ListeningPortFields>& out);
    bool heartbeat(const Path& path, wire::HeartbeatFields& out);
    bool protocol(const Path& path, wire::Protocol& out) {
        uint8_t value = 0;
        if (!uint_as(path, value, kMaxProtocol)) {
            return false;
        }
        out = static_cast<wire::Protocol>(value);
        return true;
    }

    const uint8_t* data_;
    cbor::Reader in_;
    DecodeResult& result_;
};

bool Decoder::message(Message& out) {
    namespace key = wire::message_key;
    const Path root{};
    bool version_seen = false;
    return map(root, key_names(kEnvelopeNames), kEnvelopeRequired,
               [&](uint64_t k, const Path& field, size_t key_at) {
                   // Nothing after the version can be read before the version is known.
                   if (k != key::kVersion && !version_seen) {
                       return fail(DecodeError::MissingField, key_at,
                                   "version: missing (key 1 must come first)");
                   }
                   switch (k) {
                       case key::kVersion: {
                           const size_t at = in_.offset();
                           uint64_t version = 0;
                           if (!uint(field, kMaxU64, version)) {
                               return false;
                           }
                           if (version != wire::kFormatVersion) {
                               return fail(DecodeError::UnknownVersion, at,
                                           "version: " + std::to_string(version) +
                                               ", this decoder reads version " +
                                               std::to_string(wire::kFormatVersion));
                           }
                           out.version = wire::kFormatVersion;
                           version_seen = true;
                           return true;
                       }
                       case key::kBootId:
                           return uint_as(field, out.boot_id);
                       case key::kSequence:
                           return uint_as(field, out.sequence);
                       case key::kUnixTime:
                           return uint_as(field, out.unix_time);
                       case key::kUptime:
                           return uint_as(field, out.uptime);
                       case key::kNetwork:
                           return network(field, out.network.emplace());
                       case key::kSystem:
                           return system(field, out.system.emplace());
                       case key::kPorts:
                           return listening_ports(field, out.listening_ports.emplace());
                       case key::kHeartbeat:
                           return heartbeat(field, out.heartbeat.emplace());
                       default:
                           return true;
                   }
               });
}

bool Decoder::network(const Path& path, NetworkActivity& out) {
    namespace key = wire::network_key;
    bool addresses_seen = false;
    return map(path, key_names(kNetworkNames), kNetworkRequired,
               [&](uint64_t k, const Path& field, size_t key_at) {
                   switch (k) {
                       case key::kWindowStartAgeMs:
                           return uint_as(field, out.window_start_age_ms);
                       case key::kWindowDurationMs:
                           return uint_as(field, out.window_duration_ms);
                       case key::kLocalAddresses: {
                           size_t count = 0;
                           if (!array(field, count)) {
                               return false;
                           }
                           for (size_t i = 0; i < count; ++i) {
                               wire::Address entry;
                               if (!address(element(field, i), false, entry)) {
                                   return false;
                               }
                               out.local_addresses.push_back(entry);
                           }
                           addresses_seen = true;
                           return true;
                       }
                       case key::kGroups:
                           if (!addresses_seen) {
                               return fail(
                                   DecodeError::MissingField, key_at,
                                   text(child(path, kNetworkNames[key::kLocalAddresses])) +
                                       ": missing before the groups that refer to it (key 3)");
                           }
                           return groups(field, out);
                       case key::kOverflow:
                           return overflow(field, out.overflow);
                       case key::kPart:
                           return part(field, out.part);
                       default:
                           return true;
                   }
               });
}

bool Decoder::groups(const Path& path, NetworkActivity& out) {
    constexpr size_t kMinItems = wire::kGroupHeaderItems + wire::kFlowItems;
    size_t count = 0;
    if (!array(path, count)) {
        return false;
    }
    for (size_t g = 0; g < count; ++g) {
        const Path group = element(path, g);
        const size_t at = in_.offset();
        size_t items = 0;
        if (!array(group, items)) {
            return false;
        }
        if (items < kMinItems || (items - wire::kGroupHeaderItems) % wire::kFlowItems != 0) {
            return fail(DecodeError::WrongShape, at,
                        text(group) + ": " + std::to_string(items) +
                            " items; a group is [local_index, remote, 9 items per flow] with at "
                            "least one flow");
        }
        Flow flow;
        const size_t index_at = in_.offset();
        if (!uint_as(child(group, "local_index"), flow.local_index)) {
            return false;
        }
        if (flow.local_index >= out.local_addresses.size()) {
            return fail(DecodeError::BadValue, index_at,
                        text(child(group, "local_index")) + ": " +
                            std::to_string(flow.local_index) + " is past the " +
                            std::to_string(out.local_addresses.size()) + " local addresses");
        }
        const size_t remote_at = in_.offset();
        if (!address(child(group, "remote"), false, flow.remote)) {
            return false;
        }
        const uint8_t local_family = out.local_addresses[flow.local_index].family;
        if (flow.remote.family != local_family) {
            return fail(DecodeError::BadValue, remote_at,
                        text(child(group, "remote")) + ": IPv" +
                            std::to_string(flow.remote.family) + " remote address with an IPv" +
                            std::to_string(local_family) + " local address");
        }
        const Path flows = child(group, "flows");
        const size_t flow_count = (items - wire::kGroupHeaderItems) / wire::kFlowItems;
        for (size_t f = 0; f < flow_count; ++f) {
            if (!flow_fields(element(flows, f), flow.fields)) {
                return false;
            }
            out.flows.push_back(flow);
        }
    }
    return true;
}

bool Decoder::flow_fields(const Path& path, wire::FlowFields& out) {
    namespace flag = wire::flow_flag;
    const size_t at = in_.offset();
    if (!uint_as(child(path, "flags"), out.flags, kMaxFlowFlags)) {
        return false;
    }
    const auto bits = static_cast<uint8_t>(out.flags & flag::kProtocolMask);
    if (bits > kMaxProtocol) {
        return fail(DecodeError::BadValue, at,
                    text(child(path, "flags")) + ": protocol bits are 3 (0 tcp, 1 udp, 2 icmp)");
    }
    const bool icmp = bits == static_cast<uint8_t>(wire::Protocol::Icmp);
    if (bits != static_cast<uint8_t>(wire::Protocol::Tcp) &&
        (out.flags & flag::kHandshakeMask) != 0) {
        return fail(DecodeError::BadValue, at,
                    text(child(path, "flags")) + ": handshake bits set on a non-TCP flow");
    }
    // ICMP type and code are single octets carried in the port fields; TCP and UDP ports may
    // name an entry of the well-known port table.
    const bool ports_ok = icmp ? uint_as(child(path, "icmp_type"), out.local_port, kMaxU8) &&
                                     uint_as(child(path, "icmp_code"), out.remote_port, kMaxU8)
                               : port(child(path, "local_port"), out.local_port) &&
                                     port(child(path, "remote_port"), out.remote_port);
    return ports_ok && uint_as(child(path, "bytes_in"), out.bytes_in) &&
           uint_as(child(path, "bytes_out"), out.bytes_out) &&
           uint_as(child(path, "packets_in"), out.packets_in) &&
           uint_as(child(path, "packets_out"), out.packets_out) &&
           uint_as(child(path, "first_s"), out.first_s) &&
           uint_as(child(path, "last_s"), out.last_s);
}

bool Decoder::overflow(const Path& path, std::vector<wire::OverflowFields>& out) {
    size_t count = 0;
    if (!array(path, count)) {
        return false;
    }
    for (size_t i = 0; i < count; ++i) {
        const Path record = element(path, i);
        if (!fixed_array(record, wire::kOverflowItems)) {
            return false;
        }
        wire::OverflowFields fields;
        const size_t family_at = in_.offset();
        if (!uint_as(child(record, "family"), fields.family)) {
            return false;
        }
        if (fields.family != 4 && fields.family != 6) {
            return fail(DecodeError::BadValue, family_at,
                        text(child(record, "family")) + ": " + std::to_string(fields.family) +
                            ", expected 4 or 6");
        }
        if (!protocol(child(record, "protocol"), fields.protocol) ||
            !uint_as(child(record, "bytes_in"), fields.bytes_in) ||
            !uint_as(child(record, "bytes_out"), fields.bytes_out) ||
            !uint_as(child(record, "packets_in"), fields.packets_in) ||
            !uint_as(child(record, "packets_out"), fields.packets_out)) {
            return false;
        }
        out.push_back(fields);
    }
    return true;
}

bool Decoder::part(const Path& path, std::optional<std::pair<uint32_t, uint32_t>>& out) {
    if (!fixed_array(path, 2)) {
        return false;
    }
    uint32_t index = 0;
    uint32_t count = 0;
    const size_t index_at = in_.offset();
    if (!uint_as(child(path, "index"), index) || !uint_as(child(path, "count"), count)) {
        return false;
    }
    if (index >= count) {
        return fail(DecodeError::BadValue, index_at,
                    text(path) + ": part " + std::to_string(index) + " of " +
                        std::to_string(count) + " (index counts from 0 and must be below count)");
    }
    out.emplace(index, count);
    return true;
}

bool Decoder::system(const Path& path, SystemInformation& out) {
    namespace key = wire::system_key;
    std::optional<std::string> SystemInformation::*const strings[] = {
        &SystemInformation::agent_version, &SystemInformation::os_name,
        &SystemInformation::os_version,    &SystemInformation::stack_name,
        &SystemInformation::stack_version, &SystemInformation::firmware_version,
        &SystemInformation::board};
    return map(path, key_names(kSystemNames), 0, [&](uint64_t k, const Path& field, size_t) {
        if (k >= key::kAgentVersion && k <= key::kBoard) {
            return system_string(field, out.*strings[k - key::kAgentVersion]);
        }
        size_t count = 0;
        const size_t at = in_.offset();
        if (!array(field, count)) {
            return false;
        }
        const size_t limit =
            k == key::kAddresses ? wire::kMaxSystemAddresses : wire::kMaxSystemMacs;
        if (count > limit) {
            return fail(DecodeError::BadValue, at,
                        text(field) + ": " + std::to_string(count) + " entries, at most " +
                            std::to_string(limit));
        }
        for (size_t i = 0; i < count; ++i) {
            if (k == key::kAddresses) {
                wire::Address entry;
                if (!address(element(field, i), false, entry)) {
                    return false;
                }
                out.addresses.push_back(entry);
                continue;
            }
            const size_t mac_at = in_.offset();
            const uint8_t* bytes = nullptr;
            size_t length = 0;
            if (!in_.read_bytes(bytes, length)) {
                return reader_failed(mac_at, element(field, i), "a byte string");
            }
            if (length != kMacBytes) {
                return fail(DecodeError::BadValue, mac_at,
                            text(element(field, i)) + ": MAC address of " + std::to_string(length) +
                                " bytes, expected 6");
            }
            std::array<uint8_t, kMacBytes> mac{};
            std::memcpy(mac.data(), bytes, kMacBytes);
            out.macs.push_back(mac);
        }
        return true;
    });
}

bool Decoder::listening_ports(const Path& path, std::vector<wire::ListeningPortFields>& out) {
    size_t count = 0;
    if (!array(path, count)) {
        return false;
    }
    for (size_t i = 0; i < count; ++i) {
        const Path entry = element(path, i);
        wire::ListeningPortFields port;
        if (!fixed_array(entry, 3) || !protocol(child(entry, "protocol"), port.protocol) ||
            !uint_as(child(entry, "port"), port.port) ||
            !address(child(entry, "address"), true, port.address)) {
            return false;
        }
        out.push_back(port);
    }
    return true;
}

bool Decoder::heartbeat(const Path& path, wire::HeartbeatFields& out) {
    namespace key = wire::heartbeat_key;
    return map(path, key_names(kHeartbeatNames), kHeartbeatRequired,
               [&](uint64_t k, const Path& field, size_t) {
                   switch (k) {
                       case key::kState: {
                           uint8_t state = 0;
                           if (!uint_as(field, state, kMaxAgentState)) {
                               return false;
                           }
                           out.state = static_cast<wire::AgentState>(state);
                           return true;
                       }
                       case key::kConfigVersion:
                           return uint_as(field, out.config_version);
                       case key::kPacketsSeen:
                           return uint_as(field, out.packets_seen);
                       case key::kPacketsUnparsed:
                           return uint_as(field, out.packets_unparsed);
                       case key::kPacketsIgnored:
                           return uint_as(field, out.packets_ignored);
                       case key::kOverflowPackets:
                           return uint_as(field, out.overflow_packets);
                       case key::kMessagesSent:
                           return uint_as(field, out.messages_sent);
                       case key::kSendFailures:
                           return uint_as(field, out.send_failures);
                       case key::kMessagesDropped:
                           return uint_as(field, out.messages_dropped);
                       case key::kBacklogMessages:
                           return uint_as(field, out.backlog_messages);
                       case key::kBacklogBytes:
                           return uint_as(field, out.backlog_bytes);
                       case key::kConfigRejected: {
                           if (!fixed_array(field, 2) ||
                               !uint_as(child(field, "version"), out.rejected_config_version)) {
                               return false;
                           }
                           const size_t at = in_.offset();
                           uint64_t reason = 0;
                           if (!uint(child(field, "reason"), kMaxU64, reason)) {
                               return false;
                           }
                           // None is never sent: the key is left out instead.
                           if (reason == 0 || reason > kLastConfigError) {
                               return fail(DecodeError::BadValue, at,
                                           text(child(field, "reason")) + ": " +
                                               std::to_string(reason) +
                                               " is not a config error code (1.." +
                                               std::to_string(kLastConfigError) + ")");
                           }
                           out.rejected_config_reason = static_cast<wire::ConfigError>(reason);
                           return true;
                       }
                       case key::kScheduleDrift:
                           return uint_as(field, out.schedule_drift);
                       case key::kClockJumps:
                           return uint_as(field, out.clock_jumps);
                       case key::kCollectors:
                           return uint_as(field, out.collectors);
                       default:
                           return true;
                   }
               });
}

}  // namespace

const char* to_string(DecodeError error) {
    switch (error) {
        case DecodeError::None:
            return "ok";
        case DecodeError::Empty:
            return "empty message";
        case DecodeError::TooLarge:
            return "message too large";
        case DecodeError::Cbor:
            return "malformed CBOR";
        case DecodeError::WrongShape:
            return "wrong shape";
        case DecodeError::MissingField:
            return "missing field";
        case DecodeError::UnknownVersion:
            return "unknown format version";
        case DecodeError::BadValue:
            return "value out of range";
        case DecodeError::DuplicateKey:
            return "duplicate or out-of-order map key";
    }
    return "unknown decode error";
}

DecodeResult decode_message(const uint8_t* data, size_t length, Message& out) {
    DecodeResult result;
    out = Message{};
    if (data == nullptr || length == 0) {
        result.error = DecodeError::Empty;
        result.detail = "no bytes";
        return result;
    }
    if (length > kMaxMessageBytes) {
        result.error = DecodeError::TooLarge;
        result.offset = kMaxMessageBytes;
        result.detail =
            std::to_string(length) + " bytes, the limit is " + std::to_string(kMaxMessageBytes);
        return result;
    }
    // The schema pass reads every byte with the same reader a well-formedness check would, and
    // skips unknown values with that check: when it succeeds and consumes the input exactly, the
    // input is well-formed. Only a failure needs the check over the whole input, so that broken
    // CBOR is reported as such wherever it is, before the schema error the pass met first.
    Decoder decoder(data, length, result);
    if (decoder.message(out) && decoder.finish()) {
        return result;
    }
    cbor::Reader check(data, length);
    if (!check.skip() || !check.finish()) {
        result = DecodeResult{};
        result.error = DecodeError::Cbor;
        result.cbor_error = check.error();
        result.offset = check.offset();
        result.detail = cbor::to_string(check.error());
    }
    return result;
}

}  // namespace vigil::protocol

#include "vigil/protocol/wire.h"

namespace vigil::wire {

const char* to_string(ConfigError error) {
    switch (error) {
        case ConfigError::None:
            return "ok";
        case ConfigError::Malformed:
            return "malformed config message";
        case ConfigError::UnknownKey:
            return "unknown config key";
        case ConfigError::UnknownCollector:
            return "unknown collector id";
        case ConfigError::BadInterval:
            return "interval out of range";
        case ConfigError::BadPriority:
            return "unknown priority group";
        case ConfigError::StaleVersion:
            return "config version not newer than the one in force";
        case ConfigError::BadValue:
            return "value out of range";
        case ConfigError::Unavailable:
            return "collector not built into this agent";
    }
    return "unknown config error";
}

int32_t port_to_wire(uint16_t port) {
    if (port >= 24) {
        for (size_t i = 0; i < kWellKnownPortCount; ++i) {
            if (kWellKnownPorts[i] == port) {
                return -1 - static_cast<int32_t>(i);
            }
        }
    }
    return port;
}

bool port_from_wire(int64_t value, uint16_t& port) {
    if (value >= 0 && value <= 0xFFFF) {
        port = static_cast<uint16_t>(value);
        return true;
    }
    if (value < 0 && value >= -static_cast<int64_t>(kWellKnownPortCount)) {
        port = kWellKnownPorts[-1 - value];
        return true;
    }
    return false;
}

namespace {

/// The index of the entry of `names` equal to the `length` bytes at `name`, or `count`.
size_t find_name(const char* const* names, size_t count, const char* name, size_t length) {
    for (size_t i = 0; name != nullptr && i < count; ++i) {
        size_t same = 0;
        while (same < length && names[i][same] == name[same]) {
            ++same;
        }
        if (same == length && names[i][same] == '\0') {
            return i;
        }
    }
    return count;
}

}  // namespace

bool collector_from_name(const char* name, size_t length, CollectorId& id) {
    const size_t index = find_name(kCollectorNames, kCollectorCount, name, length);
    if (index == kCollectorCount) {
        return false;
    }
    id = static_cast<CollectorId>(index + 1);
    return true;
}

bool priority_from_name(const char* name, size_t length, Priority& priority) {
    const size_t index = find_name(kPriorityNames, kPriorityCount, name, length);
    if (index == kPriorityCount) {
        return false;
    }
    priority = static_cast<Priority>(index);
    return true;
}

void encode_envelope(cbor::Writer& out, const Envelope& envelope, size_t events) {
    out.map(5 + events);
    out.uint(message_key::kVersion);
    out.uint(envelope.version);
    out.uint(message_key::kBootId);
    out.uint(envelope.boot_id);
    out.uint(message_key::kSequence);
    out.uint(envelope.sequence);
    out.uint(message_key::kUnixTime);
    out.uint(envelope.unix_time);
    out.uint(message_key::kUptime);
    out.uint(envelope.uptime);
}

namespace {

bool carries_ports(const FlowFields& flow) {
    return (flow.flags & flow_flag::kProtocolMask) != static_cast<uint8_t>(Protocol::Icmp);
}

}  // namespace

void encode_flow(cbor::Writer& out, const FlowFields& flow) {
    out.uint(flow.flags);
    if (carries_ports(flow)) {
        out.integer(port_to_wire(flow.local_port));
        out.integer(port_to_wire(flow.remote_port));
    } else {  // ICMP type and code
        out.uint(flow.local_port);
        out.uint(flow.remote_port);
    }
    out.uint(flow.bytes_in);
    out.uint(flow.bytes_out);
    out.uint(flow.packets_in);
    out.uint(flow.packets_out);
    out.uint(flow.first_s);
    out.uint(flow.last_s);
}

// Counted by the encoder itself, so the size can never disagree with what is written.
size_t flow_size(const FlowFields& flow) {
    cbor::Writer counter;
    encode_flow(counter, flow);
    return counter.size();
}

void encode_overflow(cbor::Writer& out, const OverflowFields& overflow) {
    out.array(kOverflowItems);
    out.uint(overflow.family);
    out.uint(static_cast<uint8_t>(overflow.protocol));
    out.uint(overflow.bytes_in);
    out.uint(overflow.bytes_out);
    out.uint(overflow.packets_in);
    out.uint(overflow.packets_out);
}

void encode_address(cbor::Writer& out, const Address& address) {
    out.bytes(address.bytes, address.size());
}

bool decode_address(cbor::Reader& in, Address& address) {
    const uint8_t* data = nullptr;
    size_t length = 0;
    if (!in.read_bytes(data, length)) {
        return false;
    }
    if (length != 0 && length != 4 && length != 16) {
        in.fail(cbor::ReadError::OutOfRange);
        return false;
    }
    address = Address{};
    address.family = length == 4 ? 4 : length == 16 ? 6 : 0;
    for (size_t i = 0; i < length; ++i) {
        address.bytes[i] = data[i];
    }
    return true;
}

void encode_heartbeat(cbor::Writer& out, const HeartbeatFields& hb) {
    const bool rejected = hb.rejected_config_reason != ConfigError::None;
    out.map(rejected ? 15 : 14);
    // Every key but kConfigRejected carries one count; encoded in a loop over them, in key order,
    // because one call site per key costs a microcontroller several hundred bytes of flash.
    const uint64_t counts[] = {static_cast<uint8_t>(hb.state),
                               hb.config_version,
                               hb.packets_seen,
                               hb.packets_unparsed,
                               hb.packets_ignored,
                               hb.overflow_packets,
                               hb.messages_sent,
                               hb.send_failures,
                               hb.messages_dropped,
                               hb.backlog_messages,
                               hb.backlog_bytes,
                               0,
                               hb.schedule_drift,
                               hb.clock_jumps,
                               hb.collectors};
    static_assert(sizeof(counts) / sizeof(counts[0]) == heartbeat_key::kCollectors &&
                      heartbeat_key::kState == 1,
                  "one count per heartbeat key, keys from 1");
    for (uint8_t key = heartbeat_key::kState; key <= heartbeat_key::kCollectors; ++key) {
        if (key == heartbeat_key::kConfigRejected) {
            if (rejected) {
                out.uint(key);
                out.array(2);
                out.uint(hb.rejected_config_version);
                out.uint(static_cast<uint8_t>(hb.rejected_config_reason));
            }
            continue;
        }
        out.uint(key);
        out.uint(counts[key - 1]);
    }
}

namespace {

void put_string_field(cbor::Writer& out, uint8_t key, const char* value) {
    if (value != nullptr) {
        out.uint(key);
        out.text_cstr(value, kMaxSystemString);
    }
}

}  // namespace

void encode_system(cbor::Writer& out, const SystemFields& sys) {
    const char* const strings[] = {sys.agent_version, sys.os_name,       sys.os_version,
                                   sys.stack_name,    sys.stack_version, sys.firmware_version,
                                   sys.board};
    size_t pairs = 0;
    for (const char* value : strings) {
        pairs += value != nullptr ? 1 : 0;
    }
    const size_t addresses =
        sys.address_count < kMaxSystemAddresses ? sys.address_count : kMaxSystemAddresses;
    const size_t macs = sys.mac_count < kMaxSystemMacs ? sys.mac_count : kMaxSystemMacs;
    pairs += (addresses > 0 ? 1 : 0) + (macs > 0 ? 1 : 0);
    out.map(pairs);
    // Keys 1..7 are the strings, in the order of `strings`.
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); ++i) {
        put_string_field(out, static_cast<uint8_t>(system_key::kAgentVersion + i), strings[i]);
    }
    if (addresses > 0) {
        out.uint(system_key::kAddresses);
        out.array(addresses);
        for (size_t i = 0; i < addresses; ++i) {
            encode_address(out, sys.addresses[i]);
        }
    }
    if (macs > 0) {
        out.uint(system_key::kMacs);
        out.array(macs);
        for (size_t i = 0; i < macs; ++i) {
            out.bytes(sys.macs[i], 6);
        }
    }
}

void encode_listening_ports(cbor::Writer& out, const ListeningPortFields* ports, size_t count) {
    out.array(count);
    for (size_t i = 0; i < count; ++i) {
        encode_listening_port(out, ports[i]);
    }
}

void encode_listening_port(cbor::Writer& out, const ListeningPortFields& port) {
    out.array(3);
    out.uint(static_cast<uint8_t>(port.protocol));
    out.uint(port.port);
    encode_address(out, port.address);
}

void encode_config(cbor::Writer& out, const ConfigFields& config) {
    encode_config(out, config, ConfigKeys{});
}

void encode_config(cbor::Writer& out, const ConfigFields& config, const ConfigKeys& keys) {
    size_t collectors = 0;
    for (const bool given : keys.collectors) {
        collectors += given ? 1 : 0;
    }
    out.map(1 + (keys.intervals ? 1 : 0) + (collectors > 0 ? 1 : 0) + (keys.unicast_only ? 1 : 0) +
            (keys.pending_timeout ? 1 : 0) + (keys.retry ? 1 : 0));
    out.uint(config_key::kVersion);
    out.uint(config.version);
    if (keys.intervals) {
        out.uint(config_key::kIntervals);
        out.array(kPriorityCount);
        for (uint32_t interval : config.interval_s) {
            out.uint(interval);
        }
    }
    if (collectors > 0) {
        out.uint(config_key::kCollectors);
        out.map(collectors);
        for (size_t i = 0; i < kCollectorCount; ++i) {
            if (keys.collectors[i]) {
                out.uint(i + 1);
                out.array(2);
                out.boolean(config.collectors[i].enabled);
                out.uint(static_cast<uint8_t>(config.collectors[i].priority));
            }
        }
    }
    if (keys.unicast_only) {
        out.uint(config_key::kUnicastOnly);
        out.boolean(config.unicast_only);
    }
    if (keys.pending_timeout) {
        out.uint(config_key::kPendingTimeout);
        out.uint(config.pending_timeout_s);
    }
    if (keys.retry) {
        out.uint(config_key::kRetry);
        out.uint(config.retry_s);
    }
}

namespace {

ConfigError reader_error(const cbor::Reader& in) {
    return in.error() == cbor::ReadError::OutOfRange ? ConfigError::BadValue
                                                     : ConfigError::Malformed;
}

/// Keys, collector ids and priorities: any value past 32 bits reads as 0xFFFFFFFF, which is as
/// unknown (and as late in key order) as the value itself.
bool read_small(cbor::Reader& in, uint32_t& value) {
    uint64_t wide = 0;
    if (!in.read_uint(wide)) {
        return false;
    }
    value = wide > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(wide);
    return true;
}

ConfigError decode_intervals(cbor::Reader& in, ConfigFields& next) {
    size_t count = 0;
    if (!in.read_array(count)) {
        return reader_error(in);
    }
    if (count != kPriorityCount) {
        return ConfigError::Malformed;
    }
    for (uint32_t& interval : next.interval_s) {
        if (!in.read_uint32(interval)) {
            return in.error() == cbor::ReadError::OutOfRange ? ConfigError::BadInterval
                                                             : ConfigError::Malformed;
        }
        if (interval < kMinIntervalS || interval > kMaxIntervalS) {
            return ConfigError::BadInterval;
        }
    }
    return ConfigError::None;
}

ConfigError decode_collectors(cbor::Reader& in, ConfigFields& next, ConfigKeys& keys) {
    size_t pairs = 0;
    if (!in.read_map(pairs)) {
        return reader_error(in);
    }
    uint32_t previous_id = 0;
    for (size_t i = 0; i < pairs; ++i) {
        uint32_t id = 0;
        size_t items = 0;
        bool enabled = false;
        uint32_t priority = 0;
        if (!read_small(in, id)) {
            return reader_error(in);
        }
        if (id <= previous_id) {
            return ConfigError::Malformed;  // keys must be unique and in order
        }
        previous_id = id;
        if (id < 1 || id > kCollectorCount) {
            return ConfigError::UnknownCollector;
        }
        if (!in.read_array(items) || items != 2 || !in.read_bool(enabled) ||
            !read_small(in, priority)) {
            return reader_error(in);
        }
        if (priority >= kPriorityCount) {
            return ConfigError::BadPriority;
        }
        next.collectors[id - 1] = {enabled, static_cast<Priority>(priority)};
        keys.collectors[id - 1] = true;
    }
    return ConfigError::None;
}

ConfigError decode_bounded_uint(cbor::Reader& in, uint32_t minimum, uint32_t maximum,
                                uint32_t& value) {
    if (!in.read_uint32(value)) {
        return reader_error(in);
    }
    return value < minimum || value > maximum ? ConfigError::BadValue : ConfigError::None;
}

ConfigError decode_config_field(cbor::Reader& in, uint32_t key, ConfigFields& next,
                                ConfigKeys& keys) {
    switch (key) {
        case config_key::kIntervals:
            keys.intervals = true;
            return decode_intervals(in, next);
        case config_key::kCollectors:
            return decode_collectors(in, next, keys);
        case config_key::kUnicastOnly:
            keys.unicast_only = true;
            return in.read_bool(next.unicast_only) ? ConfigError::None : reader_error(in);
        case config_key::kPendingTimeout:
            keys.pending_timeout = true;
            return decode_bounded_uint(in, 1, kMaxPendingTimeoutS, next.pending_timeout_s);
        case config_key::kRetry:
            keys.retry = true;
            return decode_bounded_uint(in, 1, kMaxRetryS, next.retry_s);
        default:
            return ConfigError::UnknownKey;
    }
}

}  // namespace

bool same_settings(const ConfigFields& a, const ConfigFields& b) {
    for (size_t g = 0; g < kPriorityCount; ++g) {
        if (a.interval_s[g] != b.interval_s[g]) {
            return false;
        }
    }
    for (size_t c = 0; c < kCollectorCount; ++c) {
        if (a.collectors[c].enabled != b.collectors[c].enabled ||
            a.collectors[c].priority != b.collectors[c].priority) {
            return false;
        }
    }
    return a.unicast_only == b.unicast_only && a.pending_timeout_s == b.pending_timeout_s &&
           a.retry_s == b.retry_s;
}

ConfigError decode_config_settings(const uint8_t* data, size_t length, ConfigFields& config,
                                   uint32_t& version) {
    ConfigKeys keys;
    return decode_config_settings(data, length, config, version, keys);
}

ConfigError decode_config_settings(const uint8_t* data, size_t length, ConfigFields& config,
                                   uint32_t& version, ConfigKeys& keys) {
    ConfigKeys given = ConfigKeys::none();
    if (data == nullptr) {
        return ConfigError::Malformed;
    }
    cbor::Reader in(data, length);
    ConfigFields next = config;
    size_t pairs = 0;
    uint32_t key = 0;
    if (!in.read_map(pairs) || pairs == 0 || !read_small(in, key) || key != config_key::kVersion ||
        !in.read_uint32(next.version)) {
        return reader_error(in);
    }
    version = next.version;
    uint32_t previous_key = key;
    for (size_t i = 1; i < pairs; ++i) {
        if (!read_small(in, key)) {
            return reader_error(in);
        }
        if (key <= previous_key) {
            return ConfigError::Malformed;
        }
        previous_key = key;
        const ConfigError error = decode_config_field(in, key, next, given);
        if (error != ConfigError::None) {
            return error;
        }
    }
    if (!in.finish()) {
        return ConfigError::Malformed;
    }
    config = next;
    keys = given;
    return ConfigError::None;
}

ConfigError decode_config(const uint8_t* data, size_t length, ConfigFields& config,
                          uint32_t& version) {
    ConfigFields next = config;
    const ConfigError error = decode_config_settings(data, length, next, version);
    if (error != ConfigError::None) {
        return error;
    }
    // The config topic is retained, so a reconnecting agent is sent the config in force again:
    // the same version with the same settings is accepted as a no-op.
    if (next.version == config.version && same_settings(next, config)) {
        return ConfigError::None;
    }
    if (next.version <= config.version) {
        return ConfigError::StaleVersion;
    }
    config = next;
    return ConfigError::None;
}

}  // namespace vigil::wire

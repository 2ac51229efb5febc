// RapidCheck generators of valid messages: every value inside the range the decoder accepts,
// with the boundaries where CBOR heads change size drawn often.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "vigil/protocol/message.h"

namespace vigil::test {

/// Integers up to `max`, favouring the values where the encoded size changes.
template <typename T>
rc::Gen<T> boundary_biased(T max) {
    std::vector<T> edges;
    for (uint64_t edge : {uint64_t{0}, uint64_t{1}, uint64_t{23}, uint64_t{24}, uint64_t{255},
                          uint64_t{256}, uint64_t{65535}, uint64_t{65536}, uint64_t{0xFFFFFFFF},
                          uint64_t{0x100000000}, ~uint64_t{0}}) {
        if (edge <= max) {
            edges.push_back(static_cast<T>(edge));
        }
    }
    rc::Gen<T> anything = max == std::numeric_limits<T>::max()
                              ? rc::gen::arbitrary<T>()
                              : rc::gen::map(rc::gen::arbitrary<T>(), [max](T value) {
                                    return static_cast<T>(value % (uint64_t{max} + 1));
                                });
    return rc::gen::weightedOneOf<T>({
        {3, rc::gen::inRange<T>(0, max > 100 ? T{100} : max)},
        {2, rc::gen::elementOf(edges)},
        {3, std::move(anything)},
    });
}

inline rc::Gen<uint32_t> counter32() {
    return boundary_biased<uint32_t>(0xFFFFFFFFu);
}
inline rc::Gen<uint64_t> counter64() {
    return boundary_biased<uint64_t>(~uint64_t{0});
}

inline rc::Gen<wire::Address> address_of(uint8_t family) {
    const size_t size = family == 4 ? 4 : family == 6 ? 16 : 0;
    return rc::gen::map(
        rc::gen::container<std::vector<uint8_t>>(size, rc::gen::arbitrary<uint8_t>()),
        [family](const std::vector<uint8_t>& bytes) {
            wire::Address address;
            address.family = family;
            if (!bytes.empty()) {
                std::memcpy(address.bytes, bytes.data(), bytes.size());
            }
            return address;
        });
}

inline rc::Gen<wire::Address> any_address() {
    return rc::gen::mapcat(rc::gen::element<uint8_t>(4, 6), address_of);
}

inline rc::Gen<wire::FlowFields> flow_fields() {
    return rc::gen::exec([] {
        namespace flag = wire::flow_flag;
        wire::FlowFields f;
        const auto protocol = *rc::gen::inRange<uint8_t>(0, 3);
        uint8_t flags = protocol;
        if (*rc::gen::arbitrary<bool>()) {
            flags = static_cast<uint8_t>(flags | flag::kRemoteOpened);
        }
        if (*rc::gen::arbitrary<bool>()) {
            flags = static_cast<uint8_t>(flags | flag::kOpenerInferred);
        }
        if (protocol == static_cast<uint8_t>(wire::Protocol::Tcp)) {
            flags = static_cast<uint8_t>(
                flags | (*rc::gen::inRange<uint8_t>(0, 4) << flag::kHandshakeShift));
        }
        f.flags = flags;
        const auto port_max = static_cast<uint16_t>(
            protocol == static_cast<uint8_t>(wire::Protocol::Icmp) ? 255 : 65535);
        f.local_port = *boundary_biased<uint16_t>(port_max);
        f.remote_port = *boundary_biased<uint16_t>(port_max);
        f.bytes_in = *counter32();
        f.bytes_out = *counter32();
        f.packets_in = *counter32();
        f.packets_out = *counter32();
        f.first_s = *counter32();
        f.last_s = *counter32();
        return f;
    });
}

inline rc::Gen<wire::OverflowFields> overflow_fields() {
    return rc::gen::exec([] {
        wire::OverflowFields o;
        o.family = *rc::gen::element<uint8_t>(4, 6);
        o.protocol = static_cast<wire::Protocol>(*rc::gen::inRange<uint8_t>(0, 3));
        o.bytes_in = *counter32();
        o.bytes_out = *counter32();
        o.packets_in = *counter32();
        o.packets_out = *counter32();
        return o;
    });
}

inline rc::Gen<protocol::NetworkActivity> network_activity() {
    return rc::gen::exec([] {
        protocol::NetworkActivity n;
        n.window_start_age_ms = *counter32();
        n.window_duration_ms = *counter32();
        const auto locals = *rc::gen::inRange<size_t>(0, 5);
        for (size_t i = 0; i < locals; ++i) {
            n.local_addresses.push_back(*any_address());
        }
        if (!n.local_addresses.empty()) {
            const auto groups = *rc::gen::inRange<size_t>(0, 8);
            for (size_t g = 0; g < groups; ++g) {
                protocol::Flow flow;
                flow.local_index =
                    *rc::gen::inRange<uint32_t>(0, static_cast<uint32_t>(n.local_addresses.size()));
                flow.remote = *address_of(n.local_addresses[flow.local_index].family);
                const auto flows = *rc::gen::inRange<size_t>(1, 5);
                for (size_t f = 0; f < flows; ++f) {
                    flow.fields = *flow_fields();
                    n.flows.push_back(flow);
                }
            }
        }
        const auto overflow = *rc::gen::inRange<size_t>(0, 4);
        for (size_t i = 0; i < overflow; ++i) {
            n.overflow.push_back(*overflow_fields());
        }
        if (*rc::gen::arbitrary<bool>()) {
            const auto count = *rc::gen::inRange<uint32_t>(1, 12);
            n.part = std::make_pair(*rc::gen::inRange<uint32_t>(0, count), count);
        }
        return n;
    });
}

inline void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
    } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
    }
}

/// Valid UTF-8 without NUL, at most kMaxSystemString bytes: what the agent can send.
inline rc::Gen<std::string> system_string() {
    return rc::gen::exec([] {
        const auto code_points =
            *rc::gen::container<std::vector<uint32_t>>(rc::gen::weightedOneOf<uint32_t>({
                {6, rc::gen::inRange<uint32_t>(0x20, 0x7F)},
                {1, rc::gen::inRange<uint32_t>(1, 0x20)},
                {1, rc::gen::inRange<uint32_t>(0x80, 0x800)},
                {1, rc::gen::suchThat(rc::gen::inRange<uint32_t>(0x800, 0x10000),
                                      [](uint32_t c) { return c < 0xD800 || c > 0xDFFF; })},
                {1, rc::gen::inRange<uint32_t>(0x10000, 0x110000)},
            }));
        std::string out;
        for (uint32_t code : code_points) {
            std::string next = out;
            append_utf8(next, code);
            if (next.size() > wire::kMaxSystemString) {
                break;
            }
            out = std::move(next);
        }
        return out;
    });
}

inline rc::Gen<protocol::SystemInformation> system_information() {
    return rc::gen::exec([] {
        protocol::SystemInformation s;
        for (auto* field : {&s.agent_version, &s.os_name, &s.os_version, &s.stack_name,
                            &s.stack_version, &s.firmware_version, &s.board}) {
            if (*rc::gen::arbitrary<bool>()) {
                *field = *system_string();
            }
        }
        const auto addresses = *rc::gen::inRange<size_t>(0, wire::kMaxSystemAddresses + 1);
        for (size_t i = 0; i < addresses; ++i) {
            s.addresses.push_back(*any_address());
        }
        const auto macs = *rc::gen::inRange<size_t>(0, wire::kMaxSystemMacs + 1);
        for (size_t i = 0; i < macs; ++i) {
            s.macs.push_back(*rc::gen::arbitrary<std::array<uint8_t, 6>>());
        }
        return s;
    });
}

inline rc::Gen<std::vector<wire::ListeningPortFields>> listening_ports() {
    return rc::gen::exec([] {
        std::vector<wire::ListeningPortFields> ports;
        const auto count = *rc::gen::inRange<size_t>(0, 7);
        for (size_t i = 0; i < count; ++i) {
            wire::ListeningPortFields port;
            port.protocol = static_cast<wire::Protocol>(*rc::gen::inRange<uint8_t>(0, 3));
            port.port = *boundary_biased<uint16_t>(65535);
            port.address = *rc::gen::mapcat(rc::gen::element<uint8_t>(0, 4, 6), address_of);
            ports.push_back(port);
        }
        return ports;
    });
}

inline rc::Gen<wire::HeartbeatFields> heartbeat() {
    return rc::gen::exec([] {
        wire::HeartbeatFields hb;
        hb.state = static_cast<wire::AgentState>(*rc::gen::inRange<uint8_t>(0, 4));
        hb.config_version = *counter32();
        for (uint64_t* field : {&hb.packets_seen, &hb.packets_unparsed, &hb.packets_ignored,
                                &hb.overflow_packets, &hb.messages_sent, &hb.send_failures,
                                &hb.messages_dropped, &hb.schedule_drift, &hb.clock_jumps}) {
            *field = *counter64();
        }
        hb.backlog_messages = *counter32();
        hb.backlog_bytes = *counter32();
        hb.collectors = *counter32();
        const auto reason =
            *rc::gen::inRange<uint8_t>(0, static_cast<uint8_t>(wire::ConfigError::Unavailable) + 1);
        hb.rejected_config_reason = static_cast<wire::ConfigError>(reason);
        hb.rejected_config_version = reason == 0 ? 0 : *counter32();
        return hb;
    });
}

inline rc::Gen<protocol::Message> message() {
    return rc::gen::exec([] {
        protocol::Message m;
        m.boot_id = *counter32();
        m.sequence = *counter32();
        m.unix_time = *counter32();
        m.uptime = *counter32();
        if (*rc::gen::arbitrary<bool>()) {
            m.network = *network_activity();
        }
        if (*rc::gen::arbitrary<bool>()) {
            m.system = *system_information();
        }
        if (*rc::gen::arbitrary<bool>()) {
            m.listening_ports = *listening_ports();
        }
        if (*rc::gen::arbitrary<bool>()) {
            m.heartbeat = *heartbeat();
        }
        return m;
    });
}

}  // namespace vigil::test

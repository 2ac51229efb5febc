// Writes a set of encoded messages and a config to a folder, with a manifest of what each one
// holds, for cbor2_check.py to read back with an independent CBOR implementation.
//
//   cbor2_fixtures <folder>
//
// Everything is deterministic: the "random" messages come from a fixed-seed xorshift.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fields.h"
#include "vigil/protocol/message.h"

namespace {

using vigil::protocol::Flow;
using vigil::protocol::Message;
using vigil::protocol::NetworkActivity;
namespace wire = vigil::wire;

wire::Address v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    wire::Address out;
    out.family = 4;
    out.bytes[0] = a;
    out.bytes[1] = b;
    out.bytes[2] = c;
    out.bytes[3] = d;
    return out;
}

wire::Address v6(uint16_t last) {
    wire::Address out;
    out.family = 6;
    const uint8_t prefix[] = {0x20, 0x01, 0x0d, 0xb8};
    std::memcpy(out.bytes, prefix, sizeof(prefix));
    out.bytes[14] = static_cast<uint8_t>(last >> 8);
    out.bytes[15] = static_cast<uint8_t>(last);
    return out;
}

Message envelope(uint32_t sequence) {
    Message m;
    m.boot_id = 0x1A2B3C4D;
    m.sequence = sequence;
    m.unix_time = 1767225600;
    m.uptime = 86400;
    return m;
}

wire::HeartbeatFields heartbeat(bool rejected) {
    wire::HeartbeatFields hb;
    hb.state = wire::AgentState::Active;
    hb.config_version = 3;
    hb.packets_seen = uint64_t{1} << 40;
    hb.packets_unparsed = 12;
    hb.packets_ignored = 70000;
    hb.overflow_packets = 5;
    hb.messages_sent = 8640;
    hb.send_failures = 2;
    hb.messages_dropped = 0;
    hb.backlog_messages = 1;
    hb.backlog_bytes = 412;
    if (rejected) {
        hb.rejected_config_version = 4;
        hb.rejected_config_reason = wire::ConfigError::UnknownCollector;
    }
    hb.schedule_drift = 1;
    hb.clock_jumps = 0;
    hb.collectors = 0x1E;
    return hb;
}

/// Every section, every protocol, both families.
Message full() {
    Message m = envelope(1);
    NetworkActivity& n = m.network.emplace();
    n.window_start_age_ms = 10250;
    n.window_duration_ms = 10000;
    n.local_addresses = {v4(192, 0, 2, 10), v6(0x10)};
    n.flows = {
        Flow{0, v4(198, 51, 100, 7),
             vigil::test::flow(0x00, 49152, 8883, 4200, 2900, 14, 12, 0, 9)},
        Flow{0, v4(198, 51, 100, 7), vigil::test::flow(0x30, 49153, 8883, 0, 240, 0, 4, 2, 8)},
        Flow{0, v4(192, 0, 2, 1), vigil::test::flow(0x01, 40000, 53, 120, 60, 1, 1, 3, 3)},
        Flow{0, v4(203, 0, 113, 9), vigil::test::flow(0x04 | 0x20, 23, 51515, 60, 40, 1, 1, 4, 4)},
        Flow{1, v6(0x99), vigil::test::flow(0x02, 128, 0, 64, 64, 1, 1, 5, 5)},
        Flow{1, v6(0x99), vigil::test::flow(0x01 | 0x08, 5683, 5683, 300, 90, 3, 1, 1, 7)},
    };
    wire::OverflowFields overflow;
    overflow.family = 4;
    overflow.protocol = wire::Protocol::Udp;
    overflow.bytes_in = 1200;
    overflow.bytes_out = 0;
    overflow.packets_in = 10;
    overflow.packets_out = 0;
    n.overflow = {overflow};
    n.part = std::make_pair(1u, 3u);
    auto& s = m.system.emplace();
    s.agent_version = "0.1.0";
    s.os_name = "Eclipse ThreadX";
    s.os_version = "6.4.1";
    s.stack_name = "NetX Duo";
    s.stack_version = "6.4.1";
    s.firmware_version = "sensor-fw 2.0 \xe2\x80\x94 build 17";
    s.board = "STM32H735G-DK";
    s.addresses = {v4(192, 0, 2, 10), v6(0x10)};
    s.macs = {{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}};
    auto& ports = m.listening_ports.emplace(3);
    ports[0].protocol = wire::Protocol::Tcp;
    ports[0].port = 22;
    ports[1].protocol = wire::Protocol::Udp;
    ports[1].port = 5683;
    ports[1].address = v6(0x10);
    ports[2].protocol = wire::Protocol::Tcp;
    ports[2].port = 443;
    ports[2].address = v4(192, 0, 2, 10);
    m.heartbeat = heartbeat(true);
    return m;
}

/// A busy ten-second window of a gateway: one local address, ten peers, five flows each.
Message flows50() {
    Message m = envelope(2);
    NetworkActivity& n = m.network.emplace();
    n.window_start_age_ms = 10000;
    n.window_duration_ms = 10000;
    n.local_addresses = {v4(192, 0, 2, 10)};
    const uint16_t services[] = {8883, 443, 53, 123, 1883};
    for (uint8_t peer = 0; peer < 10; ++peer) {
        const wire::Address remote = v4(198, 51, 100, static_cast<uint8_t>(10 + peer));
        for (uint8_t i = 0; i < 5; ++i) {
            const uint16_t service = services[i];
            const bool udp = service == 53 || service == 123;
            const auto local_port = static_cast<uint16_t>(49152 + peer * 5 + i);
            const uint32_t scale = 1u + peer;
            n.flows.push_back(
                Flow{0, remote,
                     vigil::test::flow(udp ? 0x01 : 0x00, local_port, service,
                                       udp ? 90 * scale : 1400 * scale,
                                       udp ? 48 * scale : 700 * scale, udp ? scale : 6 * scale,
                                       udp ? scale : 5 * scale, i, static_cast<uint32_t>(i + 4))});
        }
    }
    m.heartbeat = heartbeat(false);
    return m;
}

struct Random {
    uint64_t state = 0x9E3779B97F4A7C15u;
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    /// Values spread over every CBOR head size up to `bits` bits.
    uint64_t sized(unsigned bits) {
        const unsigned width = static_cast<unsigned>(next() % (bits + 1));
        return width == 0 ? 0 : next() >> (64 - width);
    }
    uint32_t u32() { return static_cast<uint32_t>(sized(32)); }
};

Message random_message(Random& rng, uint32_t sequence) {
    Message m = envelope(sequence);
    m.unix_time = rng.u32();
    m.uptime = rng.u32();
    NetworkActivity& n = m.network.emplace();
    n.window_start_age_ms = rng.u32();
    n.window_duration_ms = rng.u32();
    const size_t locals = 1 + rng.next() % 3;
    for (size_t i = 0; i < locals; ++i) {
        n.local_addresses.push_back(rng.next() % 2 ? v4(10, 0, 0, static_cast<uint8_t>(i))
                                                   : v6(static_cast<uint16_t>(i)));
    }
    const size_t groups = rng.next() % 6;
    for (size_t g = 0; g < groups; ++g) {
        const auto local = static_cast<uint32_t>(rng.next() % locals);
        const wire::Address remote = n.local_addresses[local].family == 4
                                         ? v4(203, 0, 113, static_cast<uint8_t>(g))
                                         : v6(static_cast<uint16_t>(0x100 + g));
        const size_t flows = 1 + rng.next() % 4;
        for (size_t f = 0; f < flows; ++f) {
            const auto protocol = static_cast<uint8_t>(rng.next() % 3);
            auto flags = static_cast<uint8_t>(protocol | (rng.next() % 2 ? 0x04 : 0) |
                                              (rng.next() % 2 ? 0x08 : 0));
            if (protocol == 0) {
                flags = static_cast<uint8_t>(flags | ((rng.next() % 4) << 4));
            }
            const unsigned port_bits = protocol == 2 ? 8 : 16;
            n.flows.push_back(
                Flow{local, remote,
                     vigil::test::flow(flags, static_cast<uint16_t>(rng.sized(port_bits)),
                                       static_cast<uint16_t>(rng.sized(port_bits)), rng.u32(),
                                       rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32())});
        }
    }
    if (rng.next() % 2) {
        wire::OverflowFields o;
        o.family = rng.next() % 2 ? 4 : 6;
        o.protocol = static_cast<wire::Protocol>(rng.next() % 3);
        o.bytes_in = rng.u32();
        o.bytes_out = rng.u32();
        o.packets_in = rng.u32();
        o.packets_out = rng.u32();
        n.overflow.push_back(o);
    }
    if (rng.next() % 2) {
        wire::HeartbeatFields hb;
        hb.packets_seen = rng.sized(64);
        hb.messages_sent = rng.sized(64);
        hb.backlog_bytes = rng.u32();
        m.heartbeat = hb;
    }
    return m;
}

nlohmann::json describe(const std::string& file, const Message& m) {
    nlohmann::json entry = {
        {"file", file}, {"kind", "message"}, {"boot_id", m.boot_id}, {"sequence", m.sequence}};
    std::vector<int> sections;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    size_t groups = 0;
    if (m.network) {
        sections.push_back(wire::message_key::kNetwork);
        const auto& flows = m.network->flows;
        for (size_t i = 0; i < flows.size(); ++i) {
            bytes_in += flows[i].fields.bytes_in;
            bytes_out += flows[i].fields.bytes_out;
            packets_in += flows[i].fields.packets_in;
            packets_out += flows[i].fields.packets_out;
            const bool same = i > 0 && flows[i].local_index == flows[i - 1].local_index &&
                              flows[i].remote == flows[i - 1].remote;
            groups += same ? 0 : 1;
        }
        entry["flows"] = flows.size();
        entry["groups"] = groups;
        entry["local_addresses"] = m.network->local_addresses.size();
        entry["overflow_records"] = m.network->overflow.size();
        entry["bytes_in"] = bytes_in;
        entry["bytes_out"] = bytes_out;
        entry["packets_in"] = packets_in;
        entry["packets_out"] = packets_out;
    }
    if (m.system) {
        sections.push_back(wire::message_key::kSystem);
    }
    if (m.listening_ports) {
        sections.push_back(wire::message_key::kPorts);
        entry["listening_ports"] = m.listening_ports->size();
    }
    if (m.heartbeat) {
        sections.push_back(wire::message_key::kHeartbeat);
        entry["config_rejected"] = m.heartbeat->rejected_config_reason != wire::ConfigError::None;
        entry["packets_seen"] = m.heartbeat->packets_seen;
    }
    entry["sections"] = sections;
    return entry;
}

bool write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <folder>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path folder = argv[1];
    std::filesystem::create_directories(folder);
    nlohmann::json manifest = nlohmann::json::array();

    std::vector<std::pair<std::string, Message>> messages = {
        {"envelope.cbor", envelope(0)}, {"full.cbor", full()}, {"flows50_ipv4.cbor", flows50()}};
    Message heartbeat_only = envelope(3);
    heartbeat_only.heartbeat = heartbeat(false);
    messages.emplace_back("heartbeat.cbor", heartbeat_only);
    Random rng;
    for (uint32_t i = 0; i < 20; ++i) {
        char name[32];
        std::snprintf(name, sizeof(name), "random_%02u.cbor", static_cast<unsigned>(i));
        messages.emplace_back(name, random_message(rng, 100 + i));
    }

    for (const auto& [file, message] : messages) {
        const std::vector<uint8_t> bytes = vigil::protocol::encode_message(message);
        if (!write_file(folder / file, bytes)) {
            std::fprintf(stderr, "cannot write %s\n", file.c_str());
            return 1;
        }
        nlohmann::json entry = describe(file, message);
        entry["size"] = bytes.size();
        manifest.push_back(entry);
    }

    wire::ConfigFields config;
    config.version = 70000;
    config.interval_s[2] = 86400;
    config.collectors[1] = {false, wire::Priority::Medium};
    config.retry_s = 3600;
    vigil::cbor::Writer counter;
    wire::encode_config(counter, config);
    std::vector<uint8_t> config_bytes(counter.size());
    vigil::cbor::Writer writer(config_bytes.data(), config_bytes.size());
    wire::encode_config(writer, config);
    if (!write_file(folder / "config.cbor", config_bytes)) {
        return 1;
    }
    manifest.push_back({{"file", "config.cbor"},
                        {"kind", "config"},
                        {"version", config.version},
                        {"intervals", config.interval_s},
                        {"retry_s", config.retry_s},
                        {"size", config_bytes.size()}});

    std::ofstream(folder / "manifest.json") << manifest.dump(2) << '\n';
    return 0;
}

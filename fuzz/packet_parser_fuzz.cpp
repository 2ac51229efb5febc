// libFuzzer target for the packet path. Each input is one IP packet:
//  1. parse_packet() runs on a heap copy of exactly the input's length (ASan catches any read past
//     it), twice, and a Flow must point inside the input and agree with the header's length field;
//  2. the same bytes go through a real Agent<>'s hook, inbound and outbound, and its counters must
//     move exactly as the parse result says;
//  3. every 16 inputs the agent ticks (a 10 s step, so the network collector runs each time) and
//     the flows and overflow records it publishes must add up to the packets and bytes it
//     recorded since the previous tick.
// The agent lives across inputs so its tables fill and the overflow path runs; a failure report
// names the invariant, and the input that broke it is the last one libFuzzer saved.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "fake_platform.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/agent/detail/packet_parser.hpp"
#include "vigil/protocol/message.h"

namespace {

using vigil::agent::detail::parse_packet;
using vigil::agent::detail::ParsedPacket;
using vigil::agent::detail::ParseResult;

[[noreturn]] void broken(const char* invariant, int line) {
    std::fprintf(stderr, "packet_parser_fuzz: invariant broken at line %d: %s\n", line, invariant);
    std::abort();
}

#define FUZZ_CHECK(condition)             \
    do {                                  \
        if (!(condition)) {               \
            broken(#condition, __LINE__); \
        }                                 \
    } while (false)

uint16_t load16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

bool inside(const uint8_t* p, size_t bytes, const uint8_t* buffer, size_t length) {
    return p != nullptr && p >= buffer && bytes <= length &&
           static_cast<size_t>(p - buffer) <= length - bytes;
}

void check_parse(const uint8_t* buffer, size_t length, ParseResult result,
                 const ParsedPacket& out) {
    FUZZ_CHECK(result == ParseResult::Flow || result == ParseResult::Unparsed ||
               result == ParseResult::Unsupported);
    if (result != ParseResult::Flow) {
        return;
    }
    FUZZ_CHECK(length > 0);
    FUZZ_CHECK(out.family == 4 || out.family == 6);
    FUZZ_CHECK((buffer[0] >> 4) == out.family);
    const size_t address = out.family == 4 ? 4 : 16;
    FUZZ_CHECK(inside(out.source, address, buffer, length));
    FUZZ_CHECK(inside(out.destination, address, buffer, length));
    FUZZ_CHECK(out.protocol <= static_cast<uint8_t>(vigil::wire::Protocol::Icmp));
    if (out.family == 4) {
        FUZZ_CHECK(length >= 20 + 2);  // a header and at least an ICMP type and code
        FUZZ_CHECK(out.ip_bytes == load16(buffer + 2));
        FUZZ_CHECK(out.ip_bytes >= static_cast<size_t>(buffer[0] & 0x0F) * 4 + 2);
        FUZZ_CHECK(out.source == buffer + 12 && out.destination == buffer + 16);
    } else {
        FUZZ_CHECK(length >= 40 + 2);
        FUZZ_CHECK(out.ip_bytes == load16(buffer + 4) + 40u);
        FUZZ_CHECK(out.source == buffer + 8 && out.destination == buffer + 24);
    }
    if (out.protocol == static_cast<uint8_t>(vigil::wire::Protocol::Icmp)) {
        FUZZ_CHECK(out.source_port < 256 && out.destination_port < 256);
        FUZZ_CHECK(out.tcp_flags == 0);
    } else {
        FUZZ_CHECK(!out.icmp_reply);
    }
    if (out.protocol == static_cast<uint8_t>(vigil::wire::Protocol::Udp)) {
        FUZZ_CHECK(out.tcp_flags == 0);
    }
}

bool same(const ParsedPacket& a, const ParsedPacket& b) {
    return a.family == b.family && a.protocol == b.protocol && a.tcp_flags == b.tcp_flags &&
           a.multicast_destination == b.multicast_destination && a.source == b.source &&
           a.destination == b.destination && a.source_port == b.source_port &&
           a.destination_port == b.destination_port && a.icmp_reply == b.icmp_reply &&
           a.ip_bytes == b.ip_bytes;
}

/// Small tables, so a few dozen inputs fill them and the overflow records get traffic; a backlog
/// large enough that one collection never pushes a message out.
using FuzzAgent = vigil::agent::Agent<16, 8, 16384, 512>;

struct Harness {
    Harness() {
        const vigil_options options{0};
        const vigil::agent::Status status =
            agent.init(platform.port(), platform.transport(), "fuzz-device", &options);
        FUZZ_CHECK(status == vigil::agent::Status::Ok);
    }

    void tick() {
        const uint64_t dropped_before = agent.counters().messages_dropped;
        platform.now_ms += 10'000;  // the high-priority interval: the network collector runs
        FUZZ_CHECK(agent.tick() == vigil::agent::Status::Ok);
        uint64_t packets_in = 0;
        uint64_t packets_out = 0;
        uint64_t bytes_in = 0;
        uint64_t bytes_out = 0;
        for (const vigil::test::Published& p : platform.published) {
            vigil::protocol::Message m;
            const vigil::protocol::DecodeResult decoded =
                vigil::protocol::decode_message(p.payload.data(), p.payload.size(), m);
            FUZZ_CHECK(decoded.ok());
            if (m.heartbeat) {
                FUZZ_CHECK(m.heartbeat->packets_seen == agent.counters().packets_seen);
                FUZZ_CHECK(m.heartbeat->packets_unparsed == agent.counters().packets_unparsed);
                FUZZ_CHECK(m.heartbeat->packets_ignored == agent.counters().packets_ignored);
            }
            if (!m.network) {
                continue;
            }
            for (const vigil::protocol::Flow& f : m.network->flows) {
                FUZZ_CHECK(f.local_index < m.network->local_addresses.size());
                FUZZ_CHECK(f.fields.packets_in + f.fields.packets_out > 0);
                packets_in += f.fields.packets_in;
                packets_out += f.fields.packets_out;
                bytes_in += f.fields.bytes_in;
                bytes_out += f.fields.bytes_out;
            }
            for (const vigil::wire::OverflowFields& o : m.network->overflow) {
                packets_in += o.packets_in;
                packets_out += o.packets_out;
                bytes_in += o.bytes_in;
                bytes_out += o.bytes_out;
            }
        }
        if (agent.counters().messages_dropped == dropped_before) {
            // Nothing is lost silently: every recorded packet is in a flow or an overflow record.
            FUZZ_CHECK(packets_in == window_packets_in);
            FUZZ_CHECK(packets_out == window_packets_out);
            FUZZ_CHECK(bytes_in == window_bytes_in);
            FUZZ_CHECK(bytes_out == window_bytes_out);
        }
        platform.published.clear();
        window_packets_in = window_packets_out = window_bytes_in = window_bytes_out = 0;
    }

    vigil::test::FakePlatform platform;
    FuzzAgent agent;
    uint64_t inputs = 0;
    uint64_t window_packets_in = 0;
    uint64_t window_packets_out = 0;
    uint64_t window_bytes_in = 0;
    uint64_t window_bytes_out = 0;
};

Harness& harness() {
    static Harness* h = new Harness();  // lives for the whole run, never destroyed
    return *h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // An exactly-sized copy: libFuzzer's own buffer may have readable bytes past `size`.
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[size]);
    for (size_t i = 0; i < size; ++i) {
        buffer[i] = data[i];
    }

    // Only a Flow's fields are defined, so only those are compared.
    ParsedPacket parsed{};
    const ParseResult result = parse_packet(buffer.get(), size, parsed);
    check_parse(buffer.get(), size, result, parsed);
    ParsedPacket again{};
    FUZZ_CHECK(parse_packet(buffer.get(), size, again) == result);
    FUZZ_CHECK(result != ParseResult::Flow || same(parsed, again));

    Harness& h = harness();
    const vigil::agent::Counters before = h.agent.counters();
    const uint8_t interface_index = size > 0 ? data[size - 1] : 0;
    h.agent.packet(buffer.get(), size, VIGIL_INBOUND, interface_index, h.platform.now_ms);
    h.agent.packet(buffer.get(), size, VIGIL_OUTBOUND, interface_index, h.platform.now_ms);
    const vigil::agent::Counters& after = h.agent.counters();

    // Every interface is watched and the config is the default: the parse result alone says
    // which counter each of the two calls moves.
    FUZZ_CHECK(after.packets_seen == before.packets_seen + 2);
    const uint64_t unparsed = after.packets_unparsed - before.packets_unparsed;
    const uint64_t ignored = after.packets_ignored - before.packets_ignored;
    const uint64_t overflowed = after.overflow_packets - before.overflow_packets;
    switch (result) {
        case ParseResult::Unparsed:
            FUZZ_CHECK(unparsed == 2 && ignored == 0 && overflowed == 0);
            break;
        case ParseResult::Unsupported:
            FUZZ_CHECK(unparsed == 0 && ignored == 2 && overflowed == 0);
            break;
        case ParseResult::Flow: {
            const bool inbound_ignored =
                h.agent.config().unicast_only && parsed.multicast_destination;
            FUZZ_CHECK(unparsed == 0 && ignored == (inbound_ignored ? 1u : 0u));
            FUZZ_CHECK(overflowed <= 2 - ignored);
            if (!inbound_ignored) {
                ++h.window_packets_in;
                h.window_bytes_in += parsed.ip_bytes;
            }
            ++h.window_packets_out;
            h.window_bytes_out += parsed.ip_bytes;
            break;
        }
    }

    if (++h.inputs % 16 == 0) {
        h.tick();
    }
    return 0;
}

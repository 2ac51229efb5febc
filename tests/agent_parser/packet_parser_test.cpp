// The packet parser: every protocol and family, IPv6 extension-header walks, fragments, and every
// kind of malformed or truncated input. Each parse runs on a heap copy of exactly the length the
// parser is given, so under AddressSanitizer a read past it fails the test.
#include "vigil/agent/detail/packet_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "packets.hpp"
#include "vigil/protocol/wire.h"

namespace vigil::agent::detail {

inline std::ostream& operator<<(std::ostream& out, ParseResult result) {
    switch (result) {
        case ParseResult::Flow:
            return out << "Flow";
        case ParseResult::Unparsed:
            return out << "Unparsed";
        case ParseResult::Unsupported:
            return out << "Unsupported";
    }
    return out << "ParseResult(" << static_cast<int>(result) << ")";
}

}  // namespace vigil::agent::detail

namespace {

using vigil::agent::detail::parse_packet;
using vigil::agent::detail::ParsedPacket;
using vigil::agent::detail::ParseResult;
using vigil::test::icmp_message;
using vigil::test::ipv4_packet;
using vigil::test::ipv6_packet;
using vigil::test::tcp_segment;
using vigil::test::udp_datagram;
using Bytes = std::vector<uint8_t>;
namespace tcp = vigil::test::tcp;

constexpr uint8_t kTcpProtocol = static_cast<uint8_t>(vigil::wire::Protocol::Tcp);
constexpr uint8_t kUdpProtocol = static_cast<uint8_t>(vigil::wire::Protocol::Udp);
constexpr uint8_t kIcmpProtocol = static_cast<uint8_t>(vigil::wire::Protocol::Icmp);

/// One parse, with the exactly-sized buffer it ran on kept alive (the result points into it).
struct Parse {
    std::unique_ptr<uint8_t[]> buffer;
    size_t length = 0;
    ParsedPacket packet;
    ParseResult result = ParseResult::Unparsed;

    size_t offset_of(const uint8_t* p) const { return static_cast<size_t>(p - buffer.get()); }
};

Parse parse(const Bytes& bytes, size_t length) {
    Parse p;
    p.length = length;
    p.buffer.reset(new uint8_t[length]);
    std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length), p.buffer.get());
    p.result = parse_packet(p.buffer.get(), length, p.packet);
    return p;
}

Parse parse(const Bytes& bytes) {
    return parse(bytes, bytes.size());
}

void put16(Bytes& p, size_t at, size_t value) {
    p[at] = static_cast<uint8_t>(value >> 8);
    p[at + 1] = static_cast<uint8_t>(value);
}

uint16_t get16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

/// Adds `words` 4-byte words of IPv4 options (NOPs) and fixes IHL and the total length.
Bytes with_ipv4_options(Bytes p, size_t words) {
    p.insert(p.begin() + 20, words * 4, uint8_t{0x01});
    p[0] = static_cast<uint8_t>(0x40 | (5 + words));
    put16(p, 2, p.size());
    return p;
}

Bytes with_ipv4_fragment(Bytes p, uint16_t offset_units, bool more, bool dont_fragment = false) {
    put16(p, 6, (dont_fragment ? 0x4000u : 0u) | (more ? 0x2000u : 0u) | offset_units);
    return p;
}

/// Puts `extension` first in the IPv6 chain: its next header is the chain's old first header.
Bytes prepend_ipv6_extension(Bytes p, uint8_t type, Bytes extension) {
    extension[0] = p[6];
    p[6] = type;
    p.insert(p.begin() + 40, extension.begin(), extension.end());
    put16(p, 4, p.size() - 40);
    return p;
}

/// Hop-by-hop, routing or destination options: (hdr_ext_len + 1) * 8 bytes.
Bytes eight_byte_unit_extension(uint8_t hdr_ext_len) {
    Bytes e((hdr_ext_len + 1u) * 8u, 0);
    e[1] = hdr_ext_len;
    return e;
}

/// Authentication header: (payload_len + 2) * 4 bytes.
Bytes authentication_header(uint8_t payload_len) {
    Bytes e((payload_len + 2u) * 4u, 0);
    e[1] = payload_len;
    return e;
}

Bytes fragment_header(uint16_t offset_units, bool more) {
    Bytes e(8, 0);
    put16(e, 2, static_cast<size_t>(offset_units) << 3 | (more ? 1u : 0u));
    return e;
}

/// What must hold for any input: a Flow points only inside the buffer and is self-consistent.
void expect_sane(const Parse& p) {
    if (p.result != ParseResult::Flow) {
        return;
    }
    const ParsedPacket& out = p.packet;
    ASSERT_GT(p.length, 0u);
    const int version = p.buffer[0] >> 4;
    ASSERT_TRUE(out.family == 4 || out.family == 6) << int{out.family};
    EXPECT_EQ(version, out.family);
    const size_t address = out.family == 4 ? 4 : 16;
    ASSERT_NE(out.source, nullptr);
    ASSERT_NE(out.destination, nullptr);
    EXPECT_GE(out.source, p.buffer.get());
    EXPECT_LE(p.offset_of(out.source) + address, p.length);
    EXPECT_GE(out.destination, p.buffer.get());
    EXPECT_LE(p.offset_of(out.destination) + address, p.length);
    EXPECT_LE(out.protocol, kIcmpProtocol);
    if (out.family == 4) {
        EXPECT_EQ(out.ip_bytes, get16(p.buffer.get() + 2));
    } else {
        EXPECT_EQ(out.ip_bytes, get16(p.buffer.get() + 4) + 40u);
    }
    if (out.protocol == kIcmpProtocol) {
        EXPECT_LT(out.source_port, 256);
        EXPECT_LT(out.destination_port, 256);
        EXPECT_EQ(out.tcp_flags, 0);
    }
    if (out.protocol != kTcpProtocol) {
        EXPECT_EQ(out.tcp_flags, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Each protocol and family

TEST(PacketParser, Ipv4Tcp) {
    const Bytes bytes =
        ipv4_packet("192.0.2.10", "198.51.100.7", tcp_segment(40000, 443, tcp::kSyn, 12));
    const Parse p = parse(bytes);
    ASSERT_EQ(p.result, ParseResult::Flow);
    EXPECT_EQ(p.packet.family, 4);
    EXPECT_EQ(p.packet.protocol, kTcpProtocol);
    EXPECT_EQ(p.packet.source_port, 40000);
    EXPECT_EQ(p.packet.destination_port, 443);
    EXPECT_EQ(p.packet.tcp_flags, tcp::kSyn);
    EXPECT_EQ(p.offset_of(p.packet.source), 12u);
    EXPECT_EQ(p.offset_of(p.packet.destination), 16u);
    EXPECT_EQ(p.packet.ip_bytes, 20u + 20u + 12u);
    EXPECT_FALSE(p.packet.multicast_destination);
    EXPECT_FALSE(p.packet.icmp_reply);
    expect_sane(p);
}

TEST(PacketParser, TcpFlagsAreTheWholeFlagsByte) {
    for (const uint8_t flags :
         {uint8_t{0}, tcp::kSyn, uint8_t{tcp::kSyn | tcp::kAck}, tcp::kRst,
          uint8_t{tcp::kFin | tcp::kAck}, uint8_t{tcp::kPsh | tcp::kAck}, uint8_t{0xFF}}) {
        const Parse p4 = parse(ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, flags)));
        ASSERT_EQ(p4.result, ParseResult::Flow);
        EXPECT_EQ(p4.packet.tcp_flags, flags);
        const Parse p6 = parse(ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(1, 2, flags)));
        ASSERT_EQ(p6.result, ParseResult::Flow);
        EXPECT_EQ(p6.packet.tcp_flags, flags);
    }
}

TEST(PacketParser, Ipv4Udp) {
    const Parse p = parse(ipv4_packet("192.0.2.10", "192.0.2.1", udp_datagram(5353, 53, 30)));
    ASSERT_EQ(p.result, ParseResult::Flow);
    EXPECT_EQ(p.packet.family, 4);
    EXPECT_EQ(p.packet.protocol, kUdpProtocol);
    EXPECT_EQ(p.packet.source_port, 5353);
    EXPECT_EQ(p.packet.destination_port, 53);
    EXPECT_EQ(p.packet.tcp_flags, 0);
    EXPECT_EQ(p.packet.ip_bytes, 20u + 8u + 30u);
    expect_sane(p);
}

TEST(PacketParser, Ipv4IcmpTypeAndCode) {
    const Parse p = parse(ipv4_packet("192.0.2.10", "192.0.2.1", icmp_message(3, 1, 28)));
    ASSERT_EQ(p.result, ParseResult::Flow);
    EXPECT_EQ(p.packet.family, 4);
    EXPECT_EQ(p.packet.protocol, kIcmpProtocol);
    EXPECT_EQ(p.packet.source_port, 3);       // destination unreachable
    EXPECT_EQ(p.packet.destination_port, 1);  // host unreachable
    EXPECT_FALSE(p.packet.icmp_reply);
    EXPECT_EQ(p.packet.ip_bytes, 20u + 8u + 28u);
    expect_sane(p);
}

TEST(PacketParser, Ipv4IcmpRepliesFoldOntoTheirRequests) {
    struct Case {
        uint8_t type;
        uint8_t keyed_as;
        bool reply;
    };
    const Case cases[] = {
        {8, 8, false},     {0, 8, true},    // echo
        {13, 13, false},   {14, 13, true},  // timestamp
        {15, 15, false},   {16, 15, true},  // information
        {17, 17, false},   {18, 17, true},  // address mask
        {11, 11, false},   {5, 5, false},   // time exceeded, redirect: not replies
        {129, 129, false},                  // the ICMPv6 echo reply number means nothing in v4
    };
    for (const Case& c : cases) {
        const Parse p = parse(ipv4_packet("192.0.2.10", "192.0.2.1", icmp_message(c.type, 0)));
        ASSERT_EQ(p.result, ParseResult::Flow) << int{c.type};
        EXPECT_EQ(p.packet.source_port, c.keyed_as) << int{c.type};
        EXPECT_EQ(p.packet.destination_port, 0) << int{c.type};
        EXPECT_EQ(p.packet.icmp_reply, c.reply) << int{c.type};
    }
}

TEST(PacketParser, Ipv6Tcp) {
    const Bytes bytes = ipv6_packet("2001:db8::10", "2001:db8:1::7",
                                    tcp_segment(50000, 8883, tcp::kSyn | tcp::kAck, 100));
    const Parse p = parse(bytes);
    ASSERT_EQ(p.result, ParseResult::Flow);
    EXPECT_EQ(p.packet.family, 6);
    EXPECT_EQ(p.packet.protocol, kTcpProtocol);
    EXPECT_EQ(p.packet.source_port, 50000);
    EXPECT_EQ(p.packet.destination_port, 8883);
    EXPECT_EQ(p.packet.tcp_flags, tcp::kSyn | tcp::kAck);
    EXPECT_EQ(p.offset_of(p.packet.source), 8u);
    EXPECT_EQ(p.offset_of(p.packet.destination), 24u);
    EXPECT_EQ(p.packet.ip_bytes, 40u + 20u + 100u);
    EXPECT_FALSE(p.packet.multicast_destination);
    expect_sane(p);
}

TEST(PacketParser, Ipv6Udp) {
    const Parse p = parse(ipv6_packet("2001:db8::10", "2001:db8::53", udp_datagram(40001, 53, 7)));
    ASSERT_EQ(p.result, ParseResult::Flow);
    EXPECT_EQ(p.packet.family, 6);
    EXPECT_EQ(p.packet.protocol, kUdpProtocol);
    EXPECT_EQ(p.packet.source_port, 40001);
    EXPECT_EQ(p.packet.destination_port, 53);
    EXPECT_EQ(p.packet.ip_bytes, 40u + 8u + 7u);
    expect_sane(p);
}

TEST(PacketParser, Icmpv6EchoReplyFoldsOntoRequest) {
    struct Case {
        uint8_t type;
        uint8_t code;
        uint8_t keyed_as;
        bool reply;
    };
    const Case cases[] = {
        {128, 0, 128, false}, {129, 0, 128, true},   // echo
        {1, 4, 1, false},                            // destination unreachable, port
        {135, 0, 135, false}, {136, 0, 136, false},  // neighbour discovery: not folded
        {0, 0, 0, false},                            // the ICMPv4 echo reply number in v6
        {14, 0, 14, false},
    };
    for (const Case& c : cases) {
        const Parse p = parse(ipv6_packet("2001:db8::10", "2001:db8::1",
                                          icmp_message(c.type, c.code, 16, /*v6=*/true)));
        ASSERT_EQ(p.result, ParseResult::Flow) << int{c.type};
        EXPECT_EQ(p.packet.family, 6);
        EXPECT_EQ(p.packet.protocol, kIcmpProtocol);
        EXPECT_EQ(p.packet.source_port, c.keyed_as) << int{c.type};
        EXPECT_EQ(p.packet.destination_port, c.code) << int{c.type};
        EXPECT_EQ(p.packet.icmp_reply, c.reply) << int{c.type};
        expect_sane(p);
    }
}

TEST(PacketParser, IcmpOfTheOtherFamilyIsUnsupported) {
    // ICMPv4 (protocol 1) inside IPv6 and ICMPv6 (58) inside IPv4.
    EXPECT_EQ(parse(ipv6_packet("2001:db8::1", "2001:db8::2", icmp_message(8, 0))).result,
              ParseResult::Unsupported);
    EXPECT_EQ(parse(ipv4_packet("10.0.0.1", "10.0.0.2", icmp_message(128, 0, 8, true))).result,
              ParseResult::Unsupported);
    // Also behind an IPv6 extension header.
    EXPECT_EQ(parse(ipv6_packet("2001:db8::1", "2001:db8::2", icmp_message(8, 0), {0, 60})).result,
              ParseResult::Unsupported);
}

TEST(PacketParser, OtherTransportProtocolsAreUnsupported) {
    for (const uint8_t protocol : {uint8_t{2}, uint8_t{4}, uint8_t{41}, uint8_t{47}, uint8_t{50},
                                   uint8_t{59}, uint8_t{89}, uint8_t{132}, uint8_t{255}}) {
        vigil::test::Transport t = udp_datagram(1, 2, 16);
        t.protocol = protocol;
        const Parse p4 = parse(ipv4_packet("10.0.0.1", "10.0.0.2", t));
        EXPECT_EQ(p4.result, ParseResult::Unsupported) << int{protocol};
        const Parse p6 = parse(ipv6_packet("2001:db8::1", "2001:db8::2", t));
        EXPECT_EQ(p6.result, ParseResult::Unsupported) << int{protocol};
    }
}

TEST(PacketParser, AFlowWritesEveryField) {
    // The result is reused without being cleared in between (as the hook may do): every field of
    // a Flow must come from this packet, none left over from an earlier one or from garbage.
    ParsedPacket out;
    std::memset(static_cast<void*>(&out), 0x01, sizeof out);  // bools stay valid: true
    const Bytes reply = ipv4_packet("10.0.0.1", "224.0.0.1", icmp_message(0, 3));
    ASSERT_EQ(parse_packet(reply.data(), reply.size(), out), ParseResult::Flow);
    EXPECT_EQ(out.family, 4);
    EXPECT_EQ(out.protocol, kIcmpProtocol);
    EXPECT_EQ(out.tcp_flags, 0);
    EXPECT_TRUE(out.multicast_destination);
    EXPECT_EQ(out.source, reply.data() + 12);
    EXPECT_EQ(out.destination, reply.data() + 16);
    EXPECT_EQ(out.source_port, 8);
    EXPECT_EQ(out.destination_port, 3);
    EXPECT_TRUE(out.icmp_reply);
    EXPECT_EQ(out.ip_bytes, 28u);

    const Bytes syn = ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(4000, 80, tcp::kSyn));
    ASSERT_EQ(parse_packet(syn.data(), syn.size(), out), ParseResult::Flow);
    EXPECT_EQ(out.family, 6);
    EXPECT_EQ(out.protocol, kTcpProtocol);
    EXPECT_EQ(out.tcp_flags, tcp::kSyn);
    EXPECT_FALSE(out.multicast_destination);
    EXPECT_EQ(out.source, syn.data() + 8);
    EXPECT_EQ(out.destination, syn.data() + 24);
    EXPECT_EQ(out.source_port, 4000);
    EXPECT_EQ(out.destination_port, 80);
    EXPECT_FALSE(out.icmp_reply);
    EXPECT_EQ(out.ip_bytes, 60u);

    // A malformed packet in between changes nothing about the next Flow.
    const Bytes bad = {0x50, 0, 0, 0};
    EXPECT_EQ(parse_packet(bad.data(), bad.size(), out), ParseResult::Unparsed);
    const Bytes udp = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(53, 5353));
    ASSERT_EQ(parse_packet(udp.data(), udp.size(), out), ParseResult::Flow);
    EXPECT_EQ(out.family, 4);
    EXPECT_EQ(out.protocol, kUdpProtocol);
    EXPECT_EQ(out.tcp_flags, 0);
    EXPECT_FALSE(out.multicast_destination);
    EXPECT_EQ(out.source_port, 53);
    EXPECT_EQ(out.destination_port, 5353);
    EXPECT_FALSE(out.icmp_reply);
    EXPECT_EQ(out.ip_bytes, 28u);
}

TEST(PacketParser, NullOrEmptyInputIsUnparsed) {
    ParsedPacket out;
    EXPECT_EQ(parse_packet(nullptr, 0, out), ParseResult::Unparsed);
    EXPECT_EQ(parse_packet(nullptr, 60, out), ParseResult::Unparsed);
    const Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1, 2));
    EXPECT_EQ(parse_packet(bytes.data(), 0, out), ParseResult::Unparsed);
}

// ---------------------------------------------------------------------------------------------
// IPv4 header fields

TEST(PacketParser, VersionNibbleOtherThan4Or6IsUnparsed) {
    const Bytes v4 = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, tcp::kSyn));
    const Bytes v6 = ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(1, 2, tcp::kSyn));
    for (int version = 0; version < 16; ++version) {
        if (version == 4 || version == 6) {
            continue;
        }
        for (Bytes bytes : {v4, v6}) {
            bytes[0] = static_cast<uint8_t>(version << 4 | (bytes[0] & 0x0F));
            EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << version;
        }
    }
    // A v4 header labelled 6 is too short a v6 packet; a v6 header labelled 4 has IHL 0.
    Bytes relabelled4 = v4;
    relabelled4[0] = 0x65;
    EXPECT_EQ(parse(relabelled4).result, ParseResult::Unparsed);
    Bytes relabelled6 = v6;
    relabelled6[0] = 0x40;
    EXPECT_EQ(parse(relabelled6).result, ParseResult::Unparsed);
}

TEST(PacketParser, Ipv4HeaderLengthBelowFiveIsUnparsed) {
    for (uint8_t ihl = 0; ihl < 5; ++ihl) {
        Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, tcp::kSyn));
        bytes[0] = static_cast<uint8_t>(0x40 | ihl);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << int{ihl};
    }
}

TEST(PacketParser, Ipv4OptionsMoveTheTransportHeader) {
    for (size_t words = 1; words <= 10; ++words) {
        const Bytes bytes = with_ipv4_options(
            ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1234, 80, tcp::kAck)), words);
        const Parse p = parse(bytes);
        ASSERT_EQ(p.result, ParseResult::Flow) << words;
        EXPECT_EQ(p.packet.source_port, 1234);
        EXPECT_EQ(p.packet.destination_port, 80);
        EXPECT_EQ(p.packet.tcp_flags, tcp::kAck);
        EXPECT_EQ(p.packet.ip_bytes, bytes.size());
        expect_sane(p);
    }
}

TEST(PacketParser, Ipv4HeaderLengthBeyondTheBufferIsUnparsed) {
    // IHL 15 (60 bytes) on a 40-byte packet.
    Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, tcp::kSyn));
    bytes[0] = 0x4F;
    EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed);
    // IHL 6 with only the fixed 20 bytes given.
    Bytes header_only = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1, 2));
    header_only[0] = 0x46;
    EXPECT_EQ(parse(header_only, 20).result, ParseResult::Unparsed);
    EXPECT_EQ(parse(header_only, 23).result, ParseResult::Unparsed);
}

TEST(PacketParser, Ipv4TotalLengthBelowTheHeaderIsUnparsed) {
    for (size_t total : {0, 1, 19}) {
        Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1, 2));
        put16(bytes, 2, total);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << total;
    }
    // With options: a total length between 20 and IHL * 4 is still below the header.
    Bytes with_options =
        with_ipv4_options(ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1, 2)), 2);
    put16(with_options, 2, 24);
    EXPECT_EQ(parse(with_options).result, ParseResult::Unparsed);
}

TEST(PacketParser, Ipv4TransportMustFitTheTotalLength) {
    // The buffer holds the whole TCP header but the IP header says the packet ends before it:
    // the bytes after the total length are padding, not transport header.
    for (size_t total = 20; total < 34; ++total) {
        Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, tcp::kSyn));
        put16(bytes, 2, total);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << total;
    }
    Bytes tcp_ok = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 2, tcp::kSyn));
    put16(tcp_ok, 2, 34);
    EXPECT_EQ(parse(tcp_ok).result, ParseResult::Flow);
    for (size_t total = 20; total < 28; ++total) {
        Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1, 2));
        put16(bytes, 2, total);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << total;
    }
    for (size_t total = 20; total < 22; ++total) {
        Bytes bytes = ipv4_packet("10.0.0.1", "10.0.0.2", icmp_message(8, 0));
        put16(bytes, 2, total);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << total;
    }
}

TEST(PacketParser, Ipv4FirstFragmentIsParsedLaterFragmentsAreUnsupported) {
    const Bytes base = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(5000, 6000, 64));
    // Don't-fragment, and a first fragment with more to come: the transport header is there.
    const Parse df = parse(with_ipv4_fragment(base, 0, false, true));
    ASSERT_EQ(df.result, ParseResult::Flow);
    const Parse first = parse(with_ipv4_fragment(base, 0, true));
    ASSERT_EQ(first.result, ParseResult::Flow);
    EXPECT_EQ(first.packet.source_port, 5000);
    EXPECT_EQ(first.packet.destination_port, 6000);
    // Later fragments (any non-zero offset, last or not) carry no transport header.
    for (const uint16_t offset :
         {uint16_t{1}, uint16_t{9}, uint16_t{185}, uint16_t{0x1000}, uint16_t{0x1FFF}}) {
        EXPECT_EQ(parse(with_ipv4_fragment(base, offset, true)).result, ParseResult::Unsupported)
            << offset;
        EXPECT_EQ(parse(with_ipv4_fragment(base, offset, false)).result, ParseResult::Unsupported)
            << offset;
    }
    // A later fragment is Unsupported even when it is shorter than a transport header.
    Bytes tiny = with_ipv4_fragment(base, 3, false);
    tiny.resize(22);
    put16(tiny, 2, 22);
    EXPECT_EQ(parse(tiny).result, ParseResult::Unsupported);
}

TEST(PacketParser, Ipv4MulticastAndBroadcastDestinations) {
    struct Case {
        const char* destination;
        bool multicast;
    };
    const Case cases[] = {
        {"224.0.0.1", true},        {"224.0.0.251", true},
        {"239.255.255.250", true},  {"255.255.255.255", true},
        {"223.255.255.255", false}, {"192.0.2.10", false},
        {"0.0.0.0", false},         {"127.0.0.1", false},
        {"10.0.0.255", false},  // a directed broadcast is indistinguishable without the netmask
        // 240/4 (reserved) is left unspecified: either answer is reasonable.
    };
    for (const Case& c : cases) {
        const Parse p = parse(ipv4_packet("192.0.2.10", c.destination, udp_datagram(1, 2)));
        ASSERT_EQ(p.result, ParseResult::Flow) << c.destination;
        EXPECT_EQ(p.packet.multicast_destination, c.multicast) << c.destination;
    }
    // Only the destination counts.
    const Parse from_multicast = parse(ipv4_packet("224.0.0.1", "10.0.0.1", udp_datagram(1, 2)));
    EXPECT_FALSE(from_multicast.packet.multicast_destination);
}

TEST(PacketParser, Ipv6MulticastDestinations) {
    struct Case {
        const char* destination;
        bool multicast;
    };
    const Case cases[] = {
        {"ff02::1", true},  {"ff02::fb", true},      {"ff05::1:3", true}, {"ff0e::101", true},
        {"fe80::1", false}, {"2001:db8::ff", false}, {"::1", false},      {"fd00::ff:ff", false},
    };
    for (const Case& c : cases) {
        const Parse p = parse(ipv6_packet("fe80::10", c.destination, udp_datagram(1, 2)));
        ASSERT_EQ(p.result, ParseResult::Flow) << c.destination;
        EXPECT_EQ(p.packet.multicast_destination, c.multicast) << c.destination;
    }
    const Parse from_multicast = parse(ipv6_packet("ff02::1", "fe80::1", udp_datagram(1, 2)));
    EXPECT_FALSE(from_multicast.packet.multicast_destination);
}

// ---------------------------------------------------------------------------------------------
// Byte counts: from the IP header, whatever the capture holds

TEST(PacketParser, ByteCountComesFromTheHeaderWhenTheCaptureIsTruncated) {
    const Bytes v4 = ipv4_packet("10.0.0.1", "10.0.0.2", tcp_segment(1, 443, tcp::kAck, 1400));
    const Parse p4 = parse(v4, 54);  // a 54-byte snap length, as pcap captures often are
    ASSERT_EQ(p4.result, ParseResult::Flow);
    EXPECT_EQ(p4.packet.ip_bytes, 1440u);
    EXPECT_EQ(p4.packet.destination_port, 443);

    const Bytes v6 = ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(1, 53, 1200), {0, 60});
    const Parse p6 = parse(v6, 40 + 16 + 8);
    ASSERT_EQ(p6.result, ParseResult::Flow);
    EXPECT_EQ(p6.packet.ip_bytes, 40u + 16u + 8u + 1200u);
    EXPECT_EQ(p6.packet.destination_port, 53);
}

TEST(PacketParser, TrailingEthernetPaddingIsIgnored) {
    // The smallest Ethernet frame carries 46 bytes of IP; shorter packets arrive padded.
    Bytes v4 = ipv4_packet("10.0.0.1", "10.0.0.2", udp_datagram(1000, 2000, 2));
    ASSERT_EQ(v4.size(), 30u);
    v4.resize(46, 0xAA);
    const Parse p4 = parse(v4);
    ASSERT_EQ(p4.result, ParseResult::Flow);
    EXPECT_EQ(p4.packet.ip_bytes, 30u);
    EXPECT_EQ(p4.packet.source_port, 1000);
    EXPECT_EQ(p4.packet.destination_port, 2000);

    Bytes icmp = ipv4_packet("10.0.0.1", "10.0.0.2", icmp_message(8, 0));
    icmp.resize(46, 0);
    const Parse pi = parse(icmp);
    ASSERT_EQ(pi.result, ParseResult::Flow);
    EXPECT_EQ(pi.packet.ip_bytes, 28u);

    Bytes v6 = ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(1000, 2000), {60});
    v6.resize(v6.size() + 17, 0x55);
    const Parse p6 = parse(v6);
    ASSERT_EQ(p6.result, ParseResult::Flow);
    EXPECT_EQ(p6.packet.ip_bytes, 40u + 8u + 8u);
}

// ---------------------------------------------------------------------------------------------
// IPv6 extension headers

TEST(PacketParser, EachIpv6ExtensionHeaderAlone) {
    for (const uint8_t extension :
         {uint8_t{0}, uint8_t{43}, uint8_t{44}, uint8_t{60}, uint8_t{51}}) {
        for (const vigil::test::Transport& t :
             {tcp_segment(40000, 443, tcp::kSyn), udp_datagram(40000, 443),
              icmp_message(128, 0, 8, true)}) {
            const Bytes bytes = ipv6_packet("2001:db8::1", "2001:db8::2", t, {extension});
            const Parse p = parse(bytes);
            ASSERT_EQ(p.result, ParseResult::Flow)
                << "extension " << int{extension} << " protocol " << int{t.protocol};
            if (t.protocol == 58) {
                EXPECT_EQ(p.packet.protocol, kIcmpProtocol);
                EXPECT_EQ(p.packet.source_port, 128);
            } else {
                EXPECT_EQ(p.packet.source_port, 40000);
                EXPECT_EQ(p.packet.destination_port, 443);
            }
            EXPECT_EQ(p.packet.ip_bytes, bytes.size());
            expect_sane(p);
        }
    }
}

TEST(PacketParser, EveryOrderOfAllFiveExtensionHeaders) {
    std::vector<uint8_t> chain = {0, 43, 44, 51, 60};
    int orders = 0;
    do {
        const Bytes bytes =
            ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(123, 456, 3), chain);
        const Parse p = parse(bytes);
        ASSERT_EQ(p.result, ParseResult::Flow) << ::testing::PrintToString(chain);
        EXPECT_EQ(p.packet.source_port, 123);
        EXPECT_EQ(p.packet.destination_port, 456);
        ++orders;
    } while (std::next_permutation(chain.begin(), chain.end()));
    EXPECT_EQ(orders, 120);
}

TEST(PacketParser, LongExtensionChainsAreBounded) {
    // Eight extension headers are walked; a ninth is more than any real packet carries.
    const std::vector<uint8_t> eight = {0, 60, 43, 44, 51, 60, 60, 60};
    const Parse p8 = parse(ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(7, 8, 0), eight));
    ASSERT_EQ(p8.result, ParseResult::Flow);
    EXPECT_EQ(p8.packet.source_port, 7);
    std::vector<uint8_t> many(64, 60);
    const Parse p64 = parse(ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(7, 8, 0), many));
    EXPECT_NE(p64.result, ParseResult::Flow);
}

TEST(PacketParser, ExtensionHeaderLengthsInEightByteUnits) {
    for (const uint8_t type : {uint8_t{0}, uint8_t{43}, uint8_t{60}}) {
        for (const uint8_t hdr_ext_len : {uint8_t{1}, uint8_t{2}, uint8_t{5}, uint8_t{255}}) {
            const Bytes bytes = prepend_ipv6_extension(
                ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(1111, 2222, tcp::kFin)), type,
                eight_byte_unit_extension(hdr_ext_len));
            const Parse p = parse(bytes);
            ASSERT_EQ(p.result, ParseResult::Flow) << int{type} << "/" << int{hdr_ext_len};
            EXPECT_EQ(p.packet.source_port, 1111);
            EXPECT_EQ(p.packet.destination_port, 2222);
            EXPECT_EQ(p.packet.tcp_flags, tcp::kFin);
        }
    }
}

TEST(PacketParser, AuthenticationHeaderLengthInFourByteUnitsPlusTwo) {
    // AH counts its length in 4-byte words minus 2, unlike the other extension headers. With
    // payload_len 4 the header is 24 bytes; read as (4 + 1) * 8 = 40 it would swallow the ports.
    for (const uint8_t payload_len :
         {uint8_t{1}, uint8_t{2}, uint8_t{4}, uint8_t{7}, uint8_t{30}, uint8_t{255}}) {
        const Bytes bytes = prepend_ipv6_extension(
            ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(3333, 4444, 40)), 51,
            authentication_header(payload_len));
        const Parse p = parse(bytes);
        ASSERT_EQ(p.result, ParseResult::Flow) << int{payload_len};
        EXPECT_EQ(p.packet.source_port, 3333) << int{payload_len};
        EXPECT_EQ(p.packet.destination_port, 4444) << int{payload_len};
    }
}

TEST(PacketParser, ExtensionHeaderRunningPastThePayloadIsUnparsed) {
    // A 16-byte hop-by-hop header in a packet whose payload length leaves room for 8 of it.
    Bytes bytes =
        prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(1, 2)), 0,
                               eight_byte_unit_extension(1));
    const size_t full_payload = bytes.size() - 40;
    for (size_t payload = 0; payload < 16 + 8; ++payload) {
        put16(bytes, 4, payload);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << payload;
    }
    put16(bytes, 4, full_payload);
    EXPECT_EQ(parse(bytes).result, ParseResult::Flow);
    // Hop-by-hop claiming 2048 bytes in a short packet.
    Bytes huge =
        prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(1, 2)), 0,
                               eight_byte_unit_extension(0));
    huge[41] = 255;
    EXPECT_EQ(parse(huge).result, ParseResult::Unparsed);
    Bytes huge_ah =
        prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(1, 2)), 51,
                               authentication_header(2));
    huge_ah[41] = 255;
    EXPECT_EQ(parse(huge_ah).result, ParseResult::Unparsed);
}

TEST(PacketParser, Ipv6TransportMustFitThePayloadLength) {
    // The buffer holds the TCP header but the payload length ends the packet before it.
    for (size_t payload = 0; payload < 14; ++payload) {
        Bytes bytes = ipv6_packet("2001:db8::1", "2001:db8::2", tcp_segment(1, 2, tcp::kSyn));
        put16(bytes, 4, payload);
        EXPECT_EQ(parse(bytes).result, ParseResult::Unparsed) << payload;
    }
}

TEST(PacketParser, Ipv6FirstFragmentIsParsedLaterFragmentsAreUnsupported) {
    const Bytes whole = ipv6_packet("2001:db8::1", "2001:db8::2", udp_datagram(7000, 8000, 100));
    // Atomic fragment (offset 0, no more) and first fragment (offset 0, more to come).
    for (const bool more : {false, true}) {
        const Parse p = parse(prepend_ipv6_extension(whole, 44, fragment_header(0, more)));
        ASSERT_EQ(p.result, ParseResult::Flow) << more;
        EXPECT_EQ(p.packet.source_port, 7000);
        EXPECT_EQ(p.packet.destination_port, 8000);
    }
    for (const uint16_t offset :
         {uint16_t{1}, uint16_t{2}, uint16_t{181}, uint16_t{0x1000}, uint16_t{0x1FFF}}) {
        for (const bool more : {false, true}) {
            const Bytes later = prepend_ipv6_extension(whole, 44, fragment_header(offset, more));
            EXPECT_EQ(parse(later).result, ParseResult::Unsupported) << offset << " " << more;
            // Behind other extension headers, and cut right after the fragment header.
            const Bytes chained = prepend_ipv6_extension(
                prepend_ipv6_extension(later, 60, eight_byte_unit_extension(0)), 0,
                eight_byte_unit_extension(0));
            EXPECT_EQ(parse(chained).result, ParseResult::Unsupported) << offset;
            EXPECT_EQ(parse(chained, 40 + 8 + 8 + 8).result, ParseResult::Unsupported) << offset;
        }
    }
    // The reserved bits and the M flag alone do not make a later fragment.
    Bytes reserved_bits = prepend_ipv6_extension(whole, 44, fragment_header(0, true));
    reserved_bits[43] |= 0x06;
    EXPECT_EQ(parse(reserved_bits).result, ParseResult::Flow);
}

// ---------------------------------------------------------------------------------------------
// Every prefix of valid packets: truncated headers at every length

struct PrefixCase {
    std::string name;
    Bytes bytes;
    size_t transport_offset;  ///< where the transport header starts
    size_t needed;            ///< transport bytes the parser needs for a Flow
    /// For a later fragment: where its fragment header ends (Unsupported from there on), else 0.
    size_t unsupported_from = 0;
};

std::vector<PrefixCase> prefix_cases() {
    std::vector<PrefixCase> cases;
    const auto tcp_t = tcp_segment(40000, 443, tcp::kSyn | tcp::kAck, 5);
    const auto udp_t = udp_datagram(5353, 53, 5);
    const auto icmp4 = icmp_message(0, 0, 5);
    const auto icmp6 = icmp_message(129, 0, 5, true);
    cases.push_back({"v4 tcp", ipv4_packet("10.0.0.1", "10.0.0.2", tcp_t), 20, 14});
    cases.push_back({"v4 udp", ipv4_packet("10.0.0.1", "10.0.0.2", udp_t), 20, 8});
    cases.push_back({"v4 icmp", ipv4_packet("10.0.0.1", "10.0.0.2", icmp4), 20, 2});
    cases.push_back({"v4 options tcp",
                     with_ipv4_options(ipv4_packet("10.0.0.1", "10.0.0.2", tcp_t), 3), 32, 14});
    cases.push_back({"v4 options icmp",
                     with_ipv4_options(ipv4_packet("10.0.0.1", "10.0.0.2", icmp4), 10), 60, 2});
    cases.push_back({"v4 first fragment udp",
                     with_ipv4_fragment(ipv4_packet("10.0.0.1", "10.0.0.2", udp_t), 0, true), 20,
                     8});
    cases.push_back({"v4 later fragment",
                     with_ipv4_fragment(ipv4_packet("10.0.0.1", "10.0.0.2", udp_t), 2, true), 20, 8,
                     20});
    cases.push_back({"v6 tcp", ipv6_packet("2001:db8::1", "2001:db8::2", tcp_t), 40, 14});
    cases.push_back({"v6 udp", ipv6_packet("2001:db8::1", "2001:db8::2", udp_t), 40, 8});
    cases.push_back({"v6 icmp", ipv6_packet("2001:db8::1", "2001:db8::2", icmp6), 40, 2});
    for (const uint8_t extension : {uint8_t{0}, uint8_t{43}, uint8_t{44}, uint8_t{60}}) {
        cases.push_back({"v6 ext " + std::to_string(extension) + " tcp",
                         ipv6_packet("2001:db8::1", "2001:db8::2", tcp_t, {extension}), 48, 14});
    }
    cases.push_back({"v6 ah udp", ipv6_packet("2001:db8::1", "2001:db8::2", udp_t, {51}), 56, 8});
    cases.push_back({"v6 chain icmp",
                     ipv6_packet("2001:db8::1", "2001:db8::2", icmp6, {0, 60, 43, 44, 51, 60}),
                     40 + 8 * 5 + 16, 2});
    cases.push_back({"v6 long hop-by-hop tcp",
                     prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", tcp_t), 0,
                                            eight_byte_unit_extension(3)),
                     40 + 32, 14});
    cases.push_back({"v6 long ah udp",
                     prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", udp_t), 51,
                                            authentication_header(5)),
                     40 + 28, 8});
    cases.push_back({"v6 later fragment",
                     prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", udp_t, {60}),
                                            44, fragment_header(10, false)),
                     40 + 8 + 8, 8, 48});
    // Hop-by-hop, then a later fragment (offset 1) whose header ends at byte 56.
    cases.push_back({"v6 later fragment behind hop-by-hop",
                     prepend_ipv6_extension(
                         prepend_ipv6_extension(ipv6_packet("2001:db8::1", "2001:db8::2", tcp_t),
                                                44, fragment_header(1, true)),
                         0, eight_byte_unit_extension(0)),
                     56, 14, 56});
    return cases;
}

TEST(PacketParser, EveryPrefixOfValidPackets) {
    for (const PrefixCase& c : prefix_cases()) {
        SCOPED_TRACE(c.name);
        const Parse full = parse(c.bytes);
        if (c.unsupported_from != 0) {
            ASSERT_EQ(full.result, ParseResult::Unsupported);
        } else {
            ASSERT_EQ(full.result, ParseResult::Flow);
            ASSERT_LE(c.transport_offset + c.needed, c.bytes.size());
        }
        for (size_t length = 0; length <= c.bytes.size(); ++length) {
            const Parse p = parse(c.bytes, length);
            expect_sane(p);
            ParseResult expected = ParseResult::Unparsed;
            if (c.unsupported_from != 0) {
                expected =
                    length >= c.unsupported_from ? ParseResult::Unsupported : ParseResult::Unparsed;
            } else if (length >= c.transport_offset + c.needed) {
                expected = ParseResult::Flow;
            }
            ASSERT_EQ(p.result, expected) << "prefix of " << length << " bytes";
            if (p.result == ParseResult::Flow) {
                // A truncated capture keeps every field and the packet's real size.
                EXPECT_EQ(p.packet.family, full.packet.family);
                EXPECT_EQ(p.packet.protocol, full.packet.protocol);
                EXPECT_EQ(p.packet.source_port, full.packet.source_port);
                EXPECT_EQ(p.packet.destination_port, full.packet.destination_port);
                EXPECT_EQ(p.packet.tcp_flags, full.packet.tcp_flags);
                EXPECT_EQ(p.packet.icmp_reply, full.packet.icmp_reply);
                EXPECT_EQ(p.packet.ip_bytes, c.bytes.size());
                EXPECT_EQ(p.offset_of(p.packet.source), full.offset_of(full.packet.source));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Every single-byte change to the headers of valid packets: never a read past the buffer (ASan),
// and a Flow is always consistent with the bytes it came from.

TEST(PacketParser, EverySingleByteMutationOfTheHeaders) {
    std::vector<Bytes> packets;
    for (const PrefixCase& c : prefix_cases()) {
        packets.push_back(c.bytes);
    }
    size_t flows = 0;
    size_t parses = 0;
    for (const Bytes& original : packets) {
        const size_t positions = std::min<size_t>(original.size(), 96);
        for (size_t at = 0; at < positions; ++at) {
            Bytes bytes = original;
            for (int value = 0; value < 256; ++value) {
                bytes[at] = static_cast<uint8_t>(value);
                const Parse p = parse(bytes);
                ++parses;
                flows += p.result == ParseResult::Flow ? 1 : 0;
                expect_sane(p);
                if (::testing::Test::HasFailure()) {
                    FAIL() << "after setting byte " << at << " to " << value;
                }
            }
        }
    }
    EXPECT_GT(flows, 0u);
    EXPECT_GT(parses, flows);
}

TEST(PacketParser, RandomTruncationsAndGarbage) {
    std::mt19937 random(20261122);
    const std::vector<PrefixCase> cases = prefix_cases();
    for (int round = 0; round < 20000; ++round) {
        Bytes bytes = cases[random() % cases.size()].bytes;
        const int changes = static_cast<int>(random() % 4);
        for (int i = 0; i < changes; ++i) {
            bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
        }
        const size_t length = random() % (bytes.size() + 1);
        const Parse p = parse(bytes, length);
        expect_sane(p);
        if (::testing::Test::HasFailure()) {
            FAIL() << "round " << round;
        }
    }
}

}  // namespace

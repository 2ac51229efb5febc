// The simulator's pieces without a hub: the packets it writes are what the agent's parser reads,
// with the sizes they claim, and scenarios are read as docs/sim.md says.
#include <gtest/gtest.h>

#include <cstring>

#include "packet_writer.hpp"
#include "scenario.hpp"
#include "vigil/agent/detail/packet_parser.hpp"

namespace vigil::sim {
namespace {

using agent::detail::parse_packet;
using agent::detail::ParsedPacket;
using agent::detail::ParseResult;

/// The parsed packet points into `bytes`, which must outlive it.
ParsedPacket parsed(const PacketHeader& header, PacketBytes& bytes) {
    bytes = write_packet(header);
    ParsedPacket p{};
    EXPECT_EQ(parse_packet(bytes.bytes.data(), bytes.length, p), ParseResult::Flow);
    return p;
}

TEST(PacketWriter, Ipv4TcpCarriesPortsFlagsAndTheClaimedSize) {
    PacketHeader h;
    h.source = IpAddress::parse("10.20.0.2");
    h.destination = IpAddress::parse("203.0.113.10");
    h.source_port = 49152;
    h.destination_port = 8883;
    h.flags = tcp_flags::kSyn;
    h.payload_bytes = 1400;
    PacketBytes bytes;
    const ParsedPacket p = parsed(h, bytes);
    EXPECT_EQ(p.family, 4);
    EXPECT_EQ(p.protocol, static_cast<uint8_t>(wire::Protocol::Tcp));
    EXPECT_EQ(p.source_port, 49152);
    EXPECT_EQ(p.destination_port, 8883);
    EXPECT_EQ(p.tcp_flags, tcp_flags::kSyn);
    EXPECT_EQ(p.ip_bytes, 20u + 20u + 1400u);
    EXPECT_EQ(0, std::memcmp(p.destination, h.destination.bytes.data(), 4));
}

TEST(PacketWriter, Ipv6UdpAndIcmp) {
    PacketHeader h;
    h.source = IpAddress::parse("fd00:21::2");
    h.destination = IpAddress::parse("2001:db8:100::20");
    h.transport = Transport::Udp;
    h.source_port = 123;
    h.destination_port = 123;
    h.payload_bytes = 48;
    PacketBytes bytes;
    ParsedPacket p = parsed(h, bytes);
    EXPECT_EQ(p.family, 6);
    EXPECT_EQ(p.protocol, static_cast<uint8_t>(wire::Protocol::Udp));
    EXPECT_EQ(p.ip_bytes, 40u + 8u + 48u);
    EXPECT_EQ(0, std::memcmp(p.source, h.source.bytes.data(), 16));

    h.transport = Transport::Icmp;
    h.source_port = 128;  // echo request
    h.destination_port = 0;
    p = parsed(h, bytes);
    EXPECT_EQ(p.protocol, static_cast<uint8_t>(wire::Protocol::Icmp));
    EXPECT_EQ(p.source_port, 128);
}

TEST(PacketWriter, AClaimedSizeIsCappedAtTheIpv4Limit) {
    PacketHeader h;
    h.source = IpAddress::parse("10.20.0.2");
    h.destination = IpAddress::parse("10.0.0.20");
    h.payload_bytes = 65535;
    PacketBytes bytes;
    EXPECT_EQ(parsed(h, bytes).ip_bytes, 65535u);
}

TEST(Scenario, DefaultsAndAttacks) {
    std::vector<std::string> errors;
    const auto s = parse_scenario(
        "[simulation]\nspeed = 60\nduration_s = 90.5\n[fleet]\nplc = 2\nsensor = 1\n"
        "[[attack]]\nkind = \"telnet_scan\"\nat_s = 10\ndevices = [\"sim-plc-0\", "
        "\"sim-sensor-0\"]\n",
        "s.toml", errors);
    ASSERT_TRUE(s) << (errors.empty() ? "" : errors[0]);
    EXPECT_EQ(s->speed, 60);
    EXPECT_EQ(s->duration_ms, 90500u);
    EXPECT_EQ(s->prefix, "sim-");
    // Profiles in the simulator's order, whatever the file's.
    ASSERT_EQ(s->fleet.size(), 2u);
    EXPECT_EQ(s->fleet[0].first, "sensor");
    EXPECT_EQ(s->fleet[1].first, "plc");
    ASSERT_EQ(s->attacks.size(), 1u);
    EXPECT_EQ(s->attacks[0].kind, AttackKind::TelnetScan);
    EXPECT_EQ(s->attacks[0].at_ms, 10000u);
    EXPECT_EQ(s->attacks[0].devices.size(), 2u);
    EXPECT_EQ(s->attacks[0].targets, 60u);
}

TEST(Scenario, BackdoorAndFloodDefaults) {
    std::vector<std::string> errors;
    const auto s = parse_scenario(
        "[fleet]\nplc = 1\n[[attack]]\nkind = \"backdoor_listener\"\ndevice = \"sim-plc-0\"\n"
        "[[attack]]\nkind = \"flood\"\ndevice = \"sim-plc-0\"\nport = 502\n",
        "s.toml", errors);
    ASSERT_TRUE(s) << (errors.empty() ? "" : errors[0]);
    ASSERT_EQ(s->attacks.size(), 2u);
    EXPECT_EQ(s->attacks[0].kind, AttackKind::BackdoorListener);
    EXPECT_EQ(s->attacks[0].port, 4444);
    EXPECT_EQ(s->attacks[0].source, "198.51.100.77");
    EXPECT_EQ(s->attacks[1].kind, AttackKind::Flood);
    EXPECT_EQ(s->attacks[1].port, 502);
    EXPECT_EQ(s->attacks[1].packets_per_s, 3000u);
    EXPECT_EQ(s->attacks[1].duration_ms, 30000u);
}

TEST(Scenario, BeaconingExfiltrationSilenceAndCloneDefaults) {
    std::vector<std::string> errors;
    const auto s = parse_scenario(
        "[fleet]\nplc = 1\n"
        "[[attack]]\nkind = \"beaconing\"\ndevice = \"sim-plc-0\"\n"
        "[[attack]]\nkind = \"exfiltration\"\ndevice = \"sim-plc-0\"\nbytes = 1_000_000\n"
        "[[attack]]\nkind = \"silence\"\ndevice = \"sim-plc-0\"\n"
        "[[attack]]\nkind = \"shared_identity\"\ndevice = \"sim-plc-0\"\n",
        "s.toml", errors);
    ASSERT_TRUE(s) << (errors.empty() ? "" : errors[0]);
    ASSERT_EQ(s->attacks.size(), 4u);
    EXPECT_EQ(s->attacks[0].kind, AttackKind::Beaconing);
    EXPECT_EQ(s->attacks[0].destination, "203.0.113.66");  // in the sample feed
    EXPECT_EQ(s->attacks[0].port, 443);
    EXPECT_EQ(s->attacks[0].interval_ms, 60000u);
    EXPECT_EQ(s->attacks[1].kind, AttackKind::Exfiltration);
    EXPECT_EQ(s->attacks[1].destination, "198.51.100.200");
    EXPECT_EQ(s->attacks[1].bytes, 1000000u);
    EXPECT_EQ(s->attacks[1].duration_ms, 60000u);
    EXPECT_EQ(s->attacks[2].kind, AttackKind::Silence);
    EXPECT_EQ(s->attacks[2].duration_ms, 0u);  // for the rest of the run
    EXPECT_EQ(s->attacks[3].kind, AttackKind::SharedIdentity);
    EXPECT_EQ(s->attacks[3].duration_ms, 120000u);
}

TEST(Scenario, BadBeaconingIsRefusedWithItsLine) {
    std::vector<std::string> errors;
    const auto s = parse_scenario(
        "[fleet]\nplc = 1\n[[attack]]\nkind = \"beaconing\"\ndevice = \"sim-plc-0\"\n"
        "destination = \"c2.example\"\ninterval_s = 0\n",
        "bad.toml", errors);
    EXPECT_FALSE(s);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_NE(errors[0].find("destination"), std::string::npos) << errors[0];
    EXPECT_EQ(errors[1].rfind("bad.toml:7: interval_s", 0), 0u) << errors[1];
}

TEST(Scenario, EveryMistakeIsReportedWithItsLine) {
    std::vector<std::string> errors;
    const auto s = parse_scenario(
        "[fleet]\nsensor = \"many\"\n[[attack]]\nkind = \"port_scan_inbound\"\n"
        "device = \"sim-camera-0\"\nrate_per_s = 0\n",
        "bad.toml", errors);
    EXPECT_FALSE(s);
    ASSERT_EQ(errors.size(), 3u);
    EXPECT_EQ(errors[0].rfind("bad.toml:2: ", 0), 0u) << errors[0];
    EXPECT_NE(errors[1].find("sim-camera-0"), std::string::npos) << errors[1];
    EXPECT_EQ(errors[2].rfind("bad.toml:6: ", 0), 0u) << errors[2];
}

}  // namespace
}  // namespace vigil::sim

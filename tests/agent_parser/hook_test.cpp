// The packet hook through a real agent: its counters, the unicast filter, the interface mask and
// how a direction maps onto local and remote. Flows are read only from what the agent publishes.
// (The agent's behaviour over time -- state machine, backlog, config, full tables -- is tested in
// tests/agent/.)
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "packets.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/protocol/message.h"

namespace {

using vigil::agent::Status;
using vigil::protocol::Message;
using vigil::test::icmp_message;
using vigil::test::ipv4_packet;
using vigil::test::ipv6_packet;
using vigil::test::tcp_segment;
using vigil::test::udp_datagram;
using vigil::wire::Protocol;
using Bytes = std::vector<uint8_t>;
namespace tcp = vigil::test::tcp;

/// One flow as published, with its addresses resolved.
struct SeenFlow {
    std::string local;
    std::string remote;
    Protocol protocol;
    vigil::wire::FlowFields fields;
    bool remote_opened;
};

class Hook : public ::testing::Test {
  protected:
    void SetUp() override {
        const vigil_options options{0};  // the first collection runs at the first tick
        ASSERT_EQ(agent.init(platform.port(), platform.transport(), "hook-test", &options),
                  Status::Ok);
    }

    void send(const Bytes& packet, vigil_direction direction, uint8_t interface_index = 0) {
        agent.packet(packet.data(), packet.size(), direction, interface_index, platform.now_ms);
    }

    /// Ticks once and returns the flows of every network message published.
    std::vector<SeenFlow> collect() {
        platform.now_ms += 100;
        EXPECT_EQ(agent.tick(), Status::Ok);
        std::vector<SeenFlow> flows;
        for (const vigil::test::Published& p : platform.published) {
            Message m;
            const auto result =
                vigil::protocol::decode_message(p.payload.data(), p.payload.size(), m);
            EXPECT_TRUE(result.ok()) << result.detail;
            if (!m.network) {
                continue;
            }
            EXPECT_TRUE(m.network->overflow.empty());
            for (const vigil::protocol::Flow& f : m.network->flows) {
                flows.push_back(
                    {vigil::protocol::to_string(m.network->local_addresses.at(f.local_index)),
                     vigil::protocol::to_string(f.remote), f.protocol(), f.fields,
                     f.remote_opened()});
            }
        }
        platform.published.clear();
        return flows;
    }

    vigil::test::FakePlatform platform;
    vigil::agent::Agent<> agent;
};

TEST_F(Hook, CountsSeenUnparsedAndIgnored) {
    Bytes garbage = ipv4_packet("192.0.2.10", "198.51.100.7", udp_datagram(1, 2));
    garbage[0] = 0x55;  // version 5
    const Bytes truncated = [] {
        Bytes b = ipv4_packet("192.0.2.10", "198.51.100.7", tcp_segment(1, 2, tcp::kSyn));
        b.resize(30);
        return b;
    }();
    vigil::test::Transport gre = udp_datagram(1, 2);
    gre.protocol = 47;
    Bytes later_fragment = ipv4_packet("192.0.2.10", "198.51.100.7", udp_datagram(1, 2, 100));
    later_fragment[7] = 10;  // offset 80 bytes

    send(ipv4_packet("192.0.2.10", "198.51.100.7", tcp_segment(40000, 443, tcp::kSyn)),
         VIGIL_OUTBOUND);
    send(garbage, VIGIL_INBOUND);
    send(truncated, VIGIL_INBOUND);
    send(ipv4_packet("192.0.2.10", "198.51.100.7", gre), VIGIL_OUTBOUND);
    send(later_fragment, VIGIL_INBOUND);
    agent.packet(nullptr, 0, VIGIL_INBOUND, 0, platform.now_ms);

    const vigil::agent::Counters& c = agent.counters();
    EXPECT_EQ(c.packets_seen, 6u);
    EXPECT_EQ(c.packets_unparsed, 3u);  // bad version, truncated TCP, null
    EXPECT_EQ(c.packets_ignored, 2u);   // GRE, later fragment
    EXPECT_EQ(c.overflow_packets, 0u);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 1u);
    EXPECT_EQ(flows[0].fields.packets_out, 1u);
}

TEST_F(Hook, DisabledAgentCountsNothing) {
    ASSERT_EQ(agent.disable(), Status::Ok);
    send(ipv4_packet("192.0.2.10", "198.51.100.7", udp_datagram(1, 2)), VIGIL_OUTBOUND);
    EXPECT_EQ(agent.counters().packets_seen, 0u);
}

TEST_F(Hook, UnicastOnlyIgnoresInboundMulticastButNotOutbound) {
    ASSERT_TRUE(agent.config().unicast_only);
    send(ipv4_packet("192.0.2.20", "224.0.0.251", udp_datagram(5353, 5353)), VIGIL_INBOUND);
    send(ipv4_packet("192.0.2.20", "255.255.255.255", udp_datagram(68, 67)), VIGIL_INBOUND);
    send(ipv6_packet("fe80::20", "ff02::fb", udp_datagram(5353, 5353)), VIGIL_INBOUND);
    EXPECT_EQ(agent.counters().packets_ignored, 3u);

    send(ipv4_packet("192.0.2.10", "239.255.255.250", udp_datagram(40000, 1900)), VIGIL_OUTBOUND);
    send(ipv6_packet("fe80::10", "ff02::1:2", udp_datagram(546, 547)), VIGIL_OUTBOUND);
    // Inbound from a multicast source to us is unicast.
    send(ipv4_packet("224.0.0.9", "192.0.2.10", udp_datagram(520, 520)), VIGIL_INBOUND);
    EXPECT_EQ(agent.counters().packets_seen, 6u);
    EXPECT_EQ(agent.counters().packets_ignored, 3u);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 3u);
    std::vector<std::string> remotes;
    for (const SeenFlow& f : flows) {
        remotes.push_back(f.remote);
    }
    EXPECT_NE(std::find(remotes.begin(), remotes.end(), "239.255.255.250"), remotes.end());
    EXPECT_NE(std::find(remotes.begin(), remotes.end(), "ff02::1:2"), remotes.end());
    EXPECT_NE(std::find(remotes.begin(), remotes.end(), "224.0.0.9"), remotes.end());
}

TEST_F(Hook, IgnoredInterfaces) {
    const Bytes packet = ipv4_packet("192.0.2.10", "198.51.100.7", udp_datagram(40000, 53));
    agent.set_ignored_interfaces(1u << 2 | 1u << 31);
    send(packet, VIGIL_OUTBOUND, 2);
    send(packet, VIGIL_INBOUND, 2);
    send(packet, VIGIL_OUTBOUND, 31);
    EXPECT_EQ(agent.counters().packets_ignored, 3u);
    send(packet, VIGIL_OUTBOUND, 0);
    send(packet, VIGIL_OUTBOUND, 1);
    send(packet, VIGIL_OUTBOUND, 30);
    EXPECT_EQ(agent.counters().packets_ignored, 3u);
    // Indices from 32 up use bit (index mod 32).
    send(packet, VIGIL_OUTBOUND, 34);
    send(packet, VIGIL_OUTBOUND, 255);
    EXPECT_EQ(agent.counters().packets_ignored, 5u);
    send(packet, VIGIL_OUTBOUND, 32);
    EXPECT_EQ(agent.counters().packets_ignored, 5u);
    // A packet that does not parse is counted as unparsed, whatever its interface.
    send(Bytes{0x45, 0x00}, VIGIL_OUTBOUND, 2);
    EXPECT_EQ(agent.counters().packets_unparsed, 1u);
    EXPECT_EQ(agent.counters().packets_ignored, 5u);
    EXPECT_EQ(agent.counters().packets_seen, 10u);

    // None ignored again (the default).
    agent.set_ignored_interfaces(0);
    send(packet, VIGIL_OUTBOUND, 2);
    EXPECT_EQ(agent.counters().packets_ignored, 5u);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 1u);
    EXPECT_EQ(flows[0].fields.packets_out, 5u);  // interfaces 0, 1, 30, 32, then 2
}

TEST_F(Hook, DirectionMapsSourceAndDestinationOntoLocalAndRemote) {
    // The device (192.0.2.10) opens TCP to 198.51.100.7:443 and the server answers.
    const Bytes syn = ipv4_packet("192.0.2.10", "198.51.100.7", tcp_segment(40000, 443, tcp::kSyn));
    const Bytes syn_ack = ipv4_packet("198.51.100.7", "192.0.2.10",
                                      tcp_segment(443, 40000, tcp::kSyn | tcp::kAck, 10));
    send(syn, VIGIL_OUTBOUND);
    send(syn_ack, VIGIL_INBOUND);
    // A remote host queries the device's DNS server on UDP 53.
    send(ipv4_packet("203.0.113.5", "192.0.2.10", udp_datagram(5353, 53, 20)), VIGIL_INBOUND);
    // IPv6: the device opens TCP to a broker.
    send(ipv6_packet("2001:db8::10", "2001:db8:1::7", tcp_segment(50000, 8883, tcp::kSyn)),
         VIGIL_OUTBOUND);
    send(ipv6_packet("2001:db8:1::7", "2001:db8::10", tcp_segment(8883, 50000, tcp::kAck, 5)),
         VIGIL_INBOUND);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 3u);
    const SeenFlow* tcp4 = nullptr;
    const SeenFlow* udp4 = nullptr;
    const SeenFlow* tcp6 = nullptr;
    for (const SeenFlow& f : flows) {
        if (f.protocol == Protocol::Udp) {
            udp4 = &f;
        } else if (f.local == "192.0.2.10") {
            tcp4 = &f;
        } else {
            tcp6 = &f;
        }
    }
    ASSERT_TRUE(tcp4 != nullptr && udp4 != nullptr && tcp6 != nullptr);

    EXPECT_EQ(tcp4->remote, "198.51.100.7");
    EXPECT_EQ(tcp4->protocol, Protocol::Tcp);
    EXPECT_EQ(tcp4->fields.local_port, 40000);
    EXPECT_EQ(tcp4->fields.remote_port, 443);
    EXPECT_EQ(tcp4->fields.packets_out, 1u);
    EXPECT_EQ(tcp4->fields.bytes_out, syn.size());
    EXPECT_EQ(tcp4->fields.packets_in, 1u);
    EXPECT_EQ(tcp4->fields.bytes_in, syn_ack.size());
    EXPECT_FALSE(tcp4->remote_opened);

    EXPECT_EQ(udp4->local, "192.0.2.10");
    EXPECT_EQ(udp4->remote, "203.0.113.5");
    EXPECT_EQ(udp4->fields.local_port, 53);
    EXPECT_EQ(udp4->fields.remote_port, 5353);
    EXPECT_EQ(udp4->fields.packets_in, 1u);
    EXPECT_EQ(udp4->fields.bytes_in, 20u + 8u + 20u);
    EXPECT_EQ(udp4->fields.packets_out, 0u);
    EXPECT_TRUE(udp4->remote_opened);

    EXPECT_EQ(tcp6->local, "2001:db8::10");
    EXPECT_EQ(tcp6->remote, "2001:db8:1::7");
    EXPECT_EQ(tcp6->fields.local_port, 50000);
    EXPECT_EQ(tcp6->fields.remote_port, 8883);
    EXPECT_EQ(tcp6->fields.packets_out, 1u);
    EXPECT_EQ(tcp6->fields.packets_in, 1u);
    EXPECT_EQ(tcp6->fields.bytes_in, 40u + 20u + 5u);
}

TEST_F(Hook, IcmpRequestAndReplyAreOneFlowKeyedByRequestType) {
    send(ipv4_packet("192.0.2.10", "198.51.100.7", icmp_message(8, 0, 56)), VIGIL_OUTBOUND);
    send(ipv4_packet("198.51.100.7", "192.0.2.10", icmp_message(0, 0, 56)), VIGIL_INBOUND);
    // Pinged by a remote host: the request comes in, the reply goes out.
    send(ipv6_packet("2001:db8::99", "2001:db8::10", icmp_message(128, 0, 8, true)), VIGIL_INBOUND);
    send(ipv6_packet("2001:db8::10", "2001:db8::99", icmp_message(129, 0, 8, true)),
         VIGIL_OUTBOUND);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 2u);
    for (const SeenFlow& f : flows) {
        EXPECT_EQ(f.protocol, Protocol::Icmp);
        EXPECT_EQ(f.fields.packets_in, 1u);
        EXPECT_EQ(f.fields.packets_out, 1u);
        EXPECT_EQ(f.fields.remote_port, 0);  // code
        if (f.local == "192.0.2.10") {
            EXPECT_EQ(f.remote, "198.51.100.7");
            EXPECT_EQ(f.fields.local_port, 8);  // echo request type
            EXPECT_FALSE(f.remote_opened);
        } else {
            EXPECT_EQ(f.local, "2001:db8::10");
            EXPECT_EQ(f.remote, "2001:db8::99");
            EXPECT_EQ(f.fields.local_port, 128);
            EXPECT_TRUE(f.remote_opened);
        }
    }
}

TEST_F(Hook, ByteCountsComeFromTheIpHeader) {
    // A 54-byte capture of a 1440-byte segment, and a padded 30-byte datagram.
    const Bytes big = ipv4_packet("192.0.2.10", "198.51.100.7", tcp_segment(40000, 443, 0, 1400));
    agent.packet(big.data(), 54, VIGIL_OUTBOUND, 0, platform.now_ms);
    Bytes padded = ipv4_packet("192.0.2.10", "198.51.100.8", udp_datagram(40000, 53, 2));
    padded.resize(46, 0);
    send(padded, VIGIL_OUTBOUND);

    const std::vector<SeenFlow> flows = collect();
    ASSERT_EQ(flows.size(), 2u);
    for (const SeenFlow& f : flows) {
        EXPECT_EQ(f.fields.bytes_out, f.protocol == Protocol::Tcp ? 1440u : 30u);
    }
}

}  // namespace

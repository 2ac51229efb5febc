#include "vigil/agent/agent.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "agent_harness.hpp"

namespace vigil::test {
namespace {

using agent::Status;
using protocol::Flow;
using protocol::Message;
using DefaultAgent = agent::Agent<>;

const std::string kDevice = "192.0.2.10";

std::vector<Flow> all_flows(const std::vector<Message>& messages) {
    std::vector<Flow> flows;
    for (const Message& m : messages) {
        if (m.network) {
            flows.insert(flows.end(), m.network->flows.begin(), m.network->flows.end());
        }
    }
    return flows;
}

const Flow* find_flow(const std::vector<Flow>& flows, const std::string& remote,
                      uint16_t remote_port, wire::Protocol protocol) {
    for (const Flow& f : flows) {
        if (protocol::to_string(f.remote) == remote && f.fields.remote_port == remote_port &&
            f.protocol() == protocol) {
            return &f;
        }
    }
    return nullptr;
}

TEST(AgentInit, RejectsMissingClockTransportAndBadDeviceIds) {
    FakePlatform platform;
    auto agent = std::make_unique<DefaultAgent>();
    vigil_port port = platform.port();
    vigil_transport transport = platform.transport();

    vigil_port no_clock = port;
    no_clock.now_ms = nullptr;
    EXPECT_EQ(agent->init(no_clock, transport, "dev"), Status::BadParameter);
    vigil_port half_lock = port;
    half_lock.exit_critical = nullptr;
    EXPECT_EQ(agent->init(half_lock, transport, "dev"), Status::BadParameter);
    vigil_transport no_send = transport;
    no_send.send = nullptr;
    EXPECT_EQ(agent->init(port, no_send, "dev"), Status::BadParameter);
    EXPECT_EQ(agent->init(port, transport, nullptr), Status::BadParameter);
    EXPECT_EQ(agent->init(port, transport, ""), Status::BadParameter);
    EXPECT_EQ(agent->init(port, transport, "dev/../x"), Status::BadParameter);
    EXPECT_EQ(agent->init(port, transport, std::string(128, 'a').c_str()), Status::BadParameter);
    EXPECT_EQ(agent->tick(), Status::NotInitialised);
    EXPECT_EQ(agent->state(), agent::State::NotInitialised);

    EXPECT_EQ(agent->init(port, transport, std::string(127, 'a').c_str()), Status::Ok);
    EXPECT_EQ(agent->init(port, transport, "dev"), Status::AlreadyInitialised);
}

TEST(AgentInit, IsEnabledByDefaultAndPublishesOnTheDeviceTopic) {
    Harness<DefaultAgent> h(0, "sensor-7");
    EXPECT_TRUE(h.agent.enabled());
    EXPECT_EQ(h.platform.attach_calls, 1);
    EXPECT_EQ(h.agent.state(), agent::State::Pending);
    h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 30)), VIGIL_OUTBOUND);
    h.run_for(1000);
    EXPECT_EQ(h.agent.state(), agent::State::Active);
    ASSERT_FALSE(h.platform.published.empty());
    for (const Published& p : h.platform.published) {
        EXPECT_EQ(p.topic, "devices/sensor-7/messages/events/");
        EXPECT_EQ(p.property_bag, wire::kPropertyBag);
    }
    const auto messages = h.messages();
    EXPECT_TRUE(messages.front().system.has_value());
    EXPECT_EQ(messages.front().system->agent_version, std::string("0.1.0"));
    EXPECT_EQ(messages.front().system->board, std::string("simulated-board"));
    EXPECT_TRUE(messages.front().heartbeat.has_value());
    EXPECT_EQ(h.platform.critical_depth, 0);
}

TEST(AgentFlows, ReportsEndpointsCountsOpenerAndHandshake) {
    Harness<DefaultAgent> h;
    h.run_for(1000);  // first collection: empty window
    h.platform.published.clear();

    // Completed outbound TLS connection.
    h.send(ipv4_packet(kDevice, "198.51.100.7", tcp_segment(41000, 8883, tcp::kSyn)),
           VIGIL_OUTBOUND);
    h.platform.now_ms += 1500;
    h.send(ipv4_packet("198.51.100.7", kDevice, tcp_segment(8883, 41000, tcp::kSyn | tcp::kAck)),
           VIGIL_INBOUND);
    h.send(ipv4_packet(kDevice, "198.51.100.7", tcp_segment(41000, 8883, tcp::kAck, 500)),
           VIGIL_OUTBOUND);
    // Refused: SYN answered by RST.
    h.send(ipv4_packet(kDevice, "198.51.100.8", tcp_segment(41001, 23, tcp::kSyn)), VIGIL_OUTBOUND);
    h.send(ipv4_packet("198.51.100.8", kDevice, tcp_segment(23, 41001, tcp::kRst | tcp::kAck)),
           VIGIL_INBOUND);
    // Inbound connection, unanswered.
    h.send(ipv4_packet("203.0.113.5", kDevice, tcp_segment(55555, 22, tcp::kSyn)), VIGIL_INBOUND);
    // Already-running connection, then reset.
    h.send(ipv4_packet(kDevice, "198.51.100.9", tcp_segment(42000, 443, tcp::kAck, 100)),
           VIGIL_OUTBOUND);
    h.send(ipv4_packet("198.51.100.9", kDevice, tcp_segment(443, 42000, tcp::kRst)), VIGIL_INBOUND);
    // UDP answered by the remote; ping exchange folded onto one record.
    h.send(ipv4_packet(kDevice, "198.51.100.53", udp_datagram(50000, 53, 40)), VIGIL_OUTBOUND);
    h.send(ipv4_packet("198.51.100.53", kDevice, udp_datagram(53, 50000, 120)), VIGIL_INBOUND);
    h.send(ipv4_packet(kDevice, "198.51.100.1", icmp_message(8, 0, 56)), VIGIL_OUTBOUND);
    h.send(ipv4_packet("198.51.100.1", kDevice, icmp_message(0, 0, 56)), VIGIL_INBOUND);
    h.run_for(10000);

    const auto messages = h.messages();
    const auto flows = all_flows(messages);
    ASSERT_EQ(flows.size(), 6u);
    EXPECT_EQ(totals(messages), h.sent);

    const Flow* tls = find_flow(flows, "198.51.100.7", 8883, wire::Protocol::Tcp);
    ASSERT_NE(tls, nullptr);
    EXPECT_EQ(tls->fields.local_port, 41000);
    EXPECT_FALSE(tls->remote_opened());
    EXPECT_FALSE(tls->opener_inferred());
    EXPECT_EQ(tls->handshake(), wire::Handshake::Completed);
    EXPECT_EQ(tls->fields.packets_out, 2u);
    EXPECT_EQ(tls->fields.packets_in, 1u);
    EXPECT_EQ(tls->fields.bytes_out, 40u + 540u);
    EXPECT_EQ(tls->fields.bytes_in, 40u);
    EXPECT_EQ(tls->fields.last_s - tls->fields.first_s, 1u);

    const Flow* refused = find_flow(flows, "198.51.100.8", 23, wire::Protocol::Tcp);
    ASSERT_NE(refused, nullptr);
    EXPECT_EQ(refused->handshake(), wire::Handshake::Refused);

    const Flow* inbound = find_flow(flows, "203.0.113.5", 55555, wire::Protocol::Tcp);
    ASSERT_NE(inbound, nullptr);
    EXPECT_TRUE(inbound->remote_opened());
    EXPECT_EQ(inbound->fields.local_port, 22);
    EXPECT_EQ(inbound->handshake(), wire::Handshake::Unanswered);

    const Flow* reset = find_flow(flows, "198.51.100.9", 443, wire::Protocol::Tcp);
    ASSERT_NE(reset, nullptr);
    EXPECT_TRUE(reset->opener_inferred());
    EXPECT_FALSE(reset->remote_opened());  // the device is on the ephemeral port
    EXPECT_EQ(reset->handshake(), wire::Handshake::Reset);

    const Flow* dns = find_flow(flows, "198.51.100.53", 53, wire::Protocol::Udp);
    ASSERT_NE(dns, nullptr);
    EXPECT_FALSE(dns->remote_opened());
    EXPECT_EQ(dns->fields.bytes_in, 20u + 8u + 120u);

    const Flow* ping = find_flow(flows, "198.51.100.1", 0, wire::Protocol::Icmp);
    ASSERT_NE(ping, nullptr);
    EXPECT_EQ(ping->fields.local_port, 8);  // ICMP type of the request
    EXPECT_EQ(ping->fields.packets_in, 1u);
    EXPECT_EQ(ping->fields.packets_out, 1u);
    EXPECT_FALSE(ping->remote_opened());

    // One local address, flows grouped per remote.
    for (const Message& m : messages) {
        if (m.network) {
            ASSERT_EQ(m.network->local_addresses.size(), 1u);
            EXPECT_EQ(protocol::to_string(m.network->local_addresses[0]), kDevice);
            EXPECT_NEAR(m.network->window_duration_ms, 10000, 1000);
        }
    }
}

// A hook that reads its clock inside the critical section it already holds hands the packet
// over without the agent taking the section again, and the counts are the same.
TEST(AgentFlows, PacketInCallersCriticalSectionCountsTheSameWithoutTakingIt) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    h.platform.published.clear();
    const auto out = ipv4_packet(kDevice, "198.51.100.53", udp_datagram(50000, 53, 40));
    const auto in = ipv4_packet("198.51.100.53", kDevice, udp_datagram(53, 50000, 120));
    const auto v6 = ipv6_packet("2001:db8::10", "2001:db8::1", udp_datagram(40000, 123, 48));
    const int entries = h.platform.critical_entries;
    for (int i = 0; i < 3; ++i) {
        h.agent.packet_in_critical_section(out.data(), out.size(), VIGIL_OUTBOUND, 0,
                                           h.platform.now_ms);
        h.agent.packet_in_critical_section(in.data(), in.size(), VIGIL_INBOUND, 0,
                                           h.platform.now_ms);
    }
    h.agent.packet_in_critical_section(v6.data(), v6.size(), VIGIL_OUTBOUND, 0, h.platform.now_ms);
    EXPECT_EQ(h.platform.critical_entries, entries);
    EXPECT_EQ(h.agent.counters().packets_seen, 7u);
    h.run_for(10000);
    const auto flows = all_flows(h.messages());
    ASSERT_EQ(flows.size(), 2u);
    const Flow* dns = find_flow(flows, "198.51.100.53", 53, wire::Protocol::Udp);
    ASSERT_NE(dns, nullptr);
    EXPECT_EQ(dns->fields.packets_out, 3u);
    EXPECT_EQ(dns->fields.packets_in, 3u);
    EXPECT_EQ(dns->fields.bytes_out, 3 * out.size());
    EXPECT_EQ(dns->fields.bytes_in, 3 * in.size());
    const Flow* ntp = find_flow(flows, "2001:db8::1", 123, wire::Protocol::Udp);
    ASSERT_NE(ntp, nullptr);
    EXPECT_EQ(ntp->fields.bytes_out, v6.size());
}

TEST(AgentFlows, Ipv6FlowsAreReportedWithExtensionHeaders) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    h.platform.published.clear();
    h.send(ipv6_packet("2001:db8::10", "2001:db8::1", tcp_segment(40000, 443, tcp::kSyn), {0, 60}),
           VIGIL_OUTBOUND);
    h.send(ipv6_packet("2001:db8::1", "2001:db8::10", icmp_message(129, 0, 8, true)),
           VIGIL_INBOUND);
    h.run_for(10000);
    const auto messages = h.messages();
    const auto flows = all_flows(messages);
    ASSERT_EQ(flows.size(), 2u);
    EXPECT_EQ(totals(messages), h.sent);
    const Flow* echo = find_flow(flows, "2001:db8::1", 0, wire::Protocol::Icmp);
    ASSERT_NE(echo, nullptr);
    EXPECT_EQ(echo->fields.local_port, 128);  // reply folded onto echo request
    EXPECT_FALSE(echo->remote_opened());      // the device sent the request it answers
}

TEST(AgentFlows, FullTableKeepsExactTotalsInOverflowRecords) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    h.platform.published.clear();
    for (int i = 0; i < 300; ++i) {
        const std::string remote = "198.51.100." + std::to_string(i % 250);
        h.send(ipv4_packet(kDevice, remote, udp_datagram(static_cast<uint16_t>(30000 + i), 53, i)),
               VIGIL_OUTBOUND);
        h.send(ipv4_packet(remote, kDevice,
                           tcp_segment(80, static_cast<uint16_t>(30000 + i), tcp::kAck, 2 * i)),
               VIGIL_INBOUND);
        h.send(ipv6_packet("2001:db8::10", "2001:db8::" + std::to_string(i + 100),
                           icmp_message(8, 0, 16, true)),
               VIGIL_OUTBOUND);
    }
    h.run_for(10000);
    const auto messages = h.messages();
    const Totals reported = totals(messages);
    EXPECT_EQ(reported, h.sent);
    EXPECT_EQ(reported.flows, VIGIL_MAX_IPV4_FLOWS + VIGIL_MAX_IPV6_FLOWS);
    EXPECT_EQ(reported.overflow_packets, 900u - reported.flows);
    EXPECT_EQ(h.agent.counters().overflow_packets, reported.overflow_packets);

    // The window spans several messages of at most the configured size, numbered as parts.
    std::set<uint32_t> parts;
    uint32_t part_count = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
        EXPECT_LE(h.platform.published[i].payload.size(), size_t{VIGIL_MAX_MESSAGE_BYTES});
        if (messages[i].network && messages[i].network->part) {
            parts.insert(messages[i].network->part->first);
            part_count = messages[i].network->part->second;
        }
    }
    EXPECT_GT(part_count, 1u);
    EXPECT_EQ(parts.size(), part_count);

    // The next heartbeat reports the overflow.
    h.run_for(60000);
    bool seen = false;
    for (const Message& m : h.messages()) {
        if (m.heartbeat && m.heartbeat->overflow_packets == reported.overflow_packets) {
            seen = true;
        }
    }
    EXPECT_TRUE(seen);
}

TEST(AgentFlows, FullCollectionWhileConnectedIsSentNotDropped) {
    // A full window plus every snapshot is more than the default 2 KB backlog holds: the agent
    // must send the first messages before encoding the rest, not push them out.
    Harness<DefaultAgent> h;
    for (uint16_t i = 0; i < 16; ++i) {
        vigil_listening_port port{};
        port.protocol = VIGIL_TCP;
        port.port = static_cast<uint16_t>(8000 + i);
        port.address.family = 4;
        h.platform.listening.push_back(port);
    }
    for (int i = 0; i < 64; ++i) {
        h.send(ipv4_packet(kDevice, "198.51." + std::to_string(i) + ".7",
                           tcp_segment(static_cast<uint16_t>(50000 + i), 8883, tcp::kAck, 60000)),
               VIGIL_OUTBOUND);
    }
    for (int i = 0; i < 16; ++i) {
        h.send(ipv6_packet("2001:db8::10", "2001:db8:" + std::to_string(i + 1) + "::9",
                           udp_datagram(5000, static_cast<uint16_t>(40000 + i), 30000)),
               VIGIL_OUTBOUND);
    }
    h.run_for(1000);
    const auto messages = h.messages();
    EXPECT_GT(messages.size(), 2u);
    EXPECT_EQ(h.agent.counters().messages_dropped, 0u);
    EXPECT_EQ(totals(messages), h.sent);
    EXPECT_EQ(totals(messages).flows, 80u);
    for (size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(messages[i].sequence, i);
    }
}

/// A transport that hands the agent a packet each time it sends, as a network stack would while
/// the agent context is busy with a collection.
struct InjectingTransport {
    vigil_transport inner;
    agent::AgentBase* agent = nullptr;
    std::vector<uint8_t> packet;
    const uint64_t* now_ms = nullptr;
    bool injecting = true;
    size_t injected = 0;

    vigil_transport transport() {
        vigil_transport t{};
        t.context = this;
        t.is_connected = [](void* c) {
            auto* self = static_cast<InjectingTransport*>(c);
            return self->inner.is_connected(self->inner.context);
        };
        t.send = [](void* c, const char* topic, const char* bag, const uint8_t* payload,
                    size_t length) -> int32_t {
            auto* self = static_cast<InjectingTransport*>(c);
            if (self->injecting) {
                self->agent->packet(self->packet.data(), self->packet.size(), VIGIL_OUTBOUND, 0,
                                    *self->now_ms);
                ++self->injected;
            }
            return self->inner.send(self->inner.context, topic, bag, payload, length);
        };
        return t;
    }
};

TEST(AgentFlows, PacketsDuringEncodingGoToTheNextWindow) {
    FakePlatform platform;
    auto core = std::make_unique<DefaultAgent>();
    InjectingTransport injecting;
    injecting.inner = platform.transport();
    injecting.agent = core.get();
    injecting.packet = ipv4_packet(kDevice, "198.51.0.7", tcp_segment(50000, 8883, tcp::kAck, 100));
    injecting.now_ms = &platform.now_ms;
    const vigil_port port = platform.port();
    const vigil_transport transport = injecting.transport();
    const vigil_options options{0};
    ASSERT_EQ(core->init(port, transport, "injecting", &options), Status::Ok);

    // A window too large for the backlog, so the tick sends between its messages. The first
    // flow has the key of the injected packets.
    Totals sent;
    for (int i = 0; i < 64; ++i) {
        const auto p =
            ipv4_packet(kDevice, "198.51." + std::to_string(i) + ".7",
                        tcp_segment(static_cast<uint16_t>(50000 + i), 8883, tcp::kAck, 60000));
        core->packet(p.data(), p.size(), VIGIL_OUTBOUND, 0, platform.now_ms);
        sent.bytes_out += p.size();
        ++sent.packets_out;
    }
    platform.now_ms += 1000;
    ASSERT_EQ(core->tick(), Status::Ok);
    injecting.injecting = false;
    const size_t first_tick_messages = platform.published.size();
    ASSERT_GT(first_tick_messages, 1u);
    ASSERT_GT(injecting.injected, 0u);
    platform.now_ms += 10000;
    ASSERT_EQ(core->tick(), Status::Ok);

    const auto messages = decode_all(platform.published);
    size_t first_window_flows = 0;
    std::vector<Flow> second_window;
    for (size_t i = 0; i < messages.size(); ++i) {
        if (!messages[i].network) {
            continue;
        }
        for (const Flow& f : messages[i].network->flows) {
            if (i < first_tick_messages) {
                EXPECT_EQ(f.fields.packets_out, 1u) << "the closed window changed while encoded";
                ++first_window_flows;
            } else {
                second_window.push_back(f);
            }
        }
    }
    EXPECT_EQ(first_window_flows, 64u);
    ASSERT_EQ(second_window.size(), 1u);
    EXPECT_EQ(protocol::to_string(second_window[0].remote), "198.51.0.7");
    EXPECT_EQ(second_window[0].fields.packets_out, injecting.injected);
    sent.bytes_out += injecting.injected * injecting.packet.size();
    sent.packets_out += injecting.injected;
    EXPECT_EQ(totals(messages), sent);
}

TEST(AgentFlows, InboundMulticastIsIgnoredWhenUnicastOnly) {
    Harness<DefaultAgent> h;
    h.send(ipv4_packet("198.51.100.3", "224.0.0.251", udp_datagram(5353, 5353, 40)), VIGIL_INBOUND);
    h.send(ipv4_packet("198.51.100.3", "255.255.255.255", udp_datagram(68, 67, 40)), VIGIL_INBOUND);
    h.send(ipv6_packet("2001:db8::3", "ff02::1", icmp_message(134, 0, 8, true)), VIGIL_INBOUND);
    h.send(ipv4_packet(kDevice, "224.0.0.251", udp_datagram(5353, 5353, 40)), VIGIL_OUTBOUND);
    EXPECT_EQ(h.agent.counters().packets_ignored, 3u);
    h.run_for(1000);
    EXPECT_EQ(all_flows(h.messages()).size(), 1u);
}

TEST(AgentFlows, GarbageIsCountedNotRecorded) {
    Harness<DefaultAgent> h;
    const uint8_t garbage[] = {0x45, 0x00, 0x00};
    h.agent.packet(garbage, sizeof garbage, VIGIL_INBOUND, 0, h.platform.now_ms);
    h.agent.packet(nullptr, 0, VIGIL_INBOUND, 0, h.platform.now_ms);
    const uint8_t version7[40] = {0x70};
    h.agent.packet(version7, sizeof version7, VIGIL_INBOUND, 0, h.platform.now_ms);
    EXPECT_EQ(h.agent.counters().packets_seen, 3u);
    EXPECT_EQ(h.agent.counters().packets_unparsed, 3u);
    h.run_for(1000);
    EXPECT_TRUE(all_flows(h.messages()).empty());
}

TEST(AgentSchedule, GroupsRunAtTheirIntervals) {
    Harness<DefaultAgent> h;
    uint64_t network = 0;
    uint64_t heartbeats = 0;
    uint64_t systems = 0;
    for (int second = 0; second < 600; ++second) {
        h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 123, 48)), VIGIL_OUTBOUND);
        h.run_for(1000);
    }
    for (const Message& m : h.messages()) {
        network += m.network ? 1 : 0;
        heartbeats += m.heartbeat ? 1 : 0;
        systems += m.system ? 1 : 0;
    }
    // The schedule is anchored at the first due time (0 s here, no splay): collections at the
    // first tick (1 s), then at 10, 20, ... 600 s; the low group at 1, 60, ... 600 s.
    EXPECT_EQ(network, 61u);
    EXPECT_EQ(heartbeats, 11u);
    EXPECT_EQ(systems, 11u);
    EXPECT_EQ(totals(h.messages()), h.sent);
}

TEST(AgentSchedule, FirstCollectionWaitsASplayThatDiffersPerDevice) {
    std::set<uint64_t> first_collection;
    for (uint32_t seed : {1u, 777u, 4242u, 99991u}) {
        Harness<DefaultAgent> h(10000);
        h.platform.next_random = seed;
        // Re-enable so the splay is drawn from this seed.
        ASSERT_EQ(h.agent.disable(), Status::Ok);
        ASSERT_EQ(h.agent.enable(), Status::Ok);
        uint64_t waited = 0;
        while (h.platform.published.empty() && waited < 20000) {
            h.run_for(100, 100);
            waited += 100;
        }
        EXPECT_LT(waited, 10100u);
        first_collection.insert(waited);
    }
    EXPECT_GT(first_collection.size(), 1u);
}

TEST(AgentSchedule, LateTicksDoNotBurstAndCountDrift) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    const size_t before = h.platform.published.size();
    h.platform.now_ms += 95000;  // the host stalled for 95 s
    EXPECT_EQ(h.agent.tick(), Status::Ok);
    const auto messages = decode_all(
        std::vector<Published>(h.platform.published.begin() + before, h.platform.published.end()));
    size_t network = 0;
    for (const Message& m : messages) {
        network += m.network ? 1 : 0;
    }
    EXPECT_LE(network, 1u);
    EXPECT_GE(h.agent.counters().schedule_drift, 8u);
    // Back to a steady cadence afterwards.
    const size_t after = h.platform.published.size();
    h.run_for(9000);
    EXPECT_EQ(h.platform.published.size(), after);
}

TEST(AgentSchedule, ClockGoingBackwardsIsCountedAndHarmless) {
    Harness<DefaultAgent> h;
    h.platform.now_ms = 10'000'000'000;
    h.run_for(5000);
    h.platform.now_ms -= 3'600'000;
    h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 123, 48)), VIGIL_OUTBOUND);
    EXPECT_EQ(h.agent.tick(), Status::Ok);
    EXPECT_EQ(h.agent.counters().clock_jumps, 1u);
    const size_t before = h.platform.published.size();
    h.run_for(1000);
    EXPECT_EQ(h.platform.published.size(), before);  // no burst
    h.run_for(10000);
    const auto messages = h.messages();
    EXPECT_EQ(totals(messages), h.sent);
    for (const Message& m : messages) {
        if (m.network) {
            EXPECT_LE(m.network->window_duration_ms, 11000u);
            for (const Flow& f : m.network->flows) {
                EXPECT_LE(f.fields.first_s, f.fields.last_s);
                EXPECT_LE(f.fields.last_s, 11u);
            }
        }
    }
}

}  // namespace
}  // namespace vigil::test

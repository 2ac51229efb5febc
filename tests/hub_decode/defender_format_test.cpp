// The legacy Defender micro-agent's FlatBuffers message. Fixtures are flatc's encoding of the
// JSON files in defender/ with hub/decode/defender.fbs; hostile buffers are cut or patched from
// them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "defender_generated.h"
#include "fixtures.hpp"

namespace vigil::hub {
namespace {

using test::defender_fixture;

DecodeOutcome decode_defender(std::vector<uint8_t> payload) {
    return test::decode_on(test::kDefenderTopic, std::move(payload));
}

TEST(DefenderFormat, envelope_from_the_first_event) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("network"));
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    const Report& report = outcome.report;
    EXPECT_EQ(report.format, Format::LegacyDefender);
    EXPECT_EQ(report.device_id, "sensor-7");
    EXPECT_EQ(report.message_key, "0123456789abcdef0011223344556677");
    EXPECT_EQ(report.device_time_ms, 1700000000000);
    EXPECT_EQ(report.agent_version, "3.5.4");  // 0x03050004
    EXPECT_EQ(report.window_duration_ms, 10000u);
    EXPECT_TRUE(report.has_network);
}

TEST(DefenderFormat, ipv4_flows_in_network_byte_order) {
    const Report report = decode_defender(defender_fixture("network")).report;
    ASSERT_EQ(report.flows.size(), 4u);
    const Flow& tcp = report.flows[0];
    EXPECT_EQ(tcp.local, "192.168.0.1");  // local_address 16820416 = 0x0100A8C0
    EXPECT_EQ(tcp.remote, "198.51.100.7");
    EXPECT_EQ(tcp.protocol, Protocol::Tcp);
    EXPECT_EQ(tcp.local_port, 49152);
    EXPECT_EQ(tcp.remote_port, 8883);
    EXPECT_EQ(tcp.bytes_in, 1200u);
    EXPECT_EQ(tcp.bytes_out, 3400u);
    EXPECT_FALSE(tcp.packets_in.has_value());  // the format counts no packets
    EXPECT_FALSE(tcp.remote_opened.has_value());
    EXPECT_EQ(tcp.handshake, "");
    const Flow& udp = report.flows[1];
    EXPECT_EQ(udp.local, "10.0.0.2");
    EXPECT_EQ(udp.remote, "203.0.113.9");
    EXPECT_EQ(udp.protocol, Protocol::Udp);
    EXPECT_EQ(udp.local_port, 5353);
    EXPECT_EQ(udp.remote_port, 53);
    const Flow& icmp = report.flows[2];
    EXPECT_EQ(icmp.protocol, Protocol::Icmp);
    EXPECT_EQ(icmp.bytes_in, 64u);
    EXPECT_EQ(icmp.local_port, 0);
}

TEST(DefenderFormat, address_octets_are_the_words_bytes_on_the_wire) {
    // The byte order decision, checked on the raw buffer: the four bytes of the uint32 as they
    // lie in the FlatBuffer are the address octets in order.
    const std::vector<uint8_t> buffer = defender_fixture("network");
    const uint8_t octets[] = {192, 168, 0, 1, 198, 51, 100, 7};
    EXPECT_NE(std::search(buffer.begin(), buffer.end(), std::begin(octets), std::end(octets)),
              buffer.end());
}

TEST(DefenderFormat, ipv6_flow) {
    const Report report = decode_defender(defender_fixture("network")).report;
    ASSERT_EQ(report.flows.size(), 4u);
    const Flow& v6 = report.flows[3];
    EXPECT_EQ(v6.local, "fe80::1");
    EXPECT_EQ(v6.remote, "2001:db8:0:1::53");
    EXPECT_EQ(v6.protocol, Protocol::Tcp);
    EXPECT_EQ(v6.local_port, 40000);
    EXPECT_EQ(v6.remote_port, 443);
    EXPECT_EQ(v6.bytes_in, 4000000000u);
    EXPECT_EQ(v6.bytes_out, 7u);
}

// The ThreadX micro-agent's collector (netxduo addons/azure_iot/azure_iot_security_module/src/
// collectors/collector_network_activity.c) copies the 16 address bytes of the IPv6 header, in
// network order, into its four uint32 words, undoing NetX's per-word swap when the header had
// been turned to host order; the FlatBuffers builder then writes each word little-endian. On the
// little-endian MCUs the agent runs on, the buffer holds the octets in order. This builds a
// message the way the agent does and reads it back.
TEST(DefenderFormat, ipv6_words_hold_the_header_bytes_as_the_agent_copies_them) {
    const uint32_t probe = 1;
    uint8_t first_byte = 0;
    std::memcpy(&first_byte, &probe, 1);
    if (first_byte != 1) {
        GTEST_SKIP() << "models a little-endian device; this host is big-endian";
    }
    const uint8_t local[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t remote[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x53};
    uint32_t local_words[4];
    uint32_t remote_words[4];
    std::memcpy(local_words, local, sizeof(local));
    std::memcpy(remote_words, remote, sizeof(remote));

    namespace fb = AzureIoTSecurity;
    flatbuffers::FlatBufferBuilder builder;
    const fb::IPv6Addresses addresses{flatbuffers::span<const uint32_t, 4>(local_words),
                                      flatbuffers::span<const uint32_t, 4>(remote_words)};
    const auto common =
        fb::CreateNetworkActivityCommon(builder, 5683, 61000, 120, 80, fb::Protocol::UDP);
    const std::vector<flatbuffers::Offset<fb::NetworkActivityV6>> flows = {
        fb::CreateNetworkActivityV6(builder, &addresses, common)};
    const auto activity = fb::CreateNetworkActivityDirect(builder, nullptr, &flows);
    const fb::UUID id;
    const std::vector<flatbuffers::Offset<fb::Event>> events = {fb::CreateEvent(
        builder, &id, 1700000000, 10, fb::Payload::NetworkActivity, activity.Union())};
    builder.Finish(
        fb::CreateMessageDirect(builder, "defender-iot-micro-agent", 0x03050004, 0, &events));
    const std::vector<uint8_t> buffer(builder.GetBufferPointer(),
                                      builder.GetBufferPointer() + builder.GetSize());

    EXPECT_NE(std::search(buffer.begin(), buffer.end(), std::begin(remote), std::end(remote)),
              buffer.end());
    const DecodeOutcome outcome = decode_defender(buffer);
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    ASSERT_EQ(outcome.report.flows.size(), 1u);
    const Flow& flow = outcome.report.flows[0];
    EXPECT_EQ(flow.local, "fe80::1");
    EXPECT_EQ(flow.remote, "2001:db8:0:1::53");
    EXPECT_EQ(flow.protocol, Protocol::Udp);
    EXPECT_EQ(flow.local_port, 5683);
    EXPECT_EQ(flow.remote_port, 61000);
}

TEST(DefenderFormat, system_information_and_heartbeat) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("system"));
    ASSERT_TRUE(outcome.ok) << outcome.detail;
    const Report& report = outcome.report;
    ASSERT_TRUE(report.system.has_value());
    EXPECT_EQ(report.system->os_name, "Azure RTOS 6.1");
    EXPECT_EQ(report.system->os_version, "ThreadX 6.1.7");
    EXPECT_EQ(report.system->board, "STM32L475");
    EXPECT_EQ(report.system->agent_version, "3.5.4");
    EXPECT_EQ(report.message_key, "00000000000000010000000000000002");
    EXPECT_FALSE(report.has_network);
    EXPECT_FALSE(report.status.has_value());  // the heartbeat carries no counters
}

TEST(DefenderFormat, heartbeat_alone) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("heartbeat"));
    ASSERT_TRUE(outcome.ok) << outcome.detail;
    EXPECT_EQ(outcome.report.message_key, "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0");
    EXPECT_EQ(outcome.report.device_time_ms, 1700000180000);
    EXPECT_FALSE(outcome.report.has_network);
    EXPECT_TRUE(outcome.report.flows.empty());
}

TEST(DefenderFormat, listening_ports) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("ports"));
    ASSERT_TRUE(outcome.ok) << outcome.detail;
    EXPECT_EQ(outcome.report.agent_version, "1.0.0");
    ASSERT_TRUE(outcome.report.listening_ports.has_value());
    const auto& ports = *outcome.report.listening_ports;
    ASSERT_EQ(ports.size(), 4u);
    EXPECT_EQ(ports[0].protocol, Protocol::Tcp);
    EXPECT_EQ(ports[0].port, 1883);
    EXPECT_EQ(ports[0].address, "");
    EXPECT_EQ(ports[1].protocol, Protocol::Udp);
    EXPECT_EQ(ports[1].port, 5683);
    EXPECT_EQ(ports[1].address, "192.168.0.1");
    EXPECT_EQ(ports[2].port, 8883);
    EXPECT_EQ(ports[2].address, "");
    EXPECT_EQ(ports[3].address, "2001:db8::1");
    EXPECT_EQ(ports[3].protocol, Protocol::Udp);
}

TEST(DefenderFormat, every_union_type_verifies_and_only_1_to_4_are_read) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("every_type"));
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    const Report& report = outcome.report;
    EXPECT_EQ(report.message_key, "00000000000000000000000000000001");
    ASSERT_EQ(report.flows.size(), 1u);
    EXPECT_EQ(report.flows[0].protocol, Protocol::Udp);
    ASSERT_TRUE(report.system.has_value());
    EXPECT_EQ(report.system->os_name, "Azure RTOS 6.1");
    ASSERT_TRUE(report.listening_ports.has_value());
    EXPECT_EQ(report.listening_ports->size(), 1u);
    EXPECT_EQ(report.window_duration_ms, 10000u);
}

TEST(DefenderFormat, protocol_out_of_range_is_bad_value) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("bad_protocol"));
    EXPECT_EQ(outcome.reason, reason::kBadValue);
    EXPECT_NE(outcome.detail.find("ipv4_activity[0]"), std::string::npos) << outcome.detail;
}

TEST(DefenderFormat, union_type_without_its_table_is_missing_field) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("payload_missing"));
    EXPECT_EQ(outcome.reason, reason::kMissingField);
    EXPECT_NE(outcome.detail.find("payload type 2"), std::string::npos) << outcome.detail;
}

TEST(DefenderFormat, no_events_is_missing_field) {
    EXPECT_EQ(decode_defender(defender_fixture("no_events")).reason, reason::kMissingField);
}

TEST(DefenderFormat, wrong_root_is_refused) {
    const DecodeOutcome outcome = decode_defender(defender_fixture("wrong_root"));
    EXPECT_FALSE(outcome.ok);
    EXPECT_EQ(outcome.reason, reason::kMalformed);
}

TEST(DefenderFormat, every_truncation_is_refused_or_cut_only_padding) {
    // flatc pads the end of the buffer for alignment; a cut there loses nothing and decodes to
    // the same report. Any other cut is refused.
    const std::vector<uint8_t> buffer = defender_fixture("network");
    const std::string whole = to_json(decode_defender(buffer).report);
    size_t refused = 0;
    for (size_t size = 1; size < buffer.size(); ++size) {
        DecodeOutcome outcome =
            decode_defender(std::vector<uint8_t>(buffer.begin(), buffer.begin() + size));
        if (outcome.ok) {
            outcome.report.payload_bytes = static_cast<uint32_t>(buffer.size());
            EXPECT_EQ(to_json(outcome.report), whole) << size;
            EXPECT_GE(size, buffer.size() - 8) << "only the padding may go";
            continue;
        }
        ++refused;
        EXPECT_TRUE(outcome.reason == reason::kTruncated || outcome.reason == reason::kMalformed)
            << size << ": " << outcome.reason;
    }
    EXPECT_GE(refused, buffer.size() - 8);
    EXPECT_EQ(decode_defender({0x10, 0x00, 0x00}).reason, reason::kTruncated);
}

TEST(DefenderFormat, root_offset_past_the_end_is_truncated) {
    std::vector<uint8_t> buffer = defender_fixture("network");
    const uint32_t far = 0xFFFFFFF0u;
    std::memcpy(buffer.data(), &far, sizeof(far));
    EXPECT_EQ(decode_defender(buffer).reason, reason::kTruncated);
}

/// The offset, inside the fixture, of the length word of events[0]'s ipv4_activity vector.
size_t ipv4_vector_length_offset(const std::vector<uint8_t>& buffer) {
    const auto* message = AzureIoTSecurity::GetMessage(buffer.data());
    const auto* vector = message->events()->Get(0)->payload_as_NetworkActivity()->ipv4_activity();
    return static_cast<size_t>(reinterpret_cast<const uint8_t*>(vector) - buffer.data());
}

TEST(DefenderFormat, huge_vector_length_is_refused) {
    std::vector<uint8_t> buffer = defender_fixture("network");
    const size_t at = ipv4_vector_length_offset(buffer);
    for (uint32_t length : {1000u, 0x3FFFFFFFu, 0xFFFFFFFFu}) {
        std::vector<uint8_t> patched = buffer;
        std::memcpy(patched.data() + at, &length, sizeof(length));
        const DecodeOutcome outcome = decode_defender(patched);
        EXPECT_EQ(outcome.reason, reason::kMalformed) << length;
    }
}

TEST(DefenderFormat, bad_offsets_anywhere_never_crash) {
    // Every 32-bit word overwritten with offsets that point outside, backwards or at itself:
    // the verifier must refuse or the decoder must read a consistent buffer.
    const std::vector<uint8_t> buffer = defender_fixture("every_type");
    for (size_t at = 0; at + 4 <= buffer.size(); at += 2) {
        for (uint32_t value : {0u, 1u, 3u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFCu,
                               static_cast<uint32_t>(buffer.size())}) {
            std::vector<uint8_t> patched = buffer;
            std::memcpy(patched.data() + at, &value, sizeof(value));
            const DecodeOutcome outcome = decode_defender(patched);
            if (!outcome.ok) {
                EXPECT_FALSE(outcome.reason.empty());
                EXPECT_FALSE(outcome.detail.empty());
            }
        }
    }
}

}  // namespace
}  // namespace vigil::hub

// Vigil's CBOR message, built with the protocol library's encoder, decoded through the topic and
// checked field by field against the Report.
#include <gtest/gtest.h>

#include <cstring>

#include "fixtures.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub {
namespace {

wire::Address address(uint8_t family, std::initializer_list<uint8_t> bytes) {
    wire::Address out;
    out.family = family;
    std::copy(bytes.begin(), bytes.end(), out.bytes);
    return out;
}

const wire::Address kLocal4 = address(4, {192, 0, 2, 10});
const wire::Address kRemote4 = address(4, {198, 51, 100, 7});
const wire::Address kLocal6 =
    address(6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10});
const wire::Address kRemote6 =
    address(6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53});

protocol::Flow flow(uint32_t local_index, wire::Address remote, uint8_t flags, uint16_t local_port,
                    uint16_t remote_port) {
    protocol::Flow out;
    out.local_index = local_index;
    out.remote = remote;
    out.fields.flags = flags;
    out.fields.local_port = local_port;
    out.fields.remote_port = remote_port;
    out.fields.bytes_in = 1000 + local_port;
    out.fields.bytes_out = 2000 + local_port;
    out.fields.packets_in = 3;
    out.fields.packets_out = 4;
    return out;
}

protocol::Message full_message() {
    protocol::Message message;
    message.boot_id = 0xDEADBEEF;
    message.sequence = 42;
    message.unix_time = 1700000000;
    message.uptime = 3600;

    protocol::NetworkActivity network;
    network.window_duration_ms = 10000;
    network.local_addresses = {kLocal4, kLocal6};
    const uint8_t tcp_refused_by_remote = static_cast<uint8_t>(
        wire::flow_flag::kRemoteOpened |
        (static_cast<uint8_t>(wire::Handshake::Refused) << wire::flow_flag::kHandshakeShift));
    network.flows.push_back(flow(0, kRemote4, tcp_refused_by_remote, 50000, 443));
    network.flows.push_back(flow(1, kRemote6, static_cast<uint8_t>(wire::Protocol::Udp), 5353, 53));
    network.flows.push_back(flow(0, kRemote4, static_cast<uint8_t>(wire::Protocol::Icmp), 8, 0));
    wire::OverflowFields overflow;
    overflow.family = 6;
    overflow.protocol = wire::Protocol::Udp;
    overflow.bytes_in = 11;
    overflow.bytes_out = 12;
    overflow.packets_in = 13;
    overflow.packets_out = 14;
    network.overflow.push_back(overflow);
    message.network = network;

    protocol::SystemInformation system;
    system.agent_version = "1.2.3";
    system.os_name = "Zephyr";
    system.os_version = "3.5";
    system.stack_name = "lwIP";
    system.stack_version = "2.1.3";
    system.firmware_version = "fw-9";
    system.board = "nrf5340";
    system.addresses = {kLocal4, kLocal6};
    system.macs = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}};
    message.system = system;

    wire::ListeningPortFields any_port;
    any_port.protocol = wire::Protocol::Tcp;
    any_port.port = 1883;
    wire::ListeningPortFields bound_port;
    bound_port.protocol = wire::Protocol::Udp;
    bound_port.port = 5683;
    bound_port.address = kLocal4;
    message.listening_ports = std::vector<wire::ListeningPortFields>{any_port, bound_port};

    wire::HeartbeatFields heartbeat;
    heartbeat.state = wire::AgentState::Active;
    heartbeat.config_version = 4;
    heartbeat.packets_seen = 100;
    heartbeat.packets_unparsed = 1;
    heartbeat.packets_ignored = 2;
    heartbeat.overflow_packets = 3;
    heartbeat.messages_sent = 50;
    heartbeat.send_failures = 5;
    heartbeat.messages_dropped = 6;
    heartbeat.backlog_messages = 7;
    heartbeat.backlog_bytes = 800;
    heartbeat.rejected_config_version = 5;
    heartbeat.rejected_config_reason = wire::ConfigError::BadInterval;
    message.heartbeat = heartbeat;
    return message;
}

DecodeOutcome decode_vigil(const protocol::Message& message) {
    return test::decode_on(test::kVigilTopic, protocol::encode_message(message));
}

TEST(VigilFormat, envelope) {
    const DecodeOutcome outcome = decode_vigil(full_message());
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    const Report& report = outcome.report;
    EXPECT_EQ(report.format, Format::Vigil);
    EXPECT_EQ(report.device_id, "sensor-7");
    EXPECT_EQ(report.message_key, "3735928559:42");
    EXPECT_EQ(report.device_time_ms, 1700000000000);
    EXPECT_EQ(report.received_ms, 1700000000123);
    EXPECT_EQ(report.agent_version, "1.2.3");
    EXPECT_EQ(report.payload_bytes, protocol::encode_message(full_message()).size());
    EXPECT_TRUE(outcome.reason.empty());
}

TEST(VigilFormat, flows_with_textual_addresses_packets_opener_handshake) {
    const Report report = decode_vigil(full_message()).report;
    EXPECT_TRUE(report.has_network);
    EXPECT_EQ(report.window_duration_ms, 10000u);
    ASSERT_EQ(report.flows.size(), 3u);
    const Flow& tcp = report.flows[0];
    EXPECT_EQ(tcp.local, "192.0.2.10");
    EXPECT_EQ(tcp.remote, "198.51.100.7");
    EXPECT_EQ(tcp.protocol, Protocol::Tcp);
    EXPECT_EQ(tcp.local_port, 50000);
    EXPECT_EQ(tcp.remote_port, 443);
    EXPECT_EQ(tcp.bytes_in, 51000u);
    EXPECT_EQ(tcp.bytes_out, 52000u);
    EXPECT_EQ(tcp.packets_in, 3u);
    EXPECT_EQ(tcp.packets_out, 4u);
    EXPECT_EQ(tcp.remote_opened, true);
    EXPECT_EQ(tcp.handshake, "refused");
    const Flow& udp = report.flows[1];
    EXPECT_EQ(udp.local, "2001:db8::10");
    EXPECT_EQ(udp.remote, "2001:db8::53");
    EXPECT_EQ(udp.protocol, Protocol::Udp);
    EXPECT_EQ(udp.remote_opened, false);
    EXPECT_EQ(udp.handshake, "");  // TCP only
    const Flow& icmp = report.flows[2];
    EXPECT_EQ(icmp.protocol, Protocol::Icmp);
    EXPECT_EQ(icmp.local_port, 8);  // the ICMP type
    ASSERT_EQ(report.overflow.size(), 1u);
    EXPECT_EQ(report.overflow[0].family, 6);
    EXPECT_EQ(report.overflow[0].protocol, Protocol::Udp);
    EXPECT_EQ(report.overflow[0].bytes_in, 11u);
    EXPECT_EQ(report.overflow[0].bytes_out, 12u);
    EXPECT_EQ(report.overflow[0].packets_in, 13u);
    EXPECT_EQ(report.overflow[0].packets_out, 14u);
}

TEST(VigilFormat, system_and_listening_ports) {
    const Report report = decode_vigil(full_message()).report;
    ASSERT_TRUE(report.system.has_value());
    EXPECT_EQ(report.system->agent_version, "1.2.3");
    EXPECT_EQ(report.system->os_name, "Zephyr");
    EXPECT_EQ(report.system->os_version, "3.5");
    EXPECT_EQ(report.system->stack_name, "lwIP");
    EXPECT_EQ(report.system->stack_version, "2.1.3");
    EXPECT_EQ(report.system->firmware_version, "fw-9");
    EXPECT_EQ(report.system->board, "nrf5340");
    EXPECT_EQ(report.system->addresses, (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
    EXPECT_EQ(report.system->macs, (std::vector<std::string>{"02:00:00:00:00:0a"}));
    ASSERT_TRUE(report.listening_ports.has_value());
    ASSERT_EQ(report.listening_ports->size(), 2u);
    EXPECT_EQ((*report.listening_ports)[0].protocol, Protocol::Tcp);
    EXPECT_EQ((*report.listening_ports)[0].port, 1883);
    EXPECT_EQ((*report.listening_ports)[0].address, "");
    EXPECT_EQ((*report.listening_ports)[1].protocol, Protocol::Udp);
    EXPECT_EQ((*report.listening_ports)[1].address, "192.0.2.10");
}

TEST(VigilFormat, heartbeat_becomes_status) {
    const Report report = decode_vigil(full_message()).report;
    ASSERT_TRUE(report.status.has_value());
    const AgentStatus& status = *report.status;
    EXPECT_EQ(status.state, "active");
    EXPECT_EQ(status.config_version, 4u);
    EXPECT_EQ(status.packets_seen, 100u);
    EXPECT_EQ(status.packets_unparsed, 1u);
    EXPECT_EQ(status.packets_ignored, 2u);
    EXPECT_EQ(status.overflow_packets, 3u);
    EXPECT_EQ(status.messages_sent, 50u);
    EXPECT_EQ(status.send_failures, 5u);
    EXPECT_EQ(status.messages_dropped, 6u);
    EXPECT_EQ(status.backlog_messages, 7u);
    EXPECT_EQ(status.backlog_bytes, 800u);
    EXPECT_EQ(status.rejected_config_version, 5u);
    EXPECT_EQ(status.rejected_config_reason, wire::to_string(wire::ConfigError::BadInterval));
}

TEST(VigilFormat, absent_sections_stay_absent) {
    protocol::Message message;
    message.boot_id = 1;
    const Report report = decode_vigil(message).report;
    EXPECT_EQ(report.message_key, "1:0");
    EXPECT_EQ(report.device_time_ms, 0);  // unix_time 0: clock not set
    EXPECT_FALSE(report.has_network);
    EXPECT_FALSE(report.system.has_value());
    EXPECT_FALSE(report.listening_ports.has_value());
    EXPECT_FALSE(report.status.has_value());
    EXPECT_FALSE(report.interface_totals.has_value());
}

TEST(VigilFormat, every_truncation_is_refused_with_a_reason) {
    const std::vector<uint8_t> bytes = protocol::encode_message(full_message());
    for (size_t size = 1; size < bytes.size(); ++size) {
        const DecodeOutcome outcome = test::decode_on(
            test::kVigilTopic, std::vector<uint8_t>(bytes.begin(), bytes.begin() + size));
        EXPECT_FALSE(outcome.ok) << size;
        EXPECT_EQ(outcome.reason, reason::kTruncated) << size << ": " << outcome.detail;
    }
}

TEST(VigilFormat, malformed_bad_value_and_version) {
    EXPECT_EQ(test::decode_on(test::kVigilTopic, {0xFF}).reason, reason::kMalformed);
    EXPECT_EQ(test::decode_on(test::kVigilTopic, {0x80}).reason, reason::kMalformed);  // an array

    protocol::Message future = full_message();
    future.version = 2;
    const DecodeOutcome version = decode_vigil(future);
    EXPECT_EQ(version.reason, reason::kUnsupportedVersion) << version.detail;

    protocol::Message bad_index = full_message();
    bad_index.network->flows[0].local_index = 9;
    const DecodeOutcome index = decode_vigil(bad_index);
    EXPECT_EQ(index.reason, reason::kBadValue) << index.detail;
    EXPECT_NE(index.detail.find("byte"), std::string::npos);
}

}  // namespace
}  // namespace vigil::hub

// TelemetryWriter: a batch goes in whole or not at all, duplicates are skipped, and what goes in
// comes back out.
#include "store_fixture.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, WriteBatch_roundTripsNetworkWindow) {
    Report report = make_report("dev-1", "boot1:1", 1'000'000, 4);
    report.flows[1].protocol = Protocol::Icmp;
    report.flows[1].local_port = 8;
    report.flows[1].remote_port = 0;
    report.flows[2].bytes_in = (1ull << 62) + 5;
    report.flows[3].remote_opened = true;
    report.flows[3].handshake = "refused";
    report.flows[3].local_interface = "wlan0";
    // Flows are kept as JSON text: what needs escaping there, and counters past int64.
    report.flows[0].local_interface = "br\"0\\\x01\té";
    report.flows[0].handshake = "[\"],";
    report.flows[0].bytes_out = ~0ull;
    write_ok({report});

    const auto page = directory().flows(flow_query("dev-1"));
    ASSERT_TRUE(page.ok()) << page.error;
    ASSERT_EQ(page.value.flows.size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        const StoredFlow& stored = page.value.flows[i];
        const Flow& expected = report.flows[i];
        EXPECT_EQ(stored.time_ms, report.device_time_ms);
        EXPECT_EQ(stored.received_ms, report.received_ms);
        EXPECT_EQ(stored.window_duration_ms, 10000u);
        EXPECT_EQ(flow_fields(stored.flow), flow_fields(expected)) << "flow " << i;
    }
    EXPECT_FALSE(page.value.next);
}

// A window names each local end (address and interface) once; its flows point at them. Ends
// that come back after others, the same address on two interfaces, and a window whose every flow
// has an end of its own all read back as written.
TEST_F(SqliteStore, WriteBatch_roundTripsTheLocalEndsOfEachFlow) {
    Report mixed = make_report("dev-1", "boot1:1", 1'000'000, 6);
    const std::pair<const char*, const char*> ends[] = {
        {"198.51.100.2", "eth0"},  {"2001:db8::2", "eth0"}, {"198.51.100.2", "eth0"},
        {"198.51.100.2", "wlan0"}, {"2001:db8::2", "eth0"}, {"192.0.2.9", ""}};
    for (size_t i = 0; i < mixed.flows.size(); ++i) {
        mixed.flows[i].local = ends[i].first;
        mixed.flows[i].local_interface = ends[i].second;
    }
    Report own_ends = make_report("dev-2", "boot1:1", 1'000'000, 500);
    for (size_t i = 0; i < own_ends.flows.size(); ++i) {
        own_ends.flows[i].local = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    }
    write_ok({mixed, own_ends});

    for (const Report* report : {&mixed, &own_ends}) {
        FlowQuery query = flow_query(report->device_id);
        query.limit = 1000;
        const auto page = directory().flows(query);
        ASSERT_TRUE(page.ok()) << page.error;
        ASSERT_EQ(page.value.flows.size(), report->flows.size());
        for (size_t i = 0; i < report->flows.size(); ++i) {
            EXPECT_EQ(flow_fields(page.value.flows[i].flow), flow_fields(report->flows[i]))
                << report->device_id << " flow " << i;
        }
    }
}

// The store writes the handshakes the Vigil decoder names as codes and the flows view turns them
// back into words: every word the decoder can give, and any other text, reads back as written.
TEST_F(SqliteStore, WriteBatch_roundTripsEveryHandshake) {
    Report report = make_report("dev-1", "boot1:1", 1'000'000, 6);
    for (uint8_t code = 0; code < 4; ++code) {
        report.flows[code].handshake = protocol::to_string(static_cast<wire::Handshake>(code));
    }
    report.flows[4].handshake = "";
    report.flows[5].handshake = "syn-sent";
    write_ok({report});

    const auto page = directory().flows(flow_query("dev-1"));
    ASSERT_TRUE(page.ok()) << page.error;
    ASSERT_EQ(page.value.flows.size(), report.flows.size());
    for (size_t i = 0; i < report.flows.size(); ++i) {
        EXPECT_EQ(page.value.flows[i].flow.handshake, report.flows[i].handshake) << "flow " << i;
    }
}

TEST_F(SqliteStore, WriteBatch_roundTripsSystemPortsAndStatus) {
    Report report = make_report("dev-1", "boot1:1", 1'000'000, 0);
    report.system = SystemInfo{"0.1.0",
                               "Linux",
                               "6.1",
                               "lwIP",
                               "2.1.3",
                               "fw-7",
                               "rpi-4",
                               {"198.51.100.2", "2001:db8::2"},
                               {"02:00:00:00:00:02"}};
    report.listening_ports = std::vector<ListeningPort>{{Protocol::Tcp, 22, "", ""},
                                                        {Protocol::Udp, 53, "127.0.0.1", "eth0"}};
    AgentStatus status;
    status.state = "active";
    status.config_version = 3;
    status.packets_seen = 1'000'000'000'000;
    status.packets_unparsed = 2;
    status.packets_ignored = 3;
    status.overflow_packets = 4;
    status.messages_sent = 5;
    status.send_failures = 6;
    status.messages_dropped = 7;
    status.backlog_messages = 8;
    status.backlog_bytes = 9;
    status.rejected_config_version = 4;
    status.rejected_config_reason = "unknown collector";
    report.status = status;
    report.overflow.push_back({6, Protocol::Udp, 100, 50, 3, 2});
    write_ok({report});

    const auto detail = directory().device_detail(detail_query("dev-1"));
    ASSERT_TRUE(detail.ok()) << detail.error;
    ASSERT_TRUE(detail.value);
    const DeviceDetail& device = *detail.value;
    ASSERT_TRUE(device.system);
    EXPECT_EQ(device.system->os_name, "Linux");
    EXPECT_EQ(device.system->board, "rpi-4");
    EXPECT_EQ(device.system->addresses, report.system->addresses);
    EXPECT_EQ(device.system->macs, report.system->macs);
    ASSERT_TRUE(device.listening_ports);
    ASSERT_EQ(device.listening_ports->size(), 2u);
    EXPECT_EQ((*device.listening_ports)[1].protocol, Protocol::Udp);
    EXPECT_EQ((*device.listening_ports)[1].port, 53);
    EXPECT_EQ((*device.listening_ports)[1].address, "127.0.0.1");
    EXPECT_EQ((*device.listening_ports)[1].interface_name, "eth0");
    ASSERT_TRUE(device.status);
    EXPECT_EQ(device.status->packets_seen, status.packets_seen);
    EXPECT_EQ(device.status->backlog_bytes, 9u);
    EXPECT_EQ(device.status->rejected_config_version, 4u);
    EXPECT_EQ(device.status->rejected_config_reason, "unknown collector");
    EXPECT_EQ(device.status_received_ms, 1'000'000);
    EXPECT_EQ(device.device.state, "active");
    EXPECT_EQ(device.device.applied_config_version, 3u);
    EXPECT_EQ(device.device.agent_version, "0.1.0");
    EXPECT_EQ(device.traffic.overflow_bytes, 150u);
    EXPECT_EQ(device.traffic.bytes_in, 100u);
    EXPECT_EQ(device.traffic.packets_out, 2u);

    const auto stats = maintenance().stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.heartbeats, 1u);
    EXPECT_EQ(stats.value.port_snapshots, 1u);
    EXPECT_EQ(stats.value.overflow, 1u);
}

TEST_F(SqliteStore, WriteBatch_roundTripsEveryFormat) {
    Report legacy = make_report("legacy-1", "event-guid-1", 2'000, 1);
    legacy.format = Format::LegacyDefender;
    legacy.flows[0].packets_in.reset();
    legacy.flows[0].packets_out.reset();
    Report aws = make_report("aws-1", "1700000000", 3'000, 2);
    aws.format = Format::AwsDefender;
    aws.device_time_ms = 0;  // unknown: the window is placed at its receive time
    aws.interface_totals = InterfaceTotals{5000, 6000, 50, 60};
    write_ok({legacy, aws});

    const auto devices = directory().list_devices({});
    ASSERT_TRUE(devices.ok()) << devices.error;
    ASSERT_EQ(devices.value.devices.size(), 2u);
    EXPECT_EQ(devices.value.devices[0].id, "aws-1");
    EXPECT_EQ(devices.value.devices[0].format, Format::AwsDefender);
    EXPECT_EQ(devices.value.devices[1].format, Format::LegacyDefender);
    const auto aws_flows = directory().flows(flow_query("aws-1"));
    ASSERT_EQ(aws_flows.value.flows.size(), 2u);
    EXPECT_EQ(aws_flows.value.flows[0].time_ms, 3'000);
    const auto legacy_flows = directory().flows(flow_query("legacy-1"));
    ASSERT_EQ(legacy_flows.value.flows.size(), 1u);
    EXPECT_FALSE(legacy_flows.value.flows[0].flow.packets_in);
    const auto aws_detail = directory().device_detail(detail_query("aws-1"));
    EXPECT_EQ(aws_detail.value->traffic.interfaces.bytes_out, 6000u);
    EXPECT_EQ(aws_detail.value->traffic.interfaces.packets_in, 50u);
    EXPECT_EQ(maintenance().stats().value.interface_totals, 1u);
}

TEST_F(SqliteStore, WriteBatch_skipsDuplicatesWithinOneBatch) {
    const Report report = make_report("dev-1", "boot1:1", 1'000);
    const WriteResult result = writer().write_batch({report, report, report});
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.stored, 1u);
    EXPECT_EQ(result.duplicates, 2u);
    EXPECT_EQ(directory().flows(flow_query("dev-1")).value.flows.size(), 3u);
}

TEST_F(SqliteStore, WriteBatch_skipsDuplicatesAcrossBatchesAndReopens) {
    write_ok({make_report("dev-1", "boot1:1", 1'000), make_report("dev-1", "boot1:2", 2'000)});
    store_ = open();
    const WriteResult again = writer().write_batch({make_report("dev-1", "boot1:2", 5'000),
                                                    make_report("dev-1", "boot1:3", 6'000),
                                                    make_report("dev-2", "boot1:2", 6'000)});
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.stored, 2u);  // the same key on another device is another message
    EXPECT_EQ(again.duplicates, 1u);
    const auto stats = maintenance().stats();
    EXPECT_EQ(stats.value.messages, 4u);
    EXPECT_EQ(stats.value.flows, 12u);
    const auto device = directory().device_detail(detail_query("dev-1"));
    EXPECT_EQ(device.value->device.messages, 3u);
    EXPECT_EQ(device.value->device.last_seen_ms, 6'000);
    EXPECT_EQ(device.value->device.first_seen_ms, 1'000);
}

// A report the schema refuses (a device id must not be empty) in the middle of a batch: the
// reports before it, already inserted in the transaction, must go too.
TEST_F(SqliteStore, WriteBatch_failureMidBatchWritesNothing) {
    write_ok({make_report("dev-1", "boot1:1", 1'000)});
    const WriteResult result = writer().write_batch(
        {make_report("dev-1", "boot1:2", 2'000), make_report("dev-new", "boot1:1", 2'000),
         make_report("", "x", 2'000), make_report("dev-1", "boot1:3", 2'000)});
    EXPECT_FALSE(result.ok);
    EXPECT_EQ(result.stored, 0u);
    EXPECT_NE(result.error.find("report 2"), std::string::npos) << result.error;
    EXPECT_NE(result.error.find("CHECK constraint failed"), std::string::npos) << result.error;

    const auto stats = maintenance().stats();
    EXPECT_EQ(stats.value.devices, 1u);
    EXPECT_EQ(stats.value.messages, 1u);
    EXPECT_EQ(stats.value.flows, 3u);
    EXPECT_EQ(directory().device_detail(detail_query("dev-1")).value->device.messages, 1u);
    // The failed reports were not remembered as seen: retried alone, they are stored.
    const WriteResult retry = writer().write_batch({make_report("dev-1", "boot1:2", 2'000)});
    EXPECT_EQ(retry.stored, 1u);
}

}  // namespace
}  // namespace vigil::hub::testing

// StoreMaintenance: retention in short transactions, and the row counts it keeps.
#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

TEST_F(SqliteStore, ApplyRetention_deletesOldTelemetryInChunks) {
    SqliteOptions options;
    options.retention_ms = 100'000;
    options.retention_chunk_messages = 2;
    store_ = open(options);
    std::vector<Report> reports;
    for (int i = 0; i < 20; ++i) {
        Report report = make_report("dev-1", "k" + std::to_string(i), 10'000 * (i + 1), 5);
        report.status = AgentStatus{};
        report.listening_ports = std::vector<ListeningPort>{{Protocol::Tcp, 22, "", ""}};
        report.overflow.push_back({4, Protocol::Tcp, 1, 1, 1, 1});
        report.interface_totals = InterfaceTotals{1, 1, 1, 1};
        reports.push_back(report);
    }
    write_ok(reports);

    // Cut-off 100'000: received 10'000 .. 90'000 go (9 reports), 100'000 .. 200'000 stay.
    const RetentionResult result = maintenance().apply_retention(200'000);
    ASSERT_TRUE(result.error.empty()) << result.error;
    EXPECT_EQ(result.flows, 45u);
    EXPECT_EQ(result.overflow, 9u);
    EXPECT_EQ(result.heartbeats, 9u);
    EXPECT_EQ(result.interface_totals, 9u);
    EXPECT_EQ(result.port_snapshots, 9u);
    EXPECT_EQ(result.messages, 9u);
    EXPECT_EQ(result.chunks, 5u);  // 9 messages, 2 per transaction
    const auto stats = maintenance().stats();
    EXPECT_EQ(stats.value.flows, 55u);
    EXPECT_EQ(stats.value.messages, 11u);
    const auto flows = directory().flows(flow_query("dev-1"));
    ASSERT_EQ(flows.value.flows.size(), 55u);
    EXPECT_EQ(flows.value.flows.front().received_ms, 100'000);
    // The latest ports and status stay on the device past retention.
    const auto detail = directory().device_detail(detail_query("dev-1"));
    EXPECT_TRUE(detail.value->listening_ports);
    EXPECT_TRUE(detail.value->status);
    EXPECT_EQ(maintenance().apply_retention(200'000).flows, 0u);
}

}  // namespace
}  // namespace vigil::hub::testing

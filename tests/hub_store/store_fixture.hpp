// What the store tests share: a fresh directory per test, and reports as decoders produce them.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "temp_dir.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::testing {

using vigil::test::TempDir;

inline Flow make_flow(int index) {
    Flow flow;
    flow.local = "198.51.100.2";
    flow.remote = "203.0.113." + std::to_string(index % 250);
    flow.protocol = index % 3 == 0 ? Protocol::Udp : Protocol::Tcp;
    flow.local_port = static_cast<uint16_t>(40000 + index);
    flow.remote_port = 443;
    flow.bytes_in = 1000 + static_cast<uint64_t>(index);
    flow.bytes_out = 200 + static_cast<uint64_t>(index);
    if (index % 2 == 0) {
        flow.packets_in = 10;
        flow.packets_out = 4;
        flow.remote_opened = false;
        flow.handshake = "completed";
    }
    return flow;
}

/// A Vigil network window of `flows` flows.
inline Report make_report(const std::string& device, const std::string& key, int64_t received_ms,
                          int flows = 3) {
    Report report;
    report.format = Format::Vigil;
    report.device_id = device;
    report.message_key = key;
    report.agent_version = "0.1.0";
    report.device_time_ms = received_ms - 500;
    report.received_ms = received_ms;
    report.window_duration_ms = 10000;
    report.has_network = true;
    for (int i = 0; i < flows; ++i) {
        report.flows.push_back(make_flow(i));
    }
    report.payload_bytes = static_cast<uint32_t>(40 + 18 * flows);
    return report;
}

/// A query (FlowQuery, DetailQuery) of one device's telemetry in [from_ms, to_ms).
template <typename Query>
Query window_query(const std::string& device, int64_t from_ms, int64_t to_ms) {
    Query query;
    query.device_id = device;
    query.from_ms = from_ms;
    query.to_ms = to_ms;
    return query;
}

inline FlowQuery flow_query(const std::string& device, int64_t from_ms = 0,
                            int64_t to_ms = INT64_MAX, uint32_t limit = 1000) {
    auto query = window_query<FlowQuery>(device, from_ms, to_ms);
    query.limit = limit;
    return query;
}

inline DetailQuery detail_query(const std::string& device, int64_t from_ms = 0,
                                int64_t to_ms = INT64_MAX, uint32_t top_remotes = 10) {
    auto query = window_query<DetailQuery>(device, from_ms, to_ms);
    query.top_remotes = top_remotes;
    return query;
}

/// Every field of a flow, comparable as one value (a mismatch prints both).
inline auto flow_fields(const Flow& flow) {
    return std::tie(flow.local, flow.remote, flow.protocol, flow.local_port, flow.remote_port,
                    flow.bytes_in, flow.bytes_out, flow.packets_in, flow.packets_out,
                    flow.remote_opened, flow.handshake, flow.local_interface);
}

class StoreTest : public ::testing::Test {
  protected:
    void SetUp() override { store_ = open(); }

    std::unique_ptr<Store> open(SqliteOptions options = {}) {
        options.path = path_;
        std::string error;
        auto store = open_sqlite_store(options, error);
        EXPECT_NE(store, nullptr) << error;
        return store;
    }

    void write_ok(const std::vector<Report>& reports) {
        const WriteResult result = writer().write_batch(reports);
        ASSERT_TRUE(result.ok) << result.error;
    }

    // The store by role: each test goes through the interface its callers use.
    TelemetryWriter& writer() { return *store_; }
    DeviceDirectory& directory() { return *store_; }
    AlertStore& alert_store() { return *store_; }
    RecommendationStore& recommendation_store() { return *store_; }
    ConfigStore& config_store() { return *store_; }
    DetectionStateStore& detection_state_store() { return *store_; }
    StoreMaintenance& maintenance() { return *store_; }

    TempDir dir_;
    std::string path_ = dir_.file("hub.db");
    std::unique_ptr<Store> store_;
};

}  // namespace vigil::hub::testing

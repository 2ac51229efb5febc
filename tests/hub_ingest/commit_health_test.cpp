// A store that cannot commit (here a real SQLite store capped at a few pages, as a full disk
// behaves) is reported while it fails, and no longer once a commit succeeds: vigil-hub's
// /healthz lists IngestPipeline::commit_failure() as "store: commits failing: <why>".
#include <gtest/gtest.h>

#include "support.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::test {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

class CommitHealth : public BrokerTest {
  protected:
    void SetUp() override {
        BrokerTest::SetUp();
        if (!IsSkipped() && !HasFatalFailure()) {
            start_broker();
        }
    }
};

// A report old enough for retention to delete, with flows enough to take pages.
Report old_report(int i, int64_t now_ms, int flows) {
    Report r;
    r.format = Format::Vigil;
    r.device_id = "filler";
    r.message_key = "old-" + std::to_string(i);
    r.agent_version = "0.1.0";
    r.device_time_ms = r.received_ms = now_ms - 30 * kDayMs;
    r.window_duration_ms = 10000;
    r.has_network = true;
    for (int f = 0; f < flows; ++f) {
        Flow flow;
        flow.local = "198.51.100.2";
        flow.remote = "203.0.113." + std::to_string(f + 1);
        flow.local_port = static_cast<uint16_t>(40000 + i % 1000);
        flow.remote_port = static_cast<uint16_t>(1000 + f);
        flow.bytes_in = 1000;
        r.flows.push_back(flow);
    }
    return r;
}

TEST_F(CommitHealth, CommitFailure_isReportedWhileCommitsFailAndClearsOnceOneSucceeds) {
    Enrolled device = broker_->add_device("dev-0");
    ASSERT_TRUE(device.ok()) << device.error;
    SqliteOptions options;
    options.path = dir_ + "/capped.db";
    options.page_size_bytes = 4096;
    options.max_pages = 64;
    std::string error;
    std::unique_ptr<Store> store = open_sqlite_store(options, error);
    ASSERT_NE(store, nullptr) << error;
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    // Fill the store to its cap with telemetry that retention may delete later, with ever
    // smaller reports until not even a report without flows fits.
    int written = 0;
    for (const int flows : {40, 8, 1, 0}) {
        WriteResult filled;
        do {
            filled = store->write_batch({old_report(written++, now_ms, flows)});
        } while (filled.ok && written < 2000);
        ASSERT_FALSE(filled.ok) << "the capped store never filled";
    }

    IngestSettings settings = ingest_settings(broker_->ingest_endpoint());
    settings.retry_min_ms = 20;
    settings.retry_max_ms = 100;
    settings.log = [](const std::string&) {};
    IngestPipeline pipeline(settings, trivial_decode, *store);
    pipeline.start();
    ASSERT_TRUE(wait_for([&] { return pipeline.subscribed(); }, 5000));
    EXPECT_EQ(pipeline.commit_failure(), "");
    Publisher publisher(broker_->ingest_endpoint().port, device.credentials);
    ASSERT_TRUE(publisher.wait_connected());
    publisher.publish(events_topic("dev-0"), "dev-0-1");
    ASSERT_TRUE(wait_for([&] { return !pipeline.commit_failure().empty(); }, 5000));
    EXPECT_NE(pipeline.commit_failure().find("full"), std::string::npos)
        << pipeline.commit_failure();
    EXPECT_GE(pipeline.metrics().store_failures, 1u);

    // Room again: the held batch's next retry commits, and the failure is no longer reported.
    const RetentionResult retention = store->apply_retention(now_ms);
    ASSERT_EQ(retention.error, "");
    ASSERT_TRUE(wait_for([&] { return pipeline.metrics().batches >= 1; }, 5000));
    EXPECT_EQ(pipeline.commit_failure(), "");
    EXPECT_TRUE(publisher.wait_acked(5000));
    pipeline.stop();
}

}  // namespace
}  // namespace vigil::hub::test

// What the SQLite implementation adds: readers beside the writer (WAL) and its own checkpoints.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

using SqliteStore = StoreTest;

// WAL: a reader sees only committed batches, whole, while the writer keeps committing.
TEST_F(SqliteStore, ConcurrentReaders_seeWholeBatchesDuringWrites) {
    constexpr int kBatches = 150;
    constexpr int kReportsPerBatch = 10;
    std::atomic<bool> writing{true};
    std::atomic<int> reads{0};
    std::atomic<int> torn{0};
    std::atomic<int> failures{0};
    auto read_loop = [&] {
        while (writing.load()) {
            const auto stats = maintenance().stats();
            const auto devices = directory().list_devices({});
            if (!stats.ok() || !devices.ok()) {
                ++failures;
                continue;
            }
            if (stats.value.messages % kReportsPerBatch != 0 ||
                stats.value.flows != stats.value.messages * 3) {
                ++torn;
            }
            ++reads;
        }
    };
    std::thread reader_a(read_loop);
    std::thread reader_b(read_loop);
    for (int batch = 0; batch < kBatches; ++batch) {
        std::vector<Report> reports;
        for (int i = 0; i < kReportsPerBatch; ++i) {
            reports.push_back(make_report("dev-" + std::to_string(i), "k" + std::to_string(batch),
                                          1'000 + batch));
        }
        write_ok(reports);
    }
    writing = false;
    reader_a.join();
    reader_b.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(maintenance().stats().value.messages,
              static_cast<uint64_t>(kBatches * kReportsPerBatch));
}

uintmax_t file_bytes(const std::string& path) {
    std::error_code ignored;
    const uintmax_t size = std::filesystem::file_size(path, ignored);
    return size == static_cast<uintmax_t>(-1) ? 0 : size;
}

// The writer's commits leave checkpoints to the store's own thread: the WAL is copied into the
// database file while the store stays open, and what is there survives a reopen.
TEST_F(StoreTest, Checkpoints_copyTheWalIntoTheDatabaseWhileOpen) {
    store_.reset();
    SqliteOptions options;
    options.checkpoint_frames = 20;
    store_ = open(options);
    const uintmax_t empty = file_bytes(path_);
    for (int batch = 0; batch < 40; ++batch) {
        std::vector<Report> reports;
        for (int i = 0; i < 50; ++i) {
            reports.push_back(make_report("dev-" + std::to_string(i),
                                          std::to_string(batch) + ":" + std::to_string(i),
                                          1'700'000'000'000 + batch, 20));
        }
        write_ok(reports);
    }
    bool copied = false;
    for (int i = 0; i < 500 && !copied; ++i) {
        copied = file_bytes(path_) > empty + 512 * 1024;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(copied) << "database file " << file_bytes(path_) << " bytes, WAL "
                        << file_bytes(path_ + "-wal");
    store_.reset();
    store_ = open();
    const auto stats = maintenance().stats();
    ASSERT_TRUE(stats.ok()) << stats.error;
    EXPECT_EQ(stats.value.messages, 2000u);
    EXPECT_EQ(stats.value.flows, 40000u);
}

}  // namespace
}  // namespace vigil::hub::testing

// kill -9 of a writer at a random moment: every batch it reported committed is there after
// reopening, and no batch is there in part.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

constexpr int kReportsPerBatch = 20;
constexpr int kFlowsPerReport = 20;

// The child: writes batches forever, telling the parent each one that committed.
[[noreturn]] void write_until_killed(const std::string& path, int round, int report_fd) {
    SqliteOptions options;
    options.path = path;
    std::string error;
    auto store = open_sqlite_store(options, error);
    if (!store) {
        _exit(1);
    }
    for (int32_t batch = 0;; ++batch) {
        std::vector<Report> reports;
        for (int i = 0; i < kReportsPerBatch; ++i) {
            reports.push_back(make_report(
                "dev-" + std::to_string(i),
                "r" + std::to_string(round) + "b" + std::to_string(batch) + ":" + std::to_string(i),
                1'000 + batch, kFlowsPerReport));
        }
        if (!store->write_batch(reports).ok) {
            _exit(2);
        }
        if (write(report_fd, &batch, sizeof batch) != sizeof batch) {
            _exit(3);
        }
    }
}

// Reads whole batch numbers from the pipe until it is empty (non-blocking) or closed.
void drain(int fd, std::set<int32_t>& reported) {
    int32_t batch = 0;
    while (read(fd, &batch, sizeof batch) == sizeof batch) {
        reported.insert(batch);
    }
}

// Messages per batch of a round, read with a plain connection.
std::map<int32_t, int> stored_batches(const std::string& path, int round, std::string& check) {
    std::map<int32_t, int> batches;
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* statement = nullptr;
    const std::string prefix = "r" + std::to_string(round) + "b";
    sqlite3_prepare_v2(db,
                       "SELECT CAST(substr(message_key, ?1, instr(message_key, ':') - ?1) AS "
                       "INTEGER), count(*) FROM messages WHERE message_key LIKE ?2 GROUP BY 1",
                       -1, &statement, nullptr);
    sqlite3_bind_int(statement, 1, static_cast<int>(prefix.size()) + 1);
    sqlite3_bind_text(statement, 2, (prefix + "%").c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(statement) == SQLITE_ROW) {
        batches[static_cast<int32_t>(sqlite3_column_int(statement, 0))] =
            sqlite3_column_int(statement, 1);
    }
    sqlite3_finalize(statement);
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr);
    if (sqlite3_step(statement) == SQLITE_ROW) {
        check = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return batches;
}

TEST(StoreCrash, KillNine_keepsEveryReportedBatchAndNoHalfBatch) {
    TempDir dir;
    const std::string path = dir.file("hub.db");
    std::mt19937 random(std::random_device{}());
    for (int round = 0; round < 4; ++round) {
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            close(fds[0]);
            write_until_killed(path, round, fds[1]);
        }
        close(fds[1]);
        std::set<int32_t> reported;
        int32_t batch = 0;
        // At least one commit first, then kill at a random moment within the next 300 ms.
        ASSERT_EQ(read(fds[0], &batch, sizeof batch), static_cast<ssize_t>(sizeof batch));
        reported.insert(batch);
        const auto kill_at =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(random() % 300);
        while (std::chrono::steady_clock::now() < kill_at) {
            usleep(1000);
        }
        ASSERT_EQ(kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
        drain(fds[0], reported);  // reports written before the kill are still in the pipe
        close(fds[0]);

        std::string check;
        const auto stored = stored_batches(path, round, check);
        EXPECT_EQ(check, "ok");
        for (int32_t committed : reported) {
            EXPECT_EQ(stored.count(committed), 1u) << "round " << round << " lost " << committed;
        }
        for (const auto& [number, messages] : stored) {
            EXPECT_EQ(messages, kReportsPerBatch) << "round " << round << " batch " << number;
        }
        // At most the one batch committed but not yet reported when the kill came.
        EXPECT_LE(stored.size(), reported.size() + 1);

        SqliteOptions options;
        options.path = path;
        std::string error;
        auto store = open_sqlite_store(options, error);
        ASSERT_TRUE(store) << error;
        const auto stats = store->stats();
        ASSERT_TRUE(stats.ok()) << stats.error;
        EXPECT_EQ(stats.value.flows, stats.value.messages * kFlowsPerReport);
        std::printf("round %d: killed after %zu reported batches, %zu stored\n", round,
                    reported.size(), stored.size());
    }
}

}  // namespace
}  // namespace vigil::hub::testing

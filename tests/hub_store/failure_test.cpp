// The store on bad ground: a full disk, a read-only filesystem, a damaged file. Each must fail
// with an error that says so, and lose nothing already committed.
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

constexpr int kReportsPerBatch = 10;
constexpr int kNoNamespace = 77;

std::vector<Report> batch_of(int batch, int flows = 20) {
    std::vector<Report> reports;
    for (int i = 0; i < kReportsPerBatch; ++i) {
        reports.push_back(make_report("dev-" + std::to_string(i),
                                      "b" + std::to_string(batch) + ":" + std::to_string(i),
                                      1'000 + batch, flows));
    }
    return reports;
}

// Writes batches until one fails; returns how many committed, with the failure's error.
int fill(Store& store, std::string& error) {
    for (int batch = 0; batch < 100'000; ++batch) {
        const WriteResult result = store.write_batch(batch_of(batch));
        if (!result.ok) {
            error = result.error;
            return batch;
        }
    }
    return -1;
}

// Everything the first `batches` batches wrote is there, in full.
bool holds_batches(Store& store, int batches, std::string& why) {
    const auto stats = store.stats();
    const auto expected_messages = static_cast<uint64_t>(batches * kReportsPerBatch);
    if (!stats.ok() || stats.value.messages != expected_messages ||
        stats.value.flows != expected_messages * 20) {
        why = stats.error + " messages " + std::to_string(stats.value.messages) + ", flows " +
              std::to_string(stats.value.flows);
        return false;
    }
    const auto flows = store.flows(flow_query("dev-0", 0, INT64_MAX, 1'000'000));
    if (flows.value.flows.size() != static_cast<size_t>(batches * 20)) {
        why = "dev-0 has " + std::to_string(flows.value.flows.size()) + " flows";
        return false;
    }
    return true;
}

TEST_F(StoreTest, DiskFull_pageCapFailsTheBatchAndKeepsEarlierOnes) {
    SqliteOptions options;
    options.page_size_bytes = 4096;
    options.max_pages = 200;  // 800 KiB
    store_ = open(options);
    std::string error;
    const int committed = fill(*store_, error);
    ASSERT_GT(committed, 0);
    EXPECT_NE(error.find("full"), std::string::npos) << error;

    std::string why;
    EXPECT_TRUE(holds_batches(*store_, committed, why)) << why;
    store_ = open();  // without the cap, the same file takes more
    EXPECT_TRUE(holds_batches(*store_, committed, why)) << why;
    EXPECT_TRUE(writer().write_batch(batch_of(committed)).ok);
}

// Runs body in a child process with its own mount namespace, where a tmpfs with mount_options is
// mounted over dir; returns the child's exit status. The host's mounts are never touched.
int on_tmpfs(const std::string& dir, const char* mount_options, const std::function<int()>& body) {
    const pid_t child = fork();
    if (child == 0) {
        if (unshare(CLONE_NEWNS) != 0 ||
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("tmpfs", dir.c_str(), "tmpfs", 0, mount_options) != 0) {
            _exit(kNoNamespace);
        }
        _exit(body());
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::unique_ptr<Store> open_at(const std::string& path, std::string& error) {
    SqliteOptions options;
    options.path = path;
    return open_sqlite_store(options, error);
}

TEST(StoreFailure, DiskFull_fullFilesystemFailsTheBatchAndKeepsEarlierOnes) {
    TempDir dir;
    const int status = on_tmpfs(dir.path(), "size=2m", [&] {
        std::string error;
        auto store = open_at(dir.file("hub.db"), error);
        if (!store) {
            std::fprintf(stderr, "open: %s\n", error.c_str());
            return 1;
        }
        const int committed = fill(*store, error);
        if (committed <= 0 || error.find("full") == std::string::npos) {
            std::fprintf(stderr, "committed %d, error: %s\n", committed, error.c_str());
            return 2;
        }
        std::string why;
        if (!holds_batches(*store, committed, why)) {
            std::fprintf(stderr, "after the failure: %s\n", why.c_str());
            return 3;
        }
        store.reset();
        store = open_at(dir.file("hub.db"), error);
        if (!store || !holds_batches(*store, committed, why)) {
            std::fprintf(stderr, "reopened: %s %s\n", error.c_str(), why.c_str());
            return 4;
        }
        return 0;
    });
    if (status == kNoNamespace) {
        GTEST_SKIP() << "no mount namespace here";
    }
    EXPECT_EQ(status, 0);
}

TEST(StoreFailure, ReadOnlyFilesystem_openFailsClearlyAndKeepsTheData) {
    TempDir dir;
    const int status = on_tmpfs(dir.path(), "size=8m", [&] {
        std::string error;
        auto store = open_at(dir.file("hub.db"), error);
        if (!store || !store->write_batch(batch_of(0)).ok) {
            return 1;
        }
        store.reset();
        if (mount(nullptr, dir.path().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
            return kNoNamespace;
        }
        store = open_at(dir.file("hub.db"), error);
        if (store || error.find("not writable: Read-only file system") == std::string::npos) {
            std::fprintf(stderr, "read-only open: %s\n", error.c_str());
            return 2;
        }
        store = open_at(dir.file("new.db"), error);
        if (store || error.find("new.db") == std::string::npos ||
            error.find("not writable") == std::string::npos) {
            std::fprintf(stderr, "read-only create: %s\n", error.c_str());
            return 3;
        }
        mount(nullptr, dir.path().c_str(), nullptr, MS_REMOUNT, nullptr);
        store = open_at(dir.file("hub.db"), error);
        std::string why;
        return store && holds_batches(*store, 1, why) ? 0 : 4;
    });
    if (status == kNoNamespace) {
        GTEST_SKIP() << "no mount namespace here";
    }
    EXPECT_EQ(status, 0);
}

// Damaged pages behind an intact header: every call reports the damage, none crashes.
TEST_F(StoreTest, CorruptPages_callsFailWithAnError) {
    for (int batch = 0; batch < 5; ++batch) {
        write_ok(batch_of(batch));
    }
    store_.reset();  // the last connection checkpoints the log into the file
    {
        std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(4096);
        for (int i = 0; i < 64 * 4096; ++i) {
            file.put(static_cast<char>((i * 131) & 0xff));
        }
    }
    std::string error;
    SqliteOptions options;
    options.path = path_;
    auto store = open_sqlite_store(options, error);
    if (!store) {
        EXPECT_NE(error.find("malformed"), std::string::npos) << error;
        return;
    }
    const WriteResult write = store->write_batch(batch_of(9));
    const auto flows = store->flows(flow_query("dev-0"));
    const auto devices = store->list_devices({});
    const auto detail = store->device_detail(detail_query("dev-0"));
    EXPECT_FALSE(write.ok && flows.ok() && devices.ok() && detail.ok());
    for (const std::string* message : {&write.error, &flows.error, &devices.error, &detail.error}) {
        if (!message->empty()) {
            EXPECT_NE(message->find("malformed"), std::string::npos) << *message;
        }
    }
}

}  // namespace
}  // namespace vigil::hub::testing

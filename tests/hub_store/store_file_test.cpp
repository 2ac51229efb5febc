// The store's file at start: a fresh store only where there is no file, and an existing one
// refused, with the way back, when it is empty or fails SQLite's quick check.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "store_fixture.hpp"

namespace vigil::hub::testing {
namespace {

namespace fs = std::filesystem;

std::vector<Report> batch_of(int batch) {
    std::vector<Report> reports;
    for (int i = 0; i < 50; ++i) {
        reports.push_back(make_report("dev-" + std::to_string(i % 7),
                                      "b" + std::to_string(batch) + ":" + std::to_string(i),
                                      1'000 + batch, 20));
    }
    return reports;
}

std::unique_ptr<Store> try_open(const std::string& path, std::string& error,
                                std::vector<std::string>* said = nullptr) {
    SqliteOptions options;
    options.path = path;
    if (said != nullptr) {
        options.log = [said](const std::string& line) { said->push_back(line); };
    }
    return open_sqlite_store(options, error);
}

TEST(StoreFile, EmptyFile_isRefusedAndLeftAsItWas) {
    TempDir dir;
    const std::string path = dir.file("vigil.db");
    std::ofstream(path).close();
    std::string error;
    EXPECT_EQ(try_open(path, error), nullptr);
    EXPECT_NE(error.find("is empty"), std::string::npos) << error;
    EXPECT_NE(error.find("move " + path), std::string::npos) << error;  // how to start afresh
    EXPECT_EQ(fs::file_size(path), 0u);
    EXPECT_FALSE(fs::exists(path + "-wal"));
}

TEST(StoreFile, LogWithoutItsStore_isRefused) {
    TempDir dir;
    const std::string path = dir.file("vigil.db");
    std::ofstream(path + "-wal") << "frames of a store that was moved away";
    std::string error;
    EXPECT_EQ(try_open(path, error), nullptr);
    EXPECT_NE(error.find("without its store"), std::string::npos) << error;
    EXPECT_FALSE(fs::exists(path));
}

TEST(StoreFile, MissingFile_isCreatedWholeInOneStep) {
    TempDir dir;
    const std::string path = dir.file("vigil.db");
    // What a hub killed while creating the store leaves: replaced, never taken for the store.
    std::ofstream(path + ".creating") << "half made";
    std::string error;
    std::vector<std::string> said;
    auto store = try_open(path, error, &said);
    ASSERT_NE(store, nullptr) << error;
    EXPECT_TRUE(said.empty());  // nothing to check in a store just made
    EXPECT_TRUE(store->write_batch(batch_of(0)).ok);
    EXPECT_FALSE(fs::exists(path + ".creating"));
    store.reset();
    said.clear();
    store = try_open(path, error, &said);
    ASSERT_NE(store, nullptr) << error;
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0].rfind("quick check passed in ", 0), 0u) << said[0];
    EXPECT_EQ(store->stats().value.messages, 50u);
}

TEST(StoreFile, DamagedPages_areRefusedWithTheReasonAndTheWayBack) {
    TempDir dir;
    const std::string path = dir.file("vigil.db");
    std::string error;
    {
        auto store = try_open(path, error);
        ASSERT_NE(store, nullptr) << error;
        for (int batch = 0; batch < 20; ++batch) {
            ASSERT_TRUE(store->write_batch(batch_of(batch)).ok);
        }
    }  // closed: the log is checkpointed into the file
    const auto size = fs::file_size(path);
    ASSERT_GT(size, 16u * 16384);
    {
        // Pages in the middle of the file, behind an intact header and schema.
        std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(size / 2 / 16384 * 16384));
        for (int i = 0; i < 3 * 16384; ++i) {
            file.put(static_cast<char>((i * 131 + 7) & 0xff));
        }
    }
    const auto damaged_size = fs::file_size(path);
    EXPECT_EQ(try_open(path, error), nullptr);
    EXPECT_NE(error.find("is damaged (PRAGMA quick_check: "), std::string::npos) << error;
    EXPECT_NE(error.find(".recover"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(fs::file_size(path), damaged_size);  // left as it was, for recovery
}

TEST(StoreFile, QuickCheck_stopsAtItsTimeLimitAndSaysSo) {
    TempDir dir;
    const std::string path = dir.file("vigil.db");
    std::string error;
    {
        auto store = try_open(path, error);
        ASSERT_NE(store, nullptr) << error;
        for (int batch = 0; batch < 40; ++batch) {
            ASSERT_TRUE(store->write_batch(batch_of(batch)).ok);
        }
    }
    SqliteOptions options;
    options.path = path;
    options.quick_check_ms = 1;
    std::vector<std::string> said;
    options.log = [&](const std::string& line) { said.push_back(line); };
    auto store = open_sqlite_store(options, error);
    ASSERT_NE(store, nullptr) << error;
    ASSERT_EQ(said.size(), 1u);
    EXPECT_EQ(said[0].find("quick check stopped at its limit of 1 ms"), 0u) << said[0];
}

}  // namespace
}  // namespace vigil::hub::testing

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "vigil/hub/detect/policy_file.hpp"
#include "vigil/hub/detect/policy_json.hpp"

namespace vigil::hub::detect {
namespace {

namespace fs = std::filesystem;

class PolicyFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
        directory_ = fs::path(::testing::TempDir()) / (std::string("policy_file_") + test->name() +
                                                       "_" + std::to_string(::getpid()));
        fs::remove_all(directory_);
        fs::create_directories(directory_);
        path_ = directory_ / "policy.toml";
    }
    void TearDown() override { fs::remove_all(directory_); }

    /// Writes the file and moves its modification time on, so that a rewrite within the
    /// file system's timestamp granularity is still a change.
    void write(const std::string& text) {
        std::ofstream(path_, std::ios::trunc) << text;
        generation_ += std::chrono::seconds(1);
        fs::last_write_time(path_, generation_);
    }

    fs::path directory_, path_;
    fs::file_time_type generation_ = fs::file_time_type::clock::now();
};

uint64_t flood_of(const PolicyFile& file) {
    return file.snapshot()->resolve("d", "").flood.packets_per_second;
}

TEST_F(PolicyFileTest, MissingFileIsTheDefaults) {
    PolicyFile file(path_);
    EXPECT_EQ(file.snapshot()->source, "");
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Unchanged);
    EXPECT_EQ(file.snapshot()->source, "");
    EXPECT_EQ(flood_of(file), 1000u);
    EXPECT_TRUE(file.last_errors()->empty());
}

TEST_F(PolicyFileTest, BrokenFileKeepsThePolicyInForceThenAFixedOneIsTaken) {
    PolicyFile file(path_);
    write("[defaults.flood]\npackets_per_second = 2000\n");
    ASSERT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    EXPECT_EQ(flood_of(file), 2000u);
    EXPECT_EQ(file.snapshot()->source, path_.string());
    const auto held = file.snapshot();

    // Half-written by an editor: refused whole, even the part that reads.
    write(
        "[defaults.flood]\npackets_per_second = 3000\n[groups.cameras.allow]\n"
        "outbound = [\"10.0.0.1/8\"]\ninbound = [\"10.0.0.0/8\"\n");
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Refused);
    EXPECT_EQ(flood_of(file), 2000u);
    ASSERT_EQ(file.last_errors()->size(), 1u);
    EXPECT_EQ(file.last_errors()->at(0).line, 5);
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Unchanged) << "refused once, not again";

    write(
        "[defaults.flood]\npackets_per_second = 3000\n[groups.cameras.allow]\n"
        "outbound = [\"10.0.0.1/8\"]\ninbound = [\"10.0.0.0/8\"]\n");
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Refused);
    ASSERT_EQ(file.last_errors()->size(), 1u);
    EXPECT_EQ(file.last_errors()->at(0).line, 4);
    EXPECT_EQ(flood_of(file), 2000u);

    write(
        "[defaults.flood]\npackets_per_second = 3000\n[groups.cameras.allow]\n"
        "outbound = [\"10.0.0.0/8\"]\ninbound = [\"10.0.0.0/8\"]\n");
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    EXPECT_EQ(flood_of(file), 3000u);
    EXPECT_TRUE(file.last_errors()->empty());
    EXPECT_EQ(held->resolve("d", "").flood.packets_per_second, 2000u)
        << "a reader keeps the snapshot it holds";

    fs::remove(path_);
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    EXPECT_EQ(flood_of(file), 1000u) << "no file: the built-in defaults";
}

TEST_F(PolicyFileTest, FirstReadRefusedLeavesTheDefaults) {
    write("[defaults.flood]\npackets_per_second = \"lots\"\n");
    PolicyFile file(path_);
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Refused);
    EXPECT_EQ(flood_of(file), 1000u);
    EXPECT_EQ(file.last_errors()->size(), 1u);
}

TEST_F(PolicyFileTest, UnreadableAndOversizedFilesAreRefused) {
    fs::create_directory(path_);  // a directory where the file should be
    PolicyFile file(path_);
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Refused);
    ASSERT_EQ(file.last_errors()->size(), 1u);
    EXPECT_EQ(file.last_errors()->at(0).message, "is not a regular file");
    fs::remove(path_);

    std::ofstream(path_) << std::string(kMaxPolicyBytes + 1, '#');
    EXPECT_EQ(file.reload_if_changed(), PolicyReload::Refused);
    ASSERT_EQ(file.last_errors()->size(), 1u);
    EXPECT_NE(file.last_errors()->at(0).message.find("at most"), std::string::npos);
}

TEST_F(PolicyFileTest, ReadersNeverSeeAHalfSwappedPolicy) {
    // Every version of the file sets both fields to the same value.
    const auto write_version = [this](int version) {
        const std::string value = std::to_string(1000 + version);
        write("[groups.g.flood]\npackets_per_second = " + value + "\n[groups.g.scan_outbound]\n" +
              "hosts = " + value + "\n");
    };
    PolicyFile file(path_);
    write_version(0);
    ASSERT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> reads{0};
    std::thread reader([&] {
        while (!stop) {
            const auto policy = file.snapshot();
            const DeviceSettings settings = policy->resolve("d", "g");
            EXPECT_EQ(settings.flood.packets_per_second, settings.outbound_scan.hosts);
            reads.fetch_add(1);
        }
    });
    for (int version = 1; version <= 30; ++version) {
        write_version(version);
        EXPECT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    }
    while (reads.load() == 0) {
        std::this_thread::yield();
    }
    stop = true;
    reader.join();
}

TEST_F(PolicyFileTest, JsonShowsEffectiveSettings) {
    write(
        "[groups.cameras.flood]\npackets_per_second = 5000\n[devices.cam-7.flood]\n"
        "severity = \"low\"\n");
    PolicyFile file(path_);
    ASSERT_EQ(file.reload_if_changed(), PolicyReload::Taken);
    const auto policy = file.snapshot();
    const nlohmann::json device = to_json(policy->resolve("cam-7", "cameras"));
    EXPECT_EQ(device["flood"]["packets_per_second"], 5000);
    EXPECT_EQ(device["flood"]["severity"], "low");
    EXPECT_EQ(device["allow"]["outbound"], nullptr);
    const nlohmann::json summary = to_json(*policy);
    EXPECT_EQ(summary["groups"]["cameras"]["flood"]["packets_per_second"], 5000);
    EXPECT_EQ(summary["groups"]["cameras"]["flood"]["severity"], "high");
    EXPECT_EQ(summary["devices"], nlohmann::json::array({"cam-7"}));
    EXPECT_EQ(summary["source"], path_.string());
}

}  // namespace
}  // namespace vigil::hub::detect

#include "vigil/hub/detect/threat_intel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "temp_dir.hpp"

namespace vigil::hub::detect {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

IpAddress ip(const char* text) {
    return parse_ip(text).value();
}

TEST(ThreatIntel, ReadsEveryFeedOfADirectory) {
    vigil::test::TempDir dir;
    write(fs::path(dir.path()) / "a.txt", "203.0.113.7\nbad line here\n");
    write(fs::path(dir.path()) / "b.csv",
          "ip,category\n198.51.100.0/24,scanner\n2001:db8::1,botnet\n");
    write(fs::path(dir.path()) / "README.md", "203.0.113.99\n");
    const ThreatIntel intel = load_feed_directory(fs::path(dir.path()));
    EXPECT_EQ(intel.indicators(), 3u);
    EXPECT_EQ(intel.feed_names(), (std::vector<std::string>{"a.txt", "b.csv"}));
    ASSERT_EQ(intel.errors().size(), 1u);
    EXPECT_EQ(intel.errors()[0].feed, "a.txt");
    EXPECT_EQ(intel.errors()[0].line, 2u);

    const Indicator* hit = intel.find(ip("198.51.100.200"));
    ASSERT_NE(hit, nullptr);
    EXPECT_EQ(hit->category, "scanner");
    EXPECT_EQ(hit->source, "b.csv");
    EXPECT_EQ(hit->line, 2u);
    EXPECT_NE(intel.find(ip("2001:db8::1")), nullptr);
    EXPECT_EQ(intel.find(ip("203.0.113.99")), nullptr);  // README.md is no feed
    EXPECT_EQ(intel.find(ip("203.0.113.8")), nullptr);
}

TEST(ThreatIntel, AMissingDirectoryIsAnErrorNotACrash) {
    const ThreatIntel intel = load_feed_directory("/nonexistent/vigil-feeds");
    EXPECT_EQ(intel.indicators(), 0u);
    ASSERT_EQ(intel.errors().size(), 1u);
    EXPECT_NE(intel.errors()[0].message.find("feeds directory"), std::string::npos);
}

TEST(ThreatIntel, TheShippedDataFilesReadWithoutAnError) {
    const ThreatIntel intel = load_feed_directory(VIGIL_DETECT_DATA_DIR);
    const ThreatIntel sample = load_feed_directory(VIGIL_DETECT_DATA_DIR "/feeds");
    for (const FeedError& error : sample.errors()) {
        ADD_FAILURE() << error.feed << ":" << error.line << ": " << error.message;
    }
    EXPECT_NE(sample.find(ip("203.0.113.66")), nullptr);
    EXPECT_EQ(sample.find(ip("203.0.113.67")), nullptr);
    for (const FeedError& error : intel.errors()) {
        ADD_FAILURE() << error.feed << ":" << error.line << ": " << error.message;
    }
    // RFC 6890's special-purpose blocks, and the sample feed in documentation ranges.
    const Indicator* loopback = intel.find(ip("127.0.0.1"));
    ASSERT_NE(loopback, nullptr);
    EXPECT_EQ(loopback->category, "loopback");
    const Indicator* ula = intel.find(ip("fd12:3456::1"));
    ASSERT_NE(ula, nullptr);
    EXPECT_EQ(ula->category, "unique-local");
    EXPECT_EQ(intel.find(ip("8.8.8.8")), nullptr);
}

TEST(FeedDirectory, ReloadsOnlyWhenAFeedChangesAndKeepsOldSnapshotsValid) {
    vigil::test::TempDir dir;
    write(fs::path(dir.path()) / "list.txt", "203.0.113.7\n");
    FeedDirectory feeds{fs::path(dir.path())};
    EXPECT_EQ(feeds.snapshot()->indicators(), 0u);  // nothing before the first load
    EXPECT_TRUE(feeds.reload_if_changed());
    EXPECT_FALSE(feeds.reload_if_changed());
    const std::shared_ptr<const ThreatIntel> before = feeds.snapshot();
    ASSERT_NE(before->find(ip("203.0.113.7")), nullptr);

    write(fs::path(dir.path()) / "list.txt", "203.0.113.8\n203.0.113.9\n");
    EXPECT_TRUE(feeds.reload_if_changed());
    EXPECT_EQ(feeds.snapshot()->find(ip("203.0.113.7")), nullptr);
    EXPECT_NE(feeds.snapshot()->find(ip("203.0.113.9")), nullptr);
    EXPECT_NE(before->find(ip("203.0.113.7")), nullptr);  // a reader's snapshot stands

    write(fs::path(dir.path()) / "more.csv", "indicator\n198.51.100.1\n");
    EXPECT_TRUE(feeds.reload_if_changed());
    EXPECT_EQ(feeds.snapshot()->indicators(), 3u);
    fs::remove(fs::path(dir.path()) / "more.csv");
    EXPECT_TRUE(feeds.reload_if_changed());
    EXPECT_EQ(feeds.snapshot()->indicators(), 2u);
}

TEST(FeedDirectory, LookupsRunWhileReloadsSwapSnapshots) {
    vigil::test::TempDir dir;
    write(fs::path(dir.path()) / "list.txt", "203.0.113.7\n");
    FeedDirectory feeds{fs::path(dir.path())};
    feeds.reload_if_changed();
    std::atomic<bool> done{false};
    std::atomic<uint64_t> lookups{0};
    std::thread reader([&] {
        const IpAddress listed = ip("203.0.113.7");
        while (!done.load()) {
            const auto snapshot = feeds.snapshot();
            // Every snapshot holds the address: each version of the file lists it.
            if (snapshot->find(listed) == nullptr) {
                ADD_FAILURE() << "a snapshot without the listed address";
                return;
            }
            lookups.fetch_add(1);
        }
    });
    for (int version = 0; version < 20; ++version) {
        std::string text = "203.0.113.7\n";
        for (int i = 0; i <= version; ++i) {
            text += "198.51.100." + std::to_string(i) + "\n";
        }
        write(fs::path(dir.path()) / "list.txt", text);
        feeds.reload_if_changed();
    }
    done = true;
    reader.join();
    EXPECT_GT(lookups.load(), 0u);
}

}  // namespace
}  // namespace vigil::hub::detect

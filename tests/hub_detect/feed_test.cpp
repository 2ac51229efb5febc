#include "vigil/hub/detect/feed.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace vigil::hub::detect {
namespace {

std::vector<uint32_t> error_lines(const Feed& feed) {
    std::vector<uint32_t> lines;
    for (const FeedError& error : feed.errors) {
        lines.push_back(error.line);
    }
    return lines;
}

TEST(Feed, PlainListsTakeCommentsOfBothKindsAndCrlf) {
    const Feed feed = parse_feed(
        "# FireHOL-style header\n"
        "203.0.113.7\n"
        "\n"
        "198.51.100.0/24 ; SBL0001\r\n"
        "   2001:db8::/32   # trailing comment\n"
        "203.0.113.9",
        FeedFormat::PlainList, "sample.txt");
    EXPECT_TRUE(feed.errors.empty());
    ASSERT_EQ(feed.indicators.size(), 4u);
    EXPECT_EQ(to_string(feed.indicators[0].block), "203.0.113.7/32");
    EXPECT_EQ(feed.indicators[0].line, 2u);
    EXPECT_EQ(to_string(feed.indicators[1].block), "198.51.100.0/24");
    EXPECT_EQ(feed.indicators[1].line, 4u);
    EXPECT_EQ(to_string(feed.indicators[2].block), "2001:db8::/32");
    EXPECT_EQ(feed.indicators[3].line, 6u);
    EXPECT_EQ(feed.indicators[0].category, "malicious");
    EXPECT_EQ(feed.indicators[0].source, "sample.txt");
}

TEST(Feed, ABadLineIsReportedWithItsLineAndSkipped) {
    const Feed feed = parse_feed(
        "203.0.113.7\n"
        "not-an-address\n"
        "192.0.2.5/24\n"
        "203.0.113.8 203.0.113.9\n"
        "203.0.113.10\n",
        FeedFormat::PlainList, "mixed.txt");
    ASSERT_EQ(feed.indicators.size(), 2u);
    EXPECT_EQ(feed.indicators[1].line, 5u);
    ASSERT_EQ(error_lines(feed), (std::vector<uint32_t>{2, 3, 4}));
    EXPECT_EQ(feed.errors[0].feed, "mixed.txt");
    EXPECT_NE(feed.errors[1].message.find("host bits"), std::string::npos);
}

TEST(Feed, CsvFindsItsColumnsByNameAndReadsQuotes) {
    const Feed feed = parse_feed(
        "# comment before the header\n"
        "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"malware\"\n"
        "\"2026-01-01 00:00:00\",\"203.0.113.7\",\"443\",\"Example \"\"Loader\"\"\"\n"
        "2026-01-02,2001:db8::9,80,\n",
        FeedFormat::Csv, "c2.csv");
    EXPECT_TRUE(feed.errors.empty()) << feed.errors[0].message;
    ASSERT_EQ(feed.indicators.size(), 2u);
    EXPECT_EQ(to_string(feed.indicators[0].block), "203.0.113.7/32");
    EXPECT_EQ(feed.indicators[0].category, "Example \"Loader\"");
    EXPECT_EQ(feed.indicators[0].source, "c2.csv");
    EXPECT_EQ(feed.indicators[0].line, 3u);
    EXPECT_EQ(feed.indicators[1].category, "malicious");  // empty column: the default
}

TEST(Feed, CsvSourceColumnAndBadRows) {
    const Feed feed = parse_feed(
        "indicator,category,source\n"
        "198.51.100.0/24,scanner,example-feed\n"
        "\"203.0.113.7,botnet\n"
        "198.51.100.999,scanner,x\n"
        "\"203.0.113.8\"junk,botnet,x\n"
        "203.0.113.9,botnet,x\n",
        FeedFormat::Csv, "feed.csv");
    ASSERT_EQ(feed.indicators.size(), 2u);
    EXPECT_EQ(feed.indicators[0].category, "scanner");
    EXPECT_EQ(feed.indicators[0].source, "example-feed");
    EXPECT_EQ(error_lines(feed), (std::vector<uint32_t>{3, 4, 5}));
}

TEST(Feed, CsvWithoutAnIndicatorColumnSaysSoOnce) {
    const Feed feed =
        parse_feed("name,value\n203.0.113.7,x\n203.0.113.8,y\n", FeedFormat::Csv, "odd.csv");
    EXPECT_TRUE(feed.indicators.empty());
    ASSERT_EQ(feed.errors.size(), 1u);
    EXPECT_EQ(feed.errors[0].line, 1u);
    EXPECT_NE(feed.errors[0].message.find("indicator column"), std::string::npos);

    const Feed empty = parse_feed("# nothing\n", FeedFormat::Csv, "empty.csv");
    ASSERT_EQ(empty.errors.size(), 1u);
    EXPECT_EQ(empty.errors[0].line, 0u);
}

TEST(Feed, FormatFollowsTheFileName) {
    FeedFormat format{};
    EXPECT_TRUE(feed_format_for("firehol_level1.netset", format));
    EXPECT_EQ(format, FeedFormat::PlainList);
    EXPECT_TRUE(feed_format_for("ipblocklist.CSV", format));
    EXPECT_EQ(format, FeedFormat::Csv);
    EXPECT_TRUE(feed_format_for("drop.txt", format));
    EXPECT_FALSE(feed_format_for("README.md", format));
    EXPECT_FALSE(feed_format_for(".drop.txt.swp", format));
    EXPECT_FALSE(feed_format_for(".hidden.txt", format));
}

}  // namespace
}  // namespace vigil::hub::detect

// The JSON form of a Report: valid JSON, every field under its report.hpp name, optionals left
// out when absent, and bytes that are not UTF-8 replaced rather than thrown on.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"

namespace vigil::hub {
namespace {

using nlohmann::json;

TEST(ReportJson, aws_report) {
    const DecodeOutcome outcome = test::decode_on(
        test::kAwsJsonTopic,
        test::read_fixture(std::string(HUB_DECODE_AWS_SOURCE_DIR) + "/long_keys.json"));
    ASSERT_TRUE(outcome.ok);
    const json out = json::parse(to_json(outcome.report));
    EXPECT_EQ(out["format"], "aws-defender");
    EXPECT_EQ(out["device_id"], "gateway_01");
    EXPECT_EQ(out["message_key"], "1530304554");
    EXPECT_EQ(out["flows"].size(), 2u);
    EXPECT_EQ(out["flows"][1]["remote"], "2001:db8::1");
    EXPECT_EQ(out["flows"][1]["local_interface"], "wlan0");
    EXPECT_FALSE(out["flows"][0].contains("packets_in"));
    EXPECT_EQ(out["listening_ports"][0]["interface_name"], "eth0");
    EXPECT_EQ(out["interface_totals"]["bytes_in"], 29358693495u);
    EXPECT_FALSE(out.contains("system"));
    EXPECT_FALSE(out.contains("status"));
}

TEST(ReportJson, defender_report) {
    const DecodeOutcome outcome =
        test::decode_on(test::kDefenderTopic, test::defender_fixture("system"));
    ASSERT_TRUE(outcome.ok);
    const json out = json::parse(to_json(outcome.report, -1));
    EXPECT_EQ(out["format"], "legacy-defender");
    EXPECT_EQ(out["system"]["os_name"], "Azure RTOS 6.1");
    EXPECT_FALSE(out.contains("listening_ports"));
    EXPECT_FALSE(out.contains("interface_totals"));
}

TEST(ReportJson, invalid_utf8_is_replaced) {
    Report report;
    report.device_id = "d1";
    ListeningPort port;
    port.interface_name = "eth\xff";
    report.listening_ports = std::vector<ListeningPort>{port};
    const std::string text = to_json(report);
    EXPECT_TRUE(json::accept(text));
}

}  // namespace
}  // namespace vigil::hub

// AWS IoT Device Defender metrics reports: the documented examples in long and short key names
// as JSON (aws/*.json) and as CBOR written by cbor2 from the same files, and the accepted and
// rejected answers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"

namespace vigil::hub {
namespace {

using nlohmann::json;

std::vector<uint8_t> aws_json_fixture(const std::string& name) {
    return test::read_fixture(std::string(HUB_DECODE_AWS_SOURCE_DIR) + "/" + name + ".json");
}
std::vector<uint8_t> aws_cbor_fixture(const std::string& name) {
    return test::read_fixture(std::string(HUB_DECODE_AWS_CBOR_DIR) + "/" + name + ".cbor");
}

DecodeOutcome decode_json(const json& report) {
    return test::decode_on(test::kAwsJsonTopic, test::bytes_of(report.dump()));
}

json answer_of(const DecodeOutcome& outcome, bool cbor = false) {
    EXPECT_TRUE(outcome.response.has_value());
    if (!outcome.response) {
        return json();
    }
    return cbor ? json::from_cbor(outcome.response->payload)
                : json::parse(outcome.response->payload.begin(), outcome.response->payload.end());
}

void expect_documented_example(const DecodeOutcome& outcome, const std::string& report_id) {
    ASSERT_TRUE(outcome.ok) << outcome.reason << ": " << outcome.detail;
    const Report& report = outcome.report;
    EXPECT_EQ(report.format, Format::AwsDefender);
    EXPECT_EQ(report.device_id, "gateway_01");
    EXPECT_EQ(report.message_key, report_id);
    EXPECT_EQ(report.device_time_ms, 0);  // the report id is not promised to be a time

    ASSERT_TRUE(report.listening_ports.has_value());
    const auto& ports = *report.listening_ports;
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(ports[0].protocol, Protocol::Tcp);
    EXPECT_EQ(ports[0].port, 24800);
    EXPECT_EQ(ports[0].interface_name, "eth0");
    EXPECT_EQ(ports[0].address, "");
    EXPECT_EQ(ports[1].port, 22);
    EXPECT_EQ(ports[2].protocol, Protocol::Udp);
    EXPECT_EQ(ports[2].port, 5353);

    ASSERT_TRUE(report.interface_totals.has_value());
    EXPECT_EQ(report.interface_totals->bytes_in, 29358693495u);
    EXPECT_EQ(report.interface_totals->bytes_out, 26485035u);
    EXPECT_EQ(report.interface_totals->packets_in, 10013573555u);
    EXPECT_EQ(report.interface_totals->packets_out, 11382615u);

    EXPECT_TRUE(report.has_network);
    ASSERT_EQ(report.flows.size(), 2u);
    const Flow& v4 = report.flows[0];
    EXPECT_EQ(v4.remote, "192.168.0.1");
    EXPECT_EQ(v4.remote_port, 8000);
    EXPECT_EQ(v4.local_port, 80);
    EXPECT_EQ(v4.local, "");
    EXPECT_EQ(v4.local_interface, "eth0");
    EXPECT_EQ(v4.protocol, Protocol::Tcp);
    EXPECT_EQ(v4.handshake, "completed");
    EXPECT_EQ(v4.bytes_in, 0u);  // unknown in this format
    EXPECT_FALSE(v4.packets_in.has_value());
    const Flow& v6 = report.flows[1];
    EXPECT_EQ(v6.remote, "2001:db8::1");
    EXPECT_EQ(v6.remote_port, 443);
    EXPECT_EQ(v6.local_port, 51000);
    EXPECT_EQ(v6.local_interface, "wlan0");
}

TEST(AwsFormat, long_keys_json) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsJsonTopic, aws_json_fixture("long_keys"));
    expect_documented_example(outcome, "1530304554");
}

TEST(AwsFormat, short_keys_json) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsJsonTopic, aws_json_fixture("short_keys"));
    expect_documented_example(outcome, "1530305228");
}

TEST(AwsFormat, long_keys_cbor) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsCborTopic, aws_cbor_fixture("long_keys"));
    expect_documented_example(outcome, "1530304554");
}

TEST(AwsFormat, short_keys_cbor) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsCborTopic, aws_cbor_fixture("short_keys"));
    expect_documented_example(outcome, "1530305228");
}

TEST(AwsFormat, accepted_answer_in_json) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsJsonTopic, aws_json_fixture("short_keys"), 1700000000123);
    ASSERT_TRUE(outcome.response.has_value());
    EXPECT_EQ(outcome.response->topic, "$aws/things/gateway_01/defender/metrics/json/accepted");
    const json answer = answer_of(outcome);
    EXPECT_EQ(answer["thingName"], "gateway_01");
    EXPECT_EQ(answer["reportId"], 1530305228u);
    EXPECT_EQ(answer["status"], "ACCEPTED");
    EXPECT_EQ(answer["timestamp"], 1700000000123);
    EXPECT_FALSE(answer.contains("statusDetails"));
}

TEST(AwsFormat, accepted_answer_in_cbor) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsCborTopic, aws_cbor_fixture("long_keys"));
    ASSERT_TRUE(outcome.response.has_value());
    EXPECT_EQ(outcome.response->topic, "$aws/things/gateway_01/defender/metrics/cbor/accepted");
    const json answer = answer_of(outcome, true);
    EXPECT_EQ(answer["reportId"], 1530304554u);
    EXPECT_EQ(answer["status"], "ACCEPTED");
}

TEST(AwsFormat, rejected_answer_names_the_report_and_the_error) {
    const DecodeOutcome outcome =
        decode_json({{"hed", {{"rid", 77}, {"v", "2.0"}}}, {"cmet", json::object()}});
    EXPECT_EQ(outcome.reason, reason::kUnsupportedVersion);
    ASSERT_TRUE(outcome.response.has_value());
    EXPECT_EQ(outcome.response->topic, "$aws/things/gateway_01/defender/metrics/json/rejected");
    const json answer = answer_of(outcome);
    EXPECT_EQ(answer["reportId"], 77);
    EXPECT_EQ(answer["status"], "REJECTED");
    EXPECT_EQ(answer["statusDetails"]["ErrorCode"], "InvalidPayload");
    EXPECT_NE(
        answer["statusDetails"]["ErrorMessage"].get<std::string>().find("unsupported_version"),
        std::string::npos);
}

TEST(AwsFormat, rejected_answer_in_cbor_without_a_readable_id) {
    const DecodeOutcome outcome = test::decode_on(test::kAwsCborTopic, {0xA1, 0x63, 'h', 'e'});
    EXPECT_EQ(outcome.reason, reason::kTruncated);
    EXPECT_EQ(outcome.response->topic, "$aws/things/gateway_01/defender/metrics/cbor/rejected");
    const json answer = answer_of(outcome, true);
    EXPECT_EQ(answer["status"], "REJECTED");
    EXPECT_FALSE(answer.contains("reportId"));
}

TEST(AwsFormat, oversized_is_rejected_unread) {
    const DecodeOutcome outcome =
        test::decode_on(test::kAwsJsonTopic, std::vector<uint8_t>(kMaxPayloadBytes + 1, ' '));
    EXPECT_EQ(outcome.reason, reason::kOversized);
    // The service documents no code of its own for size: the report is refused as invalid.
    EXPECT_EQ(answer_of(outcome)["statusDetails"]["ErrorCode"], "InvalidPayload");
}

// The service's answer as its clients read it (docs/formats.md, "Answer"): thingName, status,
// timestamp, reportId whenever it could be read, and on /rejected statusDetails whose ErrorCode is
// one of the service's codes: Malformed, MissingHeader or InvalidPayload for what the hub checks.
TEST(AwsFormat, rejected_answer_error_codes_are_the_services) {
    const json metrics = {{"ns", {{"bi", 1}}}};
    struct Case {
        const char* name;
        const char* topic;
        std::vector<uint8_t> payload;
        const char* error_code;
        bool names_the_report;
    };
    const Case cases[] = {
        {"not JSON", test::kAwsJsonTopic, test::bytes_of("{\"hed\": "), "Malformed", false},
        {"not CBOR", test::kAwsCborTopic, {0xA1, 0x63, 'h', 'e'}, "Malformed", false},
        {"a JSON list", test::kAwsJsonTopic, test::bytes_of("[1, 2]"), "Malformed", false},
        {"empty", test::kAwsJsonTopic, {}, "Malformed", false},
        {"no header", test::kAwsJsonTopic, test::bytes_of(json{{"met", metrics}}.dump()),
         "MissingHeader", false},
        {"header without a report id", test::kAwsJsonTopic,
         test::bytes_of(json{{"hed", {{"v", "1.0"}}}, {"met", metrics}}.dump()), "InvalidPayload",
         false},
        {"a port out of range", test::kAwsJsonTopic,
         test::bytes_of(json{{"hed", {{"rid", 9}, {"v", "1.0"}}},
                             {"met", {{"tp", {{"pts", {{{"pt", 70000}}}}}}}}}
                            .dump()),
         "InvalidPayload", true},
    };
    for (const Case& c : cases) {
        const DecodeOutcome outcome = test::decode_on(c.topic, c.payload, 1700000000123);
        ASSERT_FALSE(outcome.ok) << c.name;
        const json answer = answer_of(outcome, c.topic == test::kAwsCborTopic);
        EXPECT_EQ(outcome.response->topic, std::string(c.topic) + "/rejected") << c.name;
        EXPECT_EQ(answer["thingName"], "gateway_01") << c.name;
        EXPECT_EQ(answer["status"], "REJECTED") << c.name;
        EXPECT_EQ(answer["timestamp"], 1700000000123) << c.name;
        EXPECT_EQ(answer["statusDetails"]["ErrorCode"], c.error_code) << c.name;
        EXPECT_EQ(
            answer["statusDetails"]["ErrorMessage"].get<std::string>().rfind(outcome.reason, 0), 0u)
            << c.name;
        EXPECT_EQ(answer.contains("reportId"), c.names_the_report) << c.name;
    }
}

TEST(AwsFormat, header_checks) {
    const json metrics = {{"ns", {{"bi", 1}}}};
    struct Case {
        json header;
        const char* reason;
    };
    const Case cases[] = {
        {json::object(), reason::kMissingField},
        {{{"v", "1.0"}}, reason::kMissingField},
        {{{"rid", 1}}, reason::kMissingField},
        {{{"rid", "123"}, {"v", "1.0"}}, reason::kBadValue},
        {{{"rid", -5}, {"v", "1.0"}}, reason::kBadValue},
        {{{"rid", 1.5}, {"v", "1.0"}}, reason::kBadValue},
        {{{"rid", 1}, {"v", 1.0}}, reason::kBadValue},
        {{{"rid", 1}, {"v", "1.1"}}, reason::kUnsupportedVersion},
        {{{"rid", 1}, {"report_id", 1}, {"v", "1.0"}}, reason::kMalformed},
    };
    for (const Case& c : cases) {
        const DecodeOutcome outcome = decode_json({{"hed", c.header}, {"met", metrics}});
        EXPECT_EQ(outcome.reason, c.reason) << c.header.dump() << ": " << outcome.detail;
        EXPECT_EQ(answer_of(outcome)["status"], "REJECTED");
    }
    EXPECT_EQ(decode_json({{"met", metrics}}).reason, reason::kMissingField);
    EXPECT_EQ(decode_json({{"hed", "x"}, {"met", metrics}}).reason, reason::kMalformed);
    EXPECT_EQ(decode_json({{"hed", {{"rid", 1}, {"v", "1.0"}}}}).reason, reason::kMissingField);
}

TEST(AwsFormat, largest_report_id) {
    const DecodeOutcome outcome = decode_json(
        {{"header", {{"report_id", UINT64_MAX}, {"version", "1.0"}}}, {"metrics", json::object()}});
    ASSERT_TRUE(outcome.ok) << outcome.detail;
    EXPECT_EQ(outcome.report.message_key, "18446744073709551615");
}

json with_metrics(const json& metrics) {
    return {{"hed", {{"rid", 9}, {"v", "1.0"}}}, {"met", metrics}};
}

TEST(AwsFormat, value_checks) {
    struct Case {
        json metrics;
        const char* reason;
    };
    const Case cases[] = {
        {{{"tp", {{"pts", {{{"pt", 0}}}}}}}, reason::kBadValue},
        {{{"tp", {{"pts", {{{"pt", 65536}}}}}}}, reason::kBadValue},
        {{{"up", {{"pts", {{{"if", "eth0"}}}}}}}, reason::kBadValue},
        {{{"up", {{"pts", {{{"pt", 53}, {"if", 7}}}}}}}, reason::kBadValue},
        {{{"tp", {{"pts", 5}}}}, reason::kMalformed},
        {{{"tp", {{"pts", {7}}}}}, reason::kMalformed},
        {{{"tp", {{"t", -1}}}}, reason::kBadValue},
        {{{"ns", {{"bi", -1}}}}, reason::kBadValue},
        {{{"ns", {{"po", "10"}}}}, reason::kBadValue},
        {{{"ns", 3}}, reason::kMalformed},
        {{{"tc", {{"ec", {{"cs", {{{"rad", "192.168.0.1"}}}}}}}}}, reason::kBadValue},
        {{{"tc", {{"ec", {{"cs", {{{"rad", "192.168.0.300:80"}}}}}}}}}, reason::kBadValue},
        {{{"tc", {{"ec", {{"cs", {{{"rad", "192.168.0.1:70000"}}}}}}}}}, reason::kBadValue},
        {{{"tc", {{"ec", {{"cs", {{{"rad", "[2001:db8::zz]:80"}}}}}}}}}, reason::kBadValue},
        {{{"tc", {{"ec", {{"cs", {{{"lp", 80}}}}}}}}}, reason::kMissingField},
        {{{"tc", {{"ec", {{"cs", {{{"rad", "10.0.0.1:1"}, {"lp", 65536}}}}}}}}}, reason::kBadValue},
        {{{"tp", {{"ports", json::array()}, {"pts", json::array()}}}}, reason::kMalformed},
    };
    for (const Case& c : cases) {
        const DecodeOutcome outcome = decode_json(with_metrics(c.metrics));
        EXPECT_EQ(outcome.reason, c.reason) << c.metrics.dump() << ": " << outcome.detail;
        EXPECT_FALSE(outcome.detail.empty());
    }
}

TEST(AwsFormat, ipv6_remote_without_brackets_splits_at_the_last_colon) {
    const DecodeOutcome outcome =
        decode_json(with_metrics({{"tc", {{"ec", {{"cs", {{{"rad", "2001:db8::7:8883"}}}}}}}}}));
    ASSERT_TRUE(outcome.ok) << outcome.detail;
    EXPECT_EQ(outcome.report.flows[0].remote, "2001:db8::7");
    EXPECT_EQ(outcome.report.flows[0].remote_port, 8883);
}

TEST(AwsFormat, list_limit) {
    json ports = json::array();
    for (int i = 0; i < 4097; ++i) {
        ports.push_back({{"pt", 1 + i}});
    }
    EXPECT_EQ(decode_json(with_metrics({{"tp", {{"pts", ports}}}})).reason, reason::kBadValue);
    ports.erase(ports.begin());
    EXPECT_TRUE(decode_json(with_metrics({{"tp", {{"pts", ports}}}})).ok);
}

TEST(AwsFormat, custom_metrics_are_checked) {
    const auto with_custom = [](const json& custom) {
        return json{{"hed", {{"rid", 9}, {"v", "1.0"}}}, {"cmet", custom}};
    };
    EXPECT_TRUE(decode_json(with_custom({{"temp", {{{"number", 3}}}}})).ok);
    for (const json& bad :
         {json{{"temp", {{{"number", "3"}}}}}, json{{"temp", {{{"number_list", {1, "x"}}}}}},
          json{{"temp", {{{"ip_list", {"300.1.1.1"}}}}}}, json{{"temp", {{{"string_list", {1}}}}}},
          json{{"temp", {{{"colour", 1}}}}}, json{{"temp", {{"number", 1}}}},
          json{{"bad name", {{{"number", 1}}}}}}) {
        EXPECT_EQ(decode_json(with_custom(bad)).reason, reason::kBadValue) << bad.dump();
    }
}

TEST(AwsFormat, malformed_and_truncated_documents) {
    EXPECT_EQ(test::decode_on(test::kAwsJsonTopic, test::bytes_of("{\"hed\": {\"rid\": 1")).reason,
              reason::kTruncated);
    EXPECT_EQ(test::decode_on(test::kAwsJsonTopic, test::bytes_of("{\"hed\" 1}")).reason,
              reason::kMalformed);
    EXPECT_EQ(test::decode_on(test::kAwsJsonTopic, test::bytes_of("[1, 2]")).reason,
              reason::kMalformed);
    EXPECT_EQ(test::decode_on(test::kAwsJsonTopic, test::bytes_of("{} trailing")).reason,
              reason::kMalformed);
    // JSON on the CBOR topic is not CBOR.
    EXPECT_FALSE(test::decode_on(test::kAwsCborTopic, aws_json_fixture("short_keys")).ok);
    const std::vector<uint8_t> cbor = aws_cbor_fixture("short_keys");
    for (size_t size = 1; size < cbor.size(); ++size) {
        const DecodeOutcome outcome = test::decode_on(
            test::kAwsCborTopic, std::vector<uint8_t>(cbor.begin(), cbor.begin() + size));
        EXPECT_EQ(outcome.reason, reason::kTruncated) << size;
    }
}

// A CBOR map written entry by entry, so that a key may be repeated (nlohmann-json cannot write
// one).
std::vector<uint8_t> cbor_map(
    const std::vector<std::pair<std::string, std::vector<uint8_t>>>& entries) {
    std::vector<uint8_t> out{static_cast<uint8_t>(0xa0 + entries.size())};  // fewer than 24
    for (const auto& [key, value] : entries) {
        const std::vector<uint8_t> key_bytes = json::to_cbor(json(key));
        out.insert(out.end(), key_bytes.begin(), key_bytes.end());
        out.insert(out.end(), value.begin(), value.end());
    }
    return out;
}

TEST(AwsFormat, duplicate_keys_are_refused_in_json) {
    const std::string header = R"("hed": {"rid": 7, "v": "1.0"})";
    const std::string unique = "{" + header + R"(, "met": {"ns": {"bi": 1, "bo": 2}}})";
    ASSERT_TRUE(test::decode_on(test::kAwsJsonTopic, test::bytes_of(unique)).ok);
    const std::string documents[] = {
        // The last one would win: a report that says both things at once.
        "{" + header + R"(, "met": {"ns": {"bi": 1, "bi": 99999}}})",
        "{" + header + R"(, "met": {}, "met": {"ns": {"bi": 1}}})",
        R"({"hed": {"rid": 7, "rid": 8, "v": "1.0"}, "met": {}})",
        "{" + header + R"(, "met": {"tp": {"pts": [{"pt": 22, "pt": 23}]}}})",
        // The same key, escaped differently.
        "{" + header + R"(, "met": {"ns": {"bi": 1, "\u0062i": 2}}})",
    };
    for (const std::string& document : documents) {
        const DecodeOutcome outcome =
            test::decode_on(test::kAwsJsonTopic, test::bytes_of(document));
        EXPECT_EQ(outcome.reason, reason::kMalformed) << document;
        EXPECT_NE(outcome.detail.find("given twice"), std::string::npos) << outcome.detail;
        EXPECT_EQ(answer_of(outcome)["status"], "REJECTED");
    }
    // The same key in sibling objects is no duplicate.
    const std::string siblings =
        "{" + header + R"(, "met": {"tp": {"pts": [{"pt": 22}, {"pt": 23}]}}})";
    EXPECT_TRUE(test::decode_on(test::kAwsJsonTopic, test::bytes_of(siblings)).ok);
}

TEST(AwsFormat, duplicate_keys_are_refused_in_cbor) {
    const std::vector<uint8_t> header = json::to_cbor(json{{"rid", 7}, {"v", "1.0"}});
    const std::vector<uint8_t> unique =
        cbor_map({{"hed", header}, {"met", cbor_map({{"ns", cbor_map({{"bi", {0x01}}})}})}});
    ASSERT_TRUE(test::decode_on(test::kAwsCborTopic, unique).ok);
    const std::vector<uint8_t> documents[] = {
        cbor_map({{"hed", header},
                  {"met", cbor_map({{"ns", cbor_map({{"bi", {0x01}}, {"bi", {0x02}}})}})}}),
        cbor_map({{"hed", header}, {"met", cbor_map({})}, {"met", cbor_map({})}}),
        cbor_map(
            {{"hed", cbor_map({{"rid", {0x07}}, {"rid", {0x08}}, {"v", json::to_cbor("1.0")}})},
             {"met", cbor_map({})}}),
    };
    for (const std::vector<uint8_t>& document : documents) {
        const DecodeOutcome outcome = test::decode_on(test::kAwsCborTopic, document);
        EXPECT_EQ(outcome.reason, reason::kMalformed);
        EXPECT_NE(outcome.detail.find("given twice"), std::string::npos) << outcome.detail;
        EXPECT_EQ(answer_of(outcome, true)["status"], "REJECTED");
    }
}

TEST(AwsFormat, deep_nesting_is_refused_without_recursion) {
    const std::string json_bomb(100000, '[');
    EXPECT_EQ(test::decode_on(test::kAwsJsonTopic, test::bytes_of(json_bomb)).reason,
              reason::kMalformed);
    const std::vector<uint8_t> cbor_bomb(200000, 0x81);  // [[[[...
    EXPECT_EQ(test::decode_on(test::kAwsCborTopic, cbor_bomb).reason, reason::kMalformed);
}

}  // namespace
}  // namespace vigil::hub

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vigil/hub/detect/policy.hpp"
#include "vigil/hub/detect/policy_json.hpp"
#include "vigil/hub/detect/policy_parse.hpp"

namespace vigil::hub::detect {
namespace {

/// The errors of a text that must be refused, as "LINE: message".
std::vector<std::string> errors_of(const std::string& text) {
    const PolicyParse parsed = parse_policy(text, "policy.toml");
    EXPECT_FALSE(parsed.ok()) << "accepted:\n" << text;
    std::vector<std::string> out;
    for (const PolicyError& error : parsed.errors) {
        out.push_back(std::to_string(error.line) + ": " + error.message);
    }
    return out;
}

/// The only error of a text: on `line`, its message holding `words`.
void expect_error(const std::string& text, int line, const std::string& words) {
    const PolicyParse parsed = parse_policy(text, "policy.toml");
    ASSERT_FALSE(parsed.ok()) << "accepted:\n" << text;
    ASSERT_EQ(parsed.errors.size(), 1u) << format_error("policy.toml", parsed.errors[0]) << "\n"
                                        << format_error("policy.toml", parsed.errors.back());
    EXPECT_EQ(parsed.errors[0].line, line) << parsed.errors[0].message;
    EXPECT_NE(parsed.errors[0].message.find(words), std::string::npos)
        << "\"" << parsed.errors[0].message << "\" lacks \"" << words << "\"";
}

Policy parsed(const std::string& text) {
    PolicyParse result = parse_policy(text, "policy.toml");
    for (const PolicyError& error : result.errors) {
        ADD_FAILURE() << format_error("policy.toml", error);
    }
    return result.ok() ? std::move(*result.policy) : Policy{};
}

TEST(Policy, NoFileIsTheBuiltInDefaults) {
    const DeviceSettings settings = Policy{}.resolve("cam-1", "cameras");
    EXPECT_EQ(settings.group, "cameras");
    EXPECT_TRUE(settings.inbound_scan.enabled);
    EXPECT_EQ(settings.inbound_scan.ports, 15u);
    EXPECT_EQ(settings.inbound_scan.window_s, 300u);
    EXPECT_EQ(settings.flood.packets_per_second, 1000u);
    EXPECT_FALSE(settings.allow.outbound.has_value());
    EXPECT_TRUE(settings.rules.empty());
    EXPECT_TRUE(settings.trusted.empty());
}

TEST(Policy, AnEmptyFileIsTheBuiltInDefaults) {
    const Policy policy = parsed("# nothing yet\n");
    EXPECT_EQ(policy.source, "policy.toml");
    EXPECT_EQ(to_json(policy.resolve("d", "")), to_json(Policy{}.resolve("d", "")));
}

TEST(Policy, EachLevelSetsOnlyWhatItNames) {
    const Policy policy = parsed(R"(
[defaults.flood]
packets_per_second = 2000
severity = "critical"
[defaults.port_scan_inbound]
window = "10m"
[groups.cameras.flood]
packets_per_second = 5000
[groups.cameras.port_scan_inbound]
ports = 30
[devices."cam-7".flood]
severity = "low"
[devices."cam-7".port_scan_inbound]
enabled = false
)");
    const DeviceSettings other = policy.resolve("sensor-1", "");
    EXPECT_EQ(other.flood.packets_per_second, 2000u);
    EXPECT_EQ(other.flood.severity, Severity::Critical);
    EXPECT_EQ(other.inbound_scan.ports, 15u);
    EXPECT_EQ(other.inbound_scan.window_s, 600u);

    const DeviceSettings camera = policy.resolve("cam-1", "cameras");
    EXPECT_EQ(camera.flood.packets_per_second, 5000u);
    EXPECT_EQ(camera.flood.severity, Severity::Critical) << "the group kept the inherited severity";
    EXPECT_EQ(camera.inbound_scan.ports, 30u);
    EXPECT_EQ(camera.inbound_scan.window_s, 600u);
    EXPECT_TRUE(camera.inbound_scan.enabled);

    const DeviceSettings cam7 = policy.resolve("cam-7", "cameras");
    EXPECT_EQ(cam7.flood.packets_per_second, 5000u);
    EXPECT_EQ(cam7.flood.severity, Severity::Low);
    EXPECT_EQ(cam7.inbound_scan.ports, 30u);
    EXPECT_FALSE(cam7.inbound_scan.enabled);

    // A device's own section applies whatever its group; a group unknown to the file is none.
    const DeviceSettings moved = policy.resolve("cam-7", "lab");
    EXPECT_EQ(moved.flood.packets_per_second, 2000u);
    EXPECT_EQ(moved.flood.severity, Severity::Low);
    EXPECT_EQ(moved.group, "lab");
}

TEST(Policy, RulesReplaceByNameElseAdd) {
    const Policy policy = parsed(R"(
[[defaults.rules]]
name = "upload-cap"
metric = "bytes_out"
above = 1000
[[defaults.rules]]
name = "peers"
metric = "remote_addresses"
above = 10
[[groups.cameras.rules]]
name = "upload-cap"
metric = "bytes_out"
above = 50_000_000
window = "5m"
alarm_after = 2
clear_after = 3
severity = "high"
category = "exfiltration"
description = "too much"
[[groups.cameras.rules]]
name = "quiet"
metric = "packets_out"
below = 1.5
)");
    const DeviceSettings camera = policy.resolve("cam", "cameras");
    ASSERT_EQ(camera.rules.size(), 3u);
    EXPECT_EQ(camera.rules[0].name, "upload-cap");
    EXPECT_EQ(camera.rules[0].above, 50'000'000.0);
    EXPECT_EQ(camera.rules[0].window_s, 300u);
    EXPECT_EQ(camera.rules[0].alarm_after, 2u);
    EXPECT_EQ(camera.rules[0].clear_after, 3u);
    EXPECT_EQ(camera.rules[0].severity, Severity::High);
    EXPECT_EQ(camera.rules[0].category, AlertCategory::Exfiltration);
    EXPECT_EQ(camera.rules[0].description, "too much");
    EXPECT_EQ(camera.rules[0].line, 10);
    EXPECT_EQ(camera.rules[1].name, "peers");
    EXPECT_EQ(camera.rules[2].name, "quiet");
    EXPECT_EQ(camera.rules[2].metric, RuleMetric::PacketsOut);
    EXPECT_FALSE(camera.rules[2].above.has_value());
    EXPECT_EQ(camera.rules[2].below, 1.5);

    const DeviceSettings other = policy.resolve("d", "");
    ASSERT_EQ(other.rules.size(), 2u);
    EXPECT_EQ(other.rules[0].above, 1000.0);
}

TEST(Policy, AllowListsTrustedAndDurations) {
    const Policy policy = parsed(R"(
[defaults]
trusted = ["10.0.0.1", "2001:db8::/32"]
[defaults.silence]
default_interval = 90
[defaults.agent_health]
clock_skew = "1d"
[groups.cameras.allow]
outbound = ["10.0.0.0/8", "2001:db8::/32"]
tcp_ports = [0, 80, 65535]
udp_ports = []
)");
    const DeviceSettings camera = policy.resolve("c", "cameras");
    ASSERT_EQ(camera.trusted.size(), 2u);
    EXPECT_EQ(to_string(camera.trusted[0]), "10.0.0.1/32");
    ASSERT_TRUE(camera.allow.outbound.has_value());
    EXPECT_EQ(camera.allow.outbound->size(), 2u);
    EXPECT_FALSE(camera.allow.inbound.has_value()) << "absent: everything allowed";
    EXPECT_EQ(camera.allow.tcp_ports, (std::vector<uint16_t>{0, 80, 65535}));
    ASSERT_TRUE(camera.allow.udp_ports.has_value());
    EXPECT_TRUE(camera.allow.udp_ports->empty()) << "empty: nothing allowed";
    EXPECT_EQ(camera.silence.default_interval_s, 90u);
    EXPECT_EQ(camera.agent_health.clock_skew_s, 86400);
}

TEST(Policy, SuppressionsAndOutputs) {
    const Policy policy = parsed(R"(
[[suppress]]
name = "lab-scanner"
group = "cameras"
type = "scan.port_inbound"
subject = "10.9.9.*"
until = 2027-01-31T00:00:00Z
reason = "nightly scan"
[[suppress]]
name = "string-date"
device = "cam-7"
until = "2027-01-31T01:00:00+01:00"
[[outputs.webhook]]
name = "soc"
url = "https://alerts.example.com:8443/vigil?x=1"
secret = "k"
min_severity = "medium"
changes = ["opened", "acknowledged"]
timeout = "500ms"
retries = 0
[[outputs.syslog]]
name = "siem"
address = "[2001:db8::1]:6514"
transport = "tcp"
facility = 4
[[outputs.mqtt]]
name = "dash"
qos = 2
)");
    ASSERT_EQ(policy.suppressions.size(), 2u);
    const Suppression& lab = policy.suppressions[0];
    EXPECT_EQ(lab.source, SuppressionSource::Policy);
    EXPECT_EQ(lab.group, "cameras");
    EXPECT_EQ(lab.subject_pattern, "10.9.9.*");
    EXPECT_EQ(lab.expires_ms, int64_t{1801353600000});
    EXPECT_EQ(policy.suppressions[1].expires_ms, int64_t{1801353600000});
    EXPECT_EQ(policy.suppressions[1].subject_pattern, "*");

    ASSERT_EQ(policy.outputs.size(), 3u);
    const OutputSettings& soc = policy.outputs[0];
    EXPECT_EQ(soc.kind, OutputKind::Webhook);
    EXPECT_EQ(soc.secret, "k");
    EXPECT_EQ(soc.min_severity, Severity::Medium);
    EXPECT_EQ(soc.changes,
              (std::vector<AlertChange>{AlertChange::Opened, AlertChange::Acknowledged}));
    EXPECT_EQ(soc.timeout_ms, 500u);
    EXPECT_EQ(soc.retries, 0u);
    EXPECT_TRUE(policy.outputs[1].tcp);
    EXPECT_EQ(policy.outputs[1].facility, 4);
    EXPECT_EQ(policy.outputs[2].topic, "vigil/alerts");
    EXPECT_EQ(policy.outputs[2].qos, 2);

    const nlohmann::json shown = to_json(policy);
    EXPECT_EQ(shown["outputs"][0]["signed"], true);
    EXPECT_EQ(shown.dump().find("\"k\""), std::string::npos) << "a secret is never shown";
}

TEST(Policy, SecretFileIsReadBesideThePolicy) {
    const std::string directory = ::testing::TempDir();
    std::ofstream(directory + "/hook.secret") << "s3cret \n second line\n";
    const PolicyParse parsed = parse_policy(R"(
[[outputs.webhook]]
name = "soc"
url = "http://127.0.0.1:9/"
secret_file = "hook.secret"
)",
                                            directory + "/policy.toml");
    ASSERT_TRUE(parsed.ok()) << format_error("p", parsed.errors.at(0));
    EXPECT_EQ(parsed.policy->outputs[0].secret, "s3cret");

    expect_error(
        "[[outputs.webhook]]\nname = \"soc\"\nurl = \"http://h/\"\n"
        "secret_file = \"missing.secret\"\n",
        4, "is not a readable file");
}

TEST(Policy, TheExampleParses) {
    std::ifstream in(VIGIL_DETECT_DATA_DIR "/policy.example.toml");
    ASSERT_TRUE(in);
    std::stringstream text;
    text << in.rdbuf();
    const Policy policy = parsed(text.str());
    EXPECT_EQ(policy.groups.size(), 2u);
    EXPECT_EQ(policy.outputs.size(), 3u);
    EXPECT_EQ(policy.suppressions.size(), 1u);
    const DeviceSettings lobby = policy.resolve("cam-lobby-7", "cameras");
    ASSERT_EQ(lobby.rules.size(), 2u);
    EXPECT_EQ(lobby.rules[0].above, 200'000'000.0);
    EXPECT_EQ(lobby.flood.packets_per_second, 8000u);
}

TEST(PolicyErrors, UnknownKeysAreNamedWithTheirLine) {
    expect_error("[defaults.port_scan_inbound]\nports = 15\nwindw = \"5m\"\n", 3,
                 "unknown key \"windw\" in [defaults.port_scan_inbound]");
    expect_error("[defaults]\nflod = {}\n", 2, "unknown key \"flod\"");
    expect_error("defualts = 1\n", 1, "unknown key \"defualts\" at the top level");
    expect_error("[[groups.a.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\nabvoe = 2\n",
                 5, "unknown key \"abvoe\"");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"h:1\"\nurl = \"http://x/\"\n", 4,
                 "unknown key \"url\"");
    expect_error("[outputs.email]\n", 1, "unknown key \"email\"");
}

TEST(PolicyErrors, WrongTypes) {
    expect_error("[defaults.flood]\npackets_per_second = \"many\"\n", 2, "must be an integer");
    expect_error("[defaults.flood]\nenabled = \"yes\"\n", 2, "must be true or false");
    expect_error("[defaults]\nflood = 3\n", 2, "must be a table");
    expect_error("[defaults]\ntrusted = \"10.0.0.0/8\"\n", 2, "must be an array");
    expect_error("[defaults]\nrules = 1\n", 2, "must be an array of tables");
    expect_error("groups = [1]\n", 1, "must be a table");
    expect_error("[groups]\ncameras = 1\n", 2, "must be a table");
    expect_error("[defaults.allow]\ntcp_ports = [80, \"443\"]\n", 2, "must be an integer");
}

TEST(PolicyErrors, OutOfRange) {
    expect_error("[defaults.allow]\ntcp_ports = [80, 65536]\n", 2, "out of range (0 to 65535)");
    expect_error("[defaults.allow]\nudp_ports = [-1]\n", 2, "out of range");
    expect_error("[defaults.port_scan_inbound]\nports = 0\n", 2, "out of range");
    expect_error("[defaults.scan_outbound]\nhosts = -3\n", 2, "out of range");
    expect_error("[defaults.silence]\nintervals = 0\n", 2, "out of range");
    expect_error(
        "[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\n"
        "alarm_after = 11\n",
        5, "out of range (1 to 10)");
    expect_error(
        "[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\n"
        "clear_after = 0\n",
        5, "out of range (1 to 10)");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"0s\"\n", 2, "out of range (1s to 1d)");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"25h\"\n", 2, "out of range");
    expect_error("[defaults.port_scan_inbound]\nwindow = -5\n", 2, "out of range");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"-5m\"\n", 2, "is not a duration");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"5 minutes\"\n", 2, "is not a duration");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"1500ms\"\n", 2, "whole seconds");
    expect_error("[defaults.port_scan_inbound]\nwindow = 1.5\n", 2, "must be a duration");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"h:514\"\nfacility = 24\n", 4,
                 "out of range (0 to 23)");
    expect_error("[[outputs.mqtt]]\nname = \"m\"\nqos = 3\n", 3, "out of range (0 to 2)");
    expect_error("[[outputs.mqtt]]\nname = \"m\"\nqueue = 0\n", 3, "out of range");
}

TEST(PolicyErrors, BadBlocksUseTheCidrParsersWords) {
    const CidrParse reference = parse_cidr("10.0.0.1/8");
    ASSERT_FALSE(reference.cidr);
    expect_error("[groups.cameras.allow]\noutbound = [\"10.0.0.0/8\", \"10.0.0.1/8\"]\n", 2,
                 reference.error);
    expect_error("[defaults]\ntrusted = [\"10.0.0.0/33\"]\n", 2, "10.0.0.0/33");
    expect_error("[defaults]\ntrusted = [\"example.com\"]\n", 2, "example.com");
}

TEST(PolicyErrors, RulesAndNames) {
    expect_error(R"([[groups.cameras.rules]]
name = "r"
metric = "bytes_in"
above = 1
[[groups.cameras.rules]]
name = "r"
metric = "bytes_out"
above = 2
)",
                 5, "\"r\" is already defined at line 1");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_up\"\nabove = 1\n", 3,
                 "unknown metric \"bytes_up\" (known: bytes_in, bytes_out");
    expect_error(
        "[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\n"
        "severity = \"urgent\"\n",
        5, "unknown severity \"urgent\"");
    expect_error(
        "[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\n"
        "category = \"stuff\"\n",
        5, "unknown category \"stuff\"");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\n", 1,
                 "needs a threshold: above, below or both");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 5\nbelow = 6\n",
                 1, "below must be less than above");
    expect_error("[[defaults.rules]]\nmetric = \"bytes_in\"\nabove = 5\n", 1, "needs a name");
    expect_error("[[defaults.rules]]\nname = \"r\"\nabove = 5\n", 1, "needs a metric");
    expect_error("[[defaults.rules]]\nname = \"has space\"\nmetric = \"bytes_in\"\nabove = 5\n", 2,
                 "may hold only letters");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = -1\n", 4,
                 "finite number of at least 0");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = nan\n", 4,
                 "finite number");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nbelow = inf\n", 4,
                 "finite number");
    expect_error("[defaults.flood]\nseverity = \"HIGH\"\n", 2, "unknown severity");
}

TEST(PolicyErrors, SameRuleNameInDifferentLevelsIsAnOverride) {
    const Policy policy = parsed(R"(
[[defaults.rules]]
name = "r"
metric = "bytes_in"
above = 1
[[groups.g.rules]]
name = "r"
metric = "bytes_in"
above = 2
[[devices.d.rules]]
name = "r"
metric = "bytes_in"
above = 3
)");
    EXPECT_EQ(policy.resolve("d", "g").rules.at(0).above, 3.0);
    EXPECT_EQ(policy.resolve("x", "g").rules.at(0).above, 2.0);
}

TEST(PolicyErrors, OutputsAndSuppressions) {
    expect_error(R"([[outputs.webhook]]
name = "soc"
url = "http://a/"
[[outputs.syslog]]
name = "soc"
address = "h:514"
)",
                 4, "output \"soc\" is already defined at line 1");
    expect_error("[[outputs.webhook]]\nname = \"w\"\nurl = \"ftp://a/\"\n", 3,
                 "is not an http:// or https:// URL");
    expect_error("[[outputs.webhook]]\nname = \"w\"\nurl = \"http://\"\n", 3, "URL");
    expect_error("[[outputs.webhook]]\nname = \"w\"\nurl = \"http://a b/\"\n", 3, "URL");
    expect_error("[[outputs.webhook]]\nname = \"w\"\nurl = \"http://h:99999/\"\n", 3, "URL");
    expect_error("[[outputs.webhook]]\nname = \"w\"\n", 1, "needs a url");
    expect_error("[[outputs.webhook]]\nurl = \"http://h/\"\n", 1, "needs a name");
    expect_error(
        "[[outputs.webhook]]\nname = \"w\"\nurl = \"http://h/\"\nsecret = \"a\"\n"
        "secret_file = \"/etc/hostname\"\n",
        1, "both secret and secret_file");
    expect_error(
        "[[outputs.webhook]]\nname = \"w\"\nurl = \"http://h/\"\n"
        "changes = [\"opened\", \"closed\"]\n",
        4, "unknown change \"closed\"");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"127.0.0.1\"\n", 3,
                 "is not host:port");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"2001:db8::1:514\"\n", 3,
                 "is not host:port");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"h:0\"\n", 3, "is not host:port");
    expect_error("[[outputs.syslog]]\nname = \"s\"\naddress = \"h:514\"\ntransport = \"tls\"\n", 4,
                 "must be \"udp\" or \"tcp\"");
    expect_error("[[outputs.syslog]]\nname = \"s\"\n", 1, "needs an address");
    expect_error("[[outputs.mqtt]]\nname = \"m\"\ntopic = \"vigil/#\"\n", 3, "wildcard");
    expect_error("[[suppress]]\nname = \"a\"\n[[suppress]]\nname = \"a\"\n", 3,
                 "suppression \"a\" is already defined at line 1");
    expect_error("[[suppress]]\nname = \"a\"\ndevice = \"d\"\ngroup = \"g\"\n", 1,
                 "both a device and a group");
    expect_error("[[suppress]]\nname = \"a\"\nuntil = 2027-01-31T00:00:00\n", 3, "with its offset");
    expect_error("[[suppress]]\nname = \"a\"\nuntil = \"next week\"\n", 3, "with its offset");
    expect_error("[[suppress]]\nname = \"a\"\nuntil = \"2027-01-31\\nx=1\"\n", 3,
                 "with its offset");
    expect_error("[[suppress]]\ntype = \"flood\"\n", 1, "needs a name");
}

TEST(PolicyErrors, SyntaxErrorsHaveTheirLineAndColumn) {
    const PolicyParse parsed = parse_policy("[defaults]\n\n  flood = {\n", "p.toml");
    ASSERT_EQ(parsed.errors.size(), 1u);
    EXPECT_EQ(parsed.errors[0].line, 3);
    EXPECT_GT(parsed.errors[0].column, 0);
    EXPECT_EQ(parsed.errors[0].message.rfind("TOML syntax: ", 0), 0u);
    expect_error("a = 1\na = 2\n", 2, "TOML syntax");
    expect_error("x = \"\xff\"\n", 1, "TOML syntax");
}

TEST(PolicyErrors, EveryErrorAtOnceAndNothingTaken) {
    const std::vector<std::string> errors = errors_of(R"(
[defaults.flood]
packets_per_second = 0
[groups.cameras.allow]
outbound = ["10.0.0.1/8"]
tcp_ports = [70000]
[groups.cameras.silence]
intervals = 3
intervalz = 4
[[outputs.webhook]]
name = "w"
url = "gopher://x"
[[outputs.mqtt]]
name = "w"
)");
    ASSERT_EQ(errors.size(), 6u) << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0].substr(0, 3), "3: ");
    EXPECT_EQ(errors[1].substr(0, 3), "5: ");
    EXPECT_EQ(errors[2].substr(0, 3), "6: ");
    EXPECT_EQ(errors[3].substr(0, 3), "9: ");
    EXPECT_EQ(errors[4].substr(0, 4), "12: ");
    EXPECT_EQ(errors[5].substr(0, 4), "13: ");
    EXPECT_NE(errors[5].find("already defined at line 10"), std::string::npos);
}

TEST(PolicyErrors, MessagesNameTheFullPath) {
    const PolicyParse result =
        parse_policy("[devices.\"cam.7\".flood]\npackets_per_second = -1\n", "p.toml");
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(
        format_error("p.toml", result.errors[0])
            .rfind("p.toml:2:22: devices.\"cam.7\".flood.packets_per_second: -1 is out of range",
                   0),
        0u)
        << result.errors[0].message;
}

TEST(PolicyHostile, DeeplyNestedTables) {
    std::string header = "[a";
    for (int i = 0; i < 5000; ++i) {
        header += ".a";
    }
    header += "]\n";
    EXPECT_FALSE(parse_policy(header, "p").ok());

    std::string inline_arrays = "x = ";
    for (int i = 0; i < 5000; ++i) {
        inline_arrays += "[";
    }
    EXPECT_FALSE(parse_policy(inline_arrays, "p").ok());

    std::string inline_tables = "x = ";
    for (int i = 0; i < 5000; ++i) {
        inline_tables += "{a=";
    }
    EXPECT_FALSE(parse_policy(inline_tables, "p").ok());
}

TEST(PolicyHostile, TenMegabyteString) {
    const std::string huge(10u << 20, 'x');
    expect_error(
        "[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1\n"
        "description = \"" +
            huge + "\"\n",
        5, "bytes long; at most 4096");
    expect_error("[[defaults.rules]]\nname = \"" + huge + "\"\nmetric = \"bytes_in\"\nabove = 1\n",
                 2, "at most 128");
    const PolicyParse too_big = parse_policy(std::string(kMaxPolicyBytes + 1, '#'), "p");
    ASSERT_EQ(too_big.errors.size(), 1u);
    EXPECT_NE(too_big.errors[0].message.find("at most"), std::string::npos);
}

TEST(PolicyHostile, HugeNumbersAndNotNumbers) {
    expect_error("[defaults.flood]\npackets_per_second = 99999999999999999999999\n", 2,
                 "TOML syntax");
    expect_error("[defaults.flood]\npackets_per_second = 9223372036854775807\n", 2, "out of range");
    expect_error("[defaults.port_scan_inbound]\nwindow = 9223372036854775807\n", 2, "out of range");
    expect_error("[defaults.port_scan_inbound]\nwindow = -9223372036854775808\n", 2,
                 "out of range");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"99999999999999999999d\"\n", 2,
                 "is not a duration");
    expect_error("[defaults.port_scan_inbound]\nwindow = \"999999999d\"\n", 2, "out of range");
    expect_error("[defaults.flood]\npackets_per_second = nan\n", 2, "must be an integer");
    expect_error("[defaults.port_scan_inbound]\nwindow = -inf\n", 2, "must be a duration");
    expect_error("[[defaults.rules]]\nname = \"r\"\nmetric = \"bytes_in\"\nabove = 1e309\n", 4,
                 "TOML syntax");
}

}  // namespace
}  // namespace vigil::hub::detect

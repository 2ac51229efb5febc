// Each hygiene check on reports built by hand: the scans it answers, the findings and their
// evidence, and how a device that no longer shows the problem gets an empty scan (which closes
// the recommendation in the store).
#include "vigil/hub/recommend/hygiene.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report_builder.hpp"
#include "vigil/hub/detect/detection_context.hpp"

namespace vigil::hub::recommend {
namespace {

using test::ReportBuilder;

std::shared_ptr<const VulnerabilityCatalog> read_shipped_catalog() {
    std::ifstream in(VIGIL_VULNERABILITY_CATALOG, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    std::vector<detect::PolicyError> errors;
    auto catalog = VulnerabilityCatalog::parse(text.str(), "vulnerabilities.toml", errors);
    EXPECT_TRUE(catalog.has_value());
    return std::make_shared<const VulnerabilityCatalog>(catalog.value_or(VulnerabilityCatalog{}));
}

std::shared_ptr<const VulnerabilityCatalog> shipped_catalog() {
    static const std::shared_ptr<const VulnerabilityCatalog> catalog = read_shipped_catalog();
    return catalog;
}

class Hygiene : public ::testing::Test {
  protected:
    /// Every report through the detections and the hygiene checks; the scans of `kind`.
    std::vector<RecommendationScan> run(const std::vector<Report>& reports, const char* kind) {
        DetectionEffects effects;
        for (const Report& report : reports) {
            detect::process_report(settings_, intel_, state_, report, 42, effects, check_);
        }
        std::vector<RecommendationScan> scans;
        for (const RecommendationScan& scan : effects.recommendation_scans) {
            EXPECT_EQ(scan.device_id, test::kDevice);
            for (const RecommendationFinding& finding : scan.findings) {
                EXPECT_EQ(finding.kind, scan.kind);
                EXPECT_FALSE(finding.title.empty());
                EXPECT_FALSE(finding.rationale.empty());
                EXPECT_FALSE(finding.remediation.empty());
                EXPECT_TRUE(nlohmann::json::accept(finding.evidence_json)) << finding.evidence_json;
            }
            if (scan.kind == kind) {
                scans.push_back(scan);
            }
        }
        return scans;
    }
    /// The subjects of the last scan of `kind`; the scan must exist.
    std::vector<std::string> subjects(const std::vector<Report>& reports, const char* kind) {
        const auto scans = run(reports, kind);
        EXPECT_FALSE(scans.empty()) << kind;
        std::vector<std::string> out;
        if (!scans.empty()) {
            for (const RecommendationFinding& finding : scans.back().findings) {
                out.push_back(finding.subject);
            }
        }
        return out;
    }
    static Report with_system(ReportBuilder builder, const std::string& stack,
                              const std::string& version) {
        Report report = builder;
        report.system.emplace();
        report.system->os_name = "Eclipse ThreadX";
        report.system->os_version = "6.4.3";
        report.system->stack_name = stack;
        report.system->stack_version = version;
        return report;
    }

    detect::DeviceSettings settings_;
    detect::ThreatIntel intel_;
    detect::DeviceState state_;
    HygieneSettings hygiene_;
    /// How the device is connected to the broker, as the broker's guard said (none: unknown).
    std::optional<DeviceConnection> connection_;
    detect::ReportCheck check_ = hygiene_check(shipped_catalog, hygiene_,
                                               [this](const std::string&) { return connection_; });
};

TEST_F(Hygiene, PlainMqttToTheHubIsNoTlsUntilTheDeviceReconnectsOverTls) {
    EXPECT_TRUE(run({ReportBuilder(0).status(0)}, kNoTls).empty());  // not known yet
    connection_ = DeviceConnection{"192.168.1.9", false, 30, 1, "", 0, 0};
    EXPECT_TRUE(run({ReportBuilder(1)}, kNoTls).empty());  // judged on heartbeats only
    const auto scans = run({ReportBuilder(1).status(0)}, kNoTls);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    const auto evidence = nlohmann::json::parse(scans[0].findings[0].evidence_json);
    EXPECT_EQ(evidence["listener"], "plain MQTT");
    EXPECT_EQ(evidence["address"], "192.168.1.9");
    EXPECT_EQ(evidence["since_ms"], 30);
    EXPECT_EQ(scans[0].findings[0].severity, Severity::High);
    connection_ = DeviceConnection{"192.168.1.9", true, 40, 2, "", 0, 0};
    EXPECT_TRUE(subjects({ReportBuilder(2).status(0)}, kNoTls).empty());
}

// From the hub's own host no network is crossed: told, as information only.
TEST_F(Hygiene, PlainMqttFromTheHubsOwnHostIsInformation) {
    for (const char* address : {"127.0.0.1", "127.3.0.9", "::1", "::ffff:127.0.0.1"}) {
        connection_ = DeviceConnection{address, false, 30, 1, "", 0, 0};
        const auto scans = run({ReportBuilder(1).status(0)}, kNoTls);
        ASSERT_EQ(scans.size(), 1u) << address;
        ASSERT_EQ(scans[0].findings.size(), 1u) << address;
        EXPECT_EQ(scans[0].findings[0].severity, Severity::Info) << address;
    }
}

TEST_F(Hygiene, AnIdentityTakenInTurnsFromTwoAddressesIsShared) {
    hygiene_.shared_address_window_ms = 100;
    check_ = hygiene_check(shipped_catalog, hygiene_,
                           [this](const std::string&) { return connection_; });
    // Moved once (one address before): no second device.
    connection_ = DeviceConnection{"10.0.0.2", false, 30, 2, "10.0.0.1", 0, 0};
    EXPECT_TRUE(subjects({ReportBuilder(0)}, kSharedIdentity).empty());
    // Three returns, the last within the window of the hub's time (42 in these runs).
    connection_ = DeviceConnection{"10.0.0.1", false, 30, 6, "10.0.0.2", 3, 40};
    const auto scans = run({ReportBuilder(1)}, kSharedIdentity);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    const auto evidence = nlohmann::json::parse(scans[0].findings[0].evidence_json);
    EXPECT_EQ(evidence["addresses"], (nlohmann::json{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(evidence["address_returns"], 3);
    EXPECT_FALSE(evidence.contains("boots"));
    // The last return longer ago than the window: closed.
    connection_->last_return_ms = 42 - 101;
    EXPECT_TRUE(subjects({ReportBuilder(2)}, kSharedIdentity).empty());
}

TEST_F(Hygiene, DisabledSecurityCollectorsAreFoundUntilTurnedOn) {
    Report off = ReportBuilder(0).status(0);
    off.status->collectors = 1U << 3 | 1U << 2;  // heartbeat and system information only
    EXPECT_EQ(subjects({off}, kCollectorDisabled),
              (std::vector<std::string>{"network", "listening_ports"}));
    Report on = ReportBuilder(1).status(0);
    on.status->collectors = 0b11110;
    EXPECT_TRUE(subjects({on}, kCollectorDisabled).empty());
    // A heartbeat that does not say judges nothing.
    EXPECT_TRUE(run({ReportBuilder(2).status(0)}, kCollectorDisabled).empty());
}

TEST(BrokerConnectionsTest, TurnsBetweenTwoAddressesAreCountedAndAMoveIsNot) {
    BrokerConnections connections(60'000);
    ASSERT_TRUE(connections.take_report(
        R"({"epoch":"e1","devices":{"a":{"connections":2,"recent":[[1,"10.0.0.1",0,100],[2,"10.0.0.2",1,101]]}}})"));
    auto a = connections.find("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->address, "10.0.0.2");
    EXPECT_TRUE(a->tls);
    EXPECT_EQ(a->since_ms, 101'000);
    EXPECT_EQ(a->address_returns, 0u);
    // The same connections again (a retained report read twice) count nothing; three returns.
    ASSERT_TRUE(connections.take_report(
        R"({"epoch":"e1","devices":{"a":{"connections":5,"recent":[[2,"10.0.0.2",1,101],[3,"10.0.0.1",0,102],[4,"10.0.0.2",0,103],[5,"10.0.0.1",0,104]]}}})"));
    a = connections.find("a");
    EXPECT_EQ(a->address_returns, 3u);
    EXPECT_EQ(a->last_return_ms, 104'000);
    EXPECT_EQ(a->other_address, "10.0.0.2");
    // A new broker start numbers from 1 again; a return long after starts the count again.
    ASSERT_TRUE(connections.take_report(
        R"({"epoch":"e2","devices":{"a":{"connections":1,"recent":[[1,"10.0.0.1",0,900]]}}})"));
    EXPECT_EQ(connections.find("a")->address_returns, 0u);
    EXPECT_FALSE(connections.find("b").has_value());
}

TEST(BrokerConnectionsTest, ABadReportChangesNothing) {
    BrokerConnections connections(60'000);
    ASSERT_TRUE(connections.take_report(
        R"({"epoch":"e","devices":{"a":{"connections":1,"recent":[[1,"10.0.0.1",0,100]]}}})"));
    const std::string long_address(64, '1');
    for (const std::string& bad :
         {std::string("not json"), std::string(R"({"epoch":1,"devices":{}})"),
          std::string(R"({"epoch":"e","devices":{"a":{"recent":[[2,"10.0.0.2",0]]}}})"),
          std::string(R"({"epoch":"e","devices":{"a":{"recent":[[2,"",0,1]]}}})"),
          R"({"epoch":"e","devices":{"a":{"recent":[[2,")" + long_address + R"(",0,1]]}}})",
          std::string(R"({"epoch":"e","devices":{"b":{"recent":[[1,"10.0.0.3",0,1]]},"a":5}})")}) {
        EXPECT_FALSE(connections.take_report(bad)) << bad;
    }
    EXPECT_EQ(connections.find("a")->address, "10.0.0.1");
    EXPECT_FALSE(connections.find("b").has_value());
}

TEST(NoteTurnTest, OneRuleForBootsAndAddresses) {
    std::string current, previous;
    uint32_t returns = 0;
    int64_t last = 0;
    EXPECT_FALSE(note_turn(current, previous, returns, last, "x", 0, 10));
    EXPECT_TRUE(note_turn(current, previous, returns, last, "y", 1, 10));
    EXPECT_TRUE(note_turn(current, previous, returns, last, "x", 2, 10));
    EXPECT_EQ(returns, 1u);
    EXPECT_TRUE(note_turn(current, previous, returns, last, "z", 3, 10));  // a third: no return
    EXPECT_EQ(returns, 1u);
    // Back to the one before, but long after the last return: counted from none again.
    EXPECT_TRUE(note_turn(current, previous, returns, last, "x", 50, 10));
    EXPECT_EQ(returns, 1u);
    EXPECT_EQ(last, 50);
}

TEST_F(Hygiene, AVulnerableStackIsFoundWithItsEvidenceAndClosesOnceUpdated) {
    const auto scans =
        run({with_system(ReportBuilder(0), "NetX Duo", "6.2.1")}, kVulnerableFirmware);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);  // ThreadX 6.4.3 has none; NetX Duo 6.2.1 many
    const RecommendationFinding& netx = scans[0].findings[0];
    EXPECT_EQ(netx.subject, "netxduo");
    EXPECT_EQ(netx.severity, Severity::Critical);
    EXPECT_NE(netx.remediation.find("6.4.3"), std::string::npos) << netx.remediation;
    const auto evidence = nlohmann::json::parse(netx.evidence_json);
    EXPECT_EQ(evidence["reported_version"], "6.2.1");
    EXPECT_EQ(evidence["field"], "stack");
    EXPECT_NE(netx.evidence_json.find("CVE-2023-48316"), std::string::npos);
    EXPECT_EQ(scans[0].observed_ms, test::kStartMs);

    EXPECT_TRUE(subjects({with_system(ReportBuilder(1), "NetX Duo", "6.4.4")}, kVulnerableFirmware)
                    .empty());
}

// The entries of a release are worked out once per catalog; each report's evidence still names
// that report, and reads as one JSON object would have written it.
TEST_F(Hygiene, EachReportOfAVulnerableReleaseHasItsOwnEvidence) {
    const auto scans = run({with_system(ReportBuilder(0), "NetX Duo", "6.1.7"),
                            with_system(ReportBuilder(1), "NetX Duo", "6.1.7")},
                           kVulnerableFirmware);
    ASSERT_EQ(scans.size(), 2u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    ASSERT_EQ(scans[1].findings.size(), 1u);
    auto first = nlohmann::json::parse(scans[0].findings[0].evidence_json);
    auto second = nlohmann::json::parse(scans[1].findings[0].evidence_json);
    EXPECT_EQ(first.dump(), scans[0].findings[0].evidence_json);
    EXPECT_EQ(first["message_key"], "boot-a:0");
    EXPECT_EQ(second["message_key"], "boot-a:1");
    EXPECT_EQ(first["vulnerabilities"].size(), second["vulnerabilities"].size());
    EXPECT_GT(first["vulnerabilities"].size(), 5u);
    first.erase("message_key");
    second.erase("message_key");
    EXPECT_EQ(first, second);
    EXPECT_EQ(scans[0].findings[0].evidence_key, scans[1].findings[0].evidence_key);
    // The key holds the release and its CVEs: the store keeps the first report's evidence.
    EXPECT_FALSE(scans[0].findings[0].refresh_evidence);
}

// A catalog brought into force (a drop-in correcting an entry) is what the next report is judged
// against, with nothing kept from the one before.
TEST_F(Hygiene, ANewCatalogJudgesTheNextReport) {
    std::shared_ptr<const VulnerabilityCatalog> in_force = shipped_catalog();
    const detect::ReportCheck check = hygiene_check([&] { return in_force; });
    const auto evidence_of = [&](int index) {
        DetectionEffects effects;
        detect::process_report(settings_, intel_, state_,
                               with_system(ReportBuilder(index), "NetX Duo", "6.1.7"), 42, effects,
                               check);
        for (const RecommendationScan& scan : effects.recommendation_scans) {
            if (scan.kind == kVulnerableFirmware && scan.findings.size() == 1) {
                return scan.findings[0].evidence_json;
            }
        }
        ADD_FAILURE() << "no vulnerable firmware in report " << index;
        return std::string("{}");
    };
    EXPECT_EQ(evidence_of(0).find("corrected"), std::string::npos);

    VulnerabilityCatalog corrected = *shipped_catalog();
    const std::string drop_in =
        "schema = 1\nrevision = \"local-1\"\n"
        "[[vulnerability]]\nids = [\"CVE-2023-48316\"]\nproduct = \"netxduo\"\n"
        "components = \"SNMP\"\nsummary = \"corrected\"\nseverity = \"critical\"\n"
        "affected = [{ last_affected = \"6.2.1\" }]\nfixed_in = \"6.3.0\"\nsources = [\"x\"]\n";
    std::vector<detect::PolicyError> errors;
    const auto parsed = VulnerabilityCatalog::parse(drop_in, "local.toml", errors, &corrected);
    ASSERT_TRUE(parsed.has_value()) << (errors.empty() ? "" : errors[0].message);
    corrected.merge(*parsed);
    in_force = std::make_shared<const VulnerabilityCatalog>(corrected);

    const auto evidence = nlohmann::json::parse(evidence_of(1));
    EXPECT_NE(evidence.dump().find("corrected"), std::string::npos) << evidence.dump();
    EXPECT_NE(evidence["catalog_revision"].get<std::string>().find("local-1"), std::string::npos);
}

TEST_F(Hygiene, ReportsWithoutSystemInformationJudgeNoFirmware) {
    EXPECT_TRUE(run({ReportBuilder(0).outbound("192.168.1.2", 443)}, kVulnerableFirmware).empty());
    EXPECT_TRUE(run({ReportBuilder(1)}, kUnknownFirmwareVersion).empty());
}

TEST_F(Hygiene, AnUnreadableVersionIsUnknownAndShownSafely) {
    const auto scans = run({with_system(ReportBuilder(0), "lwIP", "2.1.2\n2026-12-07 forged\xff")},
                           kUnknownFirmwareVersion);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    const RecommendationFinding& finding = scans[0].findings[0];
    EXPECT_EQ(finding.subject, "lwip");
    EXPECT_EQ(finding.rationale.find('\n'), std::string::npos);
    EXPECT_EQ(finding.rationale.find('\xff'), std::string::npos);
    EXPECT_NE(finding.rationale.find("\\x0a"), std::string::npos) << finding.rationale;
    EXPECT_TRUE(subjects({with_system(ReportBuilder(1), "lwIP", "2.1.2")}, kUnknownFirmwareVersion)
                    .empty());
}

TEST_F(Hygiene, ListeningTelnetAndAcceptedFtpAreCleartextUntilTheyStop) {
    EXPECT_EQ(subjects({ReportBuilder(0).listening({22, 23})}, kCleartextService),
              std::vector<std::string>{"tcp/23"});
    // FTP accepted in the flows, with no listening-port report saying so.
    EXPECT_EQ(
        subjects({ReportBuilder(1).inbound("192.168.1.7", 21, "completed")}, kCleartextService),
        (std::vector<std::string>{"tcp/23", "tcp/21"}));
    // Telnet gone from the listening ports; FTP not seen again for a day.
    EXPECT_EQ(subjects({ReportBuilder(2).listening({22})}, kCleartextService),
              std::vector<std::string>{"tcp/21"});
    EXPECT_TRUE(subjects({ReportBuilder(2 + 24 * 360 + 1)}, kCleartextService).empty());
    // A refused attempt is no service.
    EXPECT_TRUE(
        subjects({ReportBuilder(9000).inbound("192.168.1.7", 23, "refused")}, kCleartextService)
            .empty());
}

TEST_F(Hygiene, CleartextToTheInternetButNotToTheLocalNetwork) {
    EXPECT_TRUE(
        subjects({ReportBuilder(0).outbound("192.168.1.10", 80)}, kCleartextOutbound).empty());
    EXPECT_EQ(subjects({ReportBuilder(1).outbound("93.184.216.34", 80)}, kCleartextOutbound),
              std::vector<std::string>{"tcp/80"});
    EXPECT_TRUE(
        subjects({ReportBuilder(1).outbound("93.184.216.34", 443)}, kCleartextOutbound).size() ==
        1u)
        << "HTTPS adds nothing; HTTP is remembered for a day";
}

TEST_F(Hygiene, ConnectionsAcceptedFromTheInternetAreExposure) {
    EXPECT_TRUE(subjects({ReportBuilder(0).inbound("10.1.2.3", 22, "completed")}, kInternetExposure)
                    .empty());
    EXPECT_TRUE(
        subjects({ReportBuilder(1).inbound("203.0.113.9", 22, "refused")}, kInternetExposure)
            .empty());
    const auto scans =
        run({ReportBuilder(2).inbound("203.0.113.9", 22, "completed")}, kInternetExposure);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    EXPECT_EQ(scans[0].findings[0].subject, "tcp/22");
    EXPECT_EQ(scans[0].findings[0].severity, Severity::High);
    EXPECT_NE(scans[0].findings[0].evidence_json.find("203.0.113.9"), std::string::npos);
    EXPECT_TRUE(subjects({ReportBuilder(3 + 24 * 360)}, kInternetExposure).empty());
}

TEST_F(Hygiene, TwoAgentsUnderOneIdentityAreCaughtAndARebootIsNot) {
    // One agent in a reboot loop: a new boot id every few reports, never an old one again.
    std::vector<Report> reboot;
    for (int i = 0; i < 20; ++i) {
        reboot.push_back(ReportBuilder(i).boot("boot-" + std::to_string(i / 3)));
    }
    for (const auto& scan : run(reboot, kSharedIdentity)) {
        EXPECT_TRUE(scan.findings.empty());
    }
    std::vector<Report> shared;
    for (int i = 0; i < 8; ++i) {
        shared.push_back(ReportBuilder(100 + i).boot(i % 2 ? "boot-c" : "boot-d"));
    }
    const auto scans = run(shared, kSharedIdentity);
    ASSERT_FALSE(scans.empty());
    ASSERT_EQ(scans.back().findings.size(), 1u);
    const auto evidence = nlohmann::json::parse(scans.back().findings[0].evidence_json);
    EXPECT_EQ(evidence["boots"], (nlohmann::json{"boot-c", "boot-d"}));
    EXPECT_GE(evidence["returns"].get<int>(), 3);
    // One of the two stops: a day later the identity is clear again.
    EXPECT_TRUE(
        subjects({ReportBuilder(100 + 8 + 24 * 360).boot("boot-c")}, kSharedIdentity).empty());
}

TEST_F(Hygiene, ASharedIdentityClosesWhicheverOfTheTwoAgentsStays) {
    std::vector<Report> shared;
    for (int i = 0; i < 8; ++i) {
        shared.push_back(ReportBuilder(100 + i).boot(i % 2 ? "boot-c" : "boot-d"));
    }
    ASSERT_EQ(run(shared, kSharedIdentity).back().findings.size(), 1u);
    // The agent left is the one that reported second to last: its first report a day later
    // goes back to a boot id, but one return in a day is no second agent.
    EXPECT_TRUE(
        subjects({ReportBuilder(100 + 8 + 24 * 360).boot("boot-d")}, kSharedIdentity).empty());
}

TEST_F(Hygiene, AnOldAgentAndTheAgentHealthAlarmsAreRecommendations) {
    Report old = ReportBuilder(0);
    old.agent_version = "0.0.9";
    EXPECT_EQ(subjects({old}, kOutdatedAgent), std::vector<std::string>{""});
    Report current = ReportBuilder(1);
    current.agent_version = "0.1.0";
    EXPECT_TRUE(subjects({current}, kOutdatedAgent).empty());

    EXPECT_TRUE(subjects({ReportBuilder(2).status(5)}, kDataDropped).empty());
    EXPECT_EQ(subjects({ReportBuilder(3).status(9)}, kDataDropped), std::vector<std::string>{""});
    EXPECT_TRUE(subjects({ReportBuilder(4).boot("boot-b").status(0)}, kDataDropped).empty());
}

TEST_F(Hygiene, AClockBehindTheHubsSaysHowFarAndWhichWay) {
    std::vector<Report> behind;
    for (int i = 0; i < 3; ++i) {
        Report report = ReportBuilder(i);
        report.received_ms = report.device_time_ms + 7'200'000;
        behind.push_back(report);
    }
    const auto scans = run(behind, kClockSkew);
    ASSERT_FALSE(scans.empty());
    ASSERT_EQ(scans.back().findings.size(), 1u);
    EXPECT_NE(scans.back().findings[0].rationale.find("7200 s behind the hub's"), std::string::npos)
        << scans.back().findings[0].rationale;
}

TEST_F(Hygiene, ManySmallMessagesADayComputeTheSaving) {
    std::vector<Report> day;
    for (int i = 0; i <= 8640; ++i) {  // every 10 s for a day, 200 bytes each
        Report report = ReportBuilder(i);
        report.payload_bytes = 200;
        day.push_back(report);
    }
    const auto scans = run(day, kSmallMessages);
    ASSERT_EQ(scans.size(), 1u);
    ASSERT_EQ(scans[0].findings.size(), 1u);
    const auto evidence = nlohmann::json::parse(scans[0].findings[0].evidence_json);
    EXPECT_EQ(evidence["messages_per_day"], 8640);
    EXPECT_EQ(evidence["average_bytes"], 200);
    EXPECT_EQ(evidence["billed_if_full"], (8640 * 200 + 4095) / 4096);
    EXPECT_EQ(evidence["interval_factor"], 20);
}

TEST_F(Hygiene, TheStateRoundTripsAndAnOlderStateIsReadWithoutIt) {
    run({ReportBuilder(0).inbound("203.0.113.9", 23, "completed").boot("boot-x")}, "");
    ASSERT_FALSE(state_.hygiene.exposed.empty());
    const auto decoded = detect::decode_state(detect::encode_state(state_));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->hygiene.exposed.size(), 1u);
    EXPECT_EQ(decoded->hygiene.cleartext_accepted.size(), 1u);
    EXPECT_EQ(decoded->hygiene.boot, "boot-x");

    // A state written before the hygiene tables existed: version 1, without their 14 bytes.
    detect::DeviceState before = state_;
    before.hygiene = {};
    std::vector<uint8_t> bytes = detect::encode_state(before);
    ASSERT_EQ(bytes.front(), 2);
    bytes.front() = 1;
    bytes.resize(bytes.size() - 14);
    const auto old = detect::decode_state(bytes);
    ASSERT_TRUE(old.has_value());
    EXPECT_TRUE(old->hygiene.exposed.empty());
    EXPECT_EQ(old->listening_known, state_.listening_known);
    bytes.front() = 2;
    EXPECT_FALSE(detect::decode_state(bytes).has_value()) << "version 2 needs its tables";
}

}  // namespace
}  // namespace vigil::hub::recommend

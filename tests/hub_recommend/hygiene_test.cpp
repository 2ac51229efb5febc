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
    detect::ReportCheck check_ = hygiene_check(shipped_catalog, hygiene_);
};

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

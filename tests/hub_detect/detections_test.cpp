// Each detection on reports built by hand: what it raises, what it must not raise, and when it
// clears.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report_builder.hpp"
#include "vigil/hub/detect/engine.hpp"

namespace vigil::hub::detect {
namespace {

using test::ReportBuilder;

ThreatIntel intel_of(std::initializer_list<const char*> blocks) {
    Feed feed;
    feed.name = "test.txt";
    uint32_t line = 0;
    for (const char* text : blocks) {
        Indicator indicator;
        indicator.block = *parse_cidr(text).cidr;
        indicator.category = "botnet-c2";
        indicator.source = "test.txt";
        indicator.line = ++line;
        feed.indicators.push_back(indicator);
    }
    return ThreatIntel({feed});
}

class Detections : public ::testing::Test {
  protected:
    /// Every report through process_report, the effects of all of them.
    DetectionEffects run(const std::vector<Report>& reports) {
        DetectionEffects effects;
        for (const Report& report : reports) {
            process_report(settings_, intel_, state_, report, 42, effects);
        }
        return effects;
    }
    static std::vector<std::string> types(const DetectionEffects& effects) {
        std::vector<std::string> out;
        for (const AlertRaise& alert : effects.alerts) {
            out.push_back(alert.type + " " + alert.subject);
        }
        return out;
    }

    DeviceSettings settings_;
    ThreatIntel intel_;
    DeviceState state_;
};

TEST_F(Detections, AListedAddressAlertsAndItsNeighbourDoesNot) {
    intel_ = intel_of({"203.0.113.66", "192.0.2.0/28"});
    const auto effects = run({ReportBuilder(0)
                                  .outbound("203.0.113.66", 443)
                                  .outbound("203.0.113.67", 443)
                                  .outbound("192.0.2.15", 80)
                                  .outbound("192.0.2.16", 80)});
    ASSERT_EQ(types(effects), (std::vector<std::string>{"intel.malicious_ip 192.0.2.15",
                                                        "intel.malicious_ip 203.0.113.66"}));
    const AlertRaise& alert = effects.alerts[1];
    EXPECT_EQ(alert.category, AlertCategory::MaliciousIp);
    EXPECT_EQ(alert.severity, Severity::High);
    EXPECT_EQ(alert.first_observed_ms, test::kStartMs - test::kWindowMs);
    EXPECT_EQ(alert.last_observed_ms, test::kStartMs);
    EXPECT_EQ(alert.raised_ms, 42);
    EXPECT_FALSE(alert.title.empty());
    EXPECT_FALSE(alert.remediation.empty());
    EXPECT_FALSE(alert.technique.empty());
    const auto evidence = nlohmann::json::parse(alert.evidence_json);
    EXPECT_EQ(evidence["indicator"]["block"], "203.0.113.66/32");
    EXPECT_EQ(evidence["flows"].size(), 1u);
    EXPECT_EQ(evidence["flows"][0]["remote"], "203.0.113.66");
}

TEST_F(Detections, TrustedAddressesAreNeverThreats) {
    intel_ = intel_of({"203.0.113.0/24"});
    settings_.trusted = {*parse_cidr("203.0.113.5").cidr};
    EXPECT_TRUE(run({ReportBuilder(0).outbound("203.0.113.5", 443)}).alerts.empty());
}

TEST_F(Detections, FifteenPortsFromOneRemoteInFiveMinutesIsAPortScan) {
    std::vector<Report> reports;
    for (int window = 0; window < 15; ++window) {
        // One new port every 20 s: 15 ports in 280 s, inside the 300 s window.
        reports.push_back(
            ReportBuilder(window * 2).inbound("203.0.113.9", static_cast<uint16_t>(20 + window)));
    }
    const auto effects = run(reports);
    ASSERT_EQ(types(effects), std::vector<std::string>{"scan.port_inbound 203.0.113.9"});
    const AlertRaise& alert = effects.alerts[0];
    EXPECT_EQ(alert.category, AlertCategory::PortScanInbound);
    EXPECT_EQ(alert.first_observed_ms, test::kStartMs - test::kWindowMs);
    EXPECT_EQ(alert.last_observed_ms, test::kStartMs + 28 * test::kWindowMs);
    const auto evidence = nlohmann::json::parse(alert.evidence_json);
    EXPECT_EQ(evidence["distinct_ports"], 15);
    EXPECT_EQ(evidence["refused"], 15);
}

TEST_F(Detections, FourteenPortsOrASlowScanIsNot) {
    std::vector<Report> fourteen;
    for (int port = 0; port < 14; ++port) {
        fourteen.push_back(
            ReportBuilder(port).inbound("203.0.113.9", static_cast<uint16_t>(port + 1)));
    }
    EXPECT_TRUE(run(fourteen).alerts.empty());
    state_ = {};
    std::vector<Report> slow;  // one port a minute: never 15 within five minutes
    for (int port = 0; port < 30; ++port) {
        slow.push_back(
            ReportBuilder(port * 6).inbound("203.0.113.9", static_cast<uint16_t>(port + 1)));
    }
    EXPECT_TRUE(run(slow).alerts.empty());
}

TEST_F(Detections, AScanClearsOnceTheScannerHasBeenQuietForTheWindow) {
    ReportBuilder burst(0);
    for (uint16_t port = 1; port <= 20; ++port) {
        burst.inbound("203.0.113.9", port);
    }
    ASSERT_EQ(run({burst}).alerts.size(), 1u);
    const auto later = run({ReportBuilder(31).outbound("198.51.100.1", 8883)});
    ASSERT_EQ(later.clears.size(), 1u);
    EXPECT_EQ(later.clears[0].type, "scan.port_inbound");
    EXPECT_EQ(later.clears[0].subject, "203.0.113.9");
}

TEST_F(Detections, ManyHostsOnOnePortIsAnOutboundScan) {
    ReportBuilder report(0);
    for (int host = 1; host <= 25; ++host) {
        report.outbound("203.0.113." + std::to_string(host), 23, Protocol::Tcp, "unanswered");
    }
    const auto effects = run({report});
    ASSERT_EQ(types(effects), std::vector<std::string>{"scan.outbound tcp/23"});
    EXPECT_EQ(effects.alerts[0].category, AlertCategory::ScanOutbound);
    EXPECT_EQ(nlohmann::json::parse(effects.alerts[0].evidence_json)["failed"], 25);
}

TEST_F(Detections, TwentyFourHostsIsNotAScan) {
    ReportBuilder report(0);
    for (int host = 1; host <= 24; ++host) {
        report.outbound("203.0.113." + std::to_string(host), 443);
    }
    EXPECT_TRUE(run({report}).alerts.empty());
}

TEST_F(Detections, AnEchoSweepIsAnOutboundScan) {
    ReportBuilder report(0);
    for (int host = 1; host <= 30; ++host) {
        report.ping("192.0.2." + std::to_string(host));
    }
    EXPECT_EQ(types(run({report})), std::vector<std::string>{"scan.icmp_sweep icmp/8"});
}

TEST_F(Detections, PacketsPerSecondAboveTheRuleIsAFloodAndClearsBelowIt) {
    // 20,000 SYNs in a 10 s window: 2,000 per second against the default 1,000.
    const auto flood = run({ReportBuilder(0).packets("203.0.113.77", Protocol::Tcp, 20000, 10)});
    ASSERT_EQ(types(flood), std::vector<std::string>{"flood.inbound tcp"});
    EXPECT_EQ(flood.alerts[0].category, AlertCategory::Flood);
    const auto evidence = nlohmann::json::parse(flood.alerts[0].evidence_json);
    EXPECT_EQ(evidence["packets_per_second"], 2000);
    EXPECT_EQ(evidence["top_sources"][0]["peer"], "203.0.113.77");
    const auto calm = run({ReportBuilder(1).packets("203.0.113.77", Protocol::Tcp, 50, 50)});
    EXPECT_TRUE(calm.alerts.empty());
    ASSERT_EQ(calm.clears.size(), 1u);
    EXPECT_EQ(calm.clears[0].type, "flood.inbound");
}

TEST_F(Detections, AnOutboundUdpFloodNamesItsVictim) {
    const auto effects = run({ReportBuilder(0).packets("192.0.2.200", Protocol::Udp, 0, 15000)});
    ASSERT_EQ(types(effects), std::vector<std::string>{"flood.outbound udp"});
    EXPECT_EQ(nlohmann::json::parse(effects.alerts[0].evidence_json)["top_victims"][0]["peer"],
              "192.0.2.200");
}

TEST_F(Detections, AllowListsCoverDestinationsSourcesAndAcceptedPorts) {
    settings_.allow.outbound = std::vector<Cidr>{*parse_cidr("198.51.100.0/24").cidr};
    settings_.allow.inbound = std::vector<Cidr>{*parse_cidr("198.51.100.0/24").cidr};
    settings_.allow.tcp_ports = std::vector<uint16_t>{80};
    const auto effects = run({ReportBuilder(0)
                                  .outbound("198.51.100.1", 8883)
                                  .outbound("203.0.113.5", 443)
                                  .inbound("198.51.100.7", 80, "completed")
                                  .inbound("198.51.100.7", 2323, "completed")
                                  .inbound("192.0.2.1", 80, "refused")});
    EXPECT_EQ(types(effects),
              (std::vector<std::string>{"allow.outbound 203.0.113.5", "allow.inbound 192.0.2.1",
                                        "allow.accepted_port tcp/2323"}));
    for (const AlertRaise& alert : effects.alerts) {
        EXPECT_EQ(alert.category, AlertCategory::AllowlistViolation);
    }
}

TEST_F(Detections, ANewListeningPortAlertsAfterTheBaselineAndClearsWhenClosed) {
    EXPECT_TRUE(run({ReportBuilder(0).listening({80, 8883})}).alerts.empty());
    const auto opened = run({ReportBuilder(1).listening({80, 8883, 2323})});
    ASSERT_EQ(types(opened), std::vector<std::string>{"ports.new_listening tcp/2323"});
    EXPECT_EQ(opened.alerts[0].category, AlertCategory::NewListeningPort);
    const auto closed = run({ReportBuilder(2).listening({80, 8883})});
    ASSERT_EQ(closed.clears.size(), 1u);
    EXPECT_EQ(closed.clears[0].subject, "tcp/2323");
    EXPECT_TRUE(run({ReportBuilder(3).listening({80, 8883, 2323})}).alerts.empty())
        << "a port seen before is not new";
}

TEST_F(Detections, AListeningPortOutsideTheAllowedSetAlertsFromTheFirstReport) {
    settings_.allow.tcp_ports = std::vector<uint16_t>{80};
    EXPECT_EQ(types(run({ReportBuilder(0).listening({80, 23})})),
              std::vector<std::string>{"allow.listening_port tcp/23"});
}

TEST_F(Detections, ACustomRuleAlarmsAfterItsDatapointsAndClearsAfterItsOwn) {
    CustomRule rule;
    rule.name = "upload-cap";
    rule.metric = RuleMetric::BytesOut;
    rule.above = 1'000'000;
    rule.window_s = 60;
    rule.alarm_after = 2;
    rule.clear_after = 2;
    rule.category = AlertCategory::Exfiltration;
    settings_.rules = {rule};
    // Window k of the rule holds device reports 6k..6k+5 (10 s each).
    auto minute = [](int k, uint64_t bytes) {
        std::vector<Report> reports;
        for (int i = 0; i < 6; ++i) {
            const int index = 6 * k + i + 6 * 3000;  // aligned to the rule's windows
            reports.push_back(ReportBuilder(index).bytes_out("203.0.113.1", bytes / 6));
        }
        return reports;
    };
    EXPECT_TRUE(run(minute(0, 3'000'000)).alerts.empty()) << "one spike pages no one";
    const auto second = run(minute(1, 3'000'000));
    ASSERT_EQ(types(second), std::vector<std::string>{"rule.upload-cap "});
    EXPECT_EQ(second.alerts[0].category, AlertCategory::Exfiltration);
    EXPECT_EQ(nlohmann::json::parse(second.alerts[0].evidence_json)["consecutive_datapoints"], 2);
    EXPECT_TRUE(run(minute(2, 10'000)).clears.empty()) << "one quiet window does not clear";
    const auto cleared = run(minute(3, 10'000));
    EXPECT_TRUE(cleared.clears.empty()) << "the window is judged when the next one starts";
    const auto after = run(minute(4, 10'000));
    ASSERT_EQ(after.clears.size(), 1u);
    EXPECT_EQ(after.clears[0].type, "rule.upload-cap");
}

TEST_F(Detections, AnAboveRuleAlertsAsSoonAsItsWindowCrossesTheLine) {
    CustomRule rule;
    rule.name = "burst";
    rule.metric = RuleMetric::BytesOut;
    rule.above = 1000;
    rule.window_s = 300;
    settings_.rules = {rule};
    EXPECT_TRUE(run({ReportBuilder(30000).bytes_out("203.0.113.1", 600)}).alerts.empty());
    EXPECT_EQ(run({ReportBuilder(30001).bytes_out("203.0.113.1", 600)}).alerts.size(), 1u);
}

TEST_F(Detections, DroppedMessagesAlertAndANewBootStartsTheCountersOver) {
    EXPECT_TRUE(run({ReportBuilder(0).status(5)}).alerts.empty())
        << "the first status is the baseline";
    EXPECT_EQ(types(run({ReportBuilder(1).status(9)})),
              std::vector<std::string>{"health.messages_dropped "});
    const auto rebooted = run({ReportBuilder(2).boot("boot-b").status(2)});
    EXPECT_TRUE(rebooted.alerts.empty());
    ASSERT_EQ(rebooted.clears.size(), 1u);
    EXPECT_EQ(types(run({ReportBuilder(3).boot("boot-b").status(2, 100)})),
              std::vector<std::string>{"health.backlog "});
}

TEST_F(Detections, ASteadyClockOffsetIsSkewAndAReplayIsNot) {
    std::vector<Report> skewed;
    for (int i = 0; i < 3; ++i) {
        ReportBuilder report(i);
        report.received(report.build().device_time_ms + 3'600'000);  // an hour behind
        skewed.push_back(report);
    }
    EXPECT_EQ(types(run(skewed)), std::vector<std::string>{"health.clock_skew "});
    state_ = {};
    std::vector<Report> replayed;  // a day-old capture replayed at once: offsets drift
    for (int i = 0; i < 30; ++i) {
        replayed.push_back(ReportBuilder(i).received(test::kStartMs + 86'400'000 + i * 100));
    }
    EXPECT_EQ(types(run(replayed)), std::vector<std::string>{});
}

TEST_F(Detections, DisabledDetectionsRaiseNothing) {
    settings_.inbound_scan.enabled = false;
    settings_.flood.enabled = false;
    ReportBuilder report(0);
    for (uint16_t port = 1; port <= 40; ++port) {
        report.inbound("203.0.113.9", port, "refused", 1000, 0);
    }
    EXPECT_TRUE(run({report}).alerts.empty());
}

TEST_F(Detections, TheSameReportsGiveTheSameAlertsWhateverTheHubClock) {
    intel_ = intel_of({"203.0.113.66"});
    ReportBuilder report(0);
    report.outbound("203.0.113.66", 443);
    for (uint16_t port = 1; port <= 20; ++port) {
        report.inbound("192.0.2.9", port);
    }
    DetectionEffects first, second;
    DeviceState a, b;
    process_report(settings_, intel_, a, report, 1, first);
    process_report(settings_, intel_, b, report, 999'999, second);
    ASSERT_EQ(first.alerts.size(), second.alerts.size());
    for (size_t i = 0; i < first.alerts.size(); ++i) {
        EXPECT_EQ(first.alerts[i].evidence_json, second.alerts[i].evidence_json);
        EXPECT_EQ(first.alerts[i].first_observed_ms, second.alerts[i].first_observed_ms);
    }
    EXPECT_EQ(encode_state(a), encode_state(b));
}

}  // namespace
}  // namespace vigil::hub::detect

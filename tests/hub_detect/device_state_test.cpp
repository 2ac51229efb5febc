// The state's bytes: what is written reads back the same, what is damaged is refused, and the
// tables stay within their ceilings whatever a device does.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "report_builder.hpp"
#include "vigil/hub/detect/engine.hpp"

namespace vigil::hub::detect {
namespace {

using test::ReportBuilder;

DeviceState busy_state() {
    DeviceSettings settings;
    CustomRule rule;
    rule.name = "cap";
    rule.above = 10;
    settings.rules = {rule};
    ThreatIntel intel;
    DeviceState state;
    DetectionEffects effects;
    ReportBuilder report(0);
    for (int i = 0; i < 40; ++i) {
        report.inbound("203.0.113." + std::to_string(i % 3), static_cast<uint16_t>(i + 1));
        report.outbound("2001:db8::" + std::to_string(i + 1), 23, Protocol::Tcp, "unanswered");
        report.ping("192.0.2." + std::to_string(i + 1));
    }
    report.listening({80, 443}).status(3, 2);
    process_report(settings, intel, state, report, 0, effects);
    return state;
}

TEST(DeviceState, ReadsBackWhatWasWritten) {
    const DeviceState state = busy_state();
    const auto bytes = encode_state(state);
    const auto decoded = decode_state(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(encode_state(*decoded), bytes);
    EXPECT_EQ(decoded->scanners.size(), state.scanners.size());
    EXPECT_EQ(decoded->probes.size(), state.probes.size());
    EXPECT_EQ(decoded->listening, state.listening);
    EXPECT_EQ(decoded->rules.size(), 1u);
}

TEST(DeviceState, RefusesDamagedBytes) {
    auto bytes = encode_state(busy_state());
    EXPECT_FALSE(decode_state({}));
    EXPECT_FALSE(decode_state({99}));  // a version this hub does not know
    std::vector<uint8_t> truncated(bytes.begin(), bytes.end() - 1);
    EXPECT_FALSE(decode_state(truncated));
    bytes.push_back(0);
    EXPECT_FALSE(decode_state(bytes)) << "trailing bytes";
}

RC_GTEST_PROP(DeviceState, AnyBytesDecodeOrAreRefusedWithoutHarm, (std::vector<uint8_t> bytes)) {
    if (const auto state = decode_state(bytes)) {
        RC_ASSERT(state->scanners.size() <= kMaxScanners);
        RC_ASSERT(decode_state(encode_state(*state)).has_value());
    }
}

TEST(DeviceState, StaysBoundedWhateverTheDeviceTalksTo) {
    DeviceSettings settings;
    settings.inbound_scan.ports = 100000;  // never alert: keep growing if it could
    settings.outbound_scan.hosts = 100000;
    ThreatIntel intel;
    DeviceState state;
    for (int window = 0; window < 50; ++window) {
        ReportBuilder report(window);
        for (int i = 0; i < 200; ++i) {
            const int n = window * 200 + i;
            const std::string address = "10." + std::to_string(n / 65536 % 256) + "." +
                                        std::to_string(n / 256 % 256) + "." +
                                        std::to_string(n % 256);
            report.inbound(address, static_cast<uint16_t>(n % 60000 + 1));
            report.outbound(address, static_cast<uint16_t>(n % 50 + 1));
        }
        DetectionEffects effects;
        process_report(settings, intel, state, report, 0, effects);
    }
    EXPECT_LE(state.scanners.size(), kMaxScanners);
    EXPECT_LE(state.probes.size(), kMaxProbes);
    for (const OutboundProbe& probe : state.probes) {
        EXPECT_LE(probe.hosts.size(), kMaxTrackedPerEntry);
    }
    EXPECT_LE(encode_state(state).size(), 4096u * 24);
}

}  // namespace
}  // namespace vigil::hub::detect

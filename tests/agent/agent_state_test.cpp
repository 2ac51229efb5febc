// The state machine, the backlog across hub outages, send retries, runtime config and
// enable/disable.
#include <gtest/gtest.h>

#include <memory>

#include "agent_harness.hpp"
#include "vigil/agent/vigil_agent.h"

namespace vigil::test {
namespace {

using agent::State;
using agent::Status;
using protocol::Message;
using DefaultAgent = agent::Agent<>;
/// Backlog big enough for a 10-minute outage of one flow per window.
using RoomyAgent = agent::Agent<64, 16, 64 * 1024>;

const std::string kDevice = "192.0.2.10";

void steady_traffic(Harness<RoomyAgent>& h, int seconds) {
    for (int s = 0; s < seconds; ++s) {
        h.send(ipv4_packet(kDevice, "198.51.100.1",
                           tcp_segment(40000, 8883, tcp::kAck | tcp::kPsh, 100)),
               VIGIL_OUTBOUND);
        h.run_for(1000);
    }
}

TEST(AgentStates, HubDownTenMinutesLosesNothingThatFitsTheBacklog) {
    auto h = std::make_unique<Harness<RoomyAgent>>();
    steady_traffic(*h, 30);
    EXPECT_EQ(h->agent.state(), State::Active);

    h->platform.connected = false;
    steady_traffic(*h, 299);
    EXPECT_EQ(h->agent.state(), State::Pending);
    steady_traffic(*h, 2);
    EXPECT_EQ(h->agent.state(), State::Suspended);
    steady_traffic(*h, 299);
    EXPECT_EQ(h->agent.state(), State::Suspended);
    EXPECT_GT(h->agent.backlog_messages(), 55u);

    h->platform.connected = true;
    steady_traffic(*h, 1);
    EXPECT_EQ(h->agent.state(), State::Active);
    EXPECT_EQ(h->agent.backlog_messages(), 0u);
    h->run_for(20000);  // flush the last window

    const auto messages = h->messages();
    EXPECT_EQ(totals(messages), h->sent);
    EXPECT_EQ(h->agent.counters().messages_dropped, 0u);
    // Every message arrives once, in order, with no gap in the sequence.
    for (size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(messages[i].sequence, i);
        EXPECT_EQ(messages[i].boot_id, messages[0].boot_id);
    }
    // After the outage, system information is sent again (it was skipped while suspended).
    bool system_after = false;
    for (const Message& m : messages) {
        system_after = system_after || (m.system && m.uptime >= 630);
    }
    EXPECT_TRUE(system_after);
}

TEST(AgentStates, SmallBacklogDropsOldestAndCountsThem) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    h.platform.connected = false;
    for (int s = 0; s < 600; ++s) {
        for (int i = 0; i < 4; ++i) {
            h.send(ipv4_packet(kDevice, "198.51.100." + std::to_string(i + 1),
                               udp_datagram(50000, 5683, 100)),
                   VIGIL_OUTBOUND);
        }
        h.run_for(1000);
    }
    EXPECT_LE(h.agent.backlog_bytes(), size_t{VIGIL_BACKLOG_BYTES});
    EXPECT_GT(h.agent.counters().messages_dropped, 0u);

    h.platform.connected = true;
    h.run_for(61000);
    const uint64_t dropped = h.agent.counters().messages_dropped;
    const auto messages = h.messages();
    // Sequence numbers show exactly which messages were dropped.
    uint64_t gaps = 0;
    for (size_t i = 1; i < messages.size(); ++i) {
        ASSERT_GT(messages[i].sequence, messages[i - 1].sequence);
        gaps += messages[i].sequence - messages[i - 1].sequence - 1;
    }
    EXPECT_EQ(gaps, dropped);
    uint64_t last_reported = 0;
    for (const Message& m : messages) {
        last_reported = m.heartbeat ? m.heartbeat->messages_dropped : last_reported;
    }
    EXPECT_EQ(last_reported, dropped);
}

TEST(AgentStates, FailedSendIsRetriedAfterTheRetryDelay) {
    Harness<DefaultAgent> h;
    h.platform.send_result = -1;
    h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 10)), VIGIL_OUTBOUND);
    h.run_for(100, 100);
    EXPECT_EQ(h.platform.send_attempts, 1u);
    EXPECT_EQ(h.agent.counters().send_failures, 1u);
    h.run_for(2800, 100);
    EXPECT_EQ(h.platform.send_attempts, 1u);  // not before 3 s
    h.run_for(200, 100);
    EXPECT_EQ(h.platform.send_attempts, 2u);
    h.platform.send_result = 0;  // busy: retried later, not a failure
    h.run_for(3000, 100);
    EXPECT_EQ(h.agent.counters().send_failures, 2u);
    h.platform.send_result = 1;
    h.run_for(3000, 100);
    EXPECT_EQ(h.agent.backlog_messages(), 0u);
    EXPECT_EQ(totals(h.messages()), h.sent);
}

TEST(AgentStates, DisableDetachesAndEnableResumes) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    ASSERT_EQ(h.agent.disable(), Status::Ok);
    EXPECT_EQ(h.platform.detach_calls, 1);
    EXPECT_EQ(h.agent.state(), State::NotInitialised);
    EXPECT_EQ(h.agent.tick(), Status::Disabled);
    const auto packet = ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 10));
    h.agent.packet(packet.data(), packet.size(), VIGIL_OUTBOUND, 0, h.platform.now_ms);
    EXPECT_EQ(h.agent.counters().packets_seen, 0u);

    ASSERT_EQ(h.agent.enable(), Status::Ok);
    EXPECT_EQ(h.platform.attach_calls, 2);
    EXPECT_EQ(h.agent.state(), State::Pending);
    h.send(packet, VIGIL_OUTBOUND);
    h.run_for(11000);
    EXPECT_EQ(totals(h.messages()), h.sent);
}

std::vector<uint8_t> config_bytes(const wire::ConfigFields& config) {
    cbor::Writer counter;
    wire::encode_config(counter, config);
    std::vector<uint8_t> out(counter.size());
    cbor::Writer writer(out.data(), out.size());
    wire::encode_config(writer, config);
    return out;
}

TEST(AgentConfig, ValidConfigChangesIntervalsAndCollectors) {
    Harness<DefaultAgent> h;
    h.run_for(1000);
    wire::ConfigFields config = h.agent.config();
    config.version = 7;
    config.interval_s[0] = 5;
    config.collectors[static_cast<size_t>(wire::CollectorId::System) - 1].enabled = false;
    const auto bytes = config_bytes(config);
    ASSERT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::Ok);
    EXPECT_EQ(h.agent.config().version, 7u);
    h.platform.published.clear();
    for (int s = 0; s < 60; ++s) {
        h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 10)), VIGIL_OUTBOUND);
        h.run_for(1000);
    }
    size_t network = 0;
    for (const Message& m : h.messages()) {
        network += m.network ? 1 : 0;
        EXPECT_FALSE(m.system.has_value());
        if (m.heartbeat) {
            EXPECT_EQ(m.heartbeat->config_version, 7u);
            EXPECT_EQ(m.heartbeat->collectors & (1u << 2), 0u);
        }
    }
    EXPECT_EQ(network, 12u);  // every 5 s
}

TEST(AgentConfig, InvalidConfigIsRejectedWholeWithItsReason) {
    Harness<DefaultAgent> h;
    const wire::ConfigFields before = h.agent.config();

    wire::ConfigFields bad = before;
    bad.version = 3;
    bad.interval_s[1] = 0;
    auto bytes = config_bytes(bad);
    EXPECT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::BadInterval);

    // Unknown key 9, in an otherwise valid message: {1: 4, 2: [1,1,1], 9: 0}.
    const std::vector<uint8_t> unknown = {0xA3, 0x01, 0x04, 0x02, 0x83,
                                          0x01, 0x01, 0x01, 0x09, 0x00};
    EXPECT_EQ(h.agent.apply_config(unknown.data(), unknown.size()), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::UnknownKey);
    const std::vector<uint8_t> garbage = {0xFF, 0x00, 0x13};
    EXPECT_EQ(h.agent.apply_config(garbage.data(), garbage.size()), Status::InvalidConfig);
    EXPECT_EQ(h.agent.apply_config(nullptr, 0), Status::InvalidConfig);

    const auto& after = h.agent.config();
    EXPECT_EQ(after.version, before.version);
    for (size_t g = 0; g < wire::kPriorityCount; ++g) {
        EXPECT_EQ(after.interval_s[g], before.interval_s[g]);
    }

    bad.interval_s[1] = 30;
    bad.retry_s = 9;
    bad.version = 0;  // not newer than the build default, and other settings
    bytes = config_bytes(bad);
    EXPECT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::StaleVersion);

    // The heartbeat names the last rejected version and its reason.
    bad.version = 5;
    bad.collectors[0].priority = wire::Priority::High;
    bad.interval_s[2] = 999999;
    bytes = config_bytes(bad);
    EXPECT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::InvalidConfig);
    h.run_for(1000);
    bool reported = false;
    for (const Message& m : h.messages()) {
        if (m.heartbeat) {
            EXPECT_EQ(m.heartbeat->rejected_config_version, 5u);
            EXPECT_EQ(m.heartbeat->rejected_config_reason, wire::ConfigError::BadInterval);
            EXPECT_EQ(m.heartbeat->config_version, 0u);
            reported = true;
        }
    }
    EXPECT_TRUE(reported);
}

TEST(AgentConfig, LocalConfigSetsStartingSettingsThatAHubConfigReplaces) {
    Harness<DefaultAgent> h;
    wire::ConfigFields local = h.agent.config();
    local.interval_s[0] = 2;
    local.retry_s = 7;
    ASSERT_EQ(h.agent.apply_local_config(local), Status::Ok);
    EXPECT_EQ(h.agent.config().version, 0u);
    EXPECT_EQ(h.agent.config().interval_s[0], 2u);
    EXPECT_EQ(h.agent.config().retry_s, 7u);
    h.platform.published.clear();
    for (int s = 0; s < 10; ++s) {
        h.send(ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 10)), VIGIL_OUTBOUND);
        h.run_for(1000);
    }
    size_t network = 0;
    for (const Message& m : h.messages()) {
        network += m.network ? 1 : 0;
    }
    EXPECT_EQ(network, 5u);  // every 2 s

    // The hub's first config (version 1) is newer than any local settings.
    wire::ConfigFields hub = h.agent.config();
    hub.version = 1;
    hub.interval_s[0] = 4;
    const auto bytes = config_bytes(hub);
    ASSERT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::Ok);
    EXPECT_EQ(h.agent.config().interval_s[0], 4u);
    // Once the hub's config is in force, local settings no longer apply.
    EXPECT_EQ(h.agent.apply_local_config(local), Status::BadParameter);
    EXPECT_EQ(h.agent.config().interval_s[0], 4u);
}

TEST(AgentConfig, LocalConfigIsCheckedByTheHubsRules) {
    Harness<DefaultAgent> h;
    const wire::ConfigFields before = h.agent.config();
    wire::ConfigFields local = before;
    local.interval_s[2] = wire::kMaxIntervalS + 1;
    EXPECT_EQ(h.agent.apply_local_config(local), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::BadInterval);
    local = before;
    local.collectors[0].priority = static_cast<wire::Priority>(3);
    EXPECT_EQ(h.agent.apply_local_config(local), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::BadPriority);
    local = before;
    local.retry_s = 0;
    EXPECT_EQ(h.agent.apply_local_config(local), Status::InvalidConfig);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::BadValue);
    local = before;
    local.version = 3;  // versions belong to the hub's messages
    EXPECT_EQ(h.agent.apply_local_config(local), Status::BadParameter);
    EXPECT_TRUE(wire::same_settings(h.agent.config(), before));
    EXPECT_EQ(h.agent.config().version, 0u);
}

TEST(AgentConfig, RetainedConfigDeliveredAgainIsANoOp) {
    Harness<DefaultAgent> h;
    wire::ConfigFields config = h.agent.config();
    config.version = 4;
    config.retry_s = 5;
    const auto bytes = config_bytes(config);
    ASSERT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::Ok);
    // The broker sends the retained config again after every reconnect.
    EXPECT_EQ(h.agent.apply_config(bytes.data(), bytes.size()), Status::Ok);
    EXPECT_EQ(h.agent.last_config_error(), wire::ConfigError::None);
    EXPECT_EQ(h.agent.config().version, 4u);
    EXPECT_EQ(h.agent.config().retry_s, 5u);
}

TEST(AgentCAbi, DrivesTheLibraryInstance) {
    FakePlatform platform;
    const vigil_port port = platform.port();
    const vigil_transport transport = platform.transport();
    const vigil_options options{0};
    EXPECT_EQ(vigil_agent_tick(), VIGIL_NOT_INITIALISED);
    EXPECT_EQ(vigil_agent_init(nullptr, &transport, "c-device", &options), VIGIL_BAD_PARAMETER);
    ASSERT_EQ(vigil_agent_init(&port, &transport, "c-device", &options), VIGIL_OK);
    EXPECT_EQ(vigil_agent_state(), VIGIL_STATE_PENDING);
    const auto packet = ipv4_packet(kDevice, "198.51.100.1", udp_datagram(50000, 53, 10));
    vigil_agent_packet(packet.data(), packet.size(), VIGIL_OUTBOUND, 0, platform.now_ms);
    platform.now_ms += 1000;
    EXPECT_EQ(vigil_agent_tick(), VIGIL_OK);
    EXPECT_EQ(vigil_agent_state(), VIGIL_STATE_ACTIVE);
    ASSERT_FALSE(platform.published.empty());
    EXPECT_EQ(platform.published[0].topic, "devices/c-device/messages/events/");
    const uint8_t bad[] = {0x00};
    EXPECT_EQ(vigil_agent_apply_config(bad, sizeof bad), VIGIL_INVALID_CONFIG);
    // Starting settings: {1: 0, 2: [5, 30, 60]} applies at version 0; version 2 is the hub's.
    const uint8_t local[] = {0xA2, 0x01, 0x00, 0x02, 0x83, 0x05, 0x18, 0x1E, 0x18, 0x3C};
    EXPECT_EQ(vigil_agent_apply_local_config(local, sizeof local), VIGIL_OK);
    const uint8_t versioned[] = {0xA2, 0x01, 0x02, 0x02, 0x83, 0x05, 0x18, 0x1E, 0x18, 0x3C};
    EXPECT_EQ(vigil_agent_apply_local_config(versioned, sizeof versioned), VIGIL_BAD_PARAMETER);
    const uint8_t zero_interval[] = {0xA2, 0x01, 0x00, 0x02, 0x83, 0x00, 0x18, 0x1E, 0x18, 0x3C};
    EXPECT_EQ(vigil_agent_apply_local_config(zero_interval, sizeof zero_interval),
              VIGIL_INVALID_CONFIG);
    EXPECT_EQ(vigil_agent_apply_config(versioned, sizeof versioned), VIGIL_OK);
    EXPECT_EQ(vigil_agent_apply_local_config(local, sizeof local), VIGIL_BAD_PARAMETER);
    EXPECT_EQ(vigil_agent_disable(), VIGIL_OK);
    EXPECT_EQ(vigil_agent_state(), VIGIL_STATE_NOT_INITIALISED);
    EXPECT_STREQ(vigil_status_string(VIGIL_INVALID_CONFIG), "config rejected");
}

}  // namespace
}  // namespace vigil::test

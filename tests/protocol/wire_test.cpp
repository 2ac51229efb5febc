#include "vigil/protocol/wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cbor_tree.h"
#include "fields.h"

namespace vigil::wire {
namespace {

using test::Arr;
using test::Bool;
using test::Bstr;
using test::Bytes;
using test::hex;
using test::Map;
using test::Node;
using test::Raw;
using test::Tstr;
using test::U;

Bytes encoded(const ConfigFields& config) {
    return test::written([&](cbor::Writer& w) { encode_config(w, config); });
}

/// A config in force that differs from the build defaults everywhere, so a decode that touched
/// any field shows.
ConfigFields in_force() {
    ConfigFields config;
    config.version = 7;
    config.interval_s[0] = 5;
    config.interval_s[1] = 50;
    config.interval_s[2] = 500;
    config.collectors[0] = {false, Priority::Low};
    config.collectors[1] = {true, Priority::Medium};
    config.collectors[2] = {false, Priority::High};
    config.collectors[3] = {true, Priority::High};
    config.unicast_only = false;
    config.pending_timeout_s = 120;
    config.retry_s = 9;
    return config;
}

Node full_config_tree(uint64_t version) {
    return Map({{config_key::kVersion, U(version)},
                {config_key::kIntervals, Arr({U(1), U(2), U(86400)})},
                {config_key::kCollectors, Map({{1, Arr({Bool(true), U(0)})},
                                               {2, Arr({Bool(false), U(1)})},
                                               {3, Arr({Bool(true), U(2)})},
                                               {4, Arr({Bool(false), U(2)})}})},
                {config_key::kUnicastOnly, Bool(true)},
                {config_key::kPendingTimeout, U(86400)},
                {config_key::kRetry, U(3600)}});
}

struct Outcome {
    ConfigError error;
    ConfigFields config;
    uint32_t version;
};

Outcome decode(const Bytes& bytes, const ConfigFields& start = in_force()) {
    Outcome outcome{ConfigError::None, start, 0};
    outcome.error = decode_config(bytes.data(), bytes.size(), outcome.config, outcome.version);
    return outcome;
}

/// Decodes `bytes`, expects `error`, and checks the config in force was left alone.
void expect_rejected(const Bytes& bytes, ConfigError error) {
    const ConfigFields start = in_force();
    const Outcome outcome = decode(bytes, start);
    EXPECT_EQ(outcome.error, error) << to_string(outcome.error);
    EXPECT_EQ(encoded(outcome.config), encoded(start)) << "config changed on error";
}

TEST(WireConfig, AppliesAWholeConfig) {
    const Outcome outcome = decode(test::encode(full_config_tree(8)));
    ASSERT_EQ(outcome.error, ConfigError::None);
    EXPECT_EQ(outcome.version, 8u);
    const ConfigFields& c = outcome.config;
    EXPECT_EQ(c.version, 8u);
    EXPECT_EQ(c.interval_s[0], 1u);
    EXPECT_EQ(c.interval_s[1], 2u);
    EXPECT_EQ(c.interval_s[2], 86400u);
    EXPECT_TRUE(c.collectors[0].enabled);
    EXPECT_EQ(c.collectors[0].priority, Priority::High);
    EXPECT_FALSE(c.collectors[1].enabled);
    EXPECT_EQ(c.collectors[1].priority, Priority::Medium);
    EXPECT_TRUE(c.collectors[2].enabled);
    EXPECT_EQ(c.collectors[2].priority, Priority::Low);
    EXPECT_FALSE(c.collectors[3].enabled);
    EXPECT_EQ(c.collectors[3].priority, Priority::Low);
    EXPECT_TRUE(c.unicast_only);
    EXPECT_EQ(c.pending_timeout_s, 86400u);
    EXPECT_EQ(c.retry_s, 3600u);
}

TEST(WireConfig, KeysLeftOutKeepTheirValues) {
    const Outcome outcome =
        decode(test::encode(Map({{config_key::kVersion, U(9)},
                                 {config_key::kCollectors, Map({{2, Arr({Bool(false), U(0)})}})},
                                 {config_key::kRetry, U(1)}})));
    ASSERT_EQ(outcome.error, ConfigError::None);
    ConfigFields expected = in_force();
    expected.version = 9;
    expected.collectors[1] = {false, Priority::High};
    expected.retry_s = 1;
    EXPECT_EQ(encoded(outcome.config), encoded(expected));
}

TEST(WireConfig, EncodeDecodeRoundTrip) {
    ConfigFields config = in_force();
    config.version = 1234567;
    ConfigFields decoded;  // build defaults, version 0
    uint32_t version = 0;
    const Bytes bytes = encoded(config);
    ASSERT_EQ(decode_config(bytes.data(), bytes.size(), decoded, version), ConfigError::None);
    EXPECT_EQ(version, 1234567u);
    EXPECT_EQ(encoded(decoded), bytes);
}

TEST(WireConfig, EncodingIsDeterministic) {
    // Keys ascending, shortest integers: the bytes of the build defaults, written out.
    ConfigFields config;
    config.version = 1;
    EXPECT_EQ(encoded(config), hex("a6 0101 02830a181e183c 03a4 0182f500 0282f502 0382f502 "
                                   "0482f501 04f5 0519012c 0603"));
}

TEST(WireConfig, RejectsUnknownKeys) {
    Node tree = full_config_tree(8);
    tree.append(U(7), U(1));
    expect_rejected(test::encode(tree), ConfigError::UnknownKey);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kRetry + 10, U(1)}})),
                    ConfigError::UnknownKey);
}

TEST(WireConfig, RejectsUnknownCollectors) {
    expect_rejected(test::encode(Map({{1, U(8)}, {3, Map({{5, Arr({Bool(true), U(0)})}})}})),
                    ConfigError::UnknownCollector);
    expect_rejected(test::encode(Map({{1, U(8)}, {3, Map({{1000, Arr({Bool(true), U(0)})}})}})),
                    ConfigError::UnknownCollector);
}

TEST(WireConfig, RejectsIntervalsOutOfRange) {
    for (uint64_t bad : {uint64_t{0}, uint64_t{86401}, uint64_t{0xFFFFFFFF}}) {
        SCOPED_TRACE(bad);
        for (size_t slot = 0; slot < kPriorityCount; ++slot) {
            Node tree = full_config_tree(8);
            tree.at(config_key::kIntervals)[slot] = U(bad);
            expect_rejected(test::encode(tree), ConfigError::BadInterval);
        }
    }
    Node tree = full_config_tree(8);
    tree.at(config_key::kIntervals)[1] = U(uint64_t{1} << 32);
    expect_rejected(test::encode(tree), ConfigError::BadInterval);
}

TEST(WireConfig, RejectsUnknownPriorities) {
    for (uint64_t bad : {uint64_t{3}, uint64_t{255}, uint64_t{1} << 40}) {
        Node tree = full_config_tree(8);
        tree.at(config_key::kCollectors).at(2)[1] = U(bad);
        expect_rejected(test::encode(tree), ConfigError::BadPriority);
    }
}

TEST(WireConfig, RejectsVersionsNotNewer) {
    // The config in force has version 7.
    expect_rejected(test::encode(full_config_tree(7)), ConfigError::StaleVersion);
    expect_rejected(test::encode(full_config_tree(0)), ConfigError::StaleVersion);
    const Outcome outcome = decode(test::encode(full_config_tree(3)));
    EXPECT_EQ(outcome.error, ConfigError::StaleVersion);
    EXPECT_EQ(outcome.version, 3u) << "the rejected version is reported";
}

TEST(WireConfig, RejectsOtherValuesOutOfRange) {
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kPendingTimeout, U(0)}})),
                    ConfigError::BadValue);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kPendingTimeout, U(86401)}})),
                    ConfigError::BadValue);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kRetry, U(0)}})),
                    ConfigError::BadValue);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kRetry, U(3601)}})),
                    ConfigError::BadValue);
}

TEST(WireConfig, RejectsValuesBeyond32Bits) {
    const uint64_t huge = uint64_t{1} << 32;
    expect_rejected(test::encode(Map({{1, U(huge)}})), ConfigError::BadValue);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kPendingTimeout, U(huge)}})),
                    ConfigError::BadValue);
    expect_rejected(test::encode(Map({{1, U(8)}, {config_key::kRetry, U(~uint64_t{0})}})),
                    ConfigError::BadValue);
}

TEST(WireConfig, RejectsWrongTypes) {
    const Node cases[] = {
        Arr({U(1), U(8)}),                                     // not a map
        Map({}),                                               // no version
        Map({{2, Arr({U(1), U(2), U(3)})}}),                   // version not first
        Map({{1, Tstr("8")}}),                                 // version a string
        Map({{1, U(8)}, {2, U(10)}}),                          // intervals not an array
        Map({{1, U(8)}, {2, Arr({U(1), U(2)})}}),              // two intervals
        Map({{1, U(8)}, {2, Arr({U(1), U(2), U(3), U(4)})}}),  // four intervals
        Map({{1, U(8)}, {2, Arr({U(1), Bool(true), U(3)})}}),  // interval a bool
        Map({{1, U(8)}, {3, Arr({})}}),                        // collectors not a map
        Map({{1, U(8)}, {3, Map({{1, Bool(true)}})}}),         // setting not an array
        Map({{1, U(8)}, {3, Map({{1, Arr({Bool(true)})}})}}),  // setting of one item
        Map({{1, U(8)}, {3, Map({{1, Arr({U(1), U(0)})}})}}),  // enabled not a bool
        Map({{1, U(8)}, {3, Map({{1, Arr({Bool(true), Bool(false)})}})}}),  // priority a bool
        Map({{1, U(8)}, {4, U(1)}}),                // unicast_only not a bool
        Map({{1, U(8)}, {5, Tstr("300")}}),         // timeout a string
        Map({{1, U(8)}, {6, Raw(hex("f93c00"))}}),  // retry a float
    };
    for (const Node& tree : cases) {
        const Bytes bytes = test::encode(tree);
        SCOPED_TRACE(testing::PrintToString(bytes));
        expect_rejected(bytes, ConfigError::Malformed);
    }
}

TEST(WireConfig, RejectsKeysOutOfOrderOrRepeated) {
    Node repeated = Map({{1, U(8)}, {4, Bool(true)}});
    repeated.append(U(4), Bool(false));
    expect_rejected(test::encode(repeated), ConfigError::Malformed);
    Node backwards = Map({{1, U(8)}, {5, U(60)}});
    backwards.append(U(4), Bool(false));
    expect_rejected(test::encode(backwards), ConfigError::Malformed);
    Node collectors = Map({{1, U(8)}, {3, Map({{2, Arr({Bool(true), U(0)})}})}});
    collectors.at(3).append(U(1), Arr({Bool(true), U(0)}));
    expect_rejected(test::encode(collectors), ConfigError::Malformed);
}

TEST(WireConfig, RejectsTrailingBytes) {
    Bytes bytes = test::encode(full_config_tree(8));
    bytes.push_back(0x00);
    expect_rejected(bytes, ConfigError::Malformed);
}

TEST(WireConfig, RejectsEveryTruncation) {
    const Bytes bytes = test::encode(full_config_tree(8));
    for (size_t length = 0; length < bytes.size(); ++length) {
        SCOPED_TRACE(length);
        const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
        const ConfigFields start = in_force();
        ConfigFields config = start;
        uint32_t version = 0;
        const ConfigError error =
            decode_config(prefix.empty() ? nullptr : prefix.data(), prefix.size(), config, version);
        EXPECT_NE(error, ConfigError::None);
        EXPECT_EQ(encoded(config), encoded(start));
    }
}

TEST(WireConfig, RejectsNonDeterministicCbor) {
    expect_rejected(hex("a1 01 1808"), ConfigError::Malformed);   // version 8 in two bytes
    expect_rejected(hex("bf 01 08 ff"), ConfigError::Malformed);  // indefinite map
    expect_rejected(hex("a1 01 c108"), ConfigError::Malformed);   // tagged version
}

TEST(WireConfig, ErrorsHaveText) {
    for (uint8_t code = 0; code <= static_cast<uint8_t>(ConfigError::Unavailable); ++code) {
        EXPECT_STRNE(to_string(static_cast<ConfigError>(code)), "unknown config error");
    }
}

// --- message pieces -----------------------------------------------------------------------

Bytes flow_bytes(const FlowFields& flow) {
    return test::written([&](cbor::Writer& w) { encode_flow(w, flow); });
}

TEST(WireFlow, NineItemsInOrder) {
    FlowFields flow;
    flow.flags = static_cast<uint8_t>(Protocol::Tcp) | flow_flag::kRemoteOpened |
                 (static_cast<uint8_t>(Handshake::Refused) << flow_flag::kHandshakeShift);
    flow.local_port = 443;
    flow.remote_port = 51000;
    flow.bytes_in = 1500;
    flow.bytes_out = 70000;
    flow.packets_in = 3;
    flow.packets_out = 24;
    flow.first_s = 0;
    flow.last_s = 9;
    // 443 is the first well-known port: written as -1, the single byte 0x20.
    EXPECT_EQ(flow_bytes(flow), hex("1824 20 19c738 1905dc 1a00011170 03 1818 00 09"));
    EXPECT_EQ(flow_size(flow), flow_bytes(flow).size());
}

/// A flow seen from 2 s to 9 s into its window.
FlowFields typical(uint8_t flags, uint16_t local_port, uint16_t remote_port, uint32_t bytes_in,
                   uint32_t bytes_out, uint32_t packets_in, uint32_t packets_out) {
    return test::flow(flags, local_port, remote_port, bytes_in, bytes_out, packets_in, packets_out,
                      2, 9);
}

// The table of typical IPv4 flows in docs/protocol.md ("Size"), in a ten-second window.
TEST(WireFlow, TypicalIpv4FlowsCostUnder18Bytes) {
    const uint8_t tcp = static_cast<uint8_t>(Protocol::Tcp);
    const uint8_t udp = static_cast<uint8_t>(Protocol::Udp);
    const uint8_t icmp = static_cast<uint8_t>(Protocol::Icmp);
    EXPECT_EQ(flow_size(typical(udp, 40000, 53, 120, 60, 1, 1)), 13u);         // DNS
    EXPECT_EQ(flow_size(typical(udp, 40001, 123, 76, 76, 1, 1)), 13u);         // NTP
    EXPECT_EQ(flow_size(typical(tcp, 49152, 8883, 85, 85, 2, 2)), 13u);        // MQTT keep-alive
    EXPECT_EQ(flow_size(typical(tcp, 49152, 8883, 4200, 2900, 14, 12)), 15u);  // publishing
    EXPECT_EQ(flow_size(typical(icmp, 8, 0, 84, 84, 1, 1)), 11u);              // echo
    // The bound: every field at its widest.
    FlowFields widest = typical(0x3F & ~0x03, 65535, 65535, ~0u, ~0u, ~0u, ~0u);
    widest.first_s = ~0u;
    widest.last_s = ~0u;
    EXPECT_EQ(flow_size(widest), 38u);
}

TEST(WireOverflow, SixItems) {
    OverflowFields overflow;
    overflow.family = 6;
    overflow.protocol = Protocol::Udp;
    overflow.bytes_in = 100;
    overflow.bytes_out = 0;
    overflow.packets_in = 1;
    overflow.packets_out = 0;
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_overflow(w, overflow); }),
              hex("86 06 01 1864 00 01 00"));
}

TEST(WireAddress, EncodesByFamilyAndDecodesBack) {
    Address v4;
    v4.family = 4;
    v4.bytes[0] = 192;
    v4.bytes[1] = 0;
    v4.bytes[2] = 2;
    v4.bytes[3] = 1;
    v4.bytes[4] = 0xAA;  // beyond the family's size: never written
    const Bytes bytes = test::written([&](cbor::Writer& w) { encode_address(w, v4); });
    EXPECT_EQ(bytes, hex("44c0000201"));
    Address any;
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_address(w, any); }), hex("40"));

    cbor::Reader in(bytes.data(), bytes.size());
    Address decoded;
    ASSERT_TRUE(decode_address(in, decoded));
    EXPECT_EQ(decoded.family, 4);
    EXPECT_EQ(decoded.bytes[3], 1);
    EXPECT_EQ(decoded.bytes[4], 0) << "the tail is cleared";

    const Bytes five = hex("450102030405");
    cbor::Reader bad(five.data(), five.size());
    EXPECT_FALSE(decode_address(bad, decoded));
    EXPECT_EQ(bad.error(), cbor::ReadError::OutOfRange);
}

TEST(WireHeartbeat, ConfigRejectionOnlyWhenThereIsOne) {
    HeartbeatFields hb;
    hb.state = AgentState::Active;
    const Bytes plain = test::written([&](cbor::Writer& w) { encode_heartbeat(w, hb); });
    EXPECT_EQ(plain, hex("ae 0102 0200 0300 0400 0500 0600 0700 0800 0900 0a00 0b00 0d00 0e00 "
                         "0f00"));
    hb.rejected_config_version = 12;
    hb.rejected_config_reason = ConfigError::BadInterval;
    const Bytes rejected = test::written([&](cbor::Writer& w) { encode_heartbeat(w, hb); });
    EXPECT_EQ(rejected, hex("af 0102 0200 0300 0400 0500 0600 0700 0800 0900 0a00 0b00 "
                            "0c820c04 0d00 0e00 0f00"));
}

TEST(WireSystem, LeavesOutUnknownFieldsAndClipsLists) {
    SystemFields sys;
    sys.os_name = "ThreadX";
    sys.board = "";
    sys.address_count = 100;  // more than there is room for: clipped
    for (Address& address : sys.addresses) {
        address.family = 4;
    }
    sys.mac_count = 1;
    const Bytes bytes = test::written([&](cbor::Writer& w) { encode_system(w, sys); });
    // map(4); 2: "ThreadX"; 7: ""; 8: eight addresses; 9: one MAC.
    Bytes expected = hex("a4 02 6754687265616458 07 60 08 88");
    for (size_t i = 0; i < kMaxSystemAddresses; ++i) {
        const Bytes zero = hex("4400000000");
        expected.insert(expected.end(), zero.begin(), zero.end());
    }
    const Bytes macs = hex("09 81 46000000000000");
    expected.insert(expected.end(), macs.begin(), macs.end());
    EXPECT_EQ(bytes, expected);
}

TEST(WireSystem, ClipsLongStringsAtACharacterBoundary) {
    std::string long_name(kMaxSystemString - 1, 'a');
    long_name += "\xc3\xa9";  // the two-byte character straddles the limit
    SystemFields sys;
    sys.os_name = long_name.c_str();
    const Bytes bytes = test::written([&](cbor::Writer& w) { encode_system(w, sys); });
    // map(1), key 2, text(63)
    ASSERT_EQ(bytes.size(), 1 + 1 + 2 + kMaxSystemString - 1);
    EXPECT_EQ(bytes[2], 0x78);
    EXPECT_EQ(bytes[3], kMaxSystemString - 1);
}

TEST(WireListeningPorts, ProtocolPortAddress) {
    ListeningPortFields ports[2];
    ports[0].protocol = Protocol::Tcp;
    ports[0].port = 22;
    ports[1].protocol = Protocol::Udp;
    ports[1].port = 5683;
    ports[1].address.family = 6;
    ports[1].address.bytes[15] = 1;
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_listening_ports(w, ports, 2); }),
              hex("82 83 00 16 40 83 01 191633 50 00000000000000000000000000000001"));
}

TEST(WireEnvelope, FiveKeysThenRoomForTheEvents) {
    Envelope envelope;
    envelope.boot_id = 0x01020304;
    envelope.sequence = 7;
    envelope.unix_time = 0;
    envelope.uptime = 24;
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_envelope(w, envelope, 2); }),
              hex("a7 0101 021a01020304 0307 0400 051818"));
}

TEST(WireNames, CollectorsAndPriorities) {
    EXPECT_STREQ(collector_name(static_cast<uint32_t>(CollectorId::Network)), "network");
    EXPECT_STREQ(collector_name(static_cast<uint32_t>(CollectorId::System)), "system");
    EXPECT_STREQ(collector_name(static_cast<uint32_t>(CollectorId::Heartbeat)), "heartbeat");
    EXPECT_STREQ(collector_name(static_cast<uint32_t>(CollectorId::ListeningPorts)),
                 "listening_ports");
    EXPECT_EQ(collector_name(0), nullptr);
    EXPECT_EQ(collector_name(kCollectorCount + 1), nullptr);
    EXPECT_STREQ(kPriorityNames[static_cast<size_t>(Priority::Medium)], "medium");

    CollectorId id = CollectorId::Network;
    EXPECT_TRUE(collector_from_name("listening_ports", 15, id));
    EXPECT_EQ(id, CollectorId::ListeningPorts);
    EXPECT_TRUE(collector_from_name("system-x", 6, id));  // only the length given is read
    EXPECT_EQ(id, CollectorId::System);
    for (const char* other : {"", "sys", "systems", "system_information", "Network"}) {
        EXPECT_FALSE(collector_from_name(other, std::strlen(other), id)) << other;
    }
    Priority priority = Priority::High;
    EXPECT_TRUE(priority_from_name("low", 3, priority));
    EXPECT_EQ(priority, Priority::Low);
    EXPECT_FALSE(priority_from_name("lowest", 6, priority));
    EXPECT_FALSE(priority_from_name("lo", 2, priority));
    EXPECT_FALSE(priority_from_name(nullptr, 0, priority));
}

TEST(WireConfig, EncodesOnlyTheSelectedKeys) {
    ConfigFields config = in_force();
    config.version = 9;
    ConfigKeys keys = ConfigKeys::none();
    keys.collectors[1] = true;
    keys.retry = true;
    const Bytes bytes = test::written([&](cbor::Writer& w) { encode_config(w, config, keys); });
    EXPECT_EQ(bytes,
              test::encode(Map({{config_key::kVersion, U(9)},
                                {config_key::kCollectors, Map({{2, Arr({Bool(true), U(1)})}})},
                                {config_key::kRetry, U(config.retry_s)}})));
    // Only the version: the map holds one pair.
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_config(w, config, ConfigKeys::none()); }),
              hex("a1 0109"));
    // Every key: the agent's complete config.
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_config(w, config, ConfigKeys{}); }),
              encoded(config));
}

TEST(WireConfig, SaysWhichKeysAMessageCarried) {
    const Bytes bytes =
        test::encode(Map({{config_key::kVersion, U(9)},
                          {config_key::kIntervals, Arr({U(1), U(2), U(3)})},
                          {config_key::kCollectors, Map({{4, Arr({Bool(false), U(2)})}})},
                          {config_key::kPendingTimeout, U(60)}}));
    ConfigFields config = in_force();
    uint32_t version = 0;
    ConfigKeys keys;
    ASSERT_EQ(decode_config_settings(bytes.data(), bytes.size(), config, version, keys),
              ConfigError::None);
    EXPECT_EQ(version, 9u);
    EXPECT_TRUE(keys.intervals);
    EXPECT_FALSE(keys.collectors[0] || keys.collectors[1] || keys.collectors[2]);
    EXPECT_TRUE(keys.collectors[3]);
    EXPECT_FALSE(keys.unicast_only);
    EXPECT_TRUE(keys.pending_timeout);
    EXPECT_FALSE(keys.retry);
    ConfigKeys again = ConfigKeys::none();
    again.intervals = again.collectors[3] = again.pending_timeout = true;
    EXPECT_EQ(test::written([&](cbor::Writer& w) { encode_config(w, config, again); }), bytes);
}

}  // namespace
}  // namespace vigil::wire

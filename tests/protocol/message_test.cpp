#include "vigil/protocol/message.h"
#include "fields.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cbor_tree.h"
#include "message_gen.h"

namespace vigil::protocol {

void PrintTo(const Message& message, std::ostream* out) {
    *out << to_json(message, -1);
}
void showValue(const Message& message, std::ostream& out) {
    out << to_json(message, -1);
}

namespace {

using test::Arr;
using test::Bool;
using test::Bstr;
using test::Bytes;
using test::flow;
using test::hex;
using test::Map;
using test::Node;
using test::Port;
using test::Raw;
using test::Tstr;
using test::U;

// --- a message written by hand ------------------------------------------------------------

const Bytes kLocal4 = {192, 0, 2, 1};
const Bytes kRemote4 = {198, 51, 100, 7};
const Bytes kLocal6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const Bytes kRemote6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};
const Bytes kMac = {0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd};

wire::Address address(const Bytes& bytes) {
    wire::Address out;
    out.family = bytes.size() == 4 ? 4 : bytes.size() == 16 ? 6 : 0;
    std::memcpy(out.bytes, bytes.data(), bytes.size());
    return out;
}

const wire::FlowFields kTcp = flow(0x04, 8883, 51000, 4200, 2900, 14, 12, 0, 9);  // remote opened
const wire::FlowFields kUdp = flow(0x01 | 0x08, 40000, 53, 120, 60, 1, 1, 3, 3);  // inferred
const wire::FlowFields kIcmp = flow(0x02, 128, 0, 64, 64, 1, 1, 5, 5);            // echo
const wire::FlowFields kRefused = flow(0x20, 45000, 23, 40, 60, 1, 1, 7, 7);      // SYN, RST

void append_flow(Node& group, const wire::FlowFields& f) {
    const bool icmp = (f.flags & 0x03) == 2;
    group.items.push_back(U(f.flags));
    group.items.push_back(icmp ? U(f.local_port) : Port(f.local_port));
    group.items.push_back(icmp ? U(f.remote_port) : Port(f.remote_port));
    for (uint64_t item : {uint64_t{f.bytes_in}, uint64_t{f.bytes_out}, uint64_t{f.packets_in},
                          uint64_t{f.packets_out}, uint64_t{f.first_s}, uint64_t{f.last_s}}) {
        group.items.push_back(U(item));
    }
}

Node group(uint64_t local_index, const Bytes& remote, std::vector<wire::FlowFields> flows) {
    Node out = Arr({U(local_index), Bstr(remote)});
    for (const wire::FlowFields& f : flows) {
        append_flow(out, f);
    }
    return out;
}

Node heartbeat_tree() {
    return Map({{1, U(2)},
                {2, U(5)},
                {3, U(100000)},
                {4, U(3)},
                {5, U(40)},
                {6, U(0)},
                {7, U(17)},
                {8, U(1)},
                {9, U(0)},
                {10, U(2)},
                {11, U(300)},
                {12, Arr({U(6), U(4)})},
                {13, U(0)},
                {14, U(1)},
                {15, U(0x1E)}});
}

/// Every section, every protocol, both families.
Node full_tree() {
    return Map({{1, U(1)},
                {2, U(0xDEADBEEF)},
                {3, U(42)},
                {4, U(1700000000)},
                {5, U(3600)},
                {10, Map({{1, U(1500)},
                          {2, U(10000)},
                          {3, Arr({Bstr(kLocal4), Bstr(kLocal6)})},
                          {4, Arr({group(0, kRemote4, {kTcp, kUdp, kRefused}),
                                   group(1, kRemote6, {kIcmp}), group(0, kLocal4, {kUdp})})},
                          {5, Arr({Arr({U(4), U(0), U(100), U(200), U(1), U(2)}),
                                   Arr({U(6), U(1), U(0), U(70000), U(0), U(9)})})},
                          {6, Arr({U(0), U(2)})}})},
                {11, Map({{1, Tstr("0.1.0")},
                          {2, Tstr("ThreadX")},
                          {3, Tstr("6.4")},
                          {4, Tstr("NetX Duo")},
                          {5, Tstr("6.4")},
                          {6, Tstr("fw-1.2.3")},
                          {7, Tstr("STM32H7 \xc3\xa9val")},
                          {8, Arr({Bstr(kLocal4), Bstr(kLocal6)})},
                          {9, Arr({Bstr(kMac)})}})},
                {12, Arr({Arr({U(0), U(22), Bstr({})}), Arr({U(1), U(5683), Bstr(kLocal6)}),
                          Arr({U(0), U(443), Bstr(kLocal4)})})},
                {13, heartbeat_tree()}});
}

Message full_message() {
    Message m;
    m.version = 1;
    m.boot_id = 0xDEADBEEF;
    m.sequence = 42;
    m.unix_time = 1700000000;
    m.uptime = 3600;
    NetworkActivity& n = m.network.emplace();
    n.window_start_age_ms = 1500;
    n.window_duration_ms = 10000;
    n.local_addresses = {address(kLocal4), address(kLocal6)};
    n.flows = {Flow{0, address(kRemote4), kTcp}, Flow{0, address(kRemote4), kUdp},
               Flow{0, address(kRemote4), kRefused}, Flow{1, address(kRemote6), kIcmp},
               Flow{0, address(kLocal4), kUdp}};
    wire::OverflowFields o4;
    o4.family = 4;
    o4.protocol = wire::Protocol::Tcp;
    o4.bytes_in = 100;
    o4.bytes_out = 200;
    o4.packets_in = 1;
    o4.packets_out = 2;
    wire::OverflowFields o6;
    o6.family = 6;
    o6.protocol = wire::Protocol::Udp;
    o6.bytes_in = 0;
    o6.bytes_out = 70000;
    o6.packets_in = 0;
    o6.packets_out = 9;
    n.overflow = {o4, o6};
    n.part = std::make_pair(0u, 2u);
    SystemInformation& s = m.system.emplace();
    s.agent_version = "0.1.0";
    s.os_name = "ThreadX";
    s.os_version = "6.4";
    s.stack_name = "NetX Duo";
    s.stack_version = "6.4";
    s.firmware_version = "fw-1.2.3";
    s.board = "STM32H7 \xc3\xa9val";
    s.addresses = {address(kLocal4), address(kLocal6)};
    s.macs = {{0x02, 0x00, 0x5e, 0x10, 0xab, 0xcd}};
    auto& ports = m.listening_ports.emplace();
    ports.resize(3);
    ports[0].protocol = wire::Protocol::Tcp;
    ports[0].port = 22;
    ports[1].protocol = wire::Protocol::Udp;
    ports[1].port = 5683;
    ports[1].address = address(kLocal6);
    ports[2].protocol = wire::Protocol::Tcp;
    ports[2].port = 443;
    ports[2].address = address(kLocal4);
    wire::HeartbeatFields& hb = m.heartbeat.emplace();
    hb.state = wire::AgentState::Active;
    hb.config_version = 5;
    hb.packets_seen = 100000;
    hb.packets_unparsed = 3;
    hb.packets_ignored = 40;
    hb.overflow_packets = 0;
    hb.messages_sent = 17;
    hb.send_failures = 1;
    hb.messages_dropped = 0;
    hb.backlog_messages = 2;
    hb.backlog_bytes = 300;
    hb.rejected_config_version = 6;
    hb.rejected_config_reason = wire::ConfigError::BadInterval;
    hb.schedule_drift = 0;
    hb.clock_jumps = 1;
    hb.collectors = 0x1E;
    return m;
}

/// The smallest valid message: the envelope alone.
Node envelope_tree() {
    return Map({{1, U(1)}, {2, U(7)}, {3, U(0)}, {4, U(0)}, {5, U(12)}});
}

struct Decoded {
    DecodeResult result;
    Message message;
};

Decoded decode(const Bytes& bytes) {
    Decoded out;
    out.result = decode_message(bytes.data(), bytes.size(), out.message);
    return out;
}

Decoded decode(const Node& tree) {
    return decode(test::encode(tree));
}

TEST(MessageDecode, HandWrittenMessage) {
    const Decoded d = decode(full_tree());
    ASSERT_TRUE(d.result.ok()) << to_string(d.result.error) << ": " << d.result.detail;
    EXPECT_EQ(d.message, full_message());
    ASSERT_TRUE(d.message.network.has_value());
    EXPECT_EQ(d.message.network->flows.size(), 5u);
    EXPECT_EQ(d.message.network->flows[3].protocol(), wire::Protocol::Icmp);
    EXPECT_EQ(d.message.network->flows[2].handshake(), wire::Handshake::Refused);
    EXPECT_TRUE(d.message.network->flows[0].remote_opened());
    EXPECT_TRUE(d.message.network->flows[1].opener_inferred());
}

TEST(MessageEncode, SameBytesAsWrittenByHand) {
    EXPECT_EQ(encode_message(full_message()), test::encode(full_tree()));
}

TEST(MessageEncode, EnvelopeOnly) {
    Message m;
    m.boot_id = 7;
    m.uptime = 12;
    EXPECT_EQ(encode_message(m), hex("a5 0101 0207 0300 0400 050c"));
    EXPECT_EQ(encode_message(m), test::encode(envelope_tree()));
    const Decoded d = decode(envelope_tree());
    ASSERT_TRUE(d.result.ok());
    EXPECT_EQ(d.message, m);
}

TEST(MessageEncode, GroupsConsecutiveFlowsThatShareLocalAndRemote) {
    Message m = full_message();
    // Same key as the first three flows but not adjacent to them: a group of its own.
    m.network->flows.push_back(Flow{0, address(kRemote4), kTcp});
    m.network->flows.push_back(Flow{0, address(kRemote4), kUdp});
    const Decoded d = decode(encode_message(m));
    ASSERT_TRUE(d.result.ok()) << d.result.detail;
    EXPECT_EQ(d.message, m);
    Node tree = full_tree();
    tree.at(10).at(4).items.push_back(group(0, kRemote4, {kTcp, kUdp}));
    EXPECT_EQ(encode_message(m), test::encode(tree));
}

TEST(MessageEncode, EmptyOverflowLeftOutAndPartOnlyWhenSet) {
    Message m = full_message();
    m.network->overflow.clear();
    m.network->part.reset();
    Node tree = full_tree();
    tree.at(10).erase(5);
    tree.at(10).erase(6);
    EXPECT_EQ(encode_message(m), test::encode(tree));
}

TEST(MessageEncode, HeartbeatWithoutRejection) {
    Message m = full_message();
    m.heartbeat->rejected_config_reason = wire::ConfigError::None;
    m.heartbeat->rejected_config_version = 0;
    Node tree = full_tree();
    tree.at(13).erase(12);
    EXPECT_EQ(encode_message(m), test::encode(tree));
    const Decoded d = decode(tree);
    ASSERT_TRUE(d.result.ok());
    EXPECT_EQ(d.message, m);
}

TEST(MessageDecode, AcceptsEmptySectionsAndAddressTables) {
    Node tree = envelope_tree();
    tree.append(U(10), Map({{1, U(0)}, {2, U(0)}, {3, Arr({})}, {4, Arr({})}}));
    tree.append(U(11), Map({}));
    tree.append(U(12), Arr({}));
    const Decoded d = decode(tree);
    ASSERT_TRUE(d.result.ok()) << d.result.detail;
    ASSERT_TRUE(d.message.network.has_value());
    EXPECT_TRUE(d.message.network->flows.empty());
    ASSERT_TRUE(d.message.system.has_value());
    EXPECT_FALSE(d.message.system->os_name.has_value());
    ASSERT_TRUE(d.message.listening_ports.has_value());
    EXPECT_TRUE(d.message.listening_ports->empty());
    EXPECT_FALSE(d.message.heartbeat.has_value());
    EXPECT_EQ(encode_message(d.message), test::encode(tree));
}

// --- forward compatibility ----------------------------------------------------------------

TEST(MessageDecode, SkipsUnknownKeysAboveTheKnownOnes) {
    Node tree = full_tree();
    tree.append(U(14), Map({{1, Arr({Tstr("future"), Raw(hex("3bffffffffffffffff"))})}}));
    tree.append(U(1000), Bool(true));
    tree.at(10).append(U(7), Arr({U(1), U(2)}));
    tree.at(11).append(U(10), Tstr("new field"));
    tree.at(13).append(U(16), U(99));
    const Decoded d = decode(tree);
    ASSERT_TRUE(d.result.ok()) << d.result.detail;
    EXPECT_EQ(d.message, full_message());
}

// --- every error --------------------------------------------------------------------------

struct ErrorCase {
    const char* name;
    std::function<void(Node&)> change;
    DecodeError error;
    const char* detail = nullptr;  ///< a part of the detail that names the field
};

void expect_errors(const Node& base, const std::vector<ErrorCase>& cases) {
    for (const ErrorCase& c : cases) {
        SCOPED_TRACE(c.name);
        Node tree = base;
        c.change(tree);
        const Bytes bytes = test::encode(tree);
        const Decoded d = decode(bytes);
        EXPECT_EQ(d.result.error, c.error)
            << to_string(d.result.error) << " (" << d.result.detail << ")";
        EXPECT_LT(d.result.offset, bytes.size());
        EXPECT_FALSE(d.result.detail.empty());
        if (c.detail != nullptr) {
            EXPECT_NE(d.result.detail.find(c.detail), std::string::npos) << d.result.detail;
        }
    }
}

Node& network(Node& t) {
    return t.at(10);
}
Node& group0(Node& t) {
    return t.at(10).at(4)[0];
}

TEST(MessageDecodeError, Empty) {
    Message m;
    EXPECT_EQ(decode_message(nullptr, 0, m).error, DecodeError::Empty);
    const uint8_t byte = 0xA0;
    EXPECT_EQ(decode_message(&byte, 0, m).error, DecodeError::Empty);
}

TEST(MessageDecodeError, TooLarge) {
    Bytes big(kMaxMessageBytes + 1, 0x00);
    const Decoded d = decode(big);
    EXPECT_EQ(d.result.error, DecodeError::TooLarge);
    // At the limit the size is fine and the content is judged.
    big.resize(kMaxMessageBytes);
    EXPECT_EQ(decode(big).result.error, DecodeError::Cbor);
}

TEST(MessageDecodeError, EveryTruncationIsMalformedCbor) {
    const Bytes bytes = test::encode(full_tree());
    for (size_t length = 1; length < bytes.size(); ++length) {
        Message m;
        const DecodeResult r = decode_message(bytes.data(), length, m);
        ASSERT_EQ(r.error, DecodeError::Cbor) << "cut at " << length;
        EXPECT_EQ(r.cbor_error, cbor::ReadError::Truncated);
        EXPECT_LE(r.offset, length);
    }
}

TEST(MessageDecodeError, MalformedCbor) {
    Bytes trailing = test::encode(full_tree());
    const size_t end = trailing.size();
    trailing.push_back(0x00);
    const Decoded with_trailing = decode(trailing);
    EXPECT_EQ(with_trailing.result.error, DecodeError::Cbor);
    EXPECT_EQ(with_trailing.result.cbor_error, cbor::ReadError::TrailingBytes);
    EXPECT_EQ(with_trailing.result.offset, end);

    const auto cbor_error = [](std::function<void(Node&)> change) {
        Node tree = full_tree();
        change(tree);
        const Decoded d = decode(tree);
        EXPECT_EQ(d.result.error, DecodeError::Cbor) << d.result.detail;
        return d.result.cbor_error;
    };
    EXPECT_EQ(cbor_error([](Node& t) { t.at(2) = Raw(hex("1a0000002a")); }),
              cbor::ReadError::NotShortest);
    EXPECT_EQ(cbor_error([](Node& t) { t.at(12) = Raw(hex("9fff")); }),
              cbor::ReadError::Unsupported);
    EXPECT_EQ(cbor_error([](Node& t) { t.at(4) = Raw(hex("c11a6553f100")); }),
              cbor::ReadError::Unsupported);
    EXPECT_EQ(cbor_error([](Node& t) { t.at(5) = Raw(hex("fa45610000")); }),
              cbor::ReadError::Unsupported);
    EXPECT_EQ(cbor_error([](Node& t) { t.at(11).at(1) = Raw(hex("7f6130ff")); }),
              cbor::ReadError::Unsupported);
    EXPECT_EQ(cbor_error([](Node& t) { t.append(U(20), Raw(Bytes(20, 0x81))); }),
              cbor::ReadError::TooDeep);
    EXPECT_EQ(cbor_error([](Node& t) { t.at(10).at(3) = Raw(hex("9bffffffffffffffff")); }),
              cbor::ReadError::Truncated);
    // Nesting is limited over the whole message, inside an unknown key's value too: 16 arrays
    // are a legal value on their own, but not two containers deep.
    Bytes nested(16, 0x81);
    nested.push_back(0x00);
    EXPECT_EQ(cbor_error([&](Node& t) { t.at(10).append(U(7), Raw(nested)); }),
              cbor::ReadError::TooDeep);
    // Broken CBOR is what is reported, even behind a schema error.
    EXPECT_EQ(cbor_error([](Node& t) {
                  t.at(2) = Tstr("not a boot id");
                  t.at(10).at(3) = Raw(hex("9bffffffffffffffff"));
              }),
              cbor::ReadError::Truncated);
    Bytes wrong_then_trailing = test::encode([] {
        Node tree = full_tree();
        tree.at(2) = Tstr("not a boot id");
        return tree;
    }());
    wrong_then_trailing.push_back(0x00);
    EXPECT_EQ(decode(wrong_then_trailing).result.cbor_error, cbor::ReadError::TrailingBytes);
}

TEST(MessageDecodeError, ReportsTheOffsetAndTheField) {
    Node tree = envelope_tree();
    tree.at(2) = Tstr("seven");
    const Decoded d = decode(tree);
    EXPECT_EQ(d.result.error, DecodeError::WrongShape);
    EXPECT_EQ(d.result.cbor_error, cbor::ReadError::WrongType);
    EXPECT_EQ(d.result.offset, 4u);  // a5 01 01 02 [here]
    EXPECT_EQ(d.result.detail, "boot_id: expected an unsigned integer, found a text string");

    Node ports = full_tree();
    ports.at(12)[1][1] = U(70000);
    const Bytes bytes = test::encode(ports);
    const Decoded p = decode(bytes);
    EXPECT_EQ(p.result.error, DecodeError::BadValue);
    EXPECT_EQ(p.result.detail, "listening_ports[1].port: 70000 is over the maximum 65535");
    ASSERT_LT(p.result.offset + 4, bytes.size());
    EXPECT_EQ(Bytes(bytes.begin() + static_cast<std::ptrdiff_t>(p.result.offset),
                    bytes.begin() + static_cast<std::ptrdiff_t>(p.result.offset) + 5),
              hex("1a00011170"));
}

TEST(MessageDecodeError, WrongShape) {
    expect_errors(
        full_tree(),
        {
            {"top level is an array", [](Node& t) { t = Arr({U(1)}); }, DecodeError::WrongShape,
             "message: expected a map"},
            {"top level is a number", [](Node& t) { t = U(1); }, DecodeError::WrongShape},
            {"text key", [](Node& t) { t.items[0] = Tstr("version"); }, DecodeError::WrongShape,
             "unsigned integer key"},
            {"negative key", [](Node& t) { t.items[2] = Raw(hex("21")); }, DecodeError::WrongShape},
            {"boot_id negative", [](Node& t) { t.at(2) = Raw(hex("20")); }, DecodeError::WrongShape,
             "boot_id"},
            {"unknown envelope key in the known range",
             [](Node& t) {
                 t.items.insert(t.items.begin() + 10, {U(6), U(0)});
             },
             DecodeError::WrongShape, "unknown key 6"},
            {"key 0",
             [](Node& t) {
                 t.items.insert(t.items.begin(), {U(0), U(0)});
             },
             DecodeError::WrongShape, "unknown key 0"},
            {"network is an array", [](Node& t) { t.at(10) = Arr({}); }, DecodeError::WrongShape,
             "network: expected a map, found an array"},
            {"network key 0",
             [](Node& t) {
                 network(t).items.insert(network(t).items.begin(), {U(0), U(0)});
             },
             DecodeError::WrongShape, "network: unknown key 0"},
            {"local addresses a map", [](Node& t) { network(t).at(3) = Map({}); },
             DecodeError::WrongShape, "network.local_addresses"},
            {"local address a string", [](Node& t) { network(t).at(3)[0] = Tstr("192.0.2.1"); },
             DecodeError::WrongShape, "network.local_addresses[0]"},
            {"groups a map", [](Node& t) { network(t).at(4) = Map({}); }, DecodeError::WrongShape},
            {"group a number", [](Node& t) { network(t).at(4)[1] = U(1); }, DecodeError::WrongShape,
             "network.groups[1]"},
            {"group without flows",
             [](Node& t) {
                 network(t).at(4)[1] = Arr({U(1), Bstr(kRemote6)});
             },
             DecodeError::WrongShape, "network.groups[1]: 2 items"},
            {"group of one item", [](Node& t) { network(t).at(4)[1] = Arr({U(1)}); },
             DecodeError::WrongShape},
            {"empty group", [](Node& t) { network(t).at(4)[1] = Arr({}); },
             DecodeError::WrongShape},
            {"group with a partial flow", [](Node& t) { group0(t).items.push_back(U(0)); },
             DecodeError::WrongShape, "network.groups[0]: 30 items"},
            {"group one item short", [](Node& t) { group0(t).items.pop_back(); },
             DecodeError::WrongShape},
            {"flow item a string", [](Node& t) { group0(t)[14] = Tstr("x"); },
             DecodeError::WrongShape, "network.groups[0].flows[1].bytes_in"},
            {"remote a number", [](Node& t) { group0(t)[1] = U(1); }, DecodeError::WrongShape,
             "network.groups[0].remote"},
            {"overflow record of five", [](Node& t) { network(t).at(5)[0].items.pop_back(); },
             DecodeError::WrongShape, "network.overflow[0]: array of 5 items, expected 6"},
            {"overflow record of seven", [](Node& t) { network(t).at(5)[1].items.push_back(U(0)); },
             DecodeError::WrongShape},
            {"overflow a map", [](Node& t) { network(t).at(5) = Map({}); },
             DecodeError::WrongShape},
            {"part of three", [](Node& t) { network(t).at(6).items.push_back(U(3)); },
             DecodeError::WrongShape, "network.part"},
            {"part a number", [](Node& t) { network(t).at(6) = U(0); }, DecodeError::WrongShape},
            {"system an array", [](Node& t) { t.at(11) = Arr({}); }, DecodeError::WrongShape},
            {"system string a number", [](Node& t) { t.at(11).at(2) = U(6); },
             DecodeError::WrongShape, "system.os_name"},
            {"system string bytes", [](Node& t) { t.at(11).at(7) = Bstr({0x41}); },
             DecodeError::WrongShape, "system.board"},
            {"mac a string", [](Node& t) { t.at(11).at(9)[0] = Tstr("02:00:5e:10:ab:cd"); },
             DecodeError::WrongShape, "system.macs[0]"},
            {"system key 0",
             [](Node& t) {
                 t.at(11).items.insert(t.at(11).items.begin(), {U(0), U(0)});
             },
             DecodeError::WrongShape},
            {"ports a map", [](Node& t) { t.at(12) = Map({}); }, DecodeError::WrongShape,
             "listening_ports"},
            {"port entry of two", [](Node& t) { t.at(12)[0].items.pop_back(); },
             DecodeError::WrongShape, "listening_ports[0]"},
            {"port address a string", [](Node& t) { t.at(12)[2][2] = Tstr("any"); },
             DecodeError::WrongShape, "listening_ports[2].address"},
            {"heartbeat an array", [](Node& t) { t.at(13) = Arr({}); }, DecodeError::WrongShape},
            {"heartbeat counter a bool", [](Node& t) { t.at(13).at(3) = Bool(true); },
             DecodeError::WrongShape,
             "heartbeat.packets_seen: expected an unsigned integer, found a boolean"},
            {"config rejection of three", [](Node& t) { t.at(13).at(12).items.push_back(U(0)); },
             DecodeError::WrongShape, "heartbeat.config_rejected"},
            {"config rejection a number", [](Node& t) { t.at(13).at(12) = U(4); },
             DecodeError::WrongShape},
        });
}

TEST(MessageDecodeError, MissingField) {
    const char* const envelope[] = {nullptr,    "version",   "boot_id",
                                    "sequence", "unix_time", "uptime_s"};
    for (uint64_t key = 1; key <= 5; ++key) {
        SCOPED_TRACE(key);
        Node tree = full_tree();
        tree.erase(key);
        const Decoded d = decode(tree);
        EXPECT_EQ(d.result.error, DecodeError::MissingField);
        EXPECT_EQ(d.result.detail.rfind(envelope[key], 0), 0u) << d.result.detail;
    }
    const char* const network_names[] = {nullptr, "window_start_age_ms", "window_duration_ms",
                                         "local_addresses", "groups"};
    for (uint64_t key = 1; key <= 4; ++key) {
        SCOPED_TRACE(key);
        Node tree = full_tree();
        tree.at(10).erase(key);
        const Decoded d = decode(tree);
        EXPECT_EQ(d.result.error, DecodeError::MissingField);
        EXPECT_EQ(d.result.detail.rfind(std::string("network.") + network_names[key], 0), 0u)
            << d.result.detail;
    }
    for (uint64_t key = 1; key <= 15; ++key) {
        if (key == 12) {
            continue;  // config_rejected is optional
        }
        SCOPED_TRACE(key);
        Node tree = full_tree();
        tree.at(13).erase(key);
        const Decoded d = decode(tree);
        EXPECT_EQ(d.result.error, DecodeError::MissingField);
        EXPECT_EQ(d.result.detail.rfind("heartbeat.", 0), 0u) << d.result.detail;
    }
    Node empty = Map({});
    EXPECT_EQ(decode(empty).result.error, DecodeError::MissingField);
}

TEST(MessageDecodeError, VersionMustComeFirst) {
    Node tree = full_tree();
    tree.erase(1);
    tree.at(10) = Tstr("not even a map");  // never looked at: the version is missing first
    const Decoded d = decode(tree);
    EXPECT_EQ(d.result.error, DecodeError::MissingField);
    EXPECT_EQ(d.result.offset, 1u);
    EXPECT_NE(d.result.detail.find("version"), std::string::npos);
}

TEST(MessageDecodeError, UnknownVersion) {
    for (uint64_t version : {uint64_t{0}, uint64_t{2}, uint64_t{255}, uint64_t{1} << 40}) {
        SCOPED_TRACE(version);
        Node tree = full_tree();
        tree.at(1) = U(version);
        // A later version may change everything after the version key.
        tree.at(10) = Tstr("something new");
        const Decoded d = decode(tree);
        EXPECT_EQ(d.result.error, DecodeError::UnknownVersion);
        EXPECT_EQ(d.result.offset, 2u);
    }
    Node text_version = full_tree();
    text_version.at(1) = Tstr("1");
    EXPECT_EQ(decode(text_version).result.error, DecodeError::WrongShape);
}

TEST(MessageDecodeError, BadValue) {
    const uint64_t k2to32 = uint64_t{1} << 32;
    expect_errors(
        full_tree(),
        {
            {"boot_id over 32 bits", [=](Node& t) { t.at(2) = U(k2to32); }, DecodeError::BadValue,
             "boot_id: 4294967296 is over the maximum 4294967295"},
            {"sequence over 32 bits", [=](Node& t) { t.at(3) = U(~uint64_t{0}); },
             DecodeError::BadValue, "sequence"},
            {"unix_time over 32 bits", [=](Node& t) { t.at(4) = U(k2to32); },
             DecodeError::BadValue},
            {"uptime over 32 bits", [=](Node& t) { t.at(5) = U(k2to32); }, DecodeError::BadValue},
            {"window start over 32 bits", [=](Node& t) { network(t).at(1) = U(k2to32); },
             DecodeError::BadValue, "network.window_start_age_ms"},
            {"window duration over 32 bits", [=](Node& t) { network(t).at(2) = U(k2to32); },
             DecodeError::BadValue, "network.window_duration_ms"},
            {"local address of 5 bytes",
             [](Node& t) {
                 network(t).at(3)[0] = Bstr({1, 2, 3, 4, 5});
             },
             DecodeError::BadValue,
             "network.local_addresses[0]: address of 5 bytes, expected 4 or 16"},
            {"local address empty", [](Node& t) { network(t).at(3)[1] = Bstr({}); },
             DecodeError::BadValue, "network.local_addresses[1]"},
            {"remote empty", [](Node& t) { group0(t)[1] = Bstr({}); }, DecodeError::BadValue,
             "network.groups[0].remote: address of 0 bytes"},
            {"remote of 6 bytes", [](Node& t) { group0(t)[1] = Bstr(kMac); },
             DecodeError::BadValue},
            {"local index past the table", [](Node& t) { group0(t)[0] = U(2); },
             DecodeError::BadValue,
             "network.groups[0].local_index: 2 is past the 2 local addresses"},
            {"local index over 32 bits", [=](Node& t) { group0(t)[0] = U(k2to32); },
             DecodeError::BadValue},
            {"IPv6 remote for an IPv4 local", [](Node& t) { group0(t)[1] = Bstr(kRemote6); },
             DecodeError::BadValue, "IPv6 remote address with an IPv4 local address"},
            {"IPv4 remote for an IPv6 local",
             [](Node& t) { network(t).at(4)[1][1] = Bstr(kRemote4); }, DecodeError::BadValue,
             "network.groups[1].remote"},
            {"protocol bits 3", [](Node& t) { group0(t)[2] = U(0x03); }, DecodeError::BadValue,
             "network.groups[0].flows[0].flags: protocol bits are 3"},
            {"flags over 63", [](Node& t) { group0(t)[11] = U(64); }, DecodeError::BadValue,
             "network.groups[0].flows[1].flags: 64"},
            {"handshake on UDP", [](Node& t) { group0(t)[11] = U(0x11); }, DecodeError::BadValue,
             "handshake bits set on a non-TCP flow"},
            {"handshake on ICMP", [](Node& t) { network(t).at(4)[1][2] = U(0x32); },
             DecodeError::BadValue},
            {"local port over 16 bits", [](Node& t) { group0(t)[3] = U(65536); },
             DecodeError::BadValue, "network.groups[0].flows[0].local_port: 65536"},
            {"remote port over 16 bits", [](Node& t) { group0(t)[4] = U(70000); },
             DecodeError::BadValue, "remote_port"},
            {"ICMP type over 8 bits", [](Node& t) { network(t).at(4)[1][3] = U(256); },
             DecodeError::BadValue, "network.groups[1].flows[0].icmp_type: 256"},
            {"ICMP code over 8 bits", [](Node& t) { network(t).at(4)[1][4] = U(300); },
             DecodeError::BadValue, "icmp_code"},
            {"bytes in over 32 bits", [=](Node& t) { group0(t)[5] = U(k2to32); },
             DecodeError::BadValue, "bytes_in"},
            {"bytes out over 32 bits", [=](Node& t) { group0(t)[6] = U(k2to32); },
             DecodeError::BadValue, "bytes_out"},
            {"packets in over 32 bits", [=](Node& t) { group0(t)[7] = U(k2to32); },
             DecodeError::BadValue, "packets_in"},
            {"packets out over 32 bits", [=](Node& t) { group0(t)[8] = U(k2to32); },
             DecodeError::BadValue, "packets_out"},
            {"first_s over 32 bits", [=](Node& t) { group0(t)[9] = U(k2to32); },
             DecodeError::BadValue, "first_s"},
            {"last_s over 32 bits", [=](Node& t) { group0(t)[10] = U(k2to32); },
             DecodeError::BadValue, "last_s"},
            {"overflow family 5", [](Node& t) { network(t).at(5)[0][0] = U(5); },
             DecodeError::BadValue, "network.overflow[0].family: 5, expected 4 or 6"},
            {"overflow family 0", [](Node& t) { network(t).at(5)[0][0] = U(0); },
             DecodeError::BadValue},
            {"overflow protocol 3", [](Node& t) { network(t).at(5)[1][1] = U(3); },
             DecodeError::BadValue, "network.overflow[1].protocol"},
            {"overflow counter over 32 bits", [=](Node& t) { network(t).at(5)[1][3] = U(k2to32); },
             DecodeError::BadValue, "network.overflow[1].bytes_out"},
            {"part index equal to count", [](Node& t) { network(t).at(6)[0] = U(2); },
             DecodeError::BadValue, "network.part"},
            {"part count 0",
             [](Node& t) {
                 network(t).at(6) = Arr({U(0), U(0)});
             },
             DecodeError::BadValue},
            {"system string too long",
             [](Node& t) { t.at(11).at(1) = Tstr(std::string(wire::kMaxSystemString + 1, 'v')); },
             DecodeError::BadValue, "system.agent_version: 65 bytes, at most 64"},
            {"system string not UTF-8", [](Node& t) { t.at(11).at(2) = Tstr("Thread\xff"); },
             DecodeError::BadValue, "system.os_name: not valid UTF-8"},
            {"system string overlong UTF-8", [](Node& t) { t.at(11).at(2) = Tstr("\xc0\xaf"); },
             DecodeError::BadValue},
            {"system string surrogate", [](Node& t) { t.at(11).at(2) = Tstr("\xed\xa0\x80"); },
             DecodeError::BadValue},
            {"system string cut UTF-8", [](Node& t) { t.at(11).at(2) = Tstr("ab\xe2\x82"); },
             DecodeError::BadValue},
            {"system string with NUL",
             [](Node& t) { t.at(11).at(3) = Tstr(std::string("6.4\0x", 5)); },
             DecodeError::BadValue, "system.os_version: contains a NUL"},
            {"system address empty", [](Node& t) { t.at(11).at(8)[0] = Bstr({}); },
             DecodeError::BadValue, "system.addresses[0]"},
            {"too many system addresses",
             [](Node& t) {
                 t.at(11).at(8) =
                     Arr(std::vector<Node>(wire::kMaxSystemAddresses + 1, Bstr(kLocal4)));
             },
             DecodeError::BadValue, "system.addresses: 9 entries, at most 8"},
            {"mac of 5 bytes",
             [](Node& t) {
                 t.at(11).at(9)[0] = Bstr({1, 2, 3, 4, 5});
             },
             DecodeError::BadValue, "system.macs[0]: MAC address of 5 bytes"},
            {"too many macs",
             [](Node& t) {
                 t.at(11).at(9) = Arr(std::vector<Node>(wire::kMaxSystemMacs + 1, Bstr(kMac)));
             },
             DecodeError::BadValue, "system.macs"},
            {"port protocol 3", [](Node& t) { t.at(12)[0][0] = U(3); }, DecodeError::BadValue,
             "listening_ports[0].protocol"},
            {"port address of 5 bytes",
             [](Node& t) {
                 t.at(12)[0][2] = Bstr({1, 2, 3, 4, 5});
             },
             DecodeError::BadValue, "address of 5 bytes, expected 0, 4 or 16"},
            {"state 4", [](Node& t) { t.at(13).at(1) = U(4); }, DecodeError::BadValue,
             "heartbeat.state"},
            {"config version over 32 bits", [=](Node& t) { t.at(13).at(2) = U(k2to32); },
             DecodeError::BadValue, "heartbeat.config_version"},
            {"backlog over 32 bits", [=](Node& t) { t.at(13).at(11) = U(k2to32); },
             DecodeError::BadValue, "heartbeat.backlog_bytes"},
            {"collectors over 32 bits", [=](Node& t) { t.at(13).at(15) = U(k2to32); },
             DecodeError::BadValue, "heartbeat.collectors"},
            {"config reason 0", [](Node& t) { t.at(13).at(12)[1] = U(0); }, DecodeError::BadValue,
             "heartbeat.config_rejected.reason: 0"},
            {"config reason 9", [](Node& t) { t.at(13).at(12)[1] = U(9); }, DecodeError::BadValue,
             "heartbeat.config_rejected.reason: 9"},
            {"rejected version over 32 bits", [=](Node& t) { t.at(13).at(12)[0] = U(k2to32); },
             DecodeError::BadValue, "heartbeat.config_rejected.version"},
        });
}

TEST(MessageDecode, CountersUseTheirWholeRange) {
    Node tree = full_tree();
    group0(tree)[5] = U(0xFFFFFFFF);
    group0(tree)[3] = U(65535);
    tree.at(13).at(3) = U(~uint64_t{0});
    tree.at(13).at(12)[1] = U(8);
    const Decoded d = decode(tree);
    ASSERT_TRUE(d.result.ok()) << d.result.detail;
    EXPECT_EQ(d.message.network->flows[0].fields.bytes_in, 0xFFFFFFFFu);
    EXPECT_EQ(d.message.heartbeat->packets_seen, ~uint64_t{0});
    EXPECT_EQ(d.message.heartbeat->rejected_config_reason, wire::ConfigError::Unavailable);
    EXPECT_EQ(encode_message(d.message), test::encode(tree));
}

TEST(MessageDecodeError, DuplicateKey) {
    expect_errors(full_tree(),
                  {
                      {"envelope key repeated",
                       [](Node& t) {
                           t.items.insert(t.items.begin() + 4, {U(2), U(1)});
                       },
                       DecodeError::DuplicateKey, "message: key 2 repeated"},
                      {"envelope keys swapped", [](Node& t) { std::swap(t.items[2], t.items[4]); },
                       DecodeError::DuplicateKey, "key 2 after key 3"},
                      {"sections out of order",
                       [](Node& t) {
                           std::swap(t.items[10], t.items[12]);
                           std::swap(t.items[11], t.items[13]);
                       },
                       DecodeError::DuplicateKey, "key 10 after key 11"},
                      {"network keys swapped",
                       [](Node& t) { std::swap(network(t).items[0], network(t).items[2]); },
                       DecodeError::DuplicateKey, "network: key 1 after key 2"},
                      {"heartbeat key repeated",
                       [](Node& t) {
                           t.at(13).items.insert(t.at(13).items.begin() + 2, {U(1), U(2)});
                       },
                       DecodeError::DuplicateKey, "heartbeat: key 1 repeated"},
                      {"system keys swapped",
                       [](Node& t) { std::swap(t.at(11).items[0], t.at(11).items[2]); },
                       DecodeError::DuplicateKey, "system"},
                      {"unknown keys out of order",
                       [](Node& t) {
                           t.append(U(20), U(0));
                           t.append(U(14), U(0));
                       },
                       DecodeError::DuplicateKey, "key 14 after key 20"},
                  });
}

TEST(MessageDecodeError, EveryErrorHasText) {
    for (uint8_t e = 0; e <= static_cast<uint8_t>(DecodeError::DuplicateKey); ++e) {
        EXPECT_STRNE(to_string(static_cast<DecodeError>(e)), "unknown decode error");
    }
}

// --- JSON ---------------------------------------------------------------------------------

TEST(MessageJson, ReadableNames) {
    const auto json = nlohmann::json::parse(to_json(full_message()));
    EXPECT_EQ(json["version"], 1);
    EXPECT_EQ(json["boot_id"], 0xDEADBEEFu);
    EXPECT_EQ(json["sequence"], 42);
    EXPECT_EQ(json["unix_time"], 1700000000);
    EXPECT_EQ(json["uptime_s"], 3600);

    const auto& network = json["network"];
    EXPECT_EQ(network["window_start_age_ms"], 1500);
    EXPECT_EQ(network["window_duration_ms"], 10000);
    EXPECT_EQ(network["local_addresses"], nlohmann::json({"192.0.2.1", "2001:db8::1"}));
    ASSERT_EQ(network["flows"].size(), 5u);
    const auto& tcp = network["flows"][0];
    EXPECT_EQ(tcp["protocol"], "tcp");
    EXPECT_EQ(tcp["local"], "192.0.2.1");
    EXPECT_EQ(tcp["local_port"], 8883);
    EXPECT_EQ(tcp["remote"], "198.51.100.7");
    EXPECT_EQ(tcp["remote_port"], 51000);
    EXPECT_EQ(tcp["opened_by"], "remote");
    EXPECT_EQ(tcp["opener_inferred"], false);
    EXPECT_EQ(tcp["handshake"], "completed");
    EXPECT_EQ(tcp["bytes_in"], 4200);
    EXPECT_EQ(tcp["bytes_out"], 2900);
    EXPECT_EQ(tcp["packets_in"], 14);
    EXPECT_EQ(tcp["packets_out"], 12);
    EXPECT_EQ(tcp["first_s"], 0);
    EXPECT_EQ(tcp["last_s"], 9);
    const auto& udp = network["flows"][1];
    EXPECT_EQ(udp["protocol"], "udp");
    EXPECT_EQ(udp["opened_by"], "local");
    EXPECT_EQ(udp["opener_inferred"], true);
    EXPECT_FALSE(udp.contains("handshake"));
    EXPECT_EQ(network["flows"][2]["handshake"], "refused");
    const auto& icmp = network["flows"][3];
    EXPECT_EQ(icmp["protocol"], "icmp");
    EXPECT_EQ(icmp["local"], "2001:db8::1");
    EXPECT_EQ(icmp["remote"], "2001:db8::99");
    EXPECT_EQ(icmp["icmp_type"], 128);
    EXPECT_EQ(icmp["icmp_code"], 0);
    EXPECT_FALSE(icmp.contains("local_port"));
    EXPECT_FALSE(icmp.contains("handshake"));
    ASSERT_EQ(network["overflow"].size(), 2u);
    EXPECT_EQ(network["overflow"][1], nlohmann::json::parse(R"({"family":6,"protocol":"udp",
        "bytes_in":0,"bytes_out":70000,"packets_in":0,"packets_out":9})"));
    EXPECT_EQ(network["part"], nlohmann::json::parse(R"({"index":0,"count":2})"));

    const auto& system = json["system"];
    EXPECT_EQ(system["os_name"], "ThreadX");
    EXPECT_EQ(system["board"], "STM32H7 \xc3\xa9val");
    EXPECT_EQ(system["macs"], nlohmann::json({"02:00:5e:10:ab:cd"}));
    EXPECT_EQ(system["addresses"][1], "2001:db8::1");

    const auto& ports = json["listening_ports"];
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(ports[0], nlohmann::json::parse(R"({"protocol":"tcp","port":22,"address":null})"));
    EXPECT_EQ(ports[1]["address"], "2001:db8::1");

    const auto& hb = json["heartbeat"];
    EXPECT_EQ(hb["state"], "active");
    EXPECT_EQ(hb["packets_seen"], 100000);
    EXPECT_EQ(hb["config_rejected"]["version"], 6);
    EXPECT_EQ(hb["config_rejected"]["reason"], wire::to_string(wire::ConfigError::BadInterval));
    EXPECT_EQ(hb["collectors"],
              nlohmann::json({"network", "system", "heartbeat", "listening_ports"}));
}

TEST(MessageJson, LeavesOutAbsentSections) {
    Message m;
    m.heartbeat.emplace();
    m.heartbeat->collectors = 0x21;  // bit 0 and bit 5 name no collector
    const auto json = nlohmann::json::parse(to_json(m, -1));
    EXPECT_FALSE(json.contains("network"));
    EXPECT_FALSE(json.contains("system"));
    EXPECT_FALSE(json.contains("listening_ports"));
    EXPECT_EQ(json["heartbeat"]["state"], "not_initialised");
    EXPECT_FALSE(json["heartbeat"].contains("config_rejected"));
    EXPECT_EQ(json["heartbeat"]["collectors"], nlohmann::json({"collector_0", "collector_5"}));
    EXPECT_EQ(to_json(m, -1).find('\n'), std::string::npos);
}

TEST(MessageJson, NeverThrowsOnBadText) {
    Message m;
    m.system.emplace().os_name = std::string("\xff\xfe");
    EXPECT_TRUE(nlohmann::json::accept(to_json(m)));
}

TEST(MessageAddress, TextForm) {
    EXPECT_EQ(to_string(address(kLocal4)), "192.0.2.1");
    EXPECT_EQ(to_string(address(kLocal6)), "2001:db8::1");
    EXPECT_EQ(to_string(wire::Address{}), "");
}

RC_GTEST_PROP(MessageAddress, Ipv4TextIsWhatInetNtopWrites, (uint8_t a, uint8_t b, uint8_t c)) {
    wire::Address v4{};
    v4.family = 4;
    const uint8_t bytes[4] = {a, b, c, static_cast<uint8_t>(a ^ c)};
    std::memcpy(v4.bytes, bytes, 4);
    char expected[INET_ADDRSTRLEN] = {};
    RC_ASSERT(inet_ntop(AF_INET, bytes, expected, sizeof expected) != nullptr);
    RC_ASSERT(to_string(v4) == std::string(expected));
}

TEST(MessageEquality, ComparesEveryField) {
    const Message base = full_message();
    EXPECT_EQ(base, full_message());
    const std::vector<std::function<void(Message&)>> changes = {
        [](Message& m) { m.version = 2; },
        [](Message& m) { m.boot_id ^= 1; },
        [](Message& m) { m.sequence ^= 1; },
        [](Message& m) { m.unix_time ^= 1; },
        [](Message& m) { m.uptime ^= 1; },
        [](Message& m) { m.network.reset(); },
        [](Message& m) { m.network->window_start_age_ms ^= 1; },
        [](Message& m) { m.network->window_duration_ms ^= 1; },
        [](Message& m) { m.network->local_addresses[1].bytes[15] ^= 1; },
        [](Message& m) { m.network->flows[2].local_index ^= 1; },
        [](Message& m) { m.network->flows[2].remote.bytes[0] ^= 1; },
        [](Message& m) { m.network->flows[2].fields.flags ^= 4; },
        [](Message& m) { m.network->flows[2].fields.local_port ^= 1; },
        [](Message& m) { m.network->flows[2].fields.remote_port ^= 1; },
        [](Message& m) { m.network->flows[2].fields.bytes_in ^= 1; },
        [](Message& m) { m.network->flows[2].fields.bytes_out ^= 1; },
        [](Message& m) { m.network->flows[2].fields.packets_in ^= 1; },
        [](Message& m) { m.network->flows[2].fields.packets_out ^= 1; },
        [](Message& m) { m.network->flows[2].fields.first_s ^= 1; },
        [](Message& m) { m.network->flows[2].fields.last_s ^= 1; },
        [](Message& m) { m.network->overflow[0].family = 6; },
        [](Message& m) { m.network->overflow[0].protocol = wire::Protocol::Icmp; },
        [](Message& m) { m.network->overflow[0].bytes_in ^= 1; },
        [](Message& m) { m.network->overflow[0].bytes_out ^= 1; },
        [](Message& m) { m.network->overflow[0].packets_in ^= 1; },
        [](Message& m) { m.network->overflow[0].packets_out ^= 1; },
        [](Message& m) { m.network->part.reset(); },
        [](Message& m) { m.network->part->first = 1; },
        [](Message& m) { m.system.reset(); },
        [](Message& m) { m.system->agent_version.reset(); },
        [](Message& m) { m.system->os_name = "Zephyr"; },
        [](Message& m) { m.system->os_version = ""; },
        [](Message& m) { m.system->stack_name = "lwIP"; },
        [](Message& m) { m.system->stack_version = "2.1"; },
        [](Message& m) { m.system->firmware_version.reset(); },
        [](Message& m) { m.system->board.reset(); },
        [](Message& m) { m.system->addresses.pop_back(); },
        [](Message& m) { m.system->macs[0][5] ^= 1; },
        [](Message& m) { m.listening_ports.reset(); },
        [](Message& m) { (*m.listening_ports)[0].protocol = wire::Protocol::Udp; },
        [](Message& m) { (*m.listening_ports)[0].port ^= 1; },
        [](Message& m) { (*m.listening_ports)[0].address = address(kLocal4); },
        [](Message& m) { m.heartbeat.reset(); },
        [](Message& m) { m.heartbeat->state = wire::AgentState::Pending; },
        [](Message& m) { m.heartbeat->config_version ^= 1; },
        [](Message& m) { m.heartbeat->packets_seen ^= 1; },
        [](Message& m) { m.heartbeat->packets_unparsed ^= 1; },
        [](Message& m) { m.heartbeat->packets_ignored ^= 1; },
        [](Message& m) { m.heartbeat->overflow_packets ^= 1; },
        [](Message& m) { m.heartbeat->messages_sent ^= 1; },
        [](Message& m) { m.heartbeat->send_failures ^= 1; },
        [](Message& m) { m.heartbeat->messages_dropped ^= 1; },
        [](Message& m) { m.heartbeat->backlog_messages ^= 1; },
        [](Message& m) { m.heartbeat->backlog_bytes ^= 1; },
        [](Message& m) { m.heartbeat->rejected_config_version ^= 1; },
        [](Message& m) { m.heartbeat->rejected_config_reason = wire::ConfigError::Malformed; },
        [](Message& m) { m.heartbeat->schedule_drift ^= 1; },
        [](Message& m) { m.heartbeat->clock_jumps ^= 1; },
        [](Message& m) { m.heartbeat->collectors ^= 1; },
    };
    for (size_t i = 0; i < changes.size(); ++i) {
        Message changed = base;
        changes[i](changed);
        EXPECT_NE(changed, base) << "change " << i;
    }
    // Bytes past an address's family are not part of its value.
    Message tail = base;
    tail.network->local_addresses[0].bytes[10] = 0x55;
    EXPECT_EQ(tail, base);
}

// --- the worked example of docs/protocol.md -----------------------------------------------

TEST(MessageExample, MatchesTheDocumentation) {
    Message m;
    m.boot_id = 0x5EED;
    m.sequence = 7;
    m.unix_time = 1767225600;  // 2026-01-01T00:00:00Z
    m.uptime = 120;
    NetworkActivity& n = m.network.emplace();
    n.window_start_age_ms = 10000;
    n.window_duration_ms = 10000;
    n.local_addresses = {address(kLocal4)};
    n.flows = {Flow{0, address(kRemote4), flow(0x00, 49152, 8883, 4200, 2900, 14, 12, 0, 9)},
               Flow{0, address({198, 51, 100, 53}), flow(0x01, 40000, 53, 120, 60, 1, 1, 3, 3)}};
    const Bytes expected = hex(
        "a6 01 01 02 19 5eed 03 07 04 1a 6955b900 05 18 78 0a a4 01 19 2710 02 19 2710 03 81 44 "
        "c0000201 04 82 8b 00 44 c6336407 00 19 c000 21 19 1068 19 0b54 0e 0c 00 09 8b 00 44 "
        "c6336435 01 19 9c40 23 18 78 18 3c 01 01 03 03");
    EXPECT_EQ(encode_message(m), expected);
    EXPECT_EQ(expected.size(), 79u);
    const Decoded d = decode(expected);
    ASSERT_TRUE(d.result.ok()) << d.result.detail;
    EXPECT_EQ(d.message, m);
}

// --- properties ---------------------------------------------------------------------------

RC_GTEST_PROP(MessageProperty, DecodeOfEncodeIsIdentity, ()) {
    const Message m = *test::message();
    const Bytes bytes = encode_message(m);
    Message decoded;
    const DecodeResult r = decode_message(bytes.data(), bytes.size(), decoded);
    RC_ASSERT(r.ok());
    RC_ASSERT(decoded == m);
    // Deterministic: the same content always encodes to the same bytes.
    RC_ASSERT(encode_message(decoded) == bytes);
}

RC_GTEST_PROP(MessageProperty, JsonIsValidAndComplete, ()) {
    const Message m = *test::message();
    const auto json = nlohmann::json::parse(to_json(m));
    RC_ASSERT(json["boot_id"] == m.boot_id);
    RC_ASSERT(json.contains("network") == m.network.has_value());
    if (m.network) {
        RC_ASSERT(json["network"]["flows"].size() == m.network->flows.size());
        uint64_t bytes_in = 0;
        uint64_t json_bytes_in = 0;
        for (size_t i = 0; i < m.network->flows.size(); ++i) {
            bytes_in += m.network->flows[i].fields.bytes_in;
            json_bytes_in += json["network"]["flows"][i]["bytes_in"].get<uint64_t>();
        }
        RC_ASSERT(json_bytes_in == bytes_in);
    }
    RC_ASSERT(json.contains("heartbeat") == m.heartbeat.has_value());
}

/// Whatever the input, decoding stays inside it, and whatever decodes re-encodes to a message
/// that decodes to the same thing.
void check_any_input(const Bytes& bytes) {
    Message decoded;
    const DecodeResult r = decode_message(bytes.data(), bytes.size(), decoded);
    if (!r.ok()) {
        RC_ASSERT(r.offset <= bytes.size());
        RC_ASSERT(!r.detail.empty());
        return;
    }
    const Bytes again = encode_message(decoded);
    Message twice;
    RC_ASSERT(decode_message(again.data(), again.size(), twice).ok());
    RC_ASSERT(twice == decoded);
    RC_ASSERT(!to_json(decoded).empty());
}

RC_GTEST_PROP(MessageProperty, DecodeSurvivesRandomBytes, (const std::vector<uint8_t>& bytes)) {
    check_any_input(bytes);
}

RC_GTEST_PROP(MessageProperty, DecodeSurvivesMutatedMessages, ()) {
    Bytes bytes = encode_message(*test::message());
    const auto mutations = *rc::gen::inRange(1, 6);
    for (int i = 0; i < mutations && !bytes.empty(); ++i) {
        const auto at = *rc::gen::inRange<size_t>(0, bytes.size());
        const auto where = bytes.begin() + static_cast<std::ptrdiff_t>(at);
        switch (*rc::gen::inRange(0, 6)) {
            case 0:
                bytes[at] = static_cast<uint8_t>(bytes[at] ^ (1u << *rc::gen::inRange(0, 8)));
                break;
            case 1:
                bytes[at] = *rc::gen::arbitrary<uint8_t>();
                break;
            case 2:
                bytes.insert(where, *rc::gen::arbitrary<uint8_t>());
                break;
            case 3:
                bytes.erase(where);
                break;
            case 4:
                bytes.resize(at);
                break;
            default:
                // A head byte that claims a huge length or count.
                bytes[at] = *rc::gen::element<uint8_t>(0x1B, 0x5B, 0x7B, 0x9B, 0xBB, 0x9F);
                break;
        }
    }
    check_any_input(bytes);
}

}  // namespace
}  // namespace vigil::protocol

// The agent core on a Cortex-M3 (QEMU mps2-an385), driven only through its C ABI with the
// Cortex-M port: real packets in, the CBOR messages the transport receives decoded and checked
// against what was fed, config applied and refused, the backlog across a disconnection, and the
// packet hook called from an interrupt handler while the main loop also feeds packets. Prints
// PASS/FAIL lines through semihosting; main's result is QEMU's exit status.
#include <cstddef>
#include <cstdint>

#include "bare_packets.hpp"
#include "semihost.hpp"
#include "vigil/agent/config.h"
#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/cortex_m.h"
#include "vigil/protocol/cbor.h"
#include "vigil/protocol/wire.h"

namespace {

namespace sh = vigil::semihost;
namespace bare = vigil::test::bare;
namespace cbor = vigil::cbor;
namespace wire = vigil::wire;

constexpr char kDeviceId[] = "cm3-qemu-1";
constexpr char kTopic[] = "devices/cm3-qemu-1/messages/events/";
constexpr char kOsName[] = "bare-metal";
constexpr uint32_t kUnixTimeAtStart = 1700000000;

// ---------------------------------------------------------------------------------------------
// Checks

int g_failures = 0;
int g_checks = 0;

void check(bool ok, const char* what) {
    ++g_checks;
    if (!ok) {
        ++g_failures;
    }
    sh::write(ok ? "PASS " : "FAIL ");
    sh::write(what);
    sh::write("\n");
}

void check_eq(uint64_t actual, uint64_t expected, const char* what) {
    ++g_checks;
    if (actual == expected) {
        sh::write("PASS ");
        sh::write(what);
        sh::write(" = ");
        sh::write_u64(actual);
        sh::write("\n");
        return;
    }
    ++g_failures;
    sh::write("FAIL ");
    sh::write(what);
    sh::write(": got ");
    sh::write_u64(actual);
    sh::write(", expected ");
    sh::write_u64(expected);
    sh::write("\n");
}

bool equals(const char* data, size_t length, const char* text) {
    size_t i = 0;
    for (; i < length; ++i) {
        if (text[i] == '\0' || text[i] != data[i]) {
            return false;
        }
    }
    return text[i] == '\0';
}

bool equals(const char* a, const char* b) {
    size_t i = 0;
    for (; a[i] != '\0'; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return b[i] == '\0';
}

bool interrupts_masked() {
    uint32_t primask;
    asm volatile("mrs %0, primask" : "=r"(primask));
    return (primask & 1) != 0;
}

// ---------------------------------------------------------------------------------------------
// Port callbacks the application supplies beside the Cortex-M port's clock and lock

uint32_t unix_time_s(void*) {
    return kUnixTimeAtStart + static_cast<uint32_t>(vigil_cortex_m_now_ms() / 1000);
}

void system_info(void*, vigil_system_info* out) {
    out->os_name = kOsName;
    out->os_version = "1";
    out->stack_name = "none";
    out->board = "mps2-an385";
    out->addresses[0] = vigil_address{4, {192, 0, 2, 10}};
    out->address_count = 1;
    const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
    for (size_t i = 0; i < 6; ++i) {
        out->macs[0][i] = mac[i];
    }
    out->mac_count = 1;
}

size_t listening_ports(void*, vigil_listening_port* out, size_t capacity) {
    const vigil_listening_port ports[] = {
        {VIGIL_TCP, 80, vigil_address{}},
        {VIGIL_UDP, 5683, vigil_address{4, {192, 0, 2, 10}}},
    };
    const size_t count = sizeof(ports) / sizeof(ports[0]);
    for (size_t i = 0; i < count && i < capacity; ++i) {
        out[i] = ports[i];
    }
    return count;
}

// ---------------------------------------------------------------------------------------------
// Transport: keeps every message it is given

struct Captured {
    uint8_t data[VIGIL_MAX_MESSAGE_BYTES];
    size_t length;
};

constexpr size_t kMaxCaptured = 48;
Captured g_messages[kMaxCaptured];
size_t g_captured = 0;
size_t g_unexpected_sends = 0;  // wrong topic or bag, too long, or no room to keep it
size_t g_sends_while_masked = 0;
bool g_connected = false;
int32_t g_send_result = 1;  // what send answers: 1 taken, 0 busy

bool is_connected(void*) {
    return g_connected;
}

int32_t send(void*, const char* topic, const char* property_bag, const uint8_t* payload,
             size_t length) {
    if (interrupts_masked()) {
        ++g_sends_while_masked;
    }
    if (g_send_result <= 0) {
        return g_send_result;
    }
    if (!equals(topic, kTopic) || !equals(property_bag, wire::kPropertyBag) ||
        length > VIGIL_MAX_MESSAGE_BYTES || g_captured == kMaxCaptured) {
        ++g_unexpected_sends;
        return 1;
    }
    Captured& message = g_messages[g_captured++];
    for (size_t i = 0; i < length; ++i) {
        message.data[i] = payload[i];
    }
    message.length = length;
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Decoding what the transport received

struct Totals {
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
};

struct FlowSeen {
    uint8_t family;
    uint64_t flags;
    uint16_t local_port;
    uint16_t remote_port;
    uint64_t bytes_in, bytes_out, packets_in, packets_out, first_s, last_s;
};

struct HeartbeatSeen {
    uint64_t values[16] = {};  // by heartbeat key
    bool has_rejected = false;
    uint64_t rejected_version = 0;
    uint64_t rejected_reason = 0;
};

/// Everything the messages of one tick carried.
struct Batch {
    size_t messages = 0;
    bool decoded = true;
    const char* error = "";
    uint64_t first_sequence = 0;
    size_t network_messages = 0;
    size_t system_messages = 0;
    size_t ports_messages = 0;
    size_t heartbeat_messages = 0;
    uint64_t part_count = 1;  // from key 6 of the network map when present
    size_t parts_seen = 0;
    uint64_t window_duration_ms = 0;
    size_t flows4 = 0;
    size_t flows6 = 0;
    Totals flows;
    static constexpr size_t kMaxKeptFlows = 128;
    FlowSeen kept[kMaxKeptFlows];
    size_t kept_count = 0;
    size_t overflow_records = 0;
    Totals overflow;
    HeartbeatSeen heartbeat;
    bool agent_version_ok = false;
    bool os_name_ok = false;
    size_t system_addresses = 0;
    size_t system_macs = 0;
    size_t port_count = 0;
};

uint64_t g_boot_id = 0;
uint64_t g_next_sequence = 0;  // every message ever captured, in order
Batch g_batch;                 // static: it holds more than the stack should

bool fail(Batch& batch, const char* error) {
    batch.decoded = false;
    batch.error = error;
    return false;
}

void add(Totals& totals, uint64_t bytes_in, uint64_t bytes_out, uint64_t packets_in,
         uint64_t packets_out) {
    totals.bytes_in += bytes_in;
    totals.bytes_out += bytes_out;
    totals.packets_in += packets_in;
    totals.packets_out += packets_out;
}

bool read_port(cbor::Reader& in, uint64_t flags, uint16_t& port) {
    int64_t value = 0;
    if (!in.read_int(value)) {
        return false;
    }
    const bool icmp =
        (flags & wire::flow_flag::kProtocolMask) == static_cast<uint8_t>(wire::Protocol::Icmp);
    if (icmp) {
        port = static_cast<uint16_t>(value);
        return value >= 0 && value <= 255;
    }
    return wire::port_from_wire(value, port);
}

bool decode_network(cbor::Reader& in, Batch& batch) {
    size_t pairs = 0;
    if (!in.read_map(pairs)) {
        return fail(batch, "network is not a map");
    }
    uint8_t local_family[8] = {};
    size_t locals = 0;
    uint64_t previous_key = 0;
    for (size_t pair = 0; pair < pairs; ++pair) {
        uint64_t key = 0;
        if (!in.read_uint(key) || key <= previous_key) {
            return fail(batch, "network keys not ascending");
        }
        previous_key = key;
        size_t count = 0;
        uint64_t value = 0;
        switch (key) {
            case wire::network_key::kWindowStartAgeMs:
                in.read_uint(value);
                break;
            case wire::network_key::kWindowDurationMs:
                in.read_uint(batch.window_duration_ms);
                break;
            case wire::network_key::kLocalAddresses:
                if (!in.read_array(count) || count > 8) {
                    return fail(batch, "local addresses");
                }
                for (size_t i = 0; i < count; ++i) {
                    const uint8_t* data = nullptr;
                    size_t length = 0;
                    if (!in.read_bytes(data, length) || (length != 4 && length != 16)) {
                        return fail(batch, "local address size");
                    }
                    local_family[locals++] = length == 4 ? 4 : 6;
                }
                break;
            case wire::network_key::kGroups:
                if (!in.read_array(count)) {
                    return fail(batch, "groups");
                }
                for (size_t g = 0; g < count; ++g) {
                    size_t items = 0;
                    uint64_t local = 0;
                    const uint8_t* remote = nullptr;
                    size_t remote_length = 0;
                    if (!in.read_array(items) || items < wire::kGroupHeaderItems + 9 ||
                        (items - wire::kGroupHeaderItems) % wire::kFlowItems != 0 ||
                        !in.read_uint(local) || local >= locals ||
                        !in.read_bytes(remote, remote_length) ||
                        remote_length != (local_family[local] == 4 ? 4u : 16u)) {
                        return fail(batch, "group header");
                    }
                    for (size_t f = 0; f < (items - 2) / wire::kFlowItems; ++f) {
                        FlowSeen flow{};
                        flow.family = local_family[local];
                        if (!in.read_uint(flow.flags) ||
                            !read_port(in, flow.flags, flow.local_port) ||
                            !read_port(in, flow.flags, flow.remote_port) ||
                            !in.read_uint(flow.bytes_in) || !in.read_uint(flow.bytes_out) ||
                            !in.read_uint(flow.packets_in) || !in.read_uint(flow.packets_out) ||
                            !in.read_uint(flow.first_s) || !in.read_uint(flow.last_s)) {
                            return fail(batch, "flow");
                        }
                        add(batch.flows, flow.bytes_in, flow.bytes_out, flow.packets_in,
                            flow.packets_out);
                        ++(flow.family == 4 ? batch.flows4 : batch.flows6);
                        if (batch.kept_count < Batch::kMaxKeptFlows) {
                            batch.kept[batch.kept_count++] = flow;
                        }
                    }
                }
                break;
            case wire::network_key::kOverflow:
                if (!in.read_array(count)) {
                    return fail(batch, "overflow");
                }
                for (size_t o = 0; o < count; ++o) {
                    size_t items = 0;
                    uint64_t f[6] = {};
                    if (!in.read_array(items) || items != wire::kOverflowItems) {
                        return fail(batch, "overflow record");
                    }
                    for (uint64_t& field : f) {
                        in.read_uint(field);
                    }
                    add(batch.overflow, f[2], f[3], f[4], f[5]);
                    ++batch.overflow_records;
                }
                break;
            case wire::network_key::kPart: {
                uint64_t index = 0;
                if (!in.read_array(count) || count != 2 || !in.read_uint(index) ||
                    !in.read_uint(batch.part_count) || index != batch.parts_seen) {
                    return fail(batch, "part");
                }
                break;
            }
            default:
                return fail(batch, "unknown network key");
        }
    }
    ++batch.parts_seen;
    return !in.failed() || fail(batch, "network CBOR");
}

bool decode_system(cbor::Reader& in, Batch& batch) {
    size_t pairs = 0;
    if (!in.read_map(pairs)) {
        return fail(batch, "system is not a map");
    }
    for (size_t pair = 0; pair < pairs; ++pair) {
        uint64_t key = 0;
        in.read_uint(key);
        if (key == wire::system_key::kAddresses || key == wire::system_key::kMacs) {
            size_t count = 0;
            in.read_array(count);
            for (size_t i = 0; i < count; ++i) {
                in.skip();
            }
            (key == wire::system_key::kMacs ? batch.system_macs : batch.system_addresses) = count;
            continue;
        }
        const char* text = nullptr;
        size_t length = 0;
        if (!in.read_text(text, length)) {
            return fail(batch, "system text");
        }
        if (key == wire::system_key::kAgentVersion) {
            batch.agent_version_ok = equals(text, length, "0.1.0");
        } else if (key == wire::system_key::kOsName) {
            batch.os_name_ok = equals(text, length, kOsName);
        }
    }
    return !in.failed() || fail(batch, "system CBOR");
}

bool decode_heartbeat(cbor::Reader& in, Batch& batch) {
    size_t pairs = 0;
    if (!in.read_map(pairs)) {
        return fail(batch, "heartbeat is not a map");
    }
    HeartbeatSeen& hb = batch.heartbeat;
    hb = HeartbeatSeen{};
    for (size_t pair = 0; pair < pairs; ++pair) {
        uint64_t key = 0;
        if (!in.read_uint(key) || key == 0 || key > 15) {
            return fail(batch, "heartbeat key");
        }
        if (key == wire::heartbeat_key::kConfigRejected) {
            size_t count = 0;
            if (!in.read_array(count) || count != 2 || !in.read_uint(hb.rejected_version) ||
                !in.read_uint(hb.rejected_reason)) {
                return fail(batch, "config rejected");
            }
            hb.has_rejected = true;
        } else if (!in.read_uint(hb.values[key])) {
            return fail(batch, "heartbeat value");
        }
    }
    return !in.failed() || fail(batch, "heartbeat CBOR");
}

bool decode_message(const Captured& message, Batch& batch) {
    cbor::Reader in(message.data, message.length);
    size_t pairs = 0;
    if (!in.read_map(pairs) || pairs < 5) {
        return fail(batch, "message is not a map with the envelope");
    }
    uint64_t envelope[6] = {};
    uint32_t envelope_keys = 0;
    uint64_t previous_key = 0;
    for (size_t pair = 0; pair < pairs; ++pair) {
        uint64_t key = 0;
        if (!in.read_uint(key) || key <= previous_key) {
            return fail(batch, "message keys not ascending");
        }
        previous_key = key;
        if (key <= wire::message_key::kUptime) {
            in.read_uint(envelope[key]);
            envelope_keys |= 1u << key;
            continue;
        }
        bool ok = true;
        switch (key) {
            case wire::message_key::kNetwork:
                ++batch.network_messages;
                ok = decode_network(in, batch);
                break;
            case wire::message_key::kSystem:
                ++batch.system_messages;
                ok = decode_system(in, batch);
                break;
            case wire::message_key::kPorts: {
                ++batch.ports_messages;
                size_t count = 0;
                ok = in.read_array(count);
                for (size_t i = 0; ok && i < count; ++i) {
                    ok = in.skip();
                }
                batch.port_count = count;
                break;
            }
            case wire::message_key::kHeartbeat:
                ++batch.heartbeat_messages;
                ok = decode_heartbeat(in, batch);
                break;
            default:
                return fail(batch, "unknown message key");
        }
        if (!ok) {
            return false;
        }
    }
    if (!in.finish()) {
        return fail(batch, "bytes after the message");
    }
    // Envelope: keys 1-5 always, the format version, one boot id, sequence numbers without gaps.
    if (envelope_keys != 0x3E) {
        return fail(batch, "envelope key missing");
    }
    if (envelope[wire::message_key::kVersion] != wire::kFormatVersion) {
        return fail(batch, "format version");
    }
    if (g_next_sequence == 0) {
        g_boot_id = envelope[wire::message_key::kBootId];
    } else if (envelope[wire::message_key::kBootId] != g_boot_id) {
        return fail(batch, "boot id changed");
    }
    if (envelope[wire::message_key::kSequence] != g_next_sequence) {
        return fail(batch, "sequence gap");
    }
    if (batch.messages == 0) {
        batch.first_sequence = g_next_sequence;
    }
    ++g_next_sequence;
    const uint64_t now_s = vigil_cortex_m_now_ms() / 1000;
    if (envelope[wire::message_key::kUptime] > now_s ||
        envelope[wire::message_key::kUnixTime] < kUnixTimeAtStart ||
        envelope[wire::message_key::kUnixTime] > kUnixTimeAtStart + now_s) {
        return fail(batch, "uptime or unix time");
    }
    ++batch.messages;
    return true;
}

/// Decodes the messages captured since `first` into g_batch.
Batch& decode_since(size_t first) {
    g_batch = Batch{};
    for (size_t i = first; i < g_captured && g_batch.decoded; ++i) {
        decode_message(g_messages[i], g_batch);
    }
    if (!g_batch.decoded) {
        sh::write("  decode error: ");
        sh::write(g_batch.error);
        sh::write("\n");
    }
    return g_batch;
}

const FlowSeen* find_flow(const Batch& batch, uint8_t family, uint64_t protocol,
                          uint16_t local_port, uint16_t remote_port) {
    for (size_t i = 0; i < batch.kept_count; ++i) {
        const FlowSeen& f = batch.kept[i];
        if (f.family == family && (f.flags & wire::flow_flag::kProtocolMask) == protocol &&
            f.local_port == local_port && f.remote_port == remote_port) {
            return &f;
        }
    }
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Feeding packets, and what the agent should report for them

struct Expected {
    Totals window;  // recorded in flows or overflow since the last network collection
    uint64_t seen = 0;
    uint64_t unparsed = 0;
    uint64_t ignored = 0;
    uint64_t overflow = 0;
};

Expected g_expected;
bare::Packet g_packet;  // static: a 1500-byte buffer does not belong on the stack

enum class Outcome { Recorded, Unparsed, Ignored };

/// Hands `length` bytes of g_packet to the hook; a recorded packet counts its whole IP length,
/// as the header says, even when fewer bytes are handed over.
void hook(vigil_direction direction, Outcome outcome, size_t length) {
    vigil_agent_packet(g_packet.bytes, length, direction, 0, vigil_cortex_m_now_ms());
    ++g_expected.seen;
    if (outcome == Outcome::Unparsed) {
        ++g_expected.unparsed;
    } else if (outcome == Outcome::Ignored) {
        ++g_expected.ignored;
    } else {
        const bool out = direction == VIGIL_OUTBOUND;
        add(g_expected.window, out ? 0 : g_packet.length, out ? g_packet.length : 0, out ? 0 : 1,
            out ? 1 : 0);
    }
}

void feed(const bare::Ip& source, const bare::Ip& destination, const bare::Segment& segment,
          vigil_direction direction, Outcome outcome = Outcome::Recorded) {
    if (!bare::build(g_packet, source, destination, segment)) {
        check(false, "packet fits the builder");
        return;
    }
    hook(direction, outcome, g_packet.length);
}

void advance_to(uint64_t ms) {
    const uint64_t now = vigil_cortex_m_now_ms();
    if (ms > now) {
        vigil_cortex_m_advance_ms(static_cast<uint32_t>(ms - now));
    }
}

/// Moves the clock to `ms` and ticks.
void tick_only(uint64_t ms) {
    advance_to(ms);
    const vigil_status status = vigil_agent_tick();
    if (status != VIGIL_OK) {
        check_eq(static_cast<uint64_t>(status), VIGIL_OK, "tick status");
    }
    if (interrupts_masked()) {
        check(false, "tick leaves interrupts enabled");
    }
}

/// Ticks at `ms` and decodes what the transport received during the tick.
Batch& tick_at(uint64_t ms) {
    const size_t first = g_captured;
    tick_only(ms);
    return decode_since(first);
}

void check_window(const Batch& batch, const char* what) {
    sh::write("-- ");
    sh::write(what);
    sh::write("\n");
    check(batch.decoded, "messages decode");
    check_eq(batch.flows.bytes_in + batch.overflow.bytes_in, g_expected.window.bytes_in,
             "bytes in (flows + overflow)");
    check_eq(batch.flows.bytes_out + batch.overflow.bytes_out, g_expected.window.bytes_out,
             "bytes out (flows + overflow)");
    check_eq(batch.flows.packets_in + batch.overflow.packets_in, g_expected.window.packets_in,
             "packets in (flows + overflow)");
    check_eq(batch.flows.packets_out + batch.overflow.packets_out, g_expected.window.packets_out,
             "packets out (flows + overflow)");
    g_expected.window = Totals{};
}

void check_heartbeat(const HeartbeatSeen& hb) {
    using namespace wire::heartbeat_key;
    check_eq(hb.values[kPacketsSeen], g_expected.seen, "heartbeat packets_seen");
    check_eq(hb.values[kPacketsUnparsed], g_expected.unparsed, "heartbeat packets_unparsed");
    check_eq(hb.values[kPacketsIgnored], g_expected.ignored, "heartbeat packets_ignored");
    check_eq(hb.values[kOverflowPackets], g_expected.overflow, "heartbeat overflow_packets");
}

size_t config_bytes(uint8_t* out, size_t capacity, const wire::ConfigFields& config) {
    cbor::Writer writer(out, capacity);
    wire::encode_config(writer, config);
    return writer.ok() ? writer.size() : 0;
}

// ---------------------------------------------------------------------------------------------
// The packet hook from an interrupt handler

constexpr uint32_t kSysTickCsr = 0xE000E010;
constexpr uint32_t kSysTickRvr = 0xE000E014;
constexpr uint32_t kSysTickCvr = 0xE000E018;

volatile uint32_t& reg(uint32_t address) {
    return *reinterpret_cast<volatile uint32_t*>(address);
}

bare::Packet g_isr_packet;
volatile uint32_t g_isr_remaining = 0;
volatile uint32_t g_isr_fed = 0;

}  // namespace

extern "C" void SysTick_Handler() {
    if (g_isr_remaining == 0) {
        reg(kSysTickCsr) = 0;
        return;
    }
    vigil_agent_packet(g_isr_packet.bytes, g_isr_packet.length, VIGIL_OUTBOUND, 1,
                       vigil_cortex_m_now_ms());
    g_isr_remaining = g_isr_remaining - 1;
    g_isr_fed = g_isr_fed + 1;
    // A period that varies makes the interrupt land at every point of the main loop's packet
    // hook, not at the few points one fixed period and one fixed loop length would repeat.
    reg(kSysTickRvr) = 1000 + (g_isr_fed * 7919u) % 1024u;
}

namespace {

// ---------------------------------------------------------------------------------------------
// The scenario

const bare::Ip kDevice4 = bare::ipv4(192, 0, 2, 10);
const bare::Ip kHub4 = bare::ipv4(198, 51, 100, 7);
const bare::Ip kResolver4 = bare::ipv4(198, 51, 100, 53);
const bare::Ip kScanner4 = bare::ipv4(203, 0, 113, 5);
const bare::Ip kMulticast4 = bare::ipv4(224, 0, 0, 251);
const bare::Ip kDevice6 = bare::ipv6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10);
const bare::Ip kPeer6 = bare::ipv6(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x7);

vigil_port g_port;
vigil_transport g_transport;

void before_init() {
    sh::write("-- before init\n");
    check_eq(vigil_agent_state(), VIGIL_STATE_NOT_INITIALISED, "state before init");
    check_eq(vigil_agent_tick(), VIGIL_NOT_INITIALISED, "tick before init");
    const uint8_t config[] = {0xA1, 0x01, 0x01};
    check_eq(vigil_agent_apply_config(config, sizeof(config)), VIGIL_NOT_INITIALISED,
             "config before init");
    check_eq(vigil_agent_init(nullptr, &g_transport, kDeviceId, nullptr), VIGIL_BAD_PARAMETER,
             "init without a port");
    check_eq(vigil_agent_init(&g_port, &g_transport, "no spaces allowed", nullptr),
             VIGIL_BAD_PARAMETER, "init with a bad device id");
    vigil_port no_clock = g_port;
    no_clock.now_ms = nullptr;
    check_eq(vigil_agent_init(&no_clock, &g_transport, kDeviceId, nullptr), VIGIL_BAD_PARAMETER,
             "init without a clock");
}

void first_collection() {
    sh::write("-- init, first collection while the hub is unreachable\n");
    const vigil_options options{0};  // collect at the first tick
    check_eq(vigil_agent_init(&g_port, &g_transport, kDeviceId, &options), VIGIL_OK, "init");
    check_eq(vigil_agent_state(), VIGIL_STATE_PENDING, "state after init");
    check_eq(vigil_agent_init(&g_port, &g_transport, kDeviceId, &options),
             VIGIL_ALREADY_INITIALISED, "second init");

    tick_at(0);
    check_eq(g_captured, 0, "nothing sent while disconnected");
    check_eq(vigil_agent_state(), VIGIL_STATE_PENDING, "state while disconnected");

    g_connected = true;
    Batch& batch = tick_at(500);
    check_eq(vigil_agent_state(), VIGIL_STATE_ACTIVE, "state once connected");
    check(batch.decoded, "first messages decode");
    check_eq(batch.messages, 1, "first collection: one message");
    check_eq(batch.first_sequence, 0, "first sequence number");
    check_eq(batch.heartbeat_messages, 1, "first collection has a heartbeat");
    check_eq(batch.heartbeat.values[wire::heartbeat_key::kState], VIGIL_STATE_PENDING,
             "heartbeat state (encoded while pending)");
    check_eq(batch.heartbeat.values[wire::heartbeat_key::kCollectors], 0x1E,
             "heartbeat: all four collectors enabled");
    check_eq(batch.system_messages, 1, "first collection has system information");
    check(batch.agent_version_ok, "system: agent version");
    check(batch.os_name_ok, "system: os name from the port");
    check_eq(batch.system_addresses, 1, "system: addresses");
    check_eq(batch.system_macs, 1, "system: MACs");
    check_eq(batch.ports_messages, 1, "first collection has listening ports");
    check_eq(batch.port_count, 2, "listening ports");
    check_eq(batch.network_messages, 0, "an empty window sends no network map");
}

void traffic_window() {
    using bare::icmp_message;
    using bare::tcp_segment;
    using bare::udp_datagram;
    namespace tcp = bare::tcp;
    sh::write("-- one window of IPv4 and IPv6 TCP, UDP and ICMP\n");
    advance_to(1000);
    // The device connects to its hub over MQTT/TLS: SYN, SYN-ACK, data both ways.
    feed(kDevice4, kHub4, tcp_segment(49152, 8883, tcp::kSyn), VIGIL_OUTBOUND);
    feed(kHub4, kDevice4, tcp_segment(8883, 49152, tcp::kSyn | tcp::kAck), VIGIL_INBOUND);
    feed(kDevice4, kHub4, tcp_segment(49152, 8883, tcp::kAck | tcp::kPsh, 200), VIGIL_OUTBOUND);
    advance_to(2500);
    feed(kHub4, kDevice4, tcp_segment(8883, 49152, tcp::kAck | tcp::kPsh, 50), VIGIL_INBOUND);
    // A capture that stops after the TCP header still counts the packet's full 1040 bytes.
    bare::build(g_packet, kDevice4, kHub4, tcp_segment(49152, 8883, tcp::kAck, 1000));
    hook(VIGIL_OUTBOUND, Outcome::Recorded, 54);
    // A scanner's SYN to telnet, refused with RST.
    advance_to(3000);
    feed(kScanner4, kDevice4, tcp_segment(40000, 23, tcp::kSyn), VIGIL_INBOUND);
    feed(kDevice4, kScanner4, tcp_segment(23, 40000, tcp::kRst | tcp::kAck), VIGIL_OUTBOUND);
    // DNS query and answer.
    advance_to(4200);
    feed(kDevice4, kResolver4, udp_datagram(50000, 53, 40), VIGIL_OUTBOUND);
    feed(kResolver4, kDevice4, udp_datagram(53, 50000, 120), VIGIL_INBOUND);
    // Ping of the hub: the reply folds onto the request's flow.
    feed(kDevice4, kHub4, icmp_message(8, 0, 56), VIGIL_OUTBOUND);
    feed(kHub4, kDevice4, icmp_message(0, 0, 56), VIGIL_INBOUND);
    // IPv6: HTTPS out, NTP in, a ping from the peer.
    advance_to(6000);
    feed(kDevice6, kPeer6, tcp_segment(49200, 443, tcp::kSyn), VIGIL_OUTBOUND);
    feed(kPeer6, kDevice6, tcp_segment(443, 49200, tcp::kSyn | tcp::kAck), VIGIL_INBOUND);
    feed(kDevice6, kPeer6, tcp_segment(49200, 443, tcp::kAck | tcp::kPsh, 300), VIGIL_OUTBOUND);
    feed(kPeer6, kDevice6, udp_datagram(123, 123, 48), VIGIL_INBOUND);
    advance_to(9000);
    feed(kPeer6, kDevice6, icmp_message(128, 0, 32), VIGIL_INBOUND);
    feed(kDevice6, kPeer6, icmp_message(129, 0, 32), VIGIL_OUTBOUND);
    // Not recorded: inbound multicast, a later fragment, bytes that are not an IP packet.
    feed(kScanner4, kMulticast4, udp_datagram(5353, 5353, 30), VIGIL_INBOUND, Outcome::Ignored);
    bare::Options fragment;
    fragment.fragment_offset_bytes = 1480;
    bare::build(g_packet, kHub4, kDevice4, udp_datagram(1, 2, 100), fragment);
    hook(VIGIL_INBOUND, Outcome::Ignored, g_packet.length);
    g_packet.bytes[0] = 0x55;  // IP version 5
    hook(VIGIL_INBOUND, Outcome::Unparsed, g_packet.length);
    bare::build(g_packet, kHub4, kDevice4, udp_datagram(1, 2));
    hook(VIGIL_INBOUND, Outcome::Unparsed, 10);  // shorter than any IP header

    Batch& batch = tick_at(10000);
    check_window(batch, "window at 10 s");
    check_eq(batch.messages, 1, "window: one message");
    check_eq(batch.network_messages, 1, "window: network map");
    check_eq(batch.heartbeat_messages, 0, "window: heartbeat not due (low group, 60 s)");
    check_eq(batch.flows4, 4, "window: IPv4 flows");
    check_eq(batch.flows6, 3, "window: IPv6 flows");
    check_eq(batch.overflow_records, 0, "window: no overflow");
    check_eq(batch.window_duration_ms, 10000, "window: duration");

    using wire::flow_flag::kHandshakeShift;
    using wire::flow_flag::kRemoteOpened;
    const FlowSeen* mqtt = find_flow(batch, 4, 0, 49152, 8883);
    check(mqtt != nullptr, "MQTT flow present");
    if (mqtt != nullptr) {
        check_eq(mqtt->flags, 0, "MQTT flow: device opened, handshake completed");
        check_eq(mqtt->bytes_out, 40 + 240 + 1040, "MQTT flow: bytes out");
        check_eq(mqtt->packets_in, 2, "MQTT flow: packets in");
        check_eq(mqtt->first_s, 1, "MQTT flow: first seen at 1 s");
        check_eq(mqtt->last_s, 2, "MQTT flow: last seen at 2 s");
    }
    const FlowSeen* telnet = find_flow(batch, 4, 0, 23, 40000);
    check(telnet != nullptr && telnet->flags == (kRemoteOpened | (2u << kHandshakeShift)),
          "telnet flow: remote opened, refused");
    const FlowSeen* dns = find_flow(batch, 4, 1, 50000, 53);
    check(dns != nullptr && dns->flags == 1 && dns->bytes_in == 148, "DNS flow");
    const FlowSeen* ping = find_flow(batch, 4, 2, 8, 0);
    check(ping != nullptr && ping->packets_in == 1 && ping->packets_out == 1,
          "ping: request and reply in one flow");
    const FlowSeen* https6 = find_flow(batch, 6, 0, 49200, 443);
    check(https6 != nullptr && https6->flags == 0 && https6->bytes_out == 60 + 360,
          "IPv6 HTTPS flow");
    const FlowSeen* ntp6 = find_flow(batch, 6, 1, 123, 123);
    check(ntp6 != nullptr && ntp6->flags == (1u | kRemoteOpened), "IPv6 NTP flow: remote opened");
    const FlowSeen* ping6 = find_flow(batch, 6, 2, 128, 0);
    check(ping6 != nullptr && ping6->flags == (2u | kRemoteOpened), "IPv6 ping from the peer");
}

void overflow_window() {
    sh::write("-- more flows than the tables hold\n");
    advance_to(12000);
    const size_t v4_flows = VIGIL_MAX_IPV4_FLOWS + 16;
    const size_t v6_flows = VIGIL_MAX_IPV6_FLOWS + 4;
    for (size_t i = 0; i < v4_flows; ++i) {
        feed(kDevice4, kHub4, bare::udp_datagram(static_cast<uint16_t>(40000 + i), 9999, i),
             VIGIL_OUTBOUND);
    }
    for (size_t i = 0; i < v6_flows; ++i) {
        feed(kPeer6, kDevice6, bare::udp_datagram(7000, static_cast<uint16_t>(41000 + i), 2 * i),
             VIGIL_INBOUND);
    }
    g_expected.overflow += 16 + 4;

    Batch& batch = tick_at(20000);
    check_window(batch, "window at 20 s");
    check(batch.messages > 1, "window split over several messages");
    check_eq(batch.network_messages, batch.messages, "every part carries the network map");
    check_eq(batch.part_count, batch.messages, "part count matches the messages");
    check_eq(batch.parts_seen, batch.messages, "parts in order");
    check_eq(batch.flows4, VIGIL_MAX_IPV4_FLOWS, "IPv4 flows recorded");
    check_eq(batch.flows6, VIGIL_MAX_IPV6_FLOWS, "IPv6 flows recorded");
    check_eq(batch.overflow_records, 2, "one overflow record per family");
    check_eq(batch.overflow.packets_out, 16, "IPv4 overflow packets");
    check_eq(batch.overflow.packets_in, 4, "IPv6 overflow packets");
    check_eq(vigil_agent_state(), VIGIL_STATE_ACTIVE, "still active");
}

void config() {
    sh::write("-- config\n");
    uint8_t buffer[128];
    wire::ConfigFields next;
    next.version = 7;
    next.interval_s[0] = 5;
    next.collectors[static_cast<size_t>(wire::CollectorId::Heartbeat) - 1].priority =
        wire::Priority::High;
    const size_t length = config_bytes(buffer, sizeof(buffer), next);
    check(length > 0, "config encodes");
    check_eq(vigil_agent_apply_config(buffer, length), VIGIL_OK, "config version 7 applied");

    // The high group now runs every 5 s and carries the heartbeat.
    feed(kDevice4, kHub4, bare::udp_datagram(40000, 9999, 10), VIGIL_OUTBOUND);
    const size_t sent_before = g_captured;
    Batch& batch = tick_at(25000);
    check_window(batch, "window at 25 s");
    check_eq(batch.heartbeat_messages, 1, "heartbeat at 5 s intervals in the high group");
    check_eq(batch.heartbeat.values[wire::heartbeat_key::kConfigVersion], 7,
             "heartbeat config_version");
    check(!batch.heartbeat.has_rejected, "no refused config yet");
    check_eq(batch.heartbeat.values[wire::heartbeat_key::kMessagesSent], sent_before,
             "heartbeat messages_sent");
    check_heartbeat(batch.heartbeat);

    // Refused whole: each leaves config 7 in force.
    wire::ConfigFields bad = next;
    bad.version = 8;
    bad.interval_s[1] = 0;
    const size_t bad_length = config_bytes(buffer, sizeof(buffer), bad);
    check_eq(vigil_agent_apply_config(buffer, bad_length), VIGIL_INVALID_CONFIG,
             "interval 0 refused");
    const uint8_t truncated[] = {0xA2, 0x01, 0x09};
    check_eq(vigil_agent_apply_config(truncated, sizeof(truncated)), VIGIL_INVALID_CONFIG,
             "truncated config refused");
    check_eq(vigil_agent_apply_config(truncated, 0), VIGIL_INVALID_CONFIG, "empty config refused");
    wire::ConfigFields stale = next;
    stale.unicast_only = false;
    const size_t stale_length = config_bytes(buffer, sizeof(buffer), stale);
    check_eq(vigil_agent_apply_config(buffer, stale_length), VIGIL_INVALID_CONFIG,
             "same version with other settings refused");
    const uint8_t unknown_key[] = {0xA2, 0x01, 0x09, 0x18, 0x2A, 0x00};  // {1: 9, 42: 0}
    check_eq(vigil_agent_apply_config(unknown_key, sizeof(unknown_key)), VIGIL_INVALID_CONFIG,
             "unknown key refused");

    Batch& refused = tick_at(30000);
    check(refused.decoded, "messages at 30 s decode");
    check_eq(refused.heartbeat_messages, 1, "heartbeat at 30 s");
    check_eq(refused.heartbeat.values[wire::heartbeat_key::kConfigVersion], 7,
             "config 7 still in force");
    check(refused.heartbeat.has_rejected, "heartbeat reports the refused config");
    check_eq(refused.heartbeat.rejected_version, 9, "refused config version");
    check_eq(refused.heartbeat.rejected_reason, static_cast<uint8_t>(wire::ConfigError::UnknownKey),
             "refused config reason");
    check_eq(refused.ports_messages, 1, "listening ports at 30 s (medium group)");

    // The retained config in force, sent again on reconnect, is accepted and clears the report.
    const size_t again = config_bytes(buffer, sizeof(buffer), next);
    check_eq(vigil_agent_apply_config(buffer, again), VIGIL_OK, "config in force accepted again");
    Batch& cleared = tick_at(35000);
    check(cleared.heartbeat_messages == 1 && !cleared.heartbeat.has_rejected,
          "refusal cleared from the heartbeat");
}

void disconnection() {
    sh::write("-- hub unreachable, then busy, then back\n");
    g_connected = false;
    feed(kDevice4, kHub4, bare::tcp_segment(49152, 8883, bare::tcp::kAck, 100), VIGIL_OUTBOUND);
    const size_t before = g_captured;
    tick_at(40000);
    check_eq(vigil_agent_state(), VIGIL_STATE_PENDING, "pending while disconnected");
    feed(kDevice4, kHub4, bare::tcp_segment(49152, 8883, bare::tcp::kAck, 200), VIGIL_OUTBOUND);
    tick_at(45000);
    check_eq(g_captured, before, "nothing sent while disconnected");

    g_connected = true;
    g_send_result = 0;  // connected but its queue is full
    tick_at(46000);
    check_eq(g_captured, before, "nothing taken while the client is busy");
    g_send_result = 1;
    tick_at(47000);
    check_eq(g_captured, before, "no retry before retry_s (3 s)");
    Batch& batch = tick_at(49000);
    check_eq(vigil_agent_state(), VIGIL_STATE_ACTIVE, "active again");
    check_eq(batch.messages, 2, "both messages from the backlog sent");
    check_window(batch, "windows kept in the backlog");
}

void interrupt_hook() {
    sh::write("-- packet hook in an interrupt handler while the main loop feeds packets\n");
    tick_at(50000);
    // One flow fed from both contexts: every update of its record races unless the port's
    // critical section holds the interrupt off.
    bare::build(g_isr_packet, kDevice4, kHub4, bare::udp_datagram(45000, 9999, 60));
    bare::build(g_packet, kDevice4, kHub4, bare::udp_datagram(45000, 9999, 60));
    const uint32_t isr_packets = 3000;
    g_isr_remaining = isr_packets;
    reg(kSysTickRvr) = 1500;  // processor clock cycles between interrupts
    reg(kSysTickCvr) = 0;
    reg(kSysTickCsr) = 0x7;  // processor clock, interrupt, enable
    uint32_t main_packets = 0;
    uint32_t fed_while_main_ran = 0;
    for (uint32_t spin = 0; g_isr_remaining != 0 && spin < 2000000; ++spin) {
        hook(VIGIL_OUTBOUND, Outcome::Recorded, g_packet.length);
        ++main_packets;
        fed_while_main_ran = g_isr_fed;
    }
    reg(kSysTickCsr) = 0;
    check_eq(g_isr_fed, isr_packets, "interrupt handler fed all its packets");
    check(fed_while_main_ran > 0, "interrupts arrived while the main loop was feeding");
    sh::write("  main loop fed ");
    sh::write_u64(main_packets);
    sh::write(" packets, the interrupt handler ");
    sh::write_u64(g_isr_fed);
    sh::write("\n");
    g_expected.seen += g_isr_fed;
    add(g_expected.window, 0, uint64_t{g_isr_fed} * g_isr_packet.length, 0, g_isr_fed);

    Batch& batch = tick_at(50000 + 5000);
    check_window(batch, "window with interrupt traffic");
    const FlowSeen* flow = find_flow(batch, 4, 1, 45000, 9999);
    check(flow != nullptr && flow->packets_out == main_packets + g_isr_fed,
          "one record holds both contexts' packets");
    check_heartbeat(batch.heartbeat);
}

void disable_enable() {
    sh::write("-- disable and enable\n");
    check_eq(vigil_agent_disable(), VIGIL_OK, "disable");
    check_eq(vigil_agent_state(), VIGIL_STATE_NOT_INITIALISED, "state while disabled");
    check_eq(vigil_agent_tick(), VIGIL_DISABLED, "tick while disabled");
    bare::build(g_packet, kDevice4, kHub4, bare::udp_datagram(1234, 9999, 10));
    vigil_agent_packet(g_packet.bytes, g_packet.length, VIGIL_OUTBOUND, 0,
                       vigil_cortex_m_now_ms());  // not seen: the agent is off
    check_eq(vigil_agent_enable(), VIGIL_OK, "enable");
    check_eq(vigil_agent_state(), VIGIL_STATE_PENDING, "pending after enable");
    feed(kDevice4, kHub4, bare::udp_datagram(1234, 9999, 20), VIGIL_OUTBOUND);
    // Enabling schedules a collection after a random splay below 10 s; by 20 s it has run.
    const size_t before = g_captured;
    for (uint64_t ms = 56000; ms <= 76000; ms += 1000) {
        tick_only(ms);
    }
    Batch& batch = decode_since(before);
    check_eq(vigil_agent_state(), VIGIL_STATE_ACTIVE, "active after enable");
    check_window(batch, "windows after enable");
    check(batch.heartbeat_messages > 0, "heartbeats after enable");
    check_heartbeat(batch.heartbeat);
}

}  // namespace

int main() {
    vigil_cortex_m_port(&g_port);
    g_port.unix_time_s = unix_time_s;
    g_port.system_info = system_info;
    g_port.listening_ports = listening_ports;
    g_transport = vigil_transport{nullptr, is_connected, send};

    before_init();
    first_collection();
    traffic_window();
    overflow_window();
    config();
    disconnection();
    interrupt_hook();
    disable_enable();

    sh::write("-- every message\n");
    check_eq(g_next_sequence, g_captured, "every message decoded, sequence without gaps");
    check_eq(g_unexpected_sends, 0, "every send on the telemetry topic with the property bag");
    check_eq(g_sends_while_masked, 0, "no send inside the critical section");
    check(!interrupts_masked(), "interrupts enabled at the end");

    sh::write(g_failures == 0 ? "ALL PASSED (" : "FAILED (");
    sh::write_u64(static_cast<uint64_t>(g_failures));
    sh::write(" of ");
    sh::write_u64(static_cast<uint64_t>(g_checks));
    sh::write(" checks failed)\n");
    return g_failures == 0 ? 0 : 1;
}

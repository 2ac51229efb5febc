// Vigil's wire format: the integer keys, code tables and freestanding encoders shared by the agent
// (which writes messages and reads config) and the hub (which reads messages and writes config).
// docs/protocol.md holds the CDDL; every constant here has its line there.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vigil/protocol/cbor.h"
#include "vigil/protocol/topic.h"

namespace vigil::wire {

constexpr uint32_t kFormatVersion = 1;

/// Top-level message map keys. Keys 1..5 are the envelope; 10..13 are events, each at most once.
namespace message_key {
constexpr uint8_t kVersion = 1;  ///< uint: format version (kFormatVersion)
constexpr uint8_t kBootId = 2;   ///< uint: random 32-bit id chosen when the agent starts
constexpr uint8_t kSequence =
    3;  ///< uint: message number since boot, from 0; (boot, seq) is unique
constexpr uint8_t kUnixTime = 4;    ///< uint: seconds since 1970 when encoded; 0 when unknown
constexpr uint8_t kUptime = 5;      ///< uint: agent clock (seconds since init) when encoded
constexpr uint8_t kNetwork = 10;    ///< network-activity map
constexpr uint8_t kSystem = 11;     ///< system-information map
constexpr uint8_t kPorts = 12;      ///< listening-ports array
constexpr uint8_t kHeartbeat = 13;  ///< heartbeat map
}  // namespace message_key

/// The five keys every message starts with.
struct Envelope {
    uint32_t version = kFormatVersion;
    uint32_t boot_id = 0;
    uint32_t sequence = 0;
    uint32_t unix_time = 0;
    uint32_t uptime = 0;
};

/// Opens a message: the map head for the envelope and `events` events, then the envelope's
/// five pairs. The caller writes each event's key and value after it, in key order.
void encode_envelope(cbor::Writer& out, const Envelope& envelope, size_t events);

namespace network_key {
constexpr uint8_t kWindowStartAgeMs = 1;  ///< uint: ms from window start to the message's uptime
constexpr uint8_t kWindowDurationMs = 2;  ///< uint: window length in ms
constexpr uint8_t kLocalAddresses = 3;    ///< [* bstr]: local addresses that groups refer to
constexpr uint8_t kGroups = 4;            ///< [* group]
constexpr uint8_t kOverflow = 5;          ///< [* overflow]: traffic the flow table had no room for
constexpr uint8_t kPart = 6;              ///< [index, count] when one window spans several messages
}  // namespace network_key

/// Number of items one flow takes inside a group array.
constexpr size_t kFlowItems = 9;
/// Items before the flows in a group array: local address index, remote address.
constexpr size_t kGroupHeaderItems = 2;
/// Items in one overflow record.
constexpr size_t kOverflowItems = 6;

enum class Protocol : uint8_t { Tcp = 0, Udp = 1, Icmp = 2 };

/// Flow flags: one small integer per flow so the common cases encode in one byte.
namespace flow_flag {
constexpr uint8_t kProtocolMask = 0x03;    ///< Protocol
constexpr uint8_t kRemoteOpened = 0x04;    ///< the remote side opened it (else the device did)
constexpr uint8_t kOpenerInferred = 0x08;  ///< no SYN seen: opener guessed from the ports
constexpr uint8_t kHandshakeShift = 4;     ///< TCP only, bits 4-5: Handshake
constexpr uint8_t kHandshakeMask = 0x30;
}  // namespace flow_flag

/// TCP handshake outcome as seen in one window.
enum class Handshake : uint8_t {
    Completed =
        0,  ///< SYN answered by SYN-ACK, or a connection already running when the window began
    Unanswered = 1,  ///< SYN seen, no answer yet
    Refused = 2,     ///< SYN answered by RST
    Reset = 3,       ///< RST after the handshake completed
};

/// Service ports that cost one byte in a TCP or UDP flow: port kWellKnownPorts[i] is written as the
/// negative integer -1 - i, any other port as itself. Ports below 24 already take one byte. The
/// table is part of format version 1 and never changes within it.
constexpr uint16_t kWellKnownPorts[] = {443,  8883, 1883, 53,   123,   80,   5683, 5684,
                                        8080, 8443, 67,   68,   5353,  1900, 502,  161,
                                        162,  514,  3478, 4840, 47808, 554,  1194, 8000};
constexpr size_t kWellKnownPortCount = sizeof(kWellKnownPorts) / sizeof(kWellKnownPorts[0]);
static_assert(kWellKnownPortCount <= 24, "table indices must encode in one byte");

/// The wire integer for a TCP/UDP port.
int32_t port_to_wire(uint16_t port);
/// The port for a wire integer; false if it is neither a port nor a table index.
bool port_from_wire(int64_t value, uint16_t& port);

/// One flow of a window. For ICMP, local_port carries the type and remote_port the code.
struct FlowFields {
    uint8_t flags = 0;
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
    uint32_t bytes_in = 0;
    uint32_t bytes_out = 0;
    uint32_t packets_in = 0;
    uint32_t packets_out = 0;
    uint32_t first_s = 0;  ///< seconds from window start to the first packet
    uint32_t last_s = 0;   ///< seconds from window start to the last packet
};

/// Traffic that found the flow table full; exact totals per family and protocol.
struct OverflowFields {
    uint8_t family = 4;  ///< 4 or 6
    Protocol protocol = Protocol::Tcp;
    uint32_t bytes_in = 0;
    uint32_t bytes_out = 0;
    uint32_t packets_in = 0;
    uint32_t packets_out = 0;
};

/// Agent states, as reported in the heartbeat.
enum class AgentState : uint8_t { NotInitialised = 0, Pending = 1, Active = 2, Suspended = 3 };

namespace heartbeat_key {
constexpr uint8_t kState = 1;          ///< uint: AgentState
constexpr uint8_t kConfigVersion = 2;  ///< uint: version of the config in force (0 = build default)
constexpr uint8_t kPacketsSeen = 3;    ///< uint: packets given to the hook since boot
constexpr uint8_t kPacketsUnparsed = 4;   ///< uint: malformed or truncated packets
constexpr uint8_t kPacketsIgnored = 5;    ///< uint: not recorded: other protocols, later fragments,
                                          ///< inbound non-unicast, ignored interfaces
constexpr uint8_t kOverflowPackets = 6;   ///< uint: packets counted in overflow records
constexpr uint8_t kMessagesSent = 7;      ///< uint
constexpr uint8_t kSendFailures = 8;      ///< uint: sends the transport refused (retried later)
constexpr uint8_t kMessagesDropped = 9;   ///< uint: messages pushed out of a full backlog
constexpr uint8_t kBacklogMessages = 10;  ///< uint: messages waiting when this one was encoded
constexpr uint8_t kBacklogBytes = 11;     ///< uint
constexpr uint8_t kConfigRejected = 12;   ///< [version, ConfigError]: the last config refused
constexpr uint8_t kScheduleDrift = 13;    ///< uint: collections skipped because ticks came late
constexpr uint8_t kClockJumps = 14;       ///< uint: times the clock went backwards
constexpr uint8_t kCollectors = 15;       ///< uint: bit (1 << collector id) per enabled collector
}  // namespace heartbeat_key

/// Why a runtime config was rejected.
enum class ConfigError : uint8_t {
    None = 0,
    Malformed = 1,         ///< not CBOR, truncated, or not the expected shape
    UnknownKey = 2,        ///< a key this agent does not know
    UnknownCollector = 3,  ///< a collector id this agent does not have
    BadInterval = 4,       ///< an interval out of its allowed range
    BadPriority = 5,       ///< a priority group that does not exist
    StaleVersion = 6,      ///< version not newer than the one in force
    BadValue = 7,          ///< any other value out of range
    Unavailable = 8,       ///< enables a collector compiled out of this build
};

const char* to_string(ConfigError error);

struct HeartbeatFields {
    AgentState state = AgentState::NotInitialised;
    uint32_t config_version = 0;
    uint64_t packets_seen = 0;
    uint64_t packets_unparsed = 0;
    uint64_t packets_ignored = 0;
    uint64_t overflow_packets = 0;
    uint64_t messages_sent = 0;
    uint64_t send_failures = 0;
    uint64_t messages_dropped = 0;
    uint32_t backlog_messages = 0;
    uint32_t backlog_bytes = 0;
    uint32_t rejected_config_version = 0;
    ConfigError rejected_config_reason = ConfigError::None;  ///< None: key 12 is left out
    uint64_t schedule_drift = 0;
    uint64_t clock_jumps = 0;
    uint32_t collectors = 0;
};

namespace system_key {
constexpr uint8_t kAgentVersion = 1;     ///< tstr
constexpr uint8_t kOsName = 2;           ///< tstr: RTOS or OS
constexpr uint8_t kOsVersion = 3;        ///< tstr
constexpr uint8_t kStackName = 4;        ///< tstr: network stack
constexpr uint8_t kStackVersion = 5;     ///< tstr
constexpr uint8_t kFirmwareVersion = 6;  ///< tstr
constexpr uint8_t kBoard = 7;            ///< tstr: board or hardware model
constexpr uint8_t kAddresses = 8;        ///< [* bstr .size (4 / 16)]
constexpr uint8_t kMacs = 9;             ///< [* bstr .size 6]
}  // namespace system_key

/// Longest string the agent puts in a system-information field.
constexpr size_t kMaxSystemString = 64;
constexpr size_t kMaxSystemAddresses = 8;
constexpr size_t kMaxSystemMacs = 4;

/// An IPv4 or IPv6 address in network byte order.
struct Address {
    uint8_t family = 0;  ///< 4, 6, or 0 for "any"
    uint8_t bytes[16] = {};
    size_t size() const { return family == 4 ? 4 : family == 6 ? 16 : 0; }
};

/// System information as the port reports it. Strings are NUL-terminated, owned by the port,
/// and may be null when unknown (the field is then left out).
struct SystemFields {
    const char* agent_version = nullptr;
    const char* os_name = nullptr;
    const char* os_version = nullptr;
    const char* stack_name = nullptr;
    const char* stack_version = nullptr;
    const char* firmware_version = nullptr;
    const char* board = nullptr;
    Address addresses[kMaxSystemAddresses];
    size_t address_count = 0;
    uint8_t macs[kMaxSystemMacs][6] = {};
    size_t mac_count = 0;
};

/// One listening socket. Encoded as [protocol, port, address]; an empty address means "any".
struct ListeningPortFields {
    Protocol protocol = Protocol::Tcp;
    uint16_t port = 0;
    Address address;
};

/// Runtime config keys (hub -> agent, on the config topic).
namespace config_key {
constexpr uint8_t kVersion = 1;         ///< uint, required: must be newer than the one in force
constexpr uint8_t kIntervals = 2;       ///< [high_s, medium_s, low_s]
constexpr uint8_t kCollectors = 3;      ///< {collector id => [enabled: bool, priority: uint]}
constexpr uint8_t kUnicastOnly = 4;     ///< bool
constexpr uint8_t kPendingTimeout = 5;  ///< uint seconds: pending -> suspended
constexpr uint8_t kRetry = 6;           ///< uint seconds: delay before a failed send is retried
}  // namespace config_key

enum class CollectorId : uint8_t { Network = 1, System = 2, Heartbeat = 3, ListeningPorts = 4 };
constexpr size_t kCollectorCount = 4;
enum class Priority : uint8_t { High = 0, Medium = 1, Low = 2 };
constexpr size_t kPriorityCount = 3;

/// The names people use for collectors and priority groups (settings files, the hub's API, the
/// JSON form of a message), indexed by collector id - 1 and by Priority.
constexpr const char* kCollectorNames[kCollectorCount] = {"network", "system", "heartbeat",
                                                          "listening_ports"};
constexpr const char* kPriorityNames[kPriorityCount] = {"high", "medium", "low"};

/// The collector's name; null for an id outside the table.
constexpr const char* collector_name(uint32_t id) {
    return id >= 1 && id <= kCollectorCount ? kCollectorNames[id - 1] : nullptr;
}
/// The collector or priority group `length` bytes at `name` name; false for any other name.
bool collector_from_name(const char* name, size_t length, CollectorId& id);
bool priority_from_name(const char* name, size_t length, Priority& priority);

constexpr uint32_t kMinIntervalS = 1;
constexpr uint32_t kMaxIntervalS = 86400;
constexpr uint32_t kMaxPendingTimeoutS = 86400;
constexpr uint32_t kMaxRetryS = 3600;

struct CollectorSetting {
    bool enabled = true;
    Priority priority = Priority::High;
};

/// Which settings a config message carries. The agent's own config carries them all; the hub's
/// desired config only those an operator set, so the others stay as the agent runs them.
struct ConfigKeys {
    bool intervals = true;
    bool collectors[kCollectorCount] = {true, true, true, true};  ///< by collector id - 1
    bool unicast_only = true;
    bool pending_timeout = true;
    bool retry = true;

    static constexpr ConfigKeys none() {
        return ConfigKeys{false, {false, false, false, false}, false, false, false};
    }
};

/// A complete runtime config. Fields a config message leaves out keep the values given to
/// decode_config (the config in force), so a message may change one setting.
struct ConfigFields {
    uint32_t version = 0;
    uint32_t interval_s[kPriorityCount] = {10, 30, 60};
    CollectorSetting collectors[kCollectorCount] = {{true, Priority::High},
                                                    {true, Priority::Low},
                                                    {true, Priority::Low},
                                                    {true, Priority::Medium}};
    bool unicast_only = true;
    uint32_t pending_timeout_s = 300;
    uint32_t retry_s = 3;
};

/// Encoders. Each writes one CBOR item (the flow: kFlowItems items) and works in counting mode.
void encode_flow(cbor::Writer& out, const FlowFields& flow);
size_t flow_size(const FlowFields& flow);
void encode_overflow(cbor::Writer& out, const OverflowFields& overflow);
void encode_address(cbor::Writer& out, const Address& address);
void encode_heartbeat(cbor::Writer& out, const HeartbeatFields& heartbeat);
void encode_system(cbor::Writer& out, const SystemFields& system);
void encode_listening_ports(cbor::Writer& out, const ListeningPortFields* ports, size_t count);
/// One element of the listening-ports array, for callers that hold ports in another type.
void encode_listening_port(cbor::Writer& out, const ListeningPortFields& port);
void encode_config(cbor::Writer& out, const ConfigFields& config);
/// A config message with the version and the settings `keys` selects, in key order.
void encode_config(cbor::Writer& out, const ConfigFields& config, const ConfigKeys& keys);

/// Reads one address item (bstr of 0, 4 or 16 bytes).
bool decode_address(cbor::Reader& in, Address& address);

/// True when two configs differ at most in their version.
bool same_settings(const ConfigFields& a, const ConfigFields& b);

/// Decodes a config message onto `config` (which holds the config in force). On any error the
/// result is not None and `config` is left exactly as it was: a config is applied whole or not
/// at all. The version must be newer than the one in force, except that the config in force
/// itself (same version, same settings) is accepted again without change. `version` is set even on
/// error when it could be read, so the rejection can name it.
ConfigError decode_config(const uint8_t* data, size_t length, ConfigFields& config,
                          uint32_t& version);
/// decode_config without the version rule: the message's settings onto `config` (unchanged on
/// error), its version in `version`, for callers that give versions their own meaning.
ConfigError decode_config_settings(const uint8_t* data, size_t length, ConfigFields& config,
                                   uint32_t& version);
/// decode_config_settings that also says which settings the message carried.
ConfigError decode_config_settings(const uint8_t* data, size_t length, ConfigFields& config,
                                   uint32_t& version, ConfigKeys& keys);

}  // namespace vigil::wire

// What the hub keeps of one security message, whatever format it came in: Vigil's own CBOR, the
// legacy Defender micro-agent's FlatBuffers, or an AWS IoT Device Defender metrics report. The
// decoders (hub/decode) produce it, the store (hub/store) writes it, detection and the API read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vigil::hub {

enum class Format : uint8_t { Vigil = 0, LegacyDefender = 1, AwsDefender = 2 };
/// "vigil", "legacy-defender", "aws-defender" (also the metrics label and the store's column).
const char* to_string(Format format);

enum class Protocol : uint8_t { Tcp = 0, Udp = 1, Icmp = 2 };
const char* to_string(Protocol protocol);  ///< "tcp", "udp", "icmp"

/// One flow record of one collection window, directions seen from the device.
struct Flow {
    std::string local;   ///< the device's address, in text ("198.51.100.2"); empty when unknown
    std::string remote;  ///< the peer's address, in text
    Protocol protocol = Protocol::Tcp;
    uint16_t local_port = 0;   ///< ICMP: the type
    uint16_t remote_port = 0;  ///< ICMP: the code
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    std::optional<uint64_t> packets_in;  ///< not every format counts packets
    std::optional<uint64_t> packets_out;
    std::optional<bool> remote_opened;  ///< who opened the flow, when the format says
    std::string handshake;  ///< TCP: "completed", "unanswered", "refused", "reset"; "" unknown
    std::string local_interface;  ///< the device's interface ("eth0") when the format names it
};

/// Traffic an agent's full flow table could not itemise (Vigil): totals per family and protocol.
struct Overflow {
    uint8_t family = 4;
    Protocol protocol = Protocol::Tcp;
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
};

struct ListeningPort {
    Protocol protocol = Protocol::Tcp;
    uint16_t port = 0;
    std::string address;         ///< "" when bound to every address
    std::string interface_name;  ///< "eth0" when the format names the interface (AWS)
};

/// What all of the device's interfaces carried since its previous report (AWS network_stats).
/// A count the report leaves out is 0.
struct InterfaceTotals {
    uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
};

struct SystemInfo {
    std::string agent_version, os_name, os_version, stack_name, stack_version, firmware_version,
        board;
    std::vector<std::string> addresses;
    std::vector<std::string> macs;  ///< "02:00:00:00:00:02"
};

/// The agent's own state and counters (Vigil's heartbeat; other formats leave it out).
struct AgentStatus {
    std::string state;  ///< "pending", "active", "suspended", ...
    uint32_t config_version = 0;
    uint64_t packets_seen = 0, packets_unparsed = 0, packets_ignored = 0, overflow_packets = 0;
    uint64_t messages_sent = 0, send_failures = 0, messages_dropped = 0;
    uint32_t backlog_messages = 0, backlog_bytes = 0;
    std::optional<uint32_t> rejected_config_version;  ///< the last refused config, while refused
    std::string rejected_config_reason;
    /// Bit (1 << collector id) per collector the agent has enabled (wire::CollectorId); unset
    /// when the format does not say.
    std::optional<uint32_t> collectors;
};

struct Report {
    Format format = Format::Vigil;
    /// The device, from the topic the broker authorised: never from the payload.
    std::string device_id;
    /// Unique per device and message, so a message delivered twice is stored once. Vigil:
    /// "<boot_id>:<sequence>"; legacy Defender: the first event's id; AWS: the report id.
    std::string message_key;
    std::string agent_version;        ///< when the message says
    int64_t device_time_ms = 0;       ///< when the device says it collected this; 0 unknown
    int64_t received_ms = 0;          ///< when the hub received it (set by ingest)
    uint32_t window_duration_ms = 0;  ///< the network window's length; 0 unknown

    bool has_network = false;  ///< a network window was reported (possibly with no flows)
    std::vector<Flow> flows;
    std::vector<Overflow> overflow;
    std::optional<std::vector<ListeningPort>> listening_ports;
    std::optional<SystemInfo> system;
    std::optional<AgentStatus> status;
    std::optional<InterfaceTotals> interface_totals;  ///< device-level counts (AWS)
    uint32_t payload_bytes = 0;
};

/// A message as the broker delivered it.
struct Incoming {
    std::string topic;
    std::vector<uint8_t> payload;
    int64_t received_ms = 0;
};

}  // namespace vigil::hub

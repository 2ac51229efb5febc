// Hosted (heap-using) model of a Vigil message, with its decoder, encoder and JSON form. Used by
// the hub, the command line, the demo and the tests; the agent core never includes this header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/protocol/wire.h"

namespace vigil::protocol {

/// Largest message the decoder accepts.
constexpr size_t kMaxMessageBytes = 256 * 1024;

struct Flow {
    uint32_t local_index = 0;  ///< index into NetworkActivity::local_addresses
    wire::Address remote;
    wire::FlowFields fields;

    wire::Protocol protocol() const {
        return static_cast<wire::Protocol>(fields.flags & wire::flow_flag::kProtocolMask);
    }
    bool remote_opened() const { return (fields.flags & wire::flow_flag::kRemoteOpened) != 0; }
    bool opener_inferred() const { return (fields.flags & wire::flow_flag::kOpenerInferred) != 0; }
    wire::Handshake handshake() const {
        return static_cast<wire::Handshake>((fields.flags & wire::flow_flag::kHandshakeMask) >>
                                            wire::flow_flag::kHandshakeShift);
    }
};

struct NetworkActivity {
    uint32_t window_start_age_ms = 0;
    uint32_t window_duration_ms = 0;
    std::vector<wire::Address> local_addresses;
    /// Flows in wire order. Consecutive flows with the same (local_index, remote) share a group on
    /// the wire; the encoder groups them back the same way.
    std::vector<Flow> flows;
    std::vector<wire::OverflowFields> overflow;
    std::optional<std::pair<uint32_t, uint32_t>> part;  ///< (index, count)
};

struct SystemInformation {
    std::optional<std::string> agent_version, os_name, os_version, stack_name, stack_version,
        firmware_version, board;
    std::vector<wire::Address> addresses;
    std::vector<std::array<uint8_t, 6>> macs;
};

struct Message {
    uint32_t version = wire::kFormatVersion;
    uint32_t boot_id = 0;
    uint32_t sequence = 0;
    uint32_t unix_time = 0;
    uint32_t uptime = 0;
    std::optional<NetworkActivity> network;
    std::optional<SystemInformation> system;
    std::optional<std::vector<wire::ListeningPortFields>> listening_ports;
    std::optional<wire::HeartbeatFields> heartbeat;
};

enum class DecodeError : uint8_t {
    None = 0,
    Empty,           ///< no bytes at all
    TooLarge,        ///< over kMaxMessageBytes
    Cbor,            ///< not well-formed CBOR of the supported subset (see cbor_error)
    WrongShape,      ///< well-formed CBOR that does not follow the schema
    MissingField,    ///< a required key is absent
    UnknownVersion,  ///< format version this decoder does not read
    BadValue,        ///< a value outside its allowed range (bad address length, protocol...)
    DuplicateKey,    ///< map keys repeated or out of order
};

const char* to_string(DecodeError error);

struct DecodeResult {
    DecodeError error = DecodeError::None;
    cbor::ReadError cbor_error = cbor::ReadError::None;
    size_t offset = 0;   ///< where in the input the error was found
    std::string detail;  ///< one line naming the field
    bool ok() const { return error == DecodeError::None; }
};

/// Decodes one message. Never reads past `length`; on error `out` is unspecified.
DecodeResult decode_message(const uint8_t* data, size_t length, Message& out);

/// Encodes deterministically, with the same bytes the agent core writes for the same content.
/// Content is written as given, so a message the decoder would reject (an index past the address
/// table, a family mismatch) encodes to bytes it rejects; system strings and lists are clipped
/// the way the agent clips them (kMaxSystemString bytes, kMaxSystemAddresses, kMaxSystemMacs).
std::vector<uint8_t> encode_message(const Message& message);

/// A JSON rendering for people and the hub's API (field names as in docs/protocol.md).
std::string to_json(const Message& message, int indent = 2);

/// Text form of an address (inet_ntop); empty for family 0 ("any").
std::string to_string(const wire::Address& address);
/// The names the JSON form uses: "tcp", "udp", "icmp"; "completed", "unanswered", "refused",
/// "reset"; "not_initialised", "pending", "active", "suspended".
const char* to_string(wire::Protocol protocol);
const char* to_string(wire::Handshake handshake);
const char* to_string(wire::AgentState state);

bool operator==(const Flow& a, const Flow& b);
bool operator==(const NetworkActivity& a, const NetworkActivity& b);
bool operator==(const SystemInformation& a, const SystemInformation& b);
bool operator==(const Message& a, const Message& b);
inline bool operator!=(const Flow& a, const Flow& b) {
    return !(a == b);
}
inline bool operator!=(const NetworkActivity& a, const NetworkActivity& b) {
    return !(a == b);
}
inline bool operator!=(const SystemInformation& a, const SystemInformation& b) {
    return !(a == b);
}
inline bool operator!=(const Message& a, const Message& b) {
    return !(a == b);
}

}  // namespace vigil::protocol

// Value equality for the wire structs the model holds, declared in their own namespace so that
// argument-dependent lookup finds them. Addresses compare by family and the bytes that family
// uses; the unused tail of Address::bytes is ignored.
namespace vigil::wire {

bool operator==(const Address& a, const Address& b);
bool operator==(const FlowFields& a, const FlowFields& b);
bool operator==(const OverflowFields& a, const OverflowFields& b);
bool operator==(const HeartbeatFields& a, const HeartbeatFields& b);
bool operator==(const ListeningPortFields& a, const ListeningPortFields& b);
inline bool operator!=(const Address& a, const Address& b) {
    return !(a == b);
}
inline bool operator!=(const FlowFields& a, const FlowFields& b) {
    return !(a == b);
}
inline bool operator!=(const OverflowFields& a, const OverflowFields& b) {
    return !(a == b);
}
inline bool operator!=(const HeartbeatFields& a, const HeartbeatFields& b) {
    return !(a == b);
}
inline bool operator!=(const ListeningPortFields& a, const ListeningPortFields& b) {
    return !(a == b);
}

}  // namespace vigil::wire

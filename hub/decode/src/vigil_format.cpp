// Vigil's own CBOR message (docs/protocol.md) to a Report: protocol::decode_message does the
// parsing and checking; this file only maps the model across.
#include <string>

#include "formats.hpp"
#include "vigil/protocol/message.h"

namespace vigil::hub::detail {

namespace {

const char* reason_for(const protocol::DecodeResult& result) {
    using protocol::DecodeError;
    switch (result.error) {
        case DecodeError::None:
            return "";
        case DecodeError::Empty:
            return reason::kEmpty;
        case DecodeError::TooLarge:
            return reason::kOversized;
        case DecodeError::Cbor:
            return result.cbor_error == cbor::ReadError::Truncated ? reason::kTruncated
                                                                   : reason::kMalformed;
        case DecodeError::WrongShape:
        case DecodeError::DuplicateKey:
            return reason::kMalformed;
        case DecodeError::MissingField:
            return reason::kMissingField;
        case DecodeError::UnknownVersion:
            return reason::kUnsupportedVersion;
        case DecodeError::BadValue:
            return reason::kBadValue;
    }
    return reason::kMalformed;
}

Protocol protocol_of(wire::Protocol protocol) {
    return static_cast<Protocol>(static_cast<uint8_t>(protocol));
}

Flow flow_of(const protocol::Flow& in, const protocol::NetworkActivity& network) {
    Flow flow;
    if (in.local_index < network.local_addresses.size()) {
        flow.local = protocol::to_string(network.local_addresses[in.local_index]);
    }
    flow.remote = protocol::to_string(in.remote);
    flow.protocol = protocol_of(in.protocol());
    flow.local_port = in.fields.local_port;
    flow.remote_port = in.fields.remote_port;
    flow.bytes_in = in.fields.bytes_in;
    flow.bytes_out = in.fields.bytes_out;
    flow.packets_in = in.fields.packets_in;
    flow.packets_out = in.fields.packets_out;
    flow.remote_opened = in.remote_opened();
    if (flow.protocol == Protocol::Tcp) {
        flow.handshake = protocol::to_string(in.handshake());
    }
    return flow;
}

void map_network(const protocol::NetworkActivity& network, Report& report) {
    report.has_network = true;
    report.window_duration_ms = network.window_duration_ms;
    report.flows.reserve(network.flows.size());
    for (const protocol::Flow& flow : network.flows) {
        report.flows.push_back(flow_of(flow, network));
    }
    for (const wire::OverflowFields& in : network.overflow) {
        Overflow overflow;
        overflow.family = in.family;
        overflow.protocol = protocol_of(in.protocol);
        overflow.bytes_in = in.bytes_in;
        overflow.bytes_out = in.bytes_out;
        overflow.packets_in = in.packets_in;
        overflow.packets_out = in.packets_out;
        report.overflow.push_back(overflow);
    }
}

void map_system(const protocol::SystemInformation& in, Report& report) {
    SystemInfo system;
    system.agent_version = in.agent_version.value_or("");
    system.os_name = in.os_name.value_or("");
    system.os_version = in.os_version.value_or("");
    system.stack_name = in.stack_name.value_or("");
    system.stack_version = in.stack_version.value_or("");
    system.firmware_version = in.firmware_version.value_or("");
    system.board = in.board.value_or("");
    for (const wire::Address& address : in.addresses) {
        system.addresses.push_back(protocol::to_string(address));
    }
    for (const auto& mac : in.macs) {
        static const char kHex[] = "0123456789abcdef";
        std::string text;
        for (size_t i = 0; i < mac.size(); ++i) {
            if (i != 0) {
                text.push_back(':');
            }
            text.push_back(kHex[mac[i] >> 4]);
            text.push_back(kHex[mac[i] & 0x0F]);
        }
        system.macs.push_back(text);
    }
    report.agent_version = system.agent_version;
    report.system = std::move(system);
}

void map_heartbeat(const wire::HeartbeatFields& in, Report& report) {
    AgentStatus status;
    status.state = protocol::to_string(in.state);
    status.config_version = in.config_version;
    status.packets_seen = in.packets_seen;
    status.packets_unparsed = in.packets_unparsed;
    status.packets_ignored = in.packets_ignored;
    status.overflow_packets = in.overflow_packets;
    status.messages_sent = in.messages_sent;
    status.send_failures = in.send_failures;
    status.messages_dropped = in.messages_dropped;
    status.backlog_messages = in.backlog_messages;
    status.backlog_bytes = in.backlog_bytes;
    status.collectors = in.collectors;
    if (in.rejected_config_reason != wire::ConfigError::None) {
        status.rejected_config_version = in.rejected_config_version;
        status.rejected_config_reason = wire::to_string(in.rejected_config_reason);
    }
    report.status = std::move(status);
}

}  // namespace

bool decode_vigil(const uint8_t* data, size_t size, DecodeOutcome& outcome) {
    protocol::Message message;
    const protocol::DecodeResult result = protocol::decode_message(data, size, message);
    if (!result.ok()) {
        return fail(outcome, reason_for(result),
                    result.detail + " (byte " + std::to_string(result.offset) + ")");
    }
    Report& report = outcome.report;
    report.message_key = std::to_string(message.boot_id) + ":" + std::to_string(message.sequence);
    report.device_time_ms = int64_t{message.unix_time} * 1000;
    if (message.network) {
        map_network(*message.network, report);
    }
    if (message.system) {
        map_system(*message.system, report);
    }
    if (message.listening_ports) {
        std::vector<ListeningPort> ports;
        for (const wire::ListeningPortFields& in : *message.listening_ports) {
            ListeningPort port;
            port.protocol = protocol_of(in.protocol);
            port.port = in.port;
            port.address = protocol::to_string(in.address);
            ports.push_back(port);
        }
        report.listening_ports = std::move(ports);
    }
    if (message.heartbeat) {
        map_heartbeat(*message.heartbeat, report);
    }
    outcome.ok = true;
    return true;
}

}  // namespace vigil::hub::detail

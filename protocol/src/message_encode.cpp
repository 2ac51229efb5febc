// The encoder of Vigil messages: the same bytes the agent core writes for the same content.
#include <algorithm>
#include <cstring>

#include "vigil/protocol/message.h"

namespace vigil::protocol {

namespace {

void write_network(cbor::Writer& out, const NetworkActivity& network) {
    namespace key = wire::network_key;
    const bool overflow = !network.overflow.empty();
    const bool part = network.part.has_value();
    out.map(4 + (overflow ? 1 : 0) + (part ? 1 : 0));
    out.uint(key::kWindowStartAgeMs);
    out.uint(network.window_start_age_ms);
    out.uint(key::kWindowDurationMs);
    out.uint(network.window_duration_ms);
    out.uint(key::kLocalAddresses);
    out.array(network.local_addresses.size());
    for (const wire::Address& address : network.local_addresses) {
        wire::encode_address(out, address);
    }

    const std::vector<Flow>& flows = network.flows;
    const auto group_end = [&flows](size_t begin) {
        size_t end = begin + 1;
        while (end < flows.size() && flows[end].local_index == flows[begin].local_index &&
               flows[end].remote == flows[begin].remote) {
            ++end;
        }
        return end;
    };
    size_t groups = 0;
    for (size_t begin = 0; begin < flows.size(); begin = group_end(begin)) {
        ++groups;
    }
    out.uint(key::kGroups);
    out.array(groups);
    for (size_t begin = 0; begin < flows.size();) {
        const size_t end = group_end(begin);
        out.array(wire::kGroupHeaderItems + (end - begin) * wire::kFlowItems);
        out.uint(flows[begin].local_index);
        wire::encode_address(out, flows[begin].remote);
        for (size_t i = begin; i < end; ++i) {
            wire::encode_flow(out, flows[i].fields);
        }
        begin = end;
    }

    if (overflow) {
        out.uint(key::kOverflow);
        out.array(network.overflow.size());
        for (const wire::OverflowFields& record : network.overflow) {
            wire::encode_overflow(out, record);
        }
    }
    if (part) {
        out.uint(key::kPart);
        out.array(2);
        out.uint(network.part->first);
        out.uint(network.part->second);
    }
}

void write_system(cbor::Writer& out, const SystemInformation& system) {
    const auto c_str = [](const std::optional<std::string>& value) {
        return value.has_value() ? value->c_str() : nullptr;
    };
    wire::SystemFields fields;
    fields.agent_version = c_str(system.agent_version);
    fields.os_name = c_str(system.os_name);
    fields.os_version = c_str(system.os_version);
    fields.stack_name = c_str(system.stack_name);
    fields.stack_version = c_str(system.stack_version);
    fields.firmware_version = c_str(system.firmware_version);
    fields.board = c_str(system.board);
    fields.address_count = std::min(system.addresses.size(), wire::kMaxSystemAddresses);
    for (size_t i = 0; i < fields.address_count; ++i) {
        fields.addresses[i] = system.addresses[i];
    }
    fields.mac_count = std::min(system.macs.size(), wire::kMaxSystemMacs);
    for (size_t i = 0; i < fields.mac_count; ++i) {
        std::memcpy(fields.macs[i], system.macs[i].data(), sizeof fields.macs[i]);
    }
    wire::encode_system(out, fields);
}

void write_message(cbor::Writer& out, const Message& message) {
    namespace key = wire::message_key;
    wire::Envelope envelope;
    envelope.version = message.version;
    envelope.boot_id = message.boot_id;
    envelope.sequence = message.sequence;
    envelope.unix_time = message.unix_time;
    envelope.uptime = message.uptime;
    wire::encode_envelope(out, envelope,
                          (message.network ? 1 : 0) + (message.system ? 1 : 0) +
                              (message.listening_ports ? 1 : 0) + (message.heartbeat ? 1 : 0));
    if (message.network) {
        out.uint(key::kNetwork);
        write_network(out, *message.network);
    }
    if (message.system) {
        out.uint(key::kSystem);
        write_system(out, *message.system);
    }
    if (message.listening_ports) {
        out.uint(key::kPorts);
        wire::encode_listening_ports(out, message.listening_ports->data(),
                                     message.listening_ports->size());
    }
    if (message.heartbeat) {
        out.uint(key::kHeartbeat);
        wire::encode_heartbeat(out, *message.heartbeat);
    }
}

}  // namespace

std::vector<uint8_t> encode_message(const Message& message) {
    cbor::Writer counter;
    write_message(counter, message);
    std::vector<uint8_t> bytes(counter.size());
    cbor::Writer writer(bytes.data(), bytes.size());
    write_message(writer, message);
    return bytes;
}

}  // namespace vigil::protocol

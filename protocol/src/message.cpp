// Value equality of the message model, field by field.
#include "vigil/protocol/message.h"

#include <cstring>

namespace vigil::protocol {

bool operator==(const Flow& a, const Flow& b) {
    return a.local_index == b.local_index && a.remote == b.remote && a.fields == b.fields;
}

bool operator==(const NetworkActivity& a, const NetworkActivity& b) {
    return a.window_start_age_ms == b.window_start_age_ms &&
           a.window_duration_ms == b.window_duration_ms && a.local_addresses == b.local_addresses &&
           a.flows == b.flows && a.overflow == b.overflow && a.part == b.part;
}

bool operator==(const SystemInformation& a, const SystemInformation& b) {
    return a.agent_version == b.agent_version && a.os_name == b.os_name &&
           a.os_version == b.os_version && a.stack_name == b.stack_name &&
           a.stack_version == b.stack_version && a.firmware_version == b.firmware_version &&
           a.board == b.board && a.addresses == b.addresses && a.macs == b.macs;
}

bool operator==(const Message& a, const Message& b) {
    return a.version == b.version && a.boot_id == b.boot_id && a.sequence == b.sequence &&
           a.unix_time == b.unix_time && a.uptime == b.uptime && a.network == b.network &&
           a.system == b.system && a.listening_ports == b.listening_ports &&
           a.heartbeat == b.heartbeat;
}

}  // namespace vigil::protocol

namespace vigil::wire {

bool operator==(const Address& a, const Address& b) {
    return a.family == b.family && std::memcmp(a.bytes, b.bytes, a.size()) == 0;
}

bool operator==(const FlowFields& a, const FlowFields& b) {
    return a.flags == b.flags && a.local_port == b.local_port && a.remote_port == b.remote_port &&
           a.bytes_in == b.bytes_in && a.bytes_out == b.bytes_out && a.packets_in == b.packets_in &&
           a.packets_out == b.packets_out && a.first_s == b.first_s && a.last_s == b.last_s;
}

bool operator==(const OverflowFields& a, const OverflowFields& b) {
    return a.family == b.family && a.protocol == b.protocol && a.bytes_in == b.bytes_in &&
           a.bytes_out == b.bytes_out && a.packets_in == b.packets_in &&
           a.packets_out == b.packets_out;
}

bool operator==(const HeartbeatFields& a, const HeartbeatFields& b) {
    return a.state == b.state && a.config_version == b.config_version &&
           a.packets_seen == b.packets_seen && a.packets_unparsed == b.packets_unparsed &&
           a.packets_ignored == b.packets_ignored && a.overflow_packets == b.overflow_packets &&
           a.messages_sent == b.messages_sent && a.send_failures == b.send_failures &&
           a.messages_dropped == b.messages_dropped && a.backlog_messages == b.backlog_messages &&
           a.backlog_bytes == b.backlog_bytes &&
           a.rejected_config_version == b.rejected_config_version &&
           a.rejected_config_reason == b.rejected_config_reason &&
           a.schedule_drift == b.schedule_drift && a.clock_jumps == b.clock_jumps &&
           a.collectors == b.collectors;
}

bool operator==(const ListeningPortFields& a, const ListeningPortFields& b) {
    return a.protocol == b.protocol && a.port == b.port && a.address == b.address;
}

}  // namespace vigil::wire

// The JSON form of a Vigil message, for people and the hub's API (field names as in
// docs/protocol.md), and the text forms of the wire's code tables and addresses.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "vigil/protocol/message.h"

namespace vigil::protocol {

namespace {

using Json = nlohmann::ordered_json;

Json address_json(const wire::Address& address) {
    return address.size() == 0 ? Json(nullptr) : Json(to_string(address));
}

Json flow_json(const NetworkActivity& network, const Flow& flow) {
    const wire::FlowFields& f = flow.fields;
    const wire::Protocol protocol = flow.protocol();
    Json out;
    out["protocol"] = to_string(protocol);
    out["local"] = flow.local_index < network.local_addresses.size()
                       ? address_json(network.local_addresses[flow.local_index])
                       : Json(nullptr);
    if (protocol == wire::Protocol::Icmp) {
        out["remote"] = address_json(flow.remote);
        out["icmp_type"] = f.local_port;
        out["icmp_code"] = f.remote_port;
    } else {
        out["local_port"] = f.local_port;
        out["remote"] = address_json(flow.remote);
        out["remote_port"] = f.remote_port;
    }
    out["opened_by"] = flow.remote_opened() ? "remote" : "local";
    out["opener_inferred"] = flow.opener_inferred();
    if (protocol == wire::Protocol::Tcp) {
        out["handshake"] = to_string(flow.handshake());
    }
    out["bytes_in"] = f.bytes_in;
    out["bytes_out"] = f.bytes_out;
    out["packets_in"] = f.packets_in;
    out["packets_out"] = f.packets_out;
    out["first_s"] = f.first_s;
    out["last_s"] = f.last_s;
    return out;
}

Json network_json(const NetworkActivity& network) {
    Json out;
    out["window_start_age_ms"] = network.window_start_age_ms;
    out["window_duration_ms"] = network.window_duration_ms;
    Json addresses = Json::array();
    for (const wire::Address& address : network.local_addresses) {
        addresses.push_back(address_json(address));
    }
    out["local_addresses"] = std::move(addresses);
    Json flows = Json::array();
    for (const Flow& flow : network.flows) {
        flows.push_back(flow_json(network, flow));
    }
    out["flows"] = std::move(flows);
    Json overflow = Json::array();
    for (const wire::OverflowFields& record : network.overflow) {
        overflow.push_back(Json{{"family", record.family},
                                {"protocol", to_string(record.protocol)},
                                {"bytes_in", record.bytes_in},
                                {"bytes_out", record.bytes_out},
                                {"packets_in", record.packets_in},
                                {"packets_out", record.packets_out}});
    }
    out["overflow"] = std::move(overflow);
    if (network.part) {
        out["part"] = Json{{"index", network.part->first}, {"count", network.part->second}};
    }
    return out;
}

Json system_json(const SystemInformation& system) {
    Json out = Json::object();
    const std::pair<const char*, const std::optional<std::string>*> strings[] = {
        {"agent_version", &system.agent_version},
        {"os_name", &system.os_name},
        {"os_version", &system.os_version},
        {"stack_name", &system.stack_name},
        {"stack_version", &system.stack_version},
        {"firmware_version", &system.firmware_version},
        {"board", &system.board}};
    for (const auto& [name, value] : strings) {
        if (value->has_value()) {
            out[name] = **value;
        }
    }
    if (!system.addresses.empty()) {
        Json addresses = Json::array();
        for (const wire::Address& address : system.addresses) {
            addresses.push_back(address_json(address));
        }
        out["addresses"] = std::move(addresses);
    }
    if (!system.macs.empty()) {
        Json macs = Json::array();
        for (const auto& mac : system.macs) {
            char formatted[18];
            std::snprintf(formatted, sizeof(formatted), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                          mac[1], mac[2], mac[3], mac[4], mac[5]);
            macs.push_back(formatted);
        }
        out["macs"] = std::move(macs);
    }
    return out;
}

Json heartbeat_json(const wire::HeartbeatFields& hb) {
    Json out;
    out["state"] = to_string(hb.state);
    out["config_version"] = hb.config_version;
    out["packets_seen"] = hb.packets_seen;
    out["packets_unparsed"] = hb.packets_unparsed;
    out["packets_ignored"] = hb.packets_ignored;
    out["overflow_packets"] = hb.overflow_packets;
    out["messages_sent"] = hb.messages_sent;
    out["send_failures"] = hb.send_failures;
    out["messages_dropped"] = hb.messages_dropped;
    out["backlog_messages"] = hb.backlog_messages;
    out["backlog_bytes"] = hb.backlog_bytes;
    if (hb.rejected_config_reason != wire::ConfigError::None) {
        out["config_rejected"] = Json{{"version", hb.rejected_config_version},
                                      {"reason", wire::to_string(hb.rejected_config_reason)}};
    }
    out["schedule_drift"] = hb.schedule_drift;
    out["clock_jumps"] = hb.clock_jumps;
    Json collectors = Json::array();
    for (unsigned id = 0; id < 32; ++id) {
        if ((hb.collectors & (uint32_t{1} << id)) == 0) {
            continue;
        }
        const char* name = wire::collector_name(id);
        collectors.push_back(name != nullptr ? std::string(name)
                                             : "collector_" + std::to_string(id));
    }
    out["collectors"] = std::move(collectors);
    return out;
}

}  // namespace

const char* to_string(wire::Protocol protocol) {
    switch (protocol) {
        case wire::Protocol::Tcp:
            return "tcp";
        case wire::Protocol::Udp:
            return "udp";
        case wire::Protocol::Icmp:
            return "icmp";
    }
    return "unknown";
}

const char* to_string(wire::Handshake handshake) {
    switch (handshake) {
        case wire::Handshake::Completed:
            return "completed";
        case wire::Handshake::Unanswered:
            return "unanswered";
        case wire::Handshake::Refused:
            return "refused";
        case wire::Handshake::Reset:
            return "reset";
    }
    return "unknown";
}

const char* to_string(wire::AgentState state) {
    switch (state) {
        case wire::AgentState::NotInitialised:
            return "not_initialised";
        case wire::AgentState::Pending:
            return "pending";
        case wire::AgentState::Active:
            return "active";
        case wire::AgentState::Suspended:
            return "suspended";
    }
    return "unknown";
}

std::string to_string(const wire::Address& address) {
    if (address.family == 4) {
        // glibc's inet_ntop formats IPv4 through sprintf, which showed in the hub's profile: it
        // turns two addresses of every flow it ingests into text. Written into a buffer and
        // made a string once, the short string needs no growth checks per character.
        char text[16];
        size_t length = 0;
        for (int i = 0; i < 4; ++i) {
            const unsigned octet = address.bytes[i];
            if (i != 0) {
                text[length++] = '.';
            }
            if (octet >= 100) {
                text[length++] = static_cast<char>('0' + octet / 100);
            }
            if (octet >= 10) {
                text[length++] = static_cast<char>('0' + octet / 10 % 10);
            }
            text[length++] = static_cast<char>('0' + octet % 10);
        }
        return std::string(text, length);
    }
    char buffer[INET6_ADDRSTRLEN] = {};
    const int family = address.family == 4 ? AF_INET : address.family == 6 ? AF_INET6 : AF_UNSPEC;
    if (family == AF_UNSPEC ||
        inet_ntop(family, address.bytes, buffer, sizeof(buffer)) == nullptr) {
        return std::string();
    }
    return std::string(buffer);
}

std::string to_json(const Message& message, int indent) {
    Json out;
    out["version"] = message.version;
    out["boot_id"] = message.boot_id;
    out["sequence"] = message.sequence;
    out["unix_time"] = message.unix_time;
    out["uptime_s"] = message.uptime;
    if (message.network) {
        out["network"] = network_json(*message.network);
    }
    if (message.system) {
        out["system"] = system_json(*message.system);
    }
    if (message.listening_ports) {
        Json ports = Json::array();
        for (const wire::ListeningPortFields& port : *message.listening_ports) {
            ports.push_back(Json{{"protocol", to_string(port.protocol)},
                                 {"port", port.port},
                                 {"address", address_json(port.address)}});
        }
        out["listening_ports"] = std::move(ports);
    }
    if (message.heartbeat) {
        out["heartbeat"] = heartbeat_json(*message.heartbeat);
    }
    // The decoder only lets valid UTF-8 through, but a Message built in code may hold anything;
    // replacing bad bytes keeps this function from throwing.
    return out.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace vigil::protocol

#include "vigil/hub/report_json.hpp"

namespace vigil::hub {

using nlohmann::json;

void to_json(json& out, const Flow& flow) {
    out = {{"local", flow.local},
           {"remote", flow.remote},
           {"protocol", to_string(flow.protocol)},
           {"local_port", flow.local_port},
           {"remote_port", flow.remote_port},
           {"bytes_in", flow.bytes_in},
           {"bytes_out", flow.bytes_out}};
    if (flow.packets_in) {
        out["packets_in"] = *flow.packets_in;
    }
    if (flow.packets_out) {
        out["packets_out"] = *flow.packets_out;
    }
    if (flow.remote_opened) {
        out["remote_opened"] = *flow.remote_opened;
    }
    if (!flow.handshake.empty()) {
        out["handshake"] = flow.handshake;
    }
    if (!flow.local_interface.empty()) {
        out["local_interface"] = flow.local_interface;
    }
}

void to_json(json& out, const Overflow& overflow) {
    out = {{"family", overflow.family},         {"protocol", to_string(overflow.protocol)},
           {"bytes_in", overflow.bytes_in},     {"bytes_out", overflow.bytes_out},
           {"packets_in", overflow.packets_in}, {"packets_out", overflow.packets_out}};
}

void to_json(json& out, const ListeningPort& port) {
    out = {{"protocol", to_string(port.protocol)}, {"port", port.port}, {"address", port.address}};
    if (!port.interface_name.empty()) {
        out["interface_name"] = port.interface_name;
    }
}

void to_json(json& out, const SystemInfo& system) {
    out = {{"agent_version", system.agent_version},
           {"os_name", system.os_name},
           {"os_version", system.os_version},
           {"stack_name", system.stack_name},
           {"stack_version", system.stack_version},
           {"firmware_version", system.firmware_version},
           {"board", system.board},
           {"addresses", system.addresses},
           {"macs", system.macs}};
}

void to_json(json& out, const AgentStatus& status) {
    out = {{"state", status.state},
           {"config_version", status.config_version},
           {"packets_seen", status.packets_seen},
           {"packets_unparsed", status.packets_unparsed},
           {"packets_ignored", status.packets_ignored},
           {"overflow_packets", status.overflow_packets},
           {"messages_sent", status.messages_sent},
           {"send_failures", status.send_failures},
           {"messages_dropped", status.messages_dropped},
           {"backlog_messages", status.backlog_messages},
           {"backlog_bytes", status.backlog_bytes}};
    if (status.rejected_config_version) {
        out["rejected_config_version"] = *status.rejected_config_version;
        out["rejected_config_reason"] = status.rejected_config_reason;
    }
}

void to_json(json& out, const InterfaceTotals& totals) {
    out = {{"bytes_in", totals.bytes_in},
           {"bytes_out", totals.bytes_out},
           {"packets_in", totals.packets_in},
           {"packets_out", totals.packets_out}};
}

void from_json(const json& in, ListeningPort& port) {
    const std::string protocol = in.at("protocol").get<std::string>();
    bool known = false;
    for (Protocol p : {Protocol::Tcp, Protocol::Udp, Protocol::Icmp}) {
        if (protocol == to_string(p)) {
            port.protocol = p;
            known = true;
        }
    }
    if (!known) {
        throw json::other_error::create(501, "unknown protocol: " + protocol, &in);
    }
    in.at("port").get_to(port.port);
    in.at("address").get_to(port.address);
    port.interface_name = in.value("interface_name", std::string());
}

void from_json(const json& in, SystemInfo& system) {
    in.at("agent_version").get_to(system.agent_version);
    in.at("os_name").get_to(system.os_name);
    in.at("os_version").get_to(system.os_version);
    in.at("stack_name").get_to(system.stack_name);
    in.at("stack_version").get_to(system.stack_version);
    in.at("firmware_version").get_to(system.firmware_version);
    in.at("board").get_to(system.board);
    in.at("addresses").get_to(system.addresses);
    in.at("macs").get_to(system.macs);
}

void from_json(const json& in, AgentStatus& status) {
    in.at("state").get_to(status.state);
    in.at("config_version").get_to(status.config_version);
    in.at("packets_seen").get_to(status.packets_seen);
    in.at("packets_unparsed").get_to(status.packets_unparsed);
    in.at("packets_ignored").get_to(status.packets_ignored);
    in.at("overflow_packets").get_to(status.overflow_packets);
    in.at("messages_sent").get_to(status.messages_sent);
    in.at("send_failures").get_to(status.send_failures);
    in.at("messages_dropped").get_to(status.messages_dropped);
    in.at("backlog_messages").get_to(status.backlog_messages);
    in.at("backlog_bytes").get_to(status.backlog_bytes);
    if (in.contains("rejected_config_version")) {
        status.rejected_config_version = in.at("rejected_config_version").get<uint32_t>();
        status.rejected_config_reason = in.value("rejected_config_reason", std::string());
    }
}

}  // namespace vigil::hub

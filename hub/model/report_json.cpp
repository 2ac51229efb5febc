#include "vigil/hub/report_json.hpp"

#include <nlohmann/json.hpp>

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

namespace {

// Strings from devices are not checked for UTF-8 on the way in; replace what is not.
std::string dump(const json& document, int indent) {
    return document.dump(indent, ' ', false, json::error_handler_t::replace);
}

// Parses without exceptions escaping: a malformed document is reported as nullopt.
template <typename T>
std::optional<T> parse(const std::string& text) {
    const json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) {
        return std::nullopt;
    }
    try {
        return document.get<T>();
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::string to_json(const Report& report, int indent) {
    json out = {{"format", to_string(report.format)},
                {"device_id", report.device_id},
                {"message_key", report.message_key},
                {"agent_version", report.agent_version},
                {"device_time_ms", report.device_time_ms},
                {"received_ms", report.received_ms},
                {"window_duration_ms", report.window_duration_ms},
                {"has_network", report.has_network},
                {"payload_bytes", report.payload_bytes},
                {"flows", report.flows},
                {"overflow", report.overflow}};
    if (report.listening_ports) {
        out["listening_ports"] = *report.listening_ports;
    }
    if (report.system) {
        out["system"] = *report.system;
    }
    if (report.status) {
        out["status"] = *report.status;
    }
    if (report.interface_totals) {
        out["interface_totals"] = *report.interface_totals;
    }
    return dump(out, indent);
}

std::string to_json_text(const SystemInfo& system) {
    return dump(system, -1);
}

std::string to_json_text(const std::vector<ListeningPort>& ports) {
    return dump(ports, -1);
}

std::string to_json_text(const AgentStatus& status) {
    return dump(status, -1);
}

std::optional<SystemInfo> parse_system_json(const std::string& text) {
    return parse<SystemInfo>(text);
}

std::optional<std::vector<ListeningPort>> parse_ports_json(const std::string& text) {
    return parse<std::vector<ListeningPort>>(text);
}

std::optional<AgentStatus> parse_status_json(const std::string& text) {
    return parse<AgentStatus>(text);
}

}  // namespace vigil::hub

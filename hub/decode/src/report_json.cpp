// The JSON form of a Report. Field names are those of report.hpp; absent optionals are left
// out, so a reader can tell "not reported" from zero.
#include <nlohmann/json.hpp>

#include "vigil/hub/decode.hpp"

namespace vigil::hub {

namespace {

using nlohmann::json;

json flow_json(const Flow& flow) {
    json out = {{"local", flow.local},
                {"remote", flow.remote},
                {"protocol", to_string(flow.protocol)},
                {"local_port", flow.local_port},
                {"remote_port", flow.remote_port},
                {"bytes_in", flow.bytes_in},
                {"bytes_out", flow.bytes_out}};
    if (flow.packets_in)
        out["packets_in"] = *flow.packets_in;
    if (flow.packets_out)
        out["packets_out"] = *flow.packets_out;
    if (flow.remote_opened)
        out["remote_opened"] = *flow.remote_opened;
    if (!flow.handshake.empty())
        out["handshake"] = flow.handshake;
    if (!flow.local_interface.empty())
        out["local_interface"] = flow.local_interface;
    return out;
}

json overflow_json(const Overflow& overflow) {
    return {{"family", overflow.family},         {"protocol", to_string(overflow.protocol)},
            {"bytes_in", overflow.bytes_in},     {"bytes_out", overflow.bytes_out},
            {"packets_in", overflow.packets_in}, {"packets_out", overflow.packets_out}};
}

json port_json(const ListeningPort& port) {
    json out = {
        {"protocol", to_string(port.protocol)}, {"port", port.port}, {"address", port.address}};
    if (!port.interface_name.empty())
        out["interface_name"] = port.interface_name;
    return out;
}

json system_json(const SystemInfo& system) {
    return {{"agent_version", system.agent_version},
            {"os_name", system.os_name},
            {"os_version", system.os_version},
            {"stack_name", system.stack_name},
            {"stack_version", system.stack_version},
            {"firmware_version", system.firmware_version},
            {"board", system.board},
            {"addresses", system.addresses},
            {"macs", system.macs}};
}

json status_json(const AgentStatus& status) {
    json out = {{"state", status.state},
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
    return out;
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
                {"payload_bytes", report.payload_bytes}};
    json flows = json::array();
    for (const Flow& flow : report.flows)
        flows.push_back(flow_json(flow));
    out["flows"] = std::move(flows);
    json overflow = json::array();
    for (const Overflow& entry : report.overflow)
        overflow.push_back(overflow_json(entry));
    out["overflow"] = std::move(overflow);
    if (report.listening_ports) {
        json ports = json::array();
        for (const ListeningPort& port : *report.listening_ports)
            ports.push_back(port_json(port));
        out["listening_ports"] = std::move(ports);
    }
    if (report.system)
        out["system"] = system_json(*report.system);
    if (report.status)
        out["status"] = status_json(*report.status);
    if (report.interface_totals) {
        const InterfaceTotals& totals = *report.interface_totals;
        out["interface_totals"] = {{"bytes_in", totals.bytes_in},
                                   {"bytes_out", totals.bytes_out},
                                   {"packets_in", totals.packets_in},
                                   {"packets_out", totals.packets_out}};
    }
    // Strings from CBOR payloads are not checked for UTF-8; replace what is not, never throw.
    return out.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::hub

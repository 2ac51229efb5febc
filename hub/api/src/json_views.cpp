#include "json_views.hpp"

#include "vigil/hub/finding_json.hpp"
#include "vigil/hub/report_json.hpp"

namespace vigil::hub::api {

namespace {

template <typename T>
nlohmann::json optional_value(const std::optional<T>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const TrafficSummary& traffic) {
    nlohmann::json remotes = nlohmann::json::array();
    for (const RemoteTotal& remote : traffic.top_remotes) {
        remotes.push_back({{"remote", remote.remote},
                           {"bytes_in", remote.bytes_in},
                           {"bytes_out", remote.bytes_out},
                           {"flows", remote.flows}});
    }
    return {{"flows", traffic.flows},
            {"bytes_in", traffic.bytes_in},
            {"bytes_out", traffic.bytes_out},
            {"packets_in", traffic.packets_in},
            {"packets_out", traffic.packets_out},
            {"overflow_bytes", traffic.overflow_bytes},
            {"top_remotes", remotes},
            {"interfaces",
             {{"bytes_in", traffic.interfaces.bytes_in},
              {"bytes_out", traffic.interfaces.bytes_out},
              {"packets_in", traffic.interfaces.packets_in},
              {"packets_out", traffic.interfaces.packets_out}}}};
}

}  // namespace

nlohmann::json to_json(const DeviceRow& device) {
    return {{"id", device.id},
            // null while the device has sent nothing (enrolled, never seen)
            {"format",
             device.format ? nlohmann::json(to_string(*device.format)) : nlohmann::json(nullptr)},
            {"first_seen_ms", optional_value(device.first_seen_ms)},
            {"last_seen_ms", optional_value(device.last_seen_ms)},
            {"agent_version", device.agent_version},
            {"state", device.state},
            {"enrolment", to_string(device.enrolment)},
            {"applied_config_version", optional_value(device.applied_config_version)},
            {"desired_config_version", optional_value(device.desired_config_version)},
            {"messages", device.messages}};
}

nlohmann::json to_json(const DeviceDetail& detail) {
    nlohmann::json out = {{"device", to_json(detail.device)}};
    out["system"] = detail.system ? nlohmann::json(*detail.system) : nlohmann::json(nullptr);
    out["system_received_ms"] = detail.system_received_ms;
    nlohmann::json ports = nullptr;
    if (detail.listening_ports) {
        ports = nlohmann::json::array();
        for (const ListeningPort& port : *detail.listening_ports) {
            ports.push_back(port);
        }
    }
    out["listening_ports"] = ports;
    out["ports_received_ms"] = detail.ports_received_ms;
    out["status"] = detail.status ? nlohmann::json(*detail.status) : nlohmann::json(nullptr);
    out["status_received_ms"] = detail.status_received_ms;
    out["traffic"] = to_json(detail.traffic);
    return out;
}

nlohmann::json to_json(const StoredFlow& stored) {
    const Flow& flow = stored.flow;
    return {{"time_ms", stored.time_ms},
            {"received_ms", stored.received_ms},
            {"window_duration_ms", stored.window_duration_ms},
            {"local", flow.local},
            {"remote", flow.remote},
            {"protocol", to_string(flow.protocol)},
            {"local_port", flow.local_port},
            {"remote_port", flow.remote_port},
            {"bytes_in", flow.bytes_in},
            {"bytes_out", flow.bytes_out},
            {"packets_in", optional_value(flow.packets_in)},
            {"packets_out", optional_value(flow.packets_out)},
            {"remote_opened", optional_value(flow.remote_opened)},
            {"handshake", flow.handshake},
            {"local_interface", flow.local_interface}};
}

nlohmann::json to_json(const Alert& alert) {
    return nlohmann::json(alert);
}

nlohmann::json to_json(const Suppression& suppression) {
    return {{"id", suppression.id},
            {"source", to_string(suppression.source)},
            {"name", suppression.name},
            {"device_id", suppression.device_id},
            {"group", suppression.group},
            {"type", suppression.type},
            {"subject_pattern", suppression.subject_pattern},
            {"expires_ms", optional_value(suppression.expires_ms)},
            {"reason", suppression.reason},
            {"created_by", suppression.created_by},
            {"created_ms", suppression.created_ms},
            {"suppressed", suppression.suppressed}};
}

nlohmann::json to_json(const Recommendation& recommendation) {
    return nlohmann::json(recommendation);
}

nlohmann::json to_json(const RecommendationKindSummary& summary) {
    return {{"kind", summary.kind},
            {"severity", to_string(summary.severity)},
            {"title", summary.title},
            {"remediation", summary.remediation},
            {"open_devices", summary.open_devices},
            {"dismissed_devices", summary.dismissed_devices},
            {"closed_devices", summary.closed_devices}};
}

}  // namespace vigil::hub::api

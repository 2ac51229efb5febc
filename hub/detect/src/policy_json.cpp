#include "vigil/hub/detect/policy_json.hpp"

namespace vigil::hub::detect {

namespace {

using nlohmann::json;

json cidrs_json(const std::vector<Cidr>& cidrs) {
    json out = json::array();
    for (const Cidr& cidr : cidrs) {
        out.push_back(to_string(cidr));
    }
    return out;
}

/// An absent list allows everything: null.
json optional_cidrs(const std::optional<std::vector<Cidr>>& cidrs) {
    return cidrs ? cidrs_json(*cidrs) : json(nullptr);
}

json optional_ports(const std::optional<std::vector<uint16_t>>& ports) {
    return ports ? json(*ports) : json(nullptr);
}

json rule_json(const CustomRule& rule) {
    json out = {{"name", rule.name},
                {"metric", to_string(rule.metric)},
                {"above", rule.above ? json(*rule.above) : json(nullptr)},
                {"below", rule.below ? json(*rule.below) : json(nullptr)},
                {"window_s", rule.window_s},
                {"alarm_after", rule.alarm_after},
                {"clear_after", rule.clear_after},
                {"severity", to_string(rule.severity)},
                {"category", to_string(rule.category)},
                {"description", rule.description},
                {"line", rule.line}};
    return out;
}

json output_json(const OutputSettings& output) {
    json changes = json::array();
    for (const AlertChange change : output.changes) {
        changes.push_back(to_string(change));
    }
    json out = {{"kind", to_string(output.kind)},
                {"name", output.name},
                {"min_severity", to_string(output.min_severity)},
                {"changes", changes},
                {"queue", output.queue},
                {"line", output.line}};
    switch (output.kind) {
        case OutputKind::Webhook:
            out["url"] = output.url;
            out["signed"] = !output.secret.empty();
            out["timeout_ms"] = output.timeout_ms;
            out["retries"] = output.retries;
            break;
        case OutputKind::Syslog:
            out["address"] = output.address;
            out["transport"] = output.tcp ? "tcp" : "udp";
            out["facility"] = output.facility;
            out["app_name"] = output.app_name;
            break;
        case OutputKind::Mqtt:
            out["topic"] = output.topic;
            out["qos"] = output.qos;
            break;
    }
    return out;
}

json suppression_json(const Suppression& suppression) {
    return {{"name", suppression.name},
            {"device", suppression.device_id},
            {"group", suppression.group},
            {"type", suppression.type},
            {"subject", suppression.subject_pattern},
            {"expires_ms", suppression.expires_ms ? json(*suppression.expires_ms) : json(nullptr)},
            {"reason", suppression.reason}};
}

}  // namespace

json to_json(const DeviceSettings& settings) {
    json rules = json::array();
    for (const CustomRule& rule : settings.rules) {
        rules.push_back(rule_json(rule));
    }
    return {
        {"group", settings.group},
        {"malicious_ip",
         {{"enabled", settings.malicious_ip.enabled},
          {"severity", to_string(settings.malicious_ip.severity)}}},
        {"port_scan_inbound",
         {{"enabled", settings.inbound_scan.enabled},
          {"ports", settings.inbound_scan.ports},
          {"window_s", settings.inbound_scan.window_s},
          {"severity", to_string(settings.inbound_scan.severity)}}},
        {"scan_outbound",
         {{"enabled", settings.outbound_scan.enabled},
          {"hosts", settings.outbound_scan.hosts},
          {"window_s", settings.outbound_scan.window_s},
          {"severity", to_string(settings.outbound_scan.severity)}}},
        {"flood",
         {{"enabled", settings.flood.enabled},
          {"packets_per_second", settings.flood.packets_per_second},
          {"severity", to_string(settings.flood.severity)}}},
        {"silence",
         {{"enabled", settings.silence.enabled},
          {"intervals", settings.silence.intervals},
          {"default_interval_s", settings.silence.default_interval_s},
          {"severity", to_string(settings.silence.severity)}}},
        {"agent_health",
         {{"enabled", settings.agent_health.enabled},
          {"backlog_messages", settings.agent_health.backlog_messages},
          {"clock_skew_s", settings.agent_health.clock_skew_s},
          {"severity", to_string(settings.agent_health.severity)}}},
        {"allow",
         {{"outbound", optional_cidrs(settings.allow.outbound)},
          {"inbound", optional_cidrs(settings.allow.inbound)},
          {"tcp_ports", optional_ports(settings.allow.tcp_ports)},
          {"udp_ports", optional_ports(settings.allow.udp_ports)},
          {"severity", to_string(settings.allow.severity)}}},
        {"trusted", cidrs_json(settings.trusted)},
        {"rules", rules},
    };
}

json to_json(const Policy& policy) {
    json groups = json::object();
    for (const auto& [name, layer] : policy.groups) {
        json group = to_json(policy.resolve("", name));
        group["line"] = layer.line;
        groups[name] = group;
    }
    json devices = json::array();
    for (const auto& [id, layer] : policy.devices) {
        devices.push_back(id);
    }
    json suppressions = json::array();
    for (const Suppression& suppression : policy.suppressions) {
        suppressions.push_back(suppression_json(suppression));
    }
    json outputs = json::array();
    for (const OutputSettings& output : policy.outputs) {
        outputs.push_back(output_json(output));
    }
    return {{"source", policy.source},
            {"defaults", to_json(policy.resolve("", ""))},
            {"groups", groups},
            {"devices", devices},
            {"suppressions", suppressions},
            {"outputs", outputs}};
}

}  // namespace vigil::hub::detect

// Listening ports, from the reports that list them (Vigil's and AWS's; legacy Defender reports
// none): a port outside the group's allowed set, or, where the group sets none for that
// protocol, a port the device did not listen on before (its first report sets the baseline).
// Either alert clears when the port is no longer listening.
#include <algorithm>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

bool holds(const std::vector<ServiceKey>& services, ServiceKey service) {
    return std::find(services.begin(), services.end(), service) != services.end();
}

const std::optional<std::vector<uint16_t>>& allowed_for(const AllowList& allow, Protocol protocol) {
    return protocol == Protocol::Udp ? allow.udp_ports : allow.tcp_ports;
}

const char* type_for(const DetectionContext& context, ServiceKey service) {
    return allowed_for(context.settings.allow, static_cast<Protocol>(service >> 16))
               ? "allow.listening_port"
               : "ports.new_listening";
}

}  // namespace

void detect_listening_ports(DetectionContext& context) {
    if (!context.report.listening_ports) {
        return;
    }
    DeviceState& state = context.state;
    std::vector<ServiceKey> now;
    for (const ListeningPort& port : *context.report.listening_ports) {
        const ServiceKey service = service_of(port.protocol, port.port);
        if (!holds(now, service) && now.size() < kMaxListening) {
            now.push_back(service);
        }
    }
    std::sort(now.begin(), now.end());
    for (ServiceKey previous : state.listening) {
        if (!holds(now, previous)) {
            context.clear(type_for(context, previous), service_name(previous));
        }
    }
    const AllowList& allow = context.settings.allow;
    for (ServiceKey service : now) {
        const auto protocol = static_cast<Protocol>(service >> 16);
        const auto port = static_cast<uint16_t>(service & 0xFFFF);
        const auto& allowed = allowed_for(allow, protocol);
        const std::string name = service_name(service);
        if (allowed) {
            if (std::find(allowed->begin(), allowed->end(), port) != allowed->end()) {
                continue;
            }
            AlertRaise& alert = context.raise(
                "allow.listening_port", AlertCategory::AllowlistViolation, name, allow.severity);
            alert.title = "The device listens on " + name + ", outside its allowed ports";
            alert.description = "The device reports a socket listening on " + name +
                                ", which the allowed ports of its group do not include.";
            alert.remediation =
                "Turn the service off in the firmware, or, if the device needs it, add the port "
                "to the group's allowed ports.";
            alert.technique = "T0886 Remote Services";
        } else {
            if (!state.listening_known || holds(state.listening_seen, service)) {
                continue;
            }
            AlertRaise& alert = context.raise(
                "ports.new_listening", AlertCategory::NewListeningPort, name, Severity::Medium);
            alert.title = "New listening port " + name;
            alert.description =
                "The device now listens on " + name + ", which it had not listened on before.";
            alert.remediation =
                "Check that a firmware update or a configuration change explains it; a port "
                "that opens by itself is a common sign of a backdoor.";
            alert.technique = "T0886 Remote Services";
        }
        nlohmann::json ports = nlohmann::json::array();
        for (ServiceKey listening : now) {
            ports.push_back(service_name(listening));
        }
        context.last_raised().evidence_json =
            nlohmann::json{{"port", name}, {"listening", std::move(ports)}}.dump();
    }
    for (ServiceKey service : now) {
        if (!holds(state.listening_seen, service) && state.listening_seen.size() < kMaxListening) {
            state.listening_seen.push_back(service);
        }
    }
    state.listening = std::move(now);
    state.listening_known = true;
}

}  // namespace vigil::hub::detect

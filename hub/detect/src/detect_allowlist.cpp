// Allow-lists: outbound to an address the group does not allow, inbound from one it does not
// allow, and an inbound connection accepted on a port outside the allowed set (a backdoor shows
// itself this way even when no listening-port report comes). Covers every format with flows.
#include <algorithm>
#include <map>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

constexpr size_t kEvidenceFlows = 10;

bool allowed(const std::vector<Cidr>& blocks, const IpAddress& address) {
    return std::any_of(blocks.begin(), blocks.end(),
                       [&](const Cidr& block) { return block.contains(address); });
}

const std::optional<std::vector<uint16_t>>& ports_for(const AllowList& allow, Protocol protocol) {
    return protocol == Protocol::Udp ? allow.udp_ports : allow.tcp_ports;
}

bool accepted(const Flow& flow) {
    return flow.protocol == Protocol::Tcp ? flow.handshake == "completed" : flow.bytes_out > 0;
}

struct Violation {
    std::vector<const Flow*> flows;
    uint64_t bytes_in = 0, bytes_out = 0;
};

void raise_violation(DetectionContext& context, const char* type, const std::string& subject,
                     const Violation& violation, std::string title, std::string description,
                     std::string remediation, const char* technique) {
    AlertRaise& alert = context.raise(type, AlertCategory::AllowlistViolation, subject,
                                      context.settings.allow.severity);
    alert.title = std::move(title);
    alert.description = std::move(description) + " (" + std::to_string(violation.bytes_out) +
                        " bytes sent, " + std::to_string(violation.bytes_in) +
                        " received in this window).";
    alert.remediation = std::move(remediation);
    alert.technique = technique;
    nlohmann::json flows = nlohmann::json::array();
    for (size_t i = 0; i < violation.flows.size() && i < kEvidenceFlows; ++i) {
        flows.push_back(flow_evidence(*violation.flows[i]));
    }
    alert.evidence_json =
        nlohmann::json{{"flow_count", violation.flows.size()},
                       {"flows", std::move(flows)},
                       {"group", context.settings.group},
                       {"window", {{"start_ms", context.start_ms}, {"end_ms", context.end_ms}}}}
            .dump();
}

}  // namespace

void detect_allowlist(DetectionContext& context) {
    const AllowList& allow = context.settings.allow;
    std::map<std::string, Violation> outbound, inbound, ports;
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        if (!view.remote || context.trusted(*view.remote) || flow.protocol == Protocol::Icmp) {
            continue;
        }
        Violation* violation = nullptr;
        if (view.direction == Direction::Outbound && allow.outbound &&
            !allowed(*allow.outbound, *view.remote)) {
            violation = &outbound[flow.remote];
        } else if (view.direction == Direction::Inbound && allow.inbound &&
                   !allowed(*allow.inbound, *view.remote)) {
            violation = &inbound[flow.remote];
        }
        if (violation) {
            violation->flows.push_back(&flow);
            violation->bytes_in += flow.bytes_in;
            violation->bytes_out += flow.bytes_out;
        }
        const auto& allowed_ports = ports_for(allow, flow.protocol);
        if (view.direction == Direction::Inbound && allowed_ports && accepted(flow) &&
            std::find(allowed_ports->begin(), allowed_ports->end(), flow.local_port) ==
                allowed_ports->end()) {
            Violation& port = ports[service_name(service_of(flow.protocol, flow.local_port))];
            port.flows.push_back(&flow);
            port.bytes_in += flow.bytes_in;
            port.bytes_out += flow.bytes_out;
        }
    }
    const std::string group = context.settings.group.empty()
                                  ? std::string("the default policy")
                                  : "group '" + context.settings.group + "'";
    for (const auto& [remote, violation] : outbound) {
        raise_violation(context, "allow.outbound", remote, violation,
                        "Outbound connection to " + remote + ", outside the allow-list",
                        "The device opened a connection to " + remote +
                            ", which the outbound allow-list of " + group + " does not include",
                        "If the destination is legitimate (a new server, an update host), add "
                        "it to the allow-list; otherwise find what on the device opened it and "
                        "block the address.",
                        "T0869 Standard Application Layer Protocol");
    }
    for (const auto& [remote, violation] : inbound) {
        raise_violation(context, "allow.inbound", remote, violation,
                        "Inbound connection from " + remote + ", outside the allow-list",
                        remote +
                            " opened a connection to the device, and the inbound "
                            "allow-list of " +
                            group + " does not include it",
                        "Block the address at the site's firewall unless it is a new, "
                        "legitimate client; then add it to the allow-list.",
                        "T0822 External Remote Services");
    }
    for (const auto& [service, violation] : ports) {
        raise_violation(
            context, "allow.accepted_port", service, violation,
            "The device accepted a connection on " + service + ", outside its allowed ports",
            "The device answered an inbound connection on " + service +
                ", which the allowed ports of " + group +
                " do not include: something on the device listens there",
            "Find the process listening on that port on the device; if it is not "
            "part of the firmware's purpose, treat the device as compromised.",
            "T0886 Remote Services");
    }
}

}  // namespace vigil::hub::detect

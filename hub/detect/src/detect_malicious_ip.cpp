// Malicious IP: any flow, either direction, with a peer that a threat-intelligence feed lists.
// Every format carries flows, so this covers all three.
#include <map>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

constexpr size_t kEvidenceFlows = 10;

struct Contact {
    const Indicator* indicator = nullptr;
    std::vector<const FlowView*> flows;
    uint64_t bytes_in = 0, bytes_out = 0;
    bool opened_by_device = false, opened_by_peer = false;
};

}  // namespace

void detect_malicious_ip(DetectionContext& context) {
    const MaliciousIpSettings& settings = context.settings.malicious_ip;
    if (!settings.enabled || context.intel.indicators() == 0) {
        return;
    }
    std::map<std::string, Contact> contacts;  // by remote, so alerts come out in one order
    for (const FlowView& view : context.flows) {
        if (!view.remote || context.trusted(*view.remote)) {
            continue;
        }
        const Indicator* indicator = context.intel.find(*view.remote);
        if (!indicator) {
            continue;
        }
        Contact& contact = contacts[to_string(*view.remote)];
        contact.indicator = indicator;
        contact.flows.push_back(&view);
        contact.bytes_in += view.flow->bytes_in;
        contact.bytes_out += view.flow->bytes_out;
        contact.opened_by_device |= view.direction == Direction::Outbound;
        contact.opened_by_peer |= view.direction == Direction::Inbound;
    }
    for (const auto& [remote, contact] : contacts) {
        AlertRaise& alert = context.raise("intel.malicious_ip", AlertCategory::MaliciousIp, remote,
                                          settings.severity);
        const Indicator& indicator = *contact.indicator;
        alert.title = "Traffic with " + remote + ", listed as " + indicator.category;
        const char* who = contact.opened_by_device ? "The device opened a connection to"
                          : contact.opened_by_peer ? "The device accepted a connection from"
                                                   : "The device exchanged traffic with";
        alert.description = std::string(who) + " " + remote + ", which the feed '" +
                            indicator.source + "' lists in " + to_string(indicator.block) + " as " +
                            indicator.category + " (" + std::to_string(contact.bytes_out) +
                            " bytes sent, " + std::to_string(contact.bytes_in) +
                            " received in this window).";
        alert.remediation =
            "Find the process on the device that talks to this address and why; block the "
            "address at the site's firewall; if the device opened the connection, treat it as "
            "compromised until its firmware and credentials are checked.";
        alert.technique = "T0869 Standard Application Layer Protocol";
        nlohmann::json flows = nlohmann::json::array();
        for (size_t i = 0; i < contact.flows.size() && i < kEvidenceFlows; ++i) {
            flows.push_back(flow_evidence(*contact.flows[i]->flow));
        }
        alert.evidence_json =
            nlohmann::json{{"indicator",
                            {{"block", to_string(indicator.block)},
                             {"category", indicator.category},
                             {"source", indicator.source},
                             {"line", indicator.line}}},
                           {"bytes_in", contact.bytes_in},
                           {"bytes_out", contact.bytes_out},
                           {"flow_count", contact.flows.size()},
                           {"flows", std::move(flows)},
                           {"window", {{"start_ms", context.start_ms}, {"end_ms", context.end_ms}}}}
                .dump();
    }
}

}  // namespace vigil::hub::detect

// Cleartext services: a device that offers telnet, FTP, HTTP, MQTT on 1883, CoAP without DTLS or
// SNMP (whose v1 and v2c send their community in clear) — listening in its latest listening-port
// report, or accepting connections in its flows even when no listening-port report came — and a
// device that uses those protocols to peers on the internet.
#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

using detect::DetectionContext;
using detect::Direction;
using detect::FlowView;
using detect::ServiceKey;
using detect::TimedService;

namespace {

struct CleartextProtocol {
    Protocol protocol;
    uint16_t port;
    const char* name;
    Severity severity;
    const char* instead;  ///< what to use instead
};

constexpr std::array<CleartextProtocol, 7> kCleartext = {{
    {Protocol::Tcp, 23, "telnet", Severity::High, "SSH, or no remote shell at all"},
    {Protocol::Tcp, 21, "FTP", Severity::High, "SFTP or HTTPS"},
    {Protocol::Tcp, 80, "HTTP", Severity::Medium, "HTTPS"},
    {Protocol::Tcp, 8080, "HTTP", Severity::Medium, "HTTPS"},
    {Protocol::Tcp, 1883, "MQTT without TLS", Severity::Medium, "MQTT over TLS (8883)"},
    {Protocol::Udp, 5683, "CoAP without DTLS", Severity::Medium, "CoAP over DTLS (5684)"},
    {Protocol::Udp, 161, "SNMP", Severity::Medium, "SNMPv3 with authentication and privacy"},
}};

const CleartextProtocol* cleartext(ServiceKey service) {
    for (const CleartextProtocol& known : kCleartext) {
        if (detect::service_of(known.protocol, known.port) == service) {
            return &known;
        }
    }
    return nullptr;
}

bool listed(const std::vector<TimedService>& table, ServiceKey service) {
    return std::any_of(table.begin(), table.end(),
                       [&](const TimedService& seen) { return seen.service == service; });
}

/// This report's flows of `service` that `matches` takes, as evidence (at most five).
template <typename Matches>
nlohmann::json flows_of(const DetectionContext& context, Matches matches) {
    nlohmann::json flows = nlohmann::json::array();
    for (const FlowView& view : context.flows) {
        if (flows.size() < 5 && matches(view)) {
            flows.push_back(detect::flow_evidence(*view.flow));
        }
    }
    return flows;
}

RecommendationFinding offered(const DetectionContext& context, ServiceKey service,
                              const CleartextProtocol& known, bool listening, bool accepted) {
    const std::string subject = detect::service_name(service);
    RecommendationFinding finding;
    finding.kind = kCleartextService;
    finding.subject = subject;
    finding.severity = known.severity;
    finding.title = std::string(known.name) + " offered on " + subject;
    finding.rationale = std::string("The device ") +
                        (accepted ? "accepts connections" : "listens") + " on " + subject + " (" +
                        known.name +
                        "), which carries credentials and data in clear: anyone on the path "
                        "can read and change them, and such services are the first that "
                        "botnets try.";
    finding.remediation = std::string("Turn ") + known.name + " off in the firmware, or use " +
                          known.instead + " instead.";
    nlohmann::json evidence = {{"service", subject},
                               {"protocol", known.name},
                               {"listening", listening},
                               {"accepted_connections", accepted}};
    evidence["flows"] = flows_of(context, [&](const FlowView& view) {
        return accepted_inbound(view) &&
               detect::service_of(view.flow->protocol, view.flow->local_port) == service;
    });
    finding.evidence_json = evidence.dump();
    finding.evidence_key = subject + (accepted ? " accepted" : " listening");
    return finding;
}

RecommendationFinding used_outbound(const DetectionContext& context, const TimedService& seen,
                                    const CleartextProtocol& known) {
    const std::string subject = detect::service_name(seen.service);
    RecommendationFinding finding;
    finding.kind = kCleartextOutbound;
    finding.subject = subject;
    finding.severity = Severity::Medium;
    finding.title = std::string(known.name) + " to the internet on " + subject;
    finding.rationale = std::string("The device talks ") + known.name +
                        " to peers on the internet: what it sends, credentials included, can be "
                        "read and changed by anyone on the path.";
    finding.remediation = std::string("Use ") + known.instead + " for this traffic.";
    nlohmann::json evidence = {
        {"service", subject}, {"protocol", known.name}, {"last_seen_ms", seen.last_ms}};
    evidence["flows"] = flows_of(context, [&](const FlowView& view) {
        return view.direction == Direction::Outbound && view.remote &&
               on_the_internet(*view.remote) &&
               detect::service_of(view.flow->protocol, view.flow->remote_port) == seen.service;
    });
    finding.evidence_json = evidence.dump();
    finding.evidence_key = subject;
    return finding;
}

}  // namespace

void check_cleartext_services(DetectionContext& context, const HygieneSettings& settings) {
    const bool has_ports = context.report.listening_ports.has_value();
    if (!context.report.has_network && !has_ports) {
        return;
    }
    detect::HygieneProgress& hygiene = context.state.hygiene;
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        if (accepted_inbound(view)) {
            const ServiceKey local = detect::service_of(flow.protocol, flow.local_port);
            if (cleartext(local)) {
                remember_service(hygiene.cleartext_accepted, local, context.end_ms);
            }
        }
        if (view.direction == Direction::Outbound && view.remote) {
            // The port first: it rules out most flows before the address is looked up.
            const ServiceKey remote = detect::service_of(flow.protocol, flow.remote_port);
            if (cleartext(remote) && on_the_internet(*view.remote)) {
                remember_service(hygiene.cleartext_outbound, remote, context.end_ms);
            }
        }
    }
    const int64_t forget_before = context.end_ms - settings.forget_after_ms;
    forget_services(hygiene.cleartext_accepted, forget_before);
    forget_services(hygiene.cleartext_outbound, forget_before);

    std::vector<RecommendationFinding> offered_findings;
    for (const CleartextProtocol& known : kCleartext) {
        const ServiceKey service = detect::service_of(known.protocol, known.port);
        const bool listening =
            context.state.listening_known &&
            std::find(context.state.listening.begin(), context.state.listening.end(), service) !=
                context.state.listening.end();
        const bool accepted = listed(hygiene.cleartext_accepted, service);
        if (listening || accepted) {
            offered_findings.push_back(offered(context, service, known, listening, accepted));
        }
    }
    context.scan(kCleartextService).findings = std::move(offered_findings);

    if (context.report.has_network) {
        std::vector<RecommendationFinding> outbound_findings;
        for (const TimedService& seen : hygiene.cleartext_outbound) {
            outbound_findings.push_back(used_outbound(context, seen, *cleartext(seen.service)));
        }
        context.scan(kCleartextOutbound).findings = std::move(outbound_findings);
    }
}

}  // namespace vigil::hub::recommend

// Internet exposure: a device that accepts connections from peers outside its local networks, on
// any port. Closes once it has accepted none on that port for forget_after_ms of device time.
#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

using detect::DetectionContext;
using detect::FlowView;
using detect::ServiceKey;
using detect::TimedService;

namespace {

bool from_the_internet(const FlowView& view) {
    return view.flow->protocol != Protocol::Icmp && accepted_inbound(view) && view.remote &&
           on_the_internet(*view.remote);
}

}  // namespace

void check_internet_exposure(DetectionContext& context, const HygieneSettings& settings) {
    if (!context.report.has_network) {
        return;
    }
    detect::HygieneProgress& hygiene = context.state.hygiene;
    for (const FlowView& view : context.flows) {
        if (from_the_internet(view)) {
            remember_service(hygiene.exposed,
                             detect::service_of(view.flow->protocol, view.flow->local_port),
                             context.end_ms);
        }
    }
    forget_services(hygiene.exposed, context.end_ms - settings.forget_after_ms);
    std::vector<RecommendationFinding> findings;
    for (const TimedService& seen : hygiene.exposed) {
        const std::string subject = detect::service_name(seen.service);
        RecommendationFinding& finding = findings.emplace_back();
        finding.kind = kInternetExposure;
        finding.subject = subject;
        finding.severity = Severity::High;
        finding.title = "Accepts connections from the internet on " + subject;
        finding.rationale = "The device accepted connections on " + subject +
                            " from addresses outside its local networks: every scanner on the "
                            "internet reaches that service, and a flaw in it is a way in.";
        finding.remediation =
            "Put the device behind a firewall or NAT that drops unsolicited "
            "inbound traffic, or bind the service to the local network only; "
            "reach it through a VPN or the hub instead.";
        nlohmann::json remotes = nlohmann::json::array();
        for (const FlowView& view : context.flows) {
            if (remotes.size() < 5 && from_the_internet(view) &&
                detect::service_of(view.flow->protocol, view.flow->local_port) == seen.service) {
                remotes.push_back(detect::flow_evidence(*view.flow));
            }
        }
        finding.evidence_json = nlohmann::json{
            {"service", subject},
            {"last_seen_ms", seen.last_ms},
            {"flows", remotes}}.dump();
        finding.evidence_key = subject;
    }
    context.scan(kInternetExposure).findings = std::move(findings);
}

}  // namespace vigil::hub::recommend

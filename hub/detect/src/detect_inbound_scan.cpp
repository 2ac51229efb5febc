// Inbound port scan: one remote touching many distinct local ports (TCP and UDP) within the
// window, refused, unanswered and reset attempts counted as well as accepted ones (Zeek's
// Port_Scan: 15 ports in 5 minutes). Formats that do not say who opened a flow count the flows
// the ports show to be inbound.
#include <algorithm>

#include "detections.hpp"
#include "scan_table.hpp"

namespace vigil::hub::detect {

namespace {

size_t ceiling_of(uint32_t threshold) {
    return std::min<size_t>(std::max<uint32_t>(threshold, 1), kMaxTrackedPerEntry);
}

void count_handshake(InboundScanner& scanner, const std::string& handshake) {
    ++scanner.attempts;
    if (handshake == "completed") {
        ++scanner.completed;
    } else if (handshake == "refused") {
        ++scanner.refused;
    } else if (handshake == "unanswered") {
        ++scanner.unanswered;
    } else if (handshake == "reset") {
        ++scanner.reset;
    }
}

void raise_scan(DetectionContext& context, const InboundScanner& scanner,
                const InboundScanSettings& settings) {
    const std::string remote = to_string(scanner.remote);
    AlertRaise& alert = context.raise("scan.port_inbound", AlertCategory::PortScanInbound, remote,
                                      settings.severity);
    alert.first_observed_ms = scanner.first_ms;
    alert.last_observed_ms = scanner.last_ms;
    const uint32_t failed = scanner.refused + scanner.unanswered + scanner.reset;
    alert.title = "Inbound port scan from " + remote;
    alert.description = remote + " tried " + std::to_string(scanner.services.size()) +
                        " distinct ports of the device within " +
                        std::to_string(settings.window_s) + " s (" +
                        std::to_string(scanner.attempts) + " attempts, " + std::to_string(failed) +
                        " refused, unanswered or reset); the rule " + "alerts at " +
                        std::to_string(settings.ports) + " ports.";
    alert.remediation =
        "Check whether " + remote +
        " is an authorised scanner; if not, block it at the site's firewall and make sure every "
        "port the device answers on is one it needs (see its listening ports).";
    alert.technique = "T0846 Remote System Discovery";
    nlohmann::json ports = nlohmann::json::array();
    for (const TimedService& service : scanner.services) {
        ports.push_back(service_name(service.service));
    }
    alert.evidence_json =
        nlohmann::json{{"remote", remote},
                       {"distinct_ports", scanner.services.size()},
                       {"ports", std::move(ports)},
                       {"attempts", scanner.attempts},
                       {"completed", scanner.completed},
                       {"refused", scanner.refused},
                       {"unanswered", scanner.unanswered},
                       {"reset", scanner.reset},
                       {"first_ms", scanner.first_ms},
                       {"last_ms", scanner.last_ms},
                       {"rule", {{"ports", settings.ports}, {"window_s", settings.window_s}}}}
            .dump();
}

}  // namespace

void detect_inbound_scan(DetectionContext& context) {
    const InboundScanSettings& settings = context.settings.inbound_scan;
    std::vector<InboundScanner>& scanners = context.state.scanners;
    if (!settings.enabled) {
        scanners.clear();
        return;
    }
    std::vector<IpAddress> active;  // remotes of this report
    const size_t ports_ceiling = ceiling_of(settings.ports);
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        if (view.direction != Direction::Inbound || !view.remote ||
            flow.protocol == Protocol::Icmp || context.trusted(*view.remote)) {
            continue;
        }
        bool added = false;
        InboundScanner& scanner = touch(
            scanners, kMaxScanners, context.end_ms,
            [&](const InboundScanner& held) { return held.remote == *view.remote; }, added);
        if (added) {
            scanner.remote = *view.remote;
            scanner.first_ms = context.start_ms;
        }
        bool new_port = false;
        touch(
            scanner.services, ports_ceiling, context.end_ms,
            [&](const TimedService& held) {
                return held.service == service_of(flow.protocol, flow.local_port);
            },
            new_port)
            .service = service_of(flow.protocol, flow.local_port);
        count_handshake(scanner, flow.handshake);
        if (std::find(active.begin(), active.end(), scanner.remote) == active.end()) {
            active.push_back(scanner.remote);
        }
    }

    const int64_t newest = std::max(context.state.latest_ms, context.end_ms);
    const int64_t oldest = newest - static_cast<int64_t>(settings.window_s) * 1000;
    for (auto it = scanners.begin(); it != scanners.end();) {
        drop_before(it->services, oldest);
        if (it->services.empty()) {
            if (it->alerted) {
                context.clear("scan.port_inbound", to_string(it->remote));
            }
            it = scanners.erase(it);
        } else {
            ++it;
        }
    }
    for (InboundScanner& scanner : scanners) {
        if (scanner.services.size() >= settings.ports &&
            std::find(active.begin(), active.end(), scanner.remote) != active.end()) {
            scanner.alerted = true;
            raise_scan(context, scanner, settings);
        }
    }
}

}  // namespace vigil::hub::detect

// Outbound scan: the device opening to many distinct hosts on one port within the window (the
// Mirai pattern: 25 hosts in 5 minutes), or sending ICMP echo requests to many hosts (a sweep).
#include <map>

#include "detections.hpp"
#include "scan_table.hpp"

namespace vigil::hub::detect {

namespace {

constexpr uint16_t kEchoRequestV4 = 8;
constexpr uint16_t kEchoRequestV6 = 128;

bool is_echo_sweep_probe(const FlowView& view) {
    const Flow& flow = *view.flow;
    if (flow.protocol != Protocol::Icmp ||
        (flow.local_port != kEchoRequestV4 && flow.local_port != kEchoRequestV6)) {
        return false;
    }
    if (flow.remote_opened) {
        return !*flow.remote_opened;
    }
    return flow.bytes_out > 0 && flow.bytes_in == 0;
}

bool failed(const Flow& flow) {
    return flow.handshake == "unanswered" || flow.handshake == "refused" ||
           flow.handshake == "reset" || (flow.protocol == Protocol::Icmp && flow.bytes_in == 0);
}

void raise_probe(DetectionContext& context, const OutboundProbe& probe,
                 const OutboundScanSettings& settings) {
    const bool sweep = static_cast<Protocol>(probe.service >> 16) == Protocol::Icmp;
    const std::string service = service_name(probe.service);
    AlertRaise& alert = context.raise(sweep ? "scan.icmp_sweep" : "scan.outbound",
                                      AlertCategory::ScanOutbound, service, settings.severity);
    alert.first_observed_ms = probe.first_ms;
    alert.last_observed_ms = probe.last_ms;
    const std::string hosts = std::to_string(probe.hosts.size());
    alert.title = sweep ? "ICMP echo sweep from the device to " + hosts + " hosts"
                        : "Outbound scan from the device: " + hosts + " hosts on " + service;
    alert.description =
        "Within " + std::to_string(settings.window_s) + " s the device " +
        (sweep ? "sent ICMP echo requests to " : "opened connections on " + service + " to ") +
        hosts + " distinct hosts (" + std::to_string(probe.attempts) + " attempts, " +
        std::to_string(probe.failed) + " unanswered or refused); the rule alerts at " +
        std::to_string(settings.hosts) +
        " hosts. A device that scans others is usually "
        "compromised and spreading (Mirai scans telnet this way).";
    alert.remediation =
        "Isolate the device from the network, reflash its firmware from a trusted image, change "
        "its credentials (default passwords first) and close the service it was attacked "
        "through.";
    alert.technique = "T0846 Remote System Discovery";
    nlohmann::json sample = nlohmann::json::array();
    for (size_t i = 0; i < probe.hosts.size() && i < 50; ++i) {
        sample.push_back(to_string(probe.hosts[i].address));
    }
    alert.evidence_json =
        nlohmann::json{{"service", service},
                       {"distinct_hosts", probe.hosts.size()},
                       {"hosts", std::move(sample)},
                       {"attempts", probe.attempts},
                       {"failed", probe.failed},
                       {"first_ms", probe.first_ms},
                       {"last_ms", probe.last_ms},
                       {"rule", {{"hosts", settings.hosts}, {"window_s", settings.window_s}}}}
            .dump();
}

}  // namespace

void detect_outbound_scan(DetectionContext& context) {
    const OutboundScanSettings& settings = context.settings.outbound_scan;
    std::vector<OutboundProbe>& probes = context.state.probes;
    if (!settings.enabled) {
        probes.clear();
        return;
    }
    const size_t hosts_ceiling =
        std::min<size_t>(std::max<uint32_t>(settings.hosts, 1), kMaxTrackedPerEntry);
    std::map<ServiceKey, bool> active;
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        const bool sweep = is_echo_sweep_probe(view);
        if (!view.remote || context.trusted(*view.remote) ||
            (!sweep &&
             (view.direction != Direction::Outbound || flow.protocol == Protocol::Icmp))) {
            continue;
        }
        const ServiceKey service = sweep ? service_of(Protocol::Icmp, flow.local_port)
                                         : service_of(flow.protocol, flow.remote_port);
        bool added = false;
        OutboundProbe& probe = touch(
            probes, kMaxProbes, context.end_ms,
            [&](const OutboundProbe& held) { return held.service == service; }, added);
        if (added) {
            probe.service = service;
            probe.first_ms = context.start_ms;
        }
        bool new_host = false;
        touch(
            probe.hosts, hosts_ceiling, context.end_ms,
            [&](const TimedHost& held) { return held.address == *view.remote; }, new_host)
            .address = *view.remote;
        ++probe.attempts;
        probe.failed += failed(flow) ? 1 : 0;
        active[service] = true;
    }

    const int64_t newest = std::max(context.state.latest_ms, context.end_ms);
    const int64_t oldest = newest - static_cast<int64_t>(settings.window_s) * 1000;
    for (auto it = probes.begin(); it != probes.end();) {
        drop_before(it->hosts, oldest);
        if (it->hosts.empty()) {
            if (it->alerted) {
                const bool sweep = static_cast<Protocol>(it->service >> 16) == Protocol::Icmp;
                context.clear(sweep ? "scan.icmp_sweep" : "scan.outbound",
                              service_name(it->service));
            }
            it = probes.erase(it);
        } else {
            ++it;
        }
    }
    for (OutboundProbe& probe : probes) {
        if (probe.hosts.size() >= settings.hosts && active.count(probe.service)) {
            probe.alerted = true;
            raise_probe(context, probe, settings);
        }
    }
}

}  // namespace vigil::hub::detect

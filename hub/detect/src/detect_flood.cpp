// Flood: packets per second into or out of the device, per protocol, averaged over the report's
// window, above the rule (a SYN, UDP or ICMP flood, sent or received). Vigil's flows and
// overflow totals give it per protocol, AWS's interface totals for all protocols together;
// legacy Defender reports count no packets, so this detection does not cover them.
#include <algorithm>
#include <array>
#include <map>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

constexpr size_t kProtocols = 4;  // tcp, udp, icmp, and "all" (interface totals)
constexpr size_t kAllProtocols = 3;
constexpr const char* kProtocolNames[kProtocols] = {"tcp", "udp", "icmp", "all"};
constexpr size_t kEvidencePeers = 5;

struct Direction2 {
    bool inbound;
    const char* type;
    const char* word;
};
constexpr Direction2 kDirections[2] = {{true, "flood.inbound", "into"},
                                       {false, "flood.outbound", "out of"}};

uint32_t alarm_bit(bool inbound, size_t protocol) {
    return 1u << ((inbound ? 0 : kProtocols) + protocol);
}

struct Tally {
    uint64_t packets = 0;
    uint64_t unanswered = 0;  // TCP attempts never answered (SYN flood)
};

/// The peers that sent (inbound) or received the most packets of one protocol, for the evidence
/// of a flood; counted only once there is one.
std::vector<std::pair<std::string, uint64_t>> top_peers(const DetectionContext& context,
                                                        bool inbound, size_t protocol) {
    std::map<std::string, uint64_t> by_peer;
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        const std::optional<uint64_t>& packets = inbound ? flow.packets_in : flow.packets_out;
        if (static_cast<size_t>(flow.protocol) == protocol && packets.value_or(0) > 0) {
            by_peer[flow.remote] += *packets;
        }
    }
    for (const Overflow& overflow : context.report.overflow) {
        const uint64_t packets = inbound ? overflow.packets_in : overflow.packets_out;
        if (static_cast<size_t>(overflow.protocol) == protocol && packets > 0) {
            by_peer["(not itemised)"] += packets;
        }
    }
    std::vector<std::pair<std::string, uint64_t>> peers(by_peer.begin(), by_peer.end());
    std::stable_sort(peers.begin(), peers.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    peers.resize(std::min(peers.size(), kEvidencePeers));
    return peers;
}

int64_t window_ms(const DetectionContext& context) {
    if (context.report.window_duration_ms > 0) {
        return context.report.window_duration_ms;
    }
    if (context.state.latest_ms > 0 && context.end_ms > context.state.latest_ms) {
        return context.end_ms - context.state.latest_ms;
    }
    return 0;
}

}  // namespace

void detect_flood(DetectionContext& context) {
    const FloodSettings& settings = context.settings.flood;
    uint32_t& alarmed = context.state.flood_alarmed;
    const int64_t duration_ms = window_ms(context);
    if (!settings.enabled) {
        alarmed = 0;
        return;
    }
    if (duration_ms <= 0) {
        return;
    }
    std::array<Tally, kProtocols> in{}, out{};
    bool counted = false;
    for (const FlowView& view : context.flows) {
        const Flow& flow = *view.flow;
        const auto protocol = static_cast<size_t>(flow.protocol);
        if (flow.packets_in) {
            counted = true;
            in[protocol].packets += *flow.packets_in;
        }
        if (flow.packets_out) {
            counted = true;
            out[protocol].packets += *flow.packets_out;
        }
        if (flow.handshake == "unanswered") {
            ++(view.direction == Direction::Outbound ? out : in)[protocol].unanswered;
        }
    }
    for (const Overflow& overflow : context.report.overflow) {
        const auto protocol = static_cast<size_t>(overflow.protocol);
        counted = true;
        in[protocol].packets += overflow.packets_in;
        out[protocol].packets += overflow.packets_out;
    }
    if (const auto& totals = context.report.interface_totals; totals && !counted) {
        counted = true;
        in[kAllProtocols].packets = totals->packets_in;
        out[kAllProtocols].packets = totals->packets_out;
    }
    if (!counted) {
        return;
    }
    for (const Direction2& direction : kDirections) {
        const auto& tallies = direction.inbound ? in : out;
        for (size_t protocol = 0; protocol < kProtocols; ++protocol) {
            const Tally& tally = tallies[protocol];
            const double rate =
                static_cast<double>(tally.packets) * 1000.0 / static_cast<double>(duration_ms);
            const uint32_t bit = alarm_bit(direction.inbound, protocol);
            const std::string subject = kProtocolNames[protocol];
            if (rate <= static_cast<double>(settings.packets_per_second)) {
                if (alarmed & bit) {
                    alarmed &= ~bit;
                    context.clear(direction.type, subject);
                }
                continue;
            }
            alarmed |= bit;
            const auto peers = top_peers(context, direction.inbound, protocol);
            nlohmann::json top = nlohmann::json::array();
            for (const auto& [peer, packets] : peers) {
                top.push_back({{"peer", peer}, {"packets", packets}});
            }
            const auto rounded = static_cast<uint64_t>(rate);
            AlertRaise& alert =
                context.raise(direction.type, AlertCategory::Flood, subject, settings.severity);
            const std::string peer_word = direction.inbound ? "source" : "victim";
            alert.title = std::string("Flood ") + direction.word +
                          " the device: " + std::to_string(rounded) + " " + subject + " packets/s";
            alert.description =
                std::to_string(tally.packets) + " " + subject + " packets went " + direction.word +
                " the device in " + std::to_string(duration_ms / 1000) + " s (" +
                std::to_string(rounded) + " per second; the rule alerts above " +
                std::to_string(settings.packets_per_second) + ")" +
                (peers.empty() ? std::string(".")
                               : "; the main " + peer_word + " was " + peers.front().first + ".");
            alert.remediation =
                direction.inbound
                    ? "Rate-limit or block the sources upstream of the device; check that the "
                      "device still serves its purpose."
                    : "The device is taking part in a denial of service: isolate it, reflash "
                      "its firmware and change its credentials.";
            alert.technique = "T0814 Denial of Service";
            alert.evidence_json =
                nlohmann::json{{"protocol", subject},
                               {"direction", direction.inbound ? "in" : "out"},
                               {"packets", tally.packets},
                               {"packets_per_second", rounded},
                               {"unanswered_handshakes", tally.unanswered},
                               {"window_ms", duration_ms},
                               {"top_" + peer_word + "s", std::move(top)},
                               {"rule", {{"packets_per_second", settings.packets_per_second}}}}
                    .dump();
        }
    }
}

}  // namespace vigil::hub::detect

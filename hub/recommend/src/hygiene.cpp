// Every hygiene check on one report, in a fixed order so a report's scans always come out in the
// same order, and the helpers the checks share.
#include <algorithm>
#include <array>

#include "checks.hpp"
#include "firmware_entries.hpp"

namespace vigil::hub::recommend {

using detect::Cidr;
using detect::DetectionContext;
using detect::Direction;
using detect::FlowView;
using detect::IpAddress;
using detect::ServiceKey;
using detect::TimedService;

namespace {

std::vector<Cidr> local_blocks() {
    std::vector<Cidr> blocks;
    for (const char* text :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
          "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4", "255.255.255.255/32", "::/128",
          "::1/128", "fc00::/7", "fe80::/10", "ff00::/8"}) {
        blocks.push_back(*detect::parse_cidr(text).cidr);
    }
    return blocks;
}

}  // namespace

bool on_the_internet(const IpAddress& address) {
    static const std::vector<Cidr> blocks = local_blocks();
    return std::none_of(blocks.begin(), blocks.end(),
                        [&](const Cidr& block) { return block.contains(address); });
}

bool accepted_inbound(const FlowView& view) {
    if (view.direction != Direction::Inbound) {
        return false;
    }
    const Flow& flow = *view.flow;
    if (flow.protocol == Protocol::Tcp && !flow.handshake.empty()) {
        return flow.handshake == "completed";
    }
    return flow.bytes_out > 0;
}

void remember_service(std::vector<TimedService>& table, ServiceKey service, int64_t when_ms) {
    auto found = std::find_if(table.begin(), table.end(),
                              [&](const TimedService& seen) { return seen.service == service; });
    if (found != table.end()) {
        found->last_ms = std::max(found->last_ms, when_ms);
        return;
    }
    if (table.size() >= detect::kMaxHygieneServices) {
        table.erase(std::min_element(
            table.begin(), table.end(),
            [](const TimedService& a, const TimedService& b) { return a.last_ms < b.last_ms; }));
    }
    table.push_back({service, when_ms});
}

void forget_services(std::vector<TimedService>& table, int64_t forget_before_ms) {
    table.erase(
        std::remove_if(table.begin(), table.end(),
                       [&](const TimedService& seen) { return seen.last_ms < forget_before_ms; }),
        table.end());
}

std::string shown_text(const std::string& text, size_t limit) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
            out += static_cast<char>(byte);
        } else {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 15];
        }
    }
    return out;
}

detect::ReportCheck hygiene_check(
    std::function<std::shared_ptr<const VulnerabilityCatalog>()> catalog, HygieneSettings settings,
    ConnectionLookup connections) {
    return [catalog = std::move(catalog), settings, connections = std::move(connections),
            summaries = std::make_shared<EntrySummaries>()](DetectionContext& context) {
        // The catalog is fetched only for the reports the firmware check judges: taking the
        // shared snapshot is not free, and most reports carry no system information.
        if (catalog && context.report.system) {
            if (const std::shared_ptr<const VulnerabilityCatalog> in_force = catalog()) {
                check_firmware(context, in_force, *summaries);
            }
        }
        check_cleartext_services(context, settings);
        check_internet_exposure(context, settings);
        const std::optional<DeviceConnection> connection =
            connections ? connections(context.report.device_id) : std::nullopt;
        // Judged on heartbeats only: how a device connects changes seldom, and a scan on every
        // report would rewrite the open recommendation's evidence with each one.
        if (connection && context.report.status) {
            check_broker_connection(context, *connection);
        }
        check_shared_identity(context, settings, connection ? &*connection : nullptr);
        check_agent(context, settings);
        check_message_sizes(context, settings);
    };
}

}  // namespace vigil::hub::recommend

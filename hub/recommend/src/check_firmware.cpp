// Vulnerable firmware: the OS and network stack a device reports, against the vulnerability
// catalog. Judged on every report that carries system information; a component the catalog
// knows at a release it cannot read (a vendor build, a hostile string) is "unknown version",
// never guessed.
#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "checks.hpp"

namespace vigil::hub::recommend {

namespace {

const char* role_of(const ComponentFinding& component) {
    return component.field == "os" ? "operating system" : "network stack";
}

nlohmann::json entry_evidence(const Vulnerability& entry) {
    nlohmann::json record = {{"ids", entry.ids},
                             {"severity", to_string(entry.severity)},
                             {"components", entry.components},
                             {"summary", entry.summary},
                             {"sources", entry.sources}};
    if (entry.cvss) {
        record["cvss"] = *entry.cvss;
    }
    if (!entry.fixed_in.empty()) {
        record["fixed_in"] = entry.fixed_in;
    }
    return record;
}

nlohmann::json component_evidence(const detect::DetectionContext& context,
                                  const ComponentFinding& component,
                                  const VulnerabilityCatalog& catalog) {
    return {{"field", component.field},
            {"product", component.product->id},
            {"reported_name", shown_text(component.reported_name)},
            {"reported_version", shown_text(component.reported_version)},
            {"catalog_revision", catalog.revision()},
            {"message_key", shown_text(context.report.message_key)}};
}

RecommendationFinding vulnerable(const detect::DetectionContext& context,
                                 const ComponentFinding& component,
                                 const VulnerabilityCatalog& catalog) {
    const std::string name = component.product->name;
    const std::string version = component.version->text();
    RecommendationFinding finding;
    finding.kind = kVulnerableFirmware;
    finding.subject = component.product->id;
    Severity worst = Severity::Info;
    size_t cves = 0;
    std::optional<Version> fixed_all;
    bool unfixed = false;
    std::vector<std::string> ids;
    nlohmann::json entries = nlohmann::json::array();
    for (const Vulnerability* entry : component.vulnerabilities) {
        worst = std::max(worst, entry->severity);
        cves += entry->ids.size();
        ids.insert(ids.end(), entry->ids.begin(), entry->ids.end());
        entries.push_back(entry_evidence(*entry));
        if (entry->fixed_in.empty()) {
            unfixed = true;
        } else {
            const Version fixed = *read_version(entry->fixed_in).version;
            if (!fixed_all || *fixed_all < fixed) {
                fixed_all = fixed;
            }
        }
    }
    std::sort(ids.begin(), ids.end());
    finding.severity = worst;
    finding.title = name + " " + version + " has " + std::to_string(cves) +
                    " published vulnerabilit" + (cves == 1 ? "y" : "ies");
    finding.rationale = "The device reports " + name + " " + version + " as its " +
                        role_of(component) + ". Published vulnerabilities of that release (" +
                        std::to_string(cves) + " CVEs, the worst " + to_string(worst) +
                        ") let anyone who can reach the affected services crash the device or "
                        "run code on it; exploits for embedded stacks are public and scanned "
                        "for.";
    if (fixed_all) {
        finding.remediation = "Update " + name + " to " + fixed_all->text() + " or later.";
    }
    if (unfixed) {
        finding.remediation += std::string(fixed_all ? " " : "") +
                               "Some of these have no fixed release: disable or firewall the "
                               "affected components (see the evidence) until one is published.";
    }
    nlohmann::json evidence = component_evidence(context, component, catalog);
    evidence["version"] = version;
    evidence["vulnerabilities"] = std::move(entries);
    finding.evidence_json = evidence.dump();
    finding.evidence_key = component.product->id + " " + version;
    for (const std::string& id : ids) {
        finding.evidence_key += " " + id;
    }
    return finding;
}

RecommendationFinding unknown_version(const detect::DetectionContext& context,
                                      const ComponentFinding& component,
                                      const VulnerabilityCatalog& catalog) {
    const std::string name = component.product->name;
    RecommendationFinding finding;
    finding.kind = kUnknownFirmwareVersion;
    finding.subject = component.product->id;
    finding.severity = Severity::Low;
    finding.title = "The " + name + " release of the device is unknown";
    finding.rationale =
        "The device reports its " + std::string(role_of(component)) + " as " + name + " \"" +
        shown_text(component.reported_version) + "\": " + component.why_unknown +
        ". The hub cannot tell whether the published vulnerabilities of " + name + " apply to it.";
    finding.remediation = "Check the device's " + name +
                          " release against its vendor's advisories, and have the firmware "
                          "report the upstream release number in its system information.";
    nlohmann::json evidence = component_evidence(context, component, catalog);
    evidence["why_unknown"] = component.why_unknown;
    if (!component.undecided.empty()) {
        nlohmann::json entries = nlohmann::json::array();
        for (const Vulnerability* entry : component.undecided) {
            entries.push_back(entry_evidence(*entry));
        }
        evidence["undecided"] = std::move(entries);
    }
    finding.evidence_json = evidence.dump();
    finding.evidence_key = component.product->id + " " + shown_text(component.reported_version);
    return finding;
}

}  // namespace

void check_firmware(detect::DetectionContext& context, const VulnerabilityCatalog& catalog) {
    if (!context.report.system) {
        return;
    }
    std::vector<RecommendationFinding> vulnerable_findings, unknown_findings;
    for (const ComponentFinding& component : catalog.match(*context.report.system)) {
        if (component.status == ComponentFinding::Status::UnknownVersion ||
            !component.undecided.empty()) {
            unknown_findings.push_back(unknown_version(context, component, catalog));
        }
        if (component.status == ComponentFinding::Status::Known &&
            !component.vulnerabilities.empty()) {
            vulnerable_findings.push_back(vulnerable(context, component, catalog));
        }
    }
    context.scan(kVulnerableFirmware).findings = std::move(vulnerable_findings);
    context.scan(kUnknownFirmwareVersion).findings = std::move(unknown_findings);
}

}  // namespace vigil::hub::recommend

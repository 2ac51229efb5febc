// Vulnerable firmware: the OS and network stack a device reports, against the vulnerability
// catalog. Judged on every report that carries system information; a component the catalog
// knows at a release it cannot read (a vendor build, a hostile string) is "unknown version",
// never guessed.
#include <initializer_list>
#include <utility>

#include <nlohmann/json.hpp>

#include "checks.hpp"
#include "firmware_entries.hpp"

namespace vigil::hub::recommend {

namespace {

const char* role_of(const ComponentFinding& component) {
    return component.field == "os" ? "operating system" : "network stack";
}

/// `object` as JSON text with `last` added after its members, each value already JSON text.
/// nlohmann writes members sorted by name: names that sort after all of the object's, in their
/// order, keep the text as one object would have written it.
std::string with_members(const nlohmann::json& object,
                         std::initializer_list<std::pair<const char*, const std::string&>> last) {
    std::string text = object.dump();
    text.pop_back();  // the closing brace
    for (const auto& [name, value] : last) {
        text += ",\"";
        text += name;
        text += "\":";
        text += value;
    }
    text += '}';
    return text;
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
                                 const VulnerabilityCatalog& catalog,
                                 const EntriesSummary& entries) {
    const std::string name = component.product->name;
    const std::string version = component.version->text();
    RecommendationFinding finding;
    finding.kind = kVulnerableFirmware;
    finding.subject = component.product->id;
    finding.severity = entries.worst;
    finding.title = name + " " + version + " has " + std::to_string(entries.cves) +
                    " published vulnerabilit" + (entries.cves == 1 ? "y" : "ies");
    finding.rationale = "The device reports " + name + " " + version + " as its " +
                        role_of(component) + ". Published vulnerabilities of that release (" +
                        std::to_string(entries.cves) + " CVEs, the worst " +
                        to_string(entries.worst) +
                        ") let anyone who can reach the affected services crash the device or "
                        "run code on it; exploits for embedded stacks are public and scanned "
                        "for.";
    if (entries.fixed) {
        finding.remediation = "Update " + name + " to " + entries.fixed->text() + " or later.";
    }
    if (entries.unfixed) {
        finding.remediation += std::string(entries.fixed ? " " : "") +
                               "Some of these have no fixed release: disable or firewall the "
                               "affected components (see the evidence) until one is published.";
    }
    nlohmann::json evidence = component_evidence(context, component, catalog);
    evidence["version"] = version;
    finding.evidence_json = with_members(evidence, {{"vulnerabilities", entries.evidence_json}});
    finding.evidence_key = component.product->id + " " + version;
    for (const std::string& id : entries.ids) {
        finding.evidence_key += " " + id;
    }
    // The release and its CVEs are in the key: a later report of the same names nothing new but
    // itself, and rewriting several KB of evidence on each would only move its message key.
    finding.refresh_evidence = false;
    return finding;
}

RecommendationFinding unknown_version(const detect::DetectionContext& context,
                                      const ComponentFinding& component,
                                      const VulnerabilityCatalog& catalog,
                                      const EntriesSummary* undecided) {
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
    if (undecided) {
        finding.evidence_json =
            with_members(evidence, {{"undecided", undecided->evidence_json},
                                    {"why_unknown", nlohmann::json(component.why_unknown).dump()}});
    } else {
        evidence["why_unknown"] = component.why_unknown;
        finding.evidence_json = evidence.dump();
    }
    finding.evidence_key = component.product->id + " " + shown_text(component.reported_version);
    return finding;
}

}  // namespace

void check_firmware(detect::DetectionContext& context,
                    const std::shared_ptr<const VulnerabilityCatalog>& catalog,
                    EntrySummaries& summaries) {
    if (!context.report.system) {
        return;
    }
    std::vector<RecommendationFinding> vulnerable_findings, unknown_findings;
    for (const ComponentFinding& component : catalog->match(*context.report.system)) {
        if (component.status == ComponentFinding::Status::UnknownVersion ||
            !component.undecided.empty()) {
            const std::shared_ptr<const EntriesSummary> undecided =
                component.undecided.empty() ? nullptr : summaries.of(catalog, component.undecided);
            unknown_findings.push_back(
                unknown_version(context, component, *catalog, undecided.get()));
        }
        if (component.status == ComponentFinding::Status::Known &&
            !component.vulnerabilities.empty()) {
            vulnerable_findings.push_back(vulnerable(
                context, component, *catalog, *summaries.of(catalog, component.vulnerabilities)));
        }
    }
    context.scan(kVulnerableFirmware).findings = std::move(vulnerable_findings);
    context.scan(kUnknownFirmwareVersion).findings = std::move(unknown_findings);
}

}  // namespace vigil::hub::recommend

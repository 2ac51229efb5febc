#include "firmware_entries.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace vigil::hub::recommend {

namespace {

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

EntriesSummary summarise(const std::vector<const Vulnerability*>& entries) {
    EntriesSummary summary;
    nlohmann::json evidence = nlohmann::json::array();
    for (const Vulnerability* entry : entries) {
        summary.worst = std::max(summary.worst, entry->severity);
        summary.cves += entry->ids.size();
        summary.ids.insert(summary.ids.end(), entry->ids.begin(), entry->ids.end());
        evidence.push_back(entry_evidence(*entry));
        if (entry->fixed_in.empty()) {
            summary.unfixed = true;
            continue;
        }
        // The catalog's schema check has read every fixed_in as a release.
        const std::optional<Version> fixed = read_version(entry->fixed_in).version;
        if (fixed && (!summary.fixed || *summary.fixed < *fixed)) {
            summary.fixed = fixed;
        }
    }
    std::sort(summary.ids.begin(), summary.ids.end());
    summary.evidence_json = evidence.dump();
    return summary;
}

}  // namespace

std::shared_ptr<const EntriesSummary> EntrySummaries::of(
    const std::shared_ptr<const VulnerabilityCatalog>& catalog,
    const std::vector<const Vulnerability*>& entries) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (catalog_ != catalog) {
        summaries_.clear();
        catalog_ = catalog;
    }
    std::shared_ptr<const EntriesSummary>& summary = summaries_[entries];
    if (!summary) {
        summary = std::make_shared<const EntriesSummary>(summarise(entries));
    }
    return summary;
}

}  // namespace vigil::hub::recommend

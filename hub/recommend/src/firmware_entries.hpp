// What the firmware check says of a set of catalog entries (those a release falls in): their
// worst severity, CVEs, fixed release and their evidence as JSON text. The same few releases run
// on most devices of a fleet and each of their system-information reports names them again, so
// each set is worked out once per catalog in force rather than once per report.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/recommend/vulnerability_catalog.hpp"

namespace vigil::hub::recommend {

struct EntriesSummary {
    Severity worst = Severity::Info;
    size_t cves = 0;
    std::vector<std::string> ids;  ///< every entry's CVE ids, sorted
    std::optional<Version> fixed;  ///< the release that fixes every entry that has a fix
    bool unfixed = false;          ///< an entry has no fixed release
    std::string evidence_json;     ///< JSON array, one object per entry, in catalog order
};

/// Summaries of entry sets of the catalog in force, kept until another catalog comes into force.
/// Bounded by the catalog: a product's ranges cut its releases into few distinct sets, whatever
/// version strings devices send. Safe to share between threads.
class EntrySummaries {
  public:
    /// The summary of `entries`, all of `catalog`.
    std::shared_ptr<const EntriesSummary> of(
        const std::shared_ptr<const VulnerabilityCatalog>& catalog,
        const std::vector<const Vulnerability*>& entries);

  private:
    std::mutex mutex_;
    /// Held so the entries the keys point to outlive the summaries.
    std::shared_ptr<const VulnerabilityCatalog> catalog_;
    std::map<std::vector<const Vulnerability*>, std::shared_ptr<const EntriesSummary>> summaries_;
};

}  // namespace vigil::hub::recommend

// Hygiene recommendations: opened, updated, reopened and closed by the checks' scans, dismissed
// by people, listed and summarised by kind.
#include <map>
#include <set>

#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

namespace {

#define VIGIL_RECOMMENDATION_COLUMNS                                                            \
    "r.id, d.id, r.kind, r.subject, r.state, r.severity, r.title, r.rationale, r.remediation, " \
    "r.evidence_json, r.evidence_key, r.first_observed_ms, r.last_observed_ms, r.opened_ms, "   \
    "r.updated_ms, r.closed_ms, r.dismissed_reason, r.dismissed_by, r.dismissed_ms, "           \
    "r.dismissed_key "

Recommendation read_recommendation(const Statement& row) {
    Recommendation recommendation;
    recommendation.id = row.integer(0);
    recommendation.device_id = row.text(1);
    recommendation.kind = row.text(2);
    recommendation.subject = row.text(3);
    recommendation.state = static_cast<RecommendationState>(row.integer(4));
    recommendation.severity = static_cast<Severity>(row.integer(5));
    recommendation.title = row.text(6);
    recommendation.rationale = row.text(7);
    recommendation.remediation = row.text(8);
    recommendation.evidence_json = row.text(9);
    recommendation.evidence_key = row.text(10);
    recommendation.first_observed_ms = row.integer(11);
    recommendation.last_observed_ms = row.integer(12);
    recommendation.opened_ms = row.integer(13);
    recommendation.updated_ms = row.integer(14);
    recommendation.closed_ms = row.integer(15);
    recommendation.dismissed_reason = row.text(16);
    recommendation.dismissed_by = row.text(17);
    recommendation.dismissed_ms = row.integer(18);
    recommendation.dismissed_key = row.text(19);
    return recommendation;
}

std::optional<Recommendation> find_recommendation(Connection& connection, int64_t id,
                                                  std::string& error) {
    Statement found = connection.query(
        "SELECT " VIGIL_RECOMMENDATION_COLUMNS
        "FROM recommendations r JOIN devices d ON d.device_key = r.device_key WHERE r.id = ?1",
        error, id);
    if (found && found.next_row("recommendation", error)) {
        return read_recommendation(found);
    }
    return std::nullopt;
}

/// The event of a change just written: the recommendation as it is now, which must be there.
bool changed_event(Connection& connection, int64_t id, RecommendationChange change,
                   std::vector<RecommendationEvent>& events, std::string& error) {
    std::optional<Recommendation> found = find_recommendation(connection, id, error);
    if (!found) {
        error = error.empty() ? "recommendation " + std::to_string(id) + " vanished" : error;
        return false;
    }
    events.push_back({change, std::move(*found)});
    return true;
}

/// What a finding does to the recommendation of its device, kind and subject as it stands.
enum class FindingEffect { Refresh, Update, Reopen };

FindingEffect effect_of(RecommendationState state, const std::string& evidence_key,
                        const std::string& dismissed_key, const RecommendationFinding& finding) {
    switch (state) {
        case RecommendationState::Open:
            return finding.evidence_key == evidence_key ? FindingEffect::Refresh
                                                        : FindingEffect::Update;
        case RecommendationState::Dismissed:
            // A dismissal holds to the evidence it was given for.
            return finding.evidence_key == dismissed_key ? FindingEffect::Refresh
                                                         : FindingEffect::Reopen;
        case RecommendationState::Closed:
            break;
    }
    return FindingEffect::Reopen;
}

}  // namespace

Fetched<std::vector<RecommendationEvent>> SqliteStore::apply_recommendation_scan(
    const RecommendationScan& scan) {
    Fetched<std::vector<RecommendationEvent>> result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error) ||
        !apply_scan(scan, result.value, result.error)) {
        result.value.clear();
        return result;
    }
    if (!transaction.commit(result.error)) {
        result.value.clear();
    }
    return result;
}

bool SqliteStore::apply_scan(const RecommendationScan& scan,
                             std::vector<RecommendationEvent>& events, std::string& error) {
    const auto device_key = known_device_key(writer_, scan.device_id, error);
    if (!device_key) {
        return false;
    }
    std::set<std::string> found_subjects;
    for (const RecommendationFinding& finding : scan.findings) {
        if (finding.kind != scan.kind) {
            error = "a finding of kind '" + finding.kind + "' in a scan of '" + scan.kind + "'";
            return false;
        }
        found_subjects.insert(finding.subject);
        if (!apply_finding(*device_key, scan, finding, events, error)) {
            return false;
        }
    }
    // The device's others of this kind are no longer shown by its report.
    std::vector<int64_t> gone;
    Statement others = writer_.query(
        "SELECT id, subject FROM recommendations "
        "WHERE device_key = ?1 AND kind = ?2 AND state <> 2",
        error, *device_key, scan.kind);
    if (!others) {
        return false;
    }
    while (others.next_row("recommendations of a scan", error)) {
        if (found_subjects.count(others.text(1)) == 0) {
            gone.push_back(others.integer(0));
        }
    }
    if (!error.empty()) {
        return false;
    }
    for (const int64_t id : gone) {
        if (!writer_.run("close recommendation",
                         "UPDATE recommendations SET state = 2, closed_ms = ?2, updated_ms = ?2 "
                         "WHERE id = ?1",
                         error, id, scan.scanned_ms) ||
            !changed_event(writer_, id, RecommendationChange::Closed, events, error)) {
            return false;
        }
    }
    return true;
}

bool SqliteStore::apply_scans(const std::vector<RecommendationScan>& scans,
                              std::vector<RecommendationEvent>& events, std::string& error) {
    // Most scans find nothing where nothing is open: each device's kinds with a recommendation
    // not closed are read once per batch, and a scan that finds nothing of a kind without one
    // changes nothing, so it costs no query.
    std::map<std::string, std::set<std::string>> unclosed_kinds;  // by device id
    for (const RecommendationScan& scan : scans) {
        auto device = unclosed_kinds.find(scan.device_id);
        if (device == unclosed_kinds.end()) {
            const auto device_key = known_device_key(writer_, scan.device_id, error);
            if (!device_key) {
                error =
                    "recommendation scan " + scan.kind + " of '" + scan.device_id + "': " + error;
                return false;
            }
            Statement kinds = writer_.query(
                "SELECT DISTINCT kind FROM recommendations WHERE device_key = ?1 AND state <> 2",
                error, *device_key);
            if (!kinds) {
                return false;
            }
            std::set<std::string> unclosed;
            while (kinds.next_row("kinds of a device's recommendations", error)) {
                unclosed.insert(kinds.text(0));
            }
            if (!error.empty()) {
                return false;
            }
            device = unclosed_kinds.emplace(scan.device_id, std::move(unclosed)).first;
        }
        if (scan.findings.empty() && device->second.count(scan.kind) == 0) {
            continue;
        }
        if (!apply_scan(scan, events, error)) {
            error = "recommendation scan " + scan.kind + " of '" + scan.device_id + "': " + error;
            return false;
        }
        if (scan.findings.empty()) {
            device->second.erase(scan.kind);  // the scan closed every one of the kind
        } else {
            device->second.insert(scan.kind);
        }
    }
    return true;
}

bool SqliteStore::apply_finding(int64_t device_key, const RecommendationScan& scan,
                                const RecommendationFinding& finding,
                                std::vector<RecommendationEvent>& events, std::string& error) {
    Statement existing = writer_.query(
        "SELECT id, state, evidence_key, dismissed_key FROM recommendations "
        "WHERE device_key = ?1 AND kind = ?2 AND subject = ?3",
        error, device_key, finding.kind, finding.subject);
    if (!existing) {
        return false;
    }
    if (!existing.next_row("recommendation", error)) {
        if (!error.empty()) {
            return false;
        }
        Statement open = writer_.query(
            "INSERT INTO recommendations (device_key, kind, subject, state, severity, title, "
            "rationale, remediation, evidence_json, evidence_key, first_observed_ms, "
            "last_observed_ms, opened_ms, updated_ms) "
            "VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?11) RETURNING id",
            error, device_key, finding.kind, finding.subject,
            static_cast<int64_t>(finding.severity), finding.title, finding.rationale,
            finding.remediation, finding.evidence_json, finding.evidence_key, scan.observed_ms,
            scan.scanned_ms);
        if (!open || !open.only_row("open recommendation", error)) {
            return false;
        }
        const int64_t id = open.integer(0);
        return open.run("open recommendation", error) &&
               changed_event(writer_, id, RecommendationChange::Opened, events, error);
    }
    const int64_t id = existing.integer(0);
    const FindingEffect effect = effect_of(static_cast<RecommendationState>(existing.integer(1)),
                                           existing.text(2), existing.text(3), finding);
    existing.reset();
    switch (effect) {
        case FindingEffect::Refresh:
            if (!finding.refresh_evidence) {
                return writer_.run("refresh recommendation",
                                   "UPDATE recommendations SET "
                                   "last_observed_ms = max(last_observed_ms, ?2) WHERE id = ?1",
                                   error, id, scan.observed_ms);
            }
            return writer_.run("refresh recommendation",
                               "UPDATE recommendations SET evidence_json = ?2, "
                               "last_observed_ms = max(last_observed_ms, ?3) WHERE id = ?1",
                               error, id, finding.evidence_json, scan.observed_ms);
        case FindingEffect::Update:
            return writer_.run("update recommendation",
                               "UPDATE recommendations SET severity = ?2, title = ?3, "
                               "rationale = ?4, remediation = ?5, evidence_json = ?6, "
                               "evidence_key = ?7, last_observed_ms = max(last_observed_ms, ?8), "
                               "updated_ms = ?9 WHERE id = ?1",
                               error, id, static_cast<int64_t>(finding.severity), finding.title,
                               finding.rationale, finding.remediation, finding.evidence_json,
                               finding.evidence_key, scan.observed_ms, scan.scanned_ms) &&
                   changed_event(writer_, id, RecommendationChange::Updated, events, error);
        case FindingEffect::Reopen:
            break;
    }
    // The dismissal's reason, author and time stay, for its history.
    return writer_.run("reopen recommendation",
                       "UPDATE recommendations SET state = 0, severity = ?2, title = ?3, "
                       "rationale = ?4, remediation = ?5, evidence_json = ?6, evidence_key = ?7, "
                       "first_observed_ms = ?8, last_observed_ms = ?8, opened_ms = ?9, "
                       "updated_ms = ?9, closed_ms = 0 WHERE id = ?1",
                       error, id, static_cast<int64_t>(finding.severity), finding.title,
                       finding.rationale, finding.remediation, finding.evidence_json,
                       finding.evidence_key, scan.observed_ms, scan.scanned_ms) &&
           changed_event(writer_, id, RecommendationChange::Reopened, events, error);
}

Fetched<std::vector<Recommendation>> SqliteStore::recommendations(
    const RecommendationFilter& filter) {
    return with_reader<std::vector<Recommendation>>(
        [&](Connection& reader, Fetched<std::vector<Recommendation>>& result) {
            Statement list = reader.query(
                "SELECT " VIGIL_RECOMMENDATION_COLUMNS
                "FROM recommendations r JOIN devices d ON d.device_key = r.device_key "
                "WHERE (?1 IS NULL OR d.id = ?1) "
                "AND (?2 IS NULL OR d.id IN "
                "(SELECT device_id FROM device_groups WHERE group_name = ?2)) "
                "AND (?3 IS NULL OR r.kind = ?3) AND (?4 IS NULL OR r.state = ?4) "
                "AND (?5 IS NULL OR r.severity >= ?5) AND (?6 IS NULL OR r.id < ?6) "
                "ORDER BY r.id DESC LIMIT ?7",
                result.error, filter.device_id, filter.group, filter.kind, filter.state,
                filter.min_severity, filter.before_id, static_cast<int64_t>(filter.limit));
            while (list && list.next_row("recommendations", result.error)) {
                result.value.push_back(read_recommendation(list));
            }
        });
}

Fetched<std::optional<Recommendation>> SqliteStore::recommendation(int64_t id) {
    return with_reader<std::optional<Recommendation>>(
        [&](Connection& reader, Fetched<std::optional<Recommendation>>& result) {
            result.value = find_recommendation(reader, id, result.error);
        });
}

Fetched<std::vector<RecommendationKindSummary>> SqliteStore::recommendation_summary(
    const RecommendationFilter& filter) {
    return with_reader<std::vector<RecommendationKindSummary>>(
        [&](Connection& reader, Fetched<std::vector<RecommendationKindSummary>>& result) {
            Statement summary = reader.query(
                "WITH chosen AS (SELECT r.* FROM recommendations r "
                "JOIN devices d ON d.device_key = r.device_key "
                "WHERE (?1 IS NULL OR d.id = ?1) "
                "AND (?2 IS NULL OR d.id IN "
                "(SELECT device_id FROM device_groups WHERE group_name = ?2)) "
                "AND (?3 IS NULL OR r.state = ?3) AND (?4 IS NULL OR r.severity >= ?4)) "
                "SELECT c.kind, coalesce(max(c.severity) FILTER (WHERE c.state = 0), 0), "
                "(SELECT title FROM chosen l WHERE l.kind = c.kind "
                "ORDER BY l.updated_ms DESC, l.id DESC LIMIT 1), "
                "(SELECT remediation FROM chosen l WHERE l.kind = c.kind "
                "ORDER BY l.updated_ms DESC, l.id DESC LIMIT 1), "
                "count(DISTINCT c.device_key) FILTER (WHERE c.state = 0), "
                "count(DISTINCT c.device_key) FILTER (WHERE c.state = 1), "
                "count(DISTINCT c.device_key) FILTER (WHERE c.state = 2) "
                "FROM chosen c GROUP BY c.kind ORDER BY 5 DESC, c.kind",
                result.error, filter.device_id, filter.group, filter.state, filter.min_severity);
            while (summary && summary.next_row("recommendation summary", result.error)) {
                RecommendationKindSummary kind;
                kind.kind = summary.text(0);
                kind.severity = static_cast<Severity>(summary.integer(1));
                kind.title = summary.text(2);
                kind.remediation = summary.text(3);
                kind.open_devices = as_counter(summary.integer(4));
                kind.dismissed_devices = as_counter(summary.integer(5));
                kind.closed_devices = as_counter(summary.integer(6));
                result.value.push_back(std::move(kind));
            }
        });
}

Fetched<RecommendationEvent> SqliteStore::dismiss_recommendation(int64_t id,
                                                                 const std::string& reason,
                                                                 const std::string& by,
                                                                 int64_t now_ms) {
    Fetched<RecommendationEvent> result;
    if (reason.empty()) {
        result.error = "a dismissal needs a reason";
        return result;
    }
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    const std::optional<Recommendation> found = find_recommendation(writer_, id, result.error);
    if (!found) {
        result.error =
            result.error.empty() ? "no recommendation " + std::to_string(id) : result.error;
        return result;
    }
    if (found->state == RecommendationState::Closed) {
        result.error = "recommendation " + std::to_string(id) + " is closed";
        return result;
    }
    std::vector<RecommendationEvent> events;
    if (!writer_.run("dismiss recommendation",
                     "UPDATE recommendations SET state = 1, dismissed_reason = ?2, "
                     "dismissed_by = ?3, dismissed_ms = ?4, dismissed_key = evidence_key, "
                     "updated_ms = ?4 WHERE id = ?1",
                     result.error, id, reason, by, now_ms) ||
        !changed_event(writer_, id, RecommendationChange::Dismissed, events, result.error) ||
        !transaction.commit(result.error)) {
        return result;
    }
    result.value = std::move(events.front());
    return result;
}

}  // namespace vigil::hub::sqlite

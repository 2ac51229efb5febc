// Suppressions: an operator's, added and removed one at a time, and the policy file's, replaced
// whole on each load. Matching them against new alerts is alert_store.cpp's.
#include <nlohmann/json.hpp>
#include <set>

#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

namespace {

// A subject pattern is matched against every new alert; SQLite's GLOB is polynomial in the
// pattern, so a bound on its length bounds the work a pattern can ask of each raise.
constexpr size_t kMaxPatternBytes = 1024;
constexpr size_t kMaxNameBytes = 200;

bool check_suppression(const Suppression& suppression, std::string& error) {
    if (suppression.name.empty() || suppression.name.size() > kMaxNameBytes) {
        error = "a suppression's name must have 1 to " + std::to_string(kMaxNameBytes) + " bytes";
        return false;
    }
    if (suppression.subject_pattern.size() > kMaxPatternBytes) {
        error = "suppression '" + suppression.name + "': its subject pattern must have at most " +
                std::to_string(kMaxPatternBytes) + " bytes";
        return false;
    }
    return true;
}

Suppression read_suppression(const Statement& row) {
    Suppression suppression;
    suppression.id = row.integer(0);
    suppression.source = static_cast<SuppressionSource>(row.integer(1));
    suppression.name = row.text(2);
    suppression.device_id = row.text(3);
    suppression.group = row.text(4);
    suppression.type = row.text(5);
    suppression.subject_pattern = row.text(6);
    if (!row.is_null(7)) {
        suppression.expires_ms = row.integer(7);
    }
    suppression.reason = row.text(8);
    suppression.created_by = row.text(9);
    suppression.created_ms = row.integer(10);
    suppression.suppressed = as_counter(row.integer(11));
    return suppression;
}

}  // namespace

Fetched<int64_t> SqliteStore::add_suppression(const Suppression& suppression) {
    Fetched<int64_t> result;
    if (!check_suppression(suppression, result.error)) {
        return result;
    }
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Statement add = writer_.query(
        "INSERT INTO suppressions (source, name, device_id, group_name, type, subject_pattern, "
        "expires_ms, reason, created_by, created_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (source, name) DO NOTHING RETURNING id",
        result.error, static_cast<int64_t>(SuppressionSource::Operator), suppression.name,
        suppression.device_id, suppression.group, suppression.type, suppression.subject_pattern,
        suppression.expires_ms, suppression.reason, suppression.created_by, suppression.created_ms);
    if (!add) {
        return result;
    }
    if (!add.next_row("add suppression", result.error)) {
        if (result.error.empty()) {
            result.error = "a suppression named '" + suppression.name + "' already exists";
        }
        return result;
    }
    result.value = add.integer(0);
    add.run("add suppression", result.error);
    return result;
}

Done SqliteStore::remove_suppression(int64_t id) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    if (writer_.run("remove suppression", "DELETE FROM suppressions WHERE id = ?1", result.error,
                    id) &&
        writer_.changes() == 0) {
        result.error = "no suppression " + std::to_string(id);
    }
    return result;
}

Done SqliteStore::replace_policy_suppressions(const std::vector<Suppression>& suppressions,
                                              int64_t now_ms) {
    Done result;
    std::set<std::string> names;
    for (const Suppression& suppression : suppressions) {
        if (!check_suppression(suppression, result.error)) {
            return result;
        }
        if (!names.insert(suppression.name).second) {
            result.error = "two policy suppressions are named '" + suppression.name + "'";
            return result;
        }
    }
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    // Those the new policy no longer names go; the others are updated in place and keep their
    // ids (which alerts refer to) and counts.
    std::string kept = "[";
    for (const std::string& name : names) {
        kept += (kept.size() > 1 ? "," : "") + nlohmann::json(name).dump();
    }
    kept += "]";
    const auto policy = static_cast<int64_t>(SuppressionSource::Policy);
    if (!writer_.run("replace policy suppressions",
                     "DELETE FROM suppressions WHERE source = ?1 "
                     "AND name NOT IN (SELECT value FROM json_each(?2))",
                     result.error, policy, kept)) {
        return result;
    }
    for (const Suppression& suppression : suppressions) {
        if (!writer_.run(
                "replace policy suppressions",
                "INSERT INTO suppressions (source, name, device_id, group_name, type, "
                "subject_pattern, expires_ms, reason, created_by, created_ms) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                "ON CONFLICT (source, name) DO UPDATE SET device_id = excluded.device_id, "
                "group_name = excluded.group_name, type = excluded.type, "
                "subject_pattern = excluded.subject_pattern, expires_ms = excluded.expires_ms, "
                "reason = excluded.reason, created_by = excluded.created_by",
                result.error, policy, suppression.name, suppression.device_id, suppression.group,
                suppression.type, suppression.subject_pattern, suppression.expires_ms,
                suppression.reason, suppression.created_by, now_ms)) {
            return result;
        }
    }
    transaction.commit(result.error);
    return result;
}

Fetched<std::vector<Suppression>> SqliteStore::suppressions() {
    return with_reader<std::vector<Suppression>>(
        [&](Connection& reader, Fetched<std::vector<Suppression>>& result) {
            Statement list = reader.query(
                "SELECT id, source, name, device_id, group_name, type, subject_pattern, "
                "expires_ms, reason, created_by, created_ms, suppressed "
                "FROM suppressions ORDER BY id",
                result.error);
            while (list && list.next_row("suppressions", result.error)) {
                result.value.push_back(read_suppression(list));
            }
        });
}

}  // namespace vigil::hub::sqlite

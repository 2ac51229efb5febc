// Desired configurations by device or group.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

// Versions only increase, so two API instances setting a config at once cannot go backwards.
Done SqliteStore::set_desired_config(const DesiredConfig& config) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    if (!writer_.run("write",
                     "INSERT INTO desired_configs (scope, target, version, content_type, body, "
                     "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                     "ON CONFLICT (scope, target) DO UPDATE SET version = excluded.version, "
                     "content_type = excluded.content_type, body = excluded.body, "
                     "updated_ms = excluded.updated_ms WHERE excluded.version > version",
                     result.error, static_cast<int64_t>(config.scope), config.target,
                     static_cast<int64_t>(config.version), config.content_type, config.body,
                     config.updated_ms)) {
        return result;
    }
    if (writer_.changes() == 0) {
        result.error = "version " + std::to_string(config.version) +
                       " is not newer than the stored configuration";
        return result;
    }
    if (config.scope == ConfigScope::Device &&
        !writer_.run("write", "UPDATE devices SET desired_config_version = ?2 WHERE id = ?1",
                     result.error, config.target, static_cast<int64_t>(config.version))) {
        return result;
    }
    transaction.commit(result.error);
    return result;
}

Fetched<std::optional<DesiredConfig>> SqliteStore::desired_config(ConfigScope scope,
                                                                  const std::string& target) {
    return with_reader<std::optional<DesiredConfig>>(
        [&](Connection& reader, Fetched<std::optional<DesiredConfig>>& result) {
            Statement get = reader.query(
                "SELECT version, content_type, body, updated_ms FROM desired_configs "
                "WHERE scope = ?1 AND target = ?2",
                result.error, static_cast<int64_t>(scope), target);
            if (get && get.next_row("desired config", result.error)) {
                result.value =
                    DesiredConfig{scope,       target,      static_cast<uint32_t>(get.integer(0)),
                                  get.text(1), get.blob(2), get.integer(3)};
            }
        });
}

}  // namespace vigil::hub::sqlite

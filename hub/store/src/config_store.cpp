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
    Statement set = writer_.statement(
        "INSERT INTO desired_configs (scope, target, version, content_type, body, "
        "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (scope, target) DO UPDATE SET version = excluded.version, "
        "content_type = excluded.content_type, body = excluded.body, "
        "updated_ms = excluded.updated_ms WHERE excluded.version > version",
        result.error);
    if (!set) {
        return result;
    }
    set.bind(1, static_cast<int64_t>(config.scope));
    set.bind(2, config.target);
    set.bind(3, static_cast<int64_t>(config.version));
    set.bind(4, config.content_type);
    set.bind(5, config.body);
    set.bind(6, config.updated_ms);
    if (!set.run("write", result.error)) {
        return result;
    }
    if (writer_.changes() == 0) {
        result.error = "version " + std::to_string(config.version) +
                       " is not newer than the stored configuration";
        return result;
    }
    if (config.scope == ConfigScope::Device) {
        Statement device = writer_.statement(
            "UPDATE devices SET desired_config_version = ?2 WHERE id = ?1", result.error);
        if (!device) {
            return result;
        }
        device.bind(1, config.target);
        device.bind(2, static_cast<int64_t>(config.version));
        if (!device.run("write", result.error)) {
            return result;
        }
    }
    transaction.commit(result.error);
    return result;
}

Fetched<std::optional<DesiredConfig>> SqliteStore::desired_config(ConfigScope scope,
                                                                  const std::string& target) {
    Fetched<std::optional<DesiredConfig>> result;
    auto reader = readers_.borrow(result.error);
    if (!reader) {
        return result;
    }
    Statement get = reader->statement(
        "SELECT version, content_type, body, updated_ms FROM desired_configs "
        "WHERE scope = ?1 AND target = ?2",
        result.error);
    if (!get) {
        return result;
    }
    get.bind(1, static_cast<int64_t>(scope));
    get.bind(2, target);
    const int step = get.step();
    if (step == SQLITE_ROW) {
        result.value =
            DesiredConfig{scope,       target,      static_cast<uint32_t>(get.integer(0)),
                          get.text(1), get.blob(2), get.integer(3)};
    } else if (step != SQLITE_DONE) {
        result.error = reader->describe("desired config");
    }
    return result;
}

}  // namespace vigil::hub::sqlite

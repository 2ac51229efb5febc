// Per-device detection state, opaque bytes kept by device.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

Done SqliteStore::save_detection_state(const std::string& device_id,
                                       const std::vector<uint8_t>& state, int64_t now_ms) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    upsert_detection_state(device_id, state, now_ms, result.error);
    return result;
}

bool SqliteStore::upsert_detection_state(const std::string& device_id,
                                         const std::vector<uint8_t>& state, int64_t now_ms,
                                         std::string& error) {
    const auto device_key = device_key_of(writer_, device_id, error);
    if (!device_key) {
        error = error.empty() ? "no device '" + device_id + "'" : error;
        return false;
    }
    Statement save = writer_.statement(
        "INSERT INTO detection_state (device_key, state, updated_ms) "
        "VALUES (?1, ?2, ?3) ON CONFLICT (device_key) DO UPDATE SET "
        "state = excluded.state, updated_ms = excluded.updated_ms",
        error);
    if (!save) {
        return false;
    }
    save.bind(1, *device_key);
    save.bind(2, state);
    save.bind(3, now_ms);
    return save.run("save detection state", error);
}

Fetched<std::optional<std::vector<uint8_t>>> SqliteStore::load_detection_state(
    const std::string& device_id) {
    Fetched<std::optional<std::vector<uint8_t>>> result;
    auto reader = readers_.borrow(result.error);
    if (!reader) {
        return result;
    }
    Statement load = reader->statement(
        "SELECT s.state FROM detection_state s "
        "JOIN devices d ON d.device_key = s.device_key WHERE d.id = ?1",
        result.error);
    if (!load) {
        return result;
    }
    load.bind(1, device_id);
    const int step = load.step();
    if (step == SQLITE_ROW) {
        result.value = load.blob(0);
    } else if (step != SQLITE_DONE) {
        result.error = reader->describe("load detection state");
    }
    return result;
}

}  // namespace vigil::hub::sqlite

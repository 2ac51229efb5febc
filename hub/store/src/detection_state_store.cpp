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
    const auto device_key = known_device_key(writer_, device_id, error);
    return device_key && writer_.run("save detection state",
                                     "INSERT INTO detection_state (device_key, state, updated_ms) "
                                     "VALUES (?1, ?2, ?3) ON CONFLICT (device_key) DO UPDATE SET "
                                     "state = excluded.state, updated_ms = excluded.updated_ms",
                                     error, *device_key, state, now_ms);
}

Fetched<std::optional<std::vector<uint8_t>>> SqliteStore::load_detection_state(
    const std::string& device_id) {
    return with_reader<std::optional<std::vector<uint8_t>>>(
        [&](Connection& reader, Fetched<std::optional<std::vector<uint8_t>>>& result) {
            Statement load = reader.query(
                "SELECT s.state FROM detection_state s "
                "JOIN devices d ON d.device_key = s.device_key WHERE d.id = ?1",
                result.error, device_id);
            if (load && load.next_row("load detection state", result.error)) {
                result.value = load.blob(0);
            }
        });
}

// One read transaction for the whole batch: one snapshot, and one lock of the WAL instead of
// one per device.
Fetched<std::map<std::string, std::vector<uint8_t>>> SqliteStore::load_detection_states(
    const std::vector<std::string>& device_ids) {
    using States = std::map<std::string, std::vector<uint8_t>>;
    return with_reader<States>([&](Connection& reader, Fetched<States>& result) {
        if (!reader.run("begin reading detection states", "BEGIN", result.error)) {
            return;
        }
        for (const std::string& device_id : device_ids) {
            Statement load = reader.query(
                "SELECT s.state FROM detection_state s "
                "JOIN devices d ON d.device_key = s.device_key WHERE d.id = ?1",
                result.error, device_id);
            if (!load) {
                break;
            }
            if (load.next_row("load detection states", result.error)) {
                result.value[device_id] = load.blob(0);
            } else if (!result.error.empty()) {
                break;
            }
        }
        std::string ignored;
        (void)reader.run("end reading detection states", "COMMIT", ignored);
        if (!result.error.empty()) {
            result.value.clear();
        }
    });
}

}  // namespace vigil::hub::sqlite

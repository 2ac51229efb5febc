// Hygiene recommendations, one per device and kind.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

Done SqliteStore::put_recommendation(const Recommendation& recommendation) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    const auto device_key = known_device_key(writer_, recommendation.device_id, result.error);
    if (!device_key) {
        return result;
    }
    writer_.run("write",
                "INSERT INTO recommendations (device_key, kind, state, details_json, "
                "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                "ON CONFLICT (device_key, kind) DO UPDATE SET state = excluded.state, "
                "details_json = excluded.details_json, updated_ms = excluded.updated_ms",
                result.error, *device_key, recommendation.kind,
                static_cast<int64_t>(recommendation.state), recommendation.details_json,
                recommendation.created_ms, recommendation.updated_ms);
    return result;
}

Fetched<std::vector<Recommendation>> SqliteStore::recommendations(
    const std::optional<std::string>& device_id, const std::optional<RecommendationState>& state) {
    return with_reader<std::vector<Recommendation>>(
        [&](Connection& reader, Fetched<std::vector<Recommendation>>& result) {
            Statement list = reader.query(
                "SELECT d.id, r.kind, r.state, r.details_json, r.created_ms, r.updated_ms "
                "FROM recommendations r JOIN devices d ON d.device_key = r.device_key "
                "WHERE (?1 IS NULL OR d.id = ?1) AND (?2 IS NULL OR r.state = ?2) "
                "ORDER BY d.id, r.kind",
                result.error, device_id, state);
            while (list && list.next_row("recommendations", result.error)) {
                result.value.push_back({list.text(0), list.text(1),
                                        static_cast<RecommendationState>(list.integer(2)),
                                        list.text(3), list.integer(4), list.integer(5)});
            }
        });
}

}  // namespace vigil::hub::sqlite

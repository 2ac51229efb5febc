// Hygiene recommendations, one per device and kind.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

Done SqliteStore::put_recommendation(const Recommendation& recommendation) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    const auto device_key = device_key_of(writer_, recommendation.device_id, result.error);
    if (!device_key) {
        result.error =
            result.error.empty() ? "no device '" + recommendation.device_id + "'" : result.error;
        return result;
    }
    Statement put = writer_.statement(
        "INSERT INTO recommendations (device_key, kind, state, details_json, "
        "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (device_key, kind) DO UPDATE SET state = excluded.state, "
        "details_json = excluded.details_json, updated_ms = excluded.updated_ms",
        result.error);
    if (!put) {
        return result;
    }
    put.bind(1, *device_key);
    put.bind(2, recommendation.kind);
    put.bind(3, static_cast<int64_t>(recommendation.state));
    put.bind(4, recommendation.details_json);
    put.bind(5, recommendation.created_ms);
    put.bind(6, recommendation.updated_ms);
    put.run("write", result.error);
    return result;
}

Fetched<std::vector<Recommendation>> SqliteStore::recommendations(
    const std::optional<std::string>& device_id, const std::optional<RecommendationState>& state) {
    Fetched<std::vector<Recommendation>> result;
    auto reader = readers_.borrow(result.error);
    if (!reader) {
        return result;
    }
    Statement list = reader->statement(
        "SELECT d.id, r.kind, r.state, r.details_json, r.created_ms, r.updated_ms "
        "FROM recommendations r JOIN devices d ON d.device_key = r.device_key "
        "WHERE (?1 IS NULL OR d.id = ?1) AND (?2 IS NULL OR r.state = ?2) "
        "ORDER BY d.id, r.kind",
        result.error);
    if (!list) {
        return result;
    }
    if (device_id) {
        list.bind(1, *device_id);
    }
    list.bind(2, state);
    int step = SQLITE_ROW;
    while ((step = list.step()) == SQLITE_ROW) {
        result.value.push_back({list.text(0), list.text(1),
                                static_cast<RecommendationState>(list.integer(2)), list.text(3),
                                list.integer(4), list.integer(5)});
    }
    if (step != SQLITE_DONE) {
        result.error = reader->describe("recommendations");
    }
    return result;
}

}  // namespace vigil::hub::sqlite

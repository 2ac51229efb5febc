// The SQLite store: one class serving every store role, its methods defined in one file per
// role (telemetry_writer.cpp, device_directory.cpp, alert_store.cpp, suppression_store.cpp,
// recommendation_store.cpp, config_store.cpp, detection_state_store.cpp, store_maintenance.cpp).
//
// One writer connection, guarded by a mutex, takes every write; a pool of reader connections
// serves queries, which WAL lets proceed while a write is in progress. Write transactions start
// with BEGIN IMMEDIATE, so another hub process sharing the file waits for the write lock (busy
// timeout) instead of failing midway on a lock upgrade.
#pragma once

#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "checkpointer.hpp"
#include "reader_pool.hpp"
#include "vigil/hub/sqlite/connection.hpp"
#include "vigil/hub/sqlite/schema.hpp"
#include "vigil/hub/sqlite_store.hpp"
#include "window_flows.hpp"

namespace vigil::hub::sqlite {

/// Unsigned counters are kept as their int64 bit pattern (SQLite has no unsigned integers).
inline int64_t as_integer(uint64_t value) {
    return static_cast<int64_t>(value);
}
inline uint64_t as_counter(int64_t value) {
    return static_cast<uint64_t>(value);
}

/// Rows added to (or deleted from) the tables row_counts follows, within one transaction.
struct RowDeltas {
    int64_t messages = 0, flows = 0, overflow = 0, interface_totals = 0, port_snapshots = 0,
            heartbeats = 0;
};

/// Applies deltas to row_counts, inside the caller's write transaction.
bool add_row_counts(Connection& connection, const RowDeltas& deltas, std::string& error);

/// The key of the device with that id; nullopt when there is none, error set when the lookup
/// failed.
std::optional<int64_t> device_key_of(Connection& connection, const std::string& device_id,
                                     std::string& error);
/// The key of a device that must exist; nullopt with error set when there is none.
std::optional<int64_t> known_device_key(Connection& connection, const std::string& device_id,
                                        std::string& error);

class SqliteStore final : public Store {
  public:
    explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    bool open(std::string& error);

    // TelemetryWriter
    WriteResult commit_batch(const std::vector<Report>& reports,
                             const DetectionStep& detect) override;

    // DeviceDirectory
    Fetched<DevicePage> list_devices(const DeviceFilter& filter) override;
    Fetched<uint64_t> count_devices(const DeviceFilter& filter) override;
    Fetched<std::optional<DeviceDetail>> device_detail(const DetailQuery& query) override;
    Fetched<FlowPage> flows(const FlowQuery& query) override;
    Done set_enrolment(const std::string& device_id, Enrolment enrolment) override;
    Done set_device_group(const std::string& device_id, const std::string& group) override;
    Fetched<std::optional<std::string>> device_group(const std::string& device_id) override;
    Fetched<std::vector<std::string>> group_members(const std::string& group) override;

    // AlertStore
    Fetched<AlertEvent> raise_alert(const AlertRaise& alert) override;
    Fetched<std::optional<AlertEvent>> clear_alert(const AlertClear& clear) override;
    Fetched<std::vector<Alert>> alerts(const AlertFilter& filter) override;
    Fetched<std::optional<Alert>> alert(int64_t id) override;
    Done acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) override;
    Done resolve_alert(int64_t id, const std::string& by, int64_t now_ms) override;
    Fetched<int64_t> add_suppression(const Suppression& suppression) override;
    Done remove_suppression(int64_t id) override;
    Done replace_policy_suppressions(const std::vector<Suppression>& suppressions,
                                     int64_t now_ms) override;
    Fetched<std::vector<Suppression>> suppressions() override;

    // RecommendationStore
    Fetched<std::vector<RecommendationEvent>> apply_recommendation_scan(
        const RecommendationScan& scan) override;
    Fetched<std::vector<Recommendation>> recommendations(
        const RecommendationFilter& filter) override;
    Fetched<std::optional<Recommendation>> recommendation(int64_t id) override;
    Fetched<std::vector<RecommendationKindSummary>> recommendation_summary(
        const RecommendationFilter& filter) override;
    Fetched<RecommendationEvent> dismiss_recommendation(int64_t id, const std::string& reason,
                                                        const std::string& by,
                                                        int64_t now_ms) override;

    // ConfigStore
    Done set_desired_config(const DesiredConfig& config) override;
    Fetched<std::optional<DesiredConfig>> desired_config(ConfigScope scope,
                                                         const std::string& target) override;

    // DetectionStateStore
    Done save_detection_state(const std::string& device_id, const std::vector<uint8_t>& state,
                              int64_t now_ms) override;
    Fetched<std::optional<std::vector<uint8_t>>> load_detection_state(
        const std::string& device_id) override;
    Fetched<std::map<std::string, std::vector<uint8_t>>> load_detection_states(
        const std::vector<std::string>& device_ids) override;

    // FleetOverview
    Fetched<FleetSummary> fleet_summary(const OverviewQuery& query) override;
    Fetched<std::optional<std::vector<TrafficPoint>>> traffic_series(
        const TrafficSeriesQuery& query) override;

    // StoreMaintenance
    RetentionResult apply_retention(int64_t now_ms) override;
    Fetched<StoreStats> stats() override;

  private:
    /// Runs read(reader, result) on a reader borrowed for the call; the result carries the
    /// error when no reader can be had.
    template <typename T, typename Read>
    Fetched<T> with_reader(Read&& read) {
        Fetched<T> result;
        if (auto reader = readers_.borrow(result.error)) {
            read(*reader, result);
        }
        return result;
    }

    // telemetry_writer.cpp
    bool write_report(const Report& report, bool& duplicate, RowDeltas& deltas,
                      std::vector<DeviceEvent>& events, std::string& error);
    bool find_or_add_device(const Report& report, int64_t& device_key, bool& first_report,
                            std::string& error);
    bool write_flows(const Report& report, int64_t message_id, RowDeltas& deltas,
                     std::string& error);
    bool write_interface_totals(const Report& report, int64_t message_id, RowDeltas& deltas,
                                std::string& error);
    bool write_latest(const Report& report, int64_t device_key, int64_t message_id,
                      RowDeltas& deltas, std::vector<DeviceEvent>& events, std::string& error);
    bool write_latest_part(int64_t device_key, LatestPart part, const std::string& body,
                           int64_t received_ms, bool& newest, std::string& error);
    bool write_heartbeat(const Report& report, int64_t device_key, int64_t message_id,
                         std::vector<DeviceEvent>& events, std::string& error);
    bool apply_detection(const DetectionStep& detect, const std::vector<const Report*>& fresh,
                         WriteResult& result);

    // Writes on the writer connection, inside the caller's transaction and lock; shared by the
    // single calls and by commit_batch().
    // alert_store.cpp
    bool upsert_alert(const AlertRaise& alert, AlertEvent& event, std::string& error);
    bool suppress_if_matched(int64_t alert_id, const AlertRaise& alert, std::string& error);
    bool resolve_cleared(const AlertClear& clear, std::optional<AlertEvent>& event,
                         std::string& error);
    // recommendation_store.cpp
    bool apply_scans(const std::vector<RecommendationScan>& scans,
                     std::vector<RecommendationEvent>& events, std::string& error);
    bool apply_scan(const RecommendationScan& scan, std::vector<RecommendationEvent>& events,
                    std::string& error);
    bool apply_finding(int64_t device_key, const RecommendationScan& scan,
                       const RecommendationFinding& finding,
                       std::vector<RecommendationEvent>& events, std::string& error);
    bool upsert_detection_state(const std::string& device_id, const std::vector<uint8_t>& state,
                                int64_t now_ms,
                                std::string& error);  // detection_state_store.cpp

    // device_directory.cpp
    bool summarise_devices(Connection& reader, const OverviewQuery& query, FleetSummary& summary,
                           std::string& error);
    bool summarise_findings(Connection& reader, const OverviewQuery& query, FleetSummary& summary,
                            std::string& error);
    bool traffic_summary(Connection& connection, int64_t device_key, const DetailQuery& query,
                         TrafficSummary& traffic, std::string& error);
    bool top_remotes(Connection& connection, int64_t device_key, const DetailQuery& query,
                     TrafficSummary& traffic, std::string& error);

    // alert_store.cpp
    Done change_alert(int64_t id, AlertState target, const std::string& by, int64_t now_ms);

    // store_maintenance.cpp
    bool count_expired(int64_t cutoff_ms, RowDeltas& deltas, std::string& error);

    SqliteOptions options_;
    std::mutex writer_mutex_;
    Connection writer_;          // declared first: the last connection to close
    Checkpointer checkpointer_;  // stopped before the writer closes
    ReaderPool readers_{options_};
    std::vector<char> flows_json_;  // write_flows()' buffer, kept for its capacity
    WindowLocals window_locals_;    // write_flows()' local ends, kept for their capacity
};

}  // namespace vigil::hub::sqlite

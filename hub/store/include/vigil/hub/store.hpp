// Where the hub keeps what devices reported. SQLite (sqlite_store.hpp) serves a site; a
// PostgreSQL implementation can stand behind the same interface when one machine is outgrown.
//
// Ingest is at-least-once: the hub acknowledges a message to the broker only after write_batch()
// has committed it, so a message may arrive twice (after a crash, or a QoS 1 resend). The store
// makes that harmless: a report whose (device_id, message_key) is already stored is skipped and
// counted as a duplicate, in the same transaction.
//
// Every method may be called from any thread at any time, and several hub processes may share one
// store: writes are serialised by the store, reads proceed while a write is in progress. Queries
// take their filters as values, never as SQL text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub {

struct WriteResult {
    bool ok = false;        ///< false: nothing of the batch was written (see error)
    size_t stored = 0;      ///< reports written
    size_t duplicates = 0;  ///< reports already stored, skipped
    std::string error;
};

/// The answer to a query: a value, or an error that says why there is none.
template <typename T>
struct Fetched {
    T value{};
    std::string error;  ///< empty when the query succeeded
    bool ok() const { return error.empty(); }
};

/// Outcome of a write other than write_batch(): empty error when it was committed.
struct Done {
    std::string error;
    bool ok() const { return error.empty(); }
};

/// What an operator decided about a device (the agent's own state is DeviceRow::state).
enum class Enrolment : uint8_t { Pending = 0, Enrolled = 1, Blocked = 2 };
const char* to_string(Enrolment enrolment);  ///< "pending", "enrolled", "blocked"

struct DeviceRow {
    std::string id;
    /// Of the latest message; empty while the device has sent none (enrolled, never seen).
    std::optional<Format> format;
    /// Hub receive times of its first and latest message; empty while it has sent none.
    std::optional<int64_t> first_seen_ms, last_seen_ms;
    std::string agent_version;  ///< "" until a message says
    std::string state;          ///< the agent's state from its latest heartbeat; "" never reported
    Enrolment enrolment = Enrolment::Pending;
    std::optional<uint32_t> applied_config_version;  ///< from the latest heartbeat
    std::optional<uint32_t> desired_config_version;  ///< set by set_desired_config()
    uint64_t messages = 0;                           ///< stored messages, duplicates excluded
};

struct DeviceFilter {
    std::optional<std::string> state;  ///< the agent's state, exactly
    std::optional<Format> format;
    std::optional<Enrolment> enrolment;
    std::optional<int64_t> seen_since_ms;   ///< last_seen_ms >= this (never seen: no)
    std::optional<int64_t> seen_before_ms;  ///< last_seen_ms < this (never seen: no)
    /// Paging: devices whose id sorts after this one (DevicePage::next_after of the last page).
    std::string after;
    uint32_t limit = 100;
};

struct DevicePage {
    std::vector<DeviceRow> devices;  ///< ordered by id
    std::string next_after;          ///< "" when this page is the last
};

struct RemoteTotal {
    std::string remote;
    uint64_t bytes_in = 0, bytes_out = 0, flows = 0;
};

/// Traffic of one device over [from_ms, to_ms) of window time.
struct TrafficSummary {
    uint64_t flows = 0, bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
    /// Bytes the agent could not itemise (overflow records), included in bytes_in/out above.
    uint64_t overflow_bytes = 0;
    std::vector<RemoteTotal> top_remotes;  ///< by bytes in + out, largest first
    /// Sum of the device-level interface counts over the range (formats that report them).
    InterfaceTotals interfaces;
};

struct DeviceDetail {
    DeviceRow device;
    std::optional<SystemInfo> system;  ///< the latest reported
    int64_t system_received_ms = 0;
    std::optional<std::vector<ListeningPort>> listening_ports;  ///< the latest snapshot
    int64_t ports_received_ms = 0;
    std::optional<AgentStatus> status;  ///< the latest heartbeat
    int64_t status_received_ms = 0;
    TrafficSummary traffic;
};

struct DetailQuery {
    std::string device_id;
    int64_t from_ms = 0, to_ms = INT64_MAX;  ///< the traffic summary's range of window time
    uint32_t top_remotes = 10;
};

struct StoredFlow {
    int64_t message_id = 0;  ///< the message (window) it came in; increases in ingest order
    uint32_t index = 0;      ///< its place in that window
    int64_t time_ms = 0;     ///< the window's device time, or its receive time when unknown
    int64_t received_ms = 0;
    uint32_t window_duration_ms = 0;
    Flow flow;
};

/// A position in the (time_ms, message_id, index) order of a device's flows.
struct FlowCursor {
    int64_t time_ms = 0;
    int64_t message_id = 0;
    uint32_t index = 0;
};

struct FlowQuery {
    std::string device_id;
    int64_t from_ms = 0, to_ms = INT64_MAX;  ///< [from, to) of StoredFlow::time_ms
    std::optional<FlowCursor> after;         ///< paging: FlowPage::next of the previous page
    uint32_t limit = 1000;
};

struct FlowPage {
    std::vector<StoredFlow> flows;   ///< ordered by (time_ms, message_id, index)
    std::optional<FlowCursor> next;  ///< empty when this page is the last
};

enum class AlertState : uint8_t { Open = 0, Acknowledged = 1, Resolved = 2 };
const char* to_string(AlertState state);  ///< "open", "acknowledged", "resolved"

enum class Severity : uint8_t { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };
const char* to_string(Severity severity);  ///< "info", "low", "medium", "high", "critical"

/// Detection's finding. While an alert of the same device, kind and subject is open or
/// acknowledged, raising it again updates that alert (last seen, count, details) instead of
/// opening another.
struct AlertRaise {
    std::string device_id;
    std::string kind;     ///< the rule, "port-scan"
    std::string subject;  ///< what it is about within the kind, "203.0.113.9"; may be ""
    Severity severity = Severity::Medium;
    int64_t seen_ms = 0;
    std::string details_json = "{}";
};

struct Alert {
    int64_t id = 0;
    std::string device_id, kind, subject;
    Severity severity = Severity::Medium;
    AlertState state = AlertState::Open;
    int64_t first_seen_ms = 0, last_seen_ms = 0;
    uint64_t count = 0;  ///< times raised
    std::string details_json;
    int64_t changed_ms = 0;  ///< of the latest acknowledge or resolve; 0 never
    std::string changed_by;
};

struct AlertFilter {
    std::optional<std::string> device_id;
    std::optional<std::string> kind;
    std::optional<AlertState> state;
    std::optional<Severity> min_severity;
    std::optional<int64_t> seen_since_ms;  ///< last_seen_ms >= this
    std::optional<int64_t> before_id;      ///< paging, newest first: ids below this
    uint32_t limit = 100;
};

enum class RecommendationState : uint8_t { Open = 0, Dismissed = 1, Done = 2 };
const char* to_string(RecommendationState state);  ///< "open", "dismissed", "done"

/// A hygiene finding, one per device and kind ("telnet-listening", "outdated-agent").
struct Recommendation {
    std::string device_id, kind;
    RecommendationState state = RecommendationState::Open;
    std::string details_json = "{}";
    int64_t created_ms = 0, updated_ms = 0;
};

/// The configuration the hub wants agents to run, for one device or a group.
enum class ConfigScope : uint8_t { Device = 0, Group = 1 };

struct DesiredConfig {
    ConfigScope scope = ConfigScope::Device;
    std::string target;  ///< the device id, or the group's name
    uint32_t version = 0;
    std::string content_type = "application/cbor";
    std::vector<uint8_t> body;
    int64_t updated_ms = 0;
};

struct RetentionResult {
    uint64_t flows = 0, overflow = 0, interface_totals = 0, messages = 0, heartbeats = 0,
             port_snapshots = 0;
    uint32_t chunks = 0;  ///< transactions used; ingest may commit between any two
    std::string error;
};

struct StoreStats {
    uint64_t devices = 0, messages = 0, flows = 0, overflow = 0, interface_totals = 0,
             port_snapshots = 0, heartbeats = 0, alerts = 0, open_alerts = 0, recommendations = 0;
    uint64_t file_bytes = 0;  ///< on disk, the write-ahead log included
};

class Store {
  public:
    virtual ~Store() = default;

    /// Writes every report in one transaction, or none of them. Durable when it returns ok.
    virtual WriteResult write_batch(const std::vector<Report>& reports) = 0;

    // Devices, for the API and the command line.
    virtual Fetched<DevicePage> list_devices(const DeviceFilter& filter) = 0;
    /// value empty when no device has that id.
    virtual Fetched<std::optional<DeviceDetail>> device_detail(const DetailQuery& query) = 0;
    virtual Fetched<FlowPage> flows(const FlowQuery& query) = 0;
    /// Records the operator's decision. A device that has no row yet (enrolled before its first
    /// message) gets one, with no messages and never seen; its first message keeps the enrolment.
    virtual Done set_enrolment(const std::string& device_id, Enrolment enrolment) = 0;

    // Alerts.
    virtual Fetched<int64_t> raise_alert(const AlertRaise& alert) = 0;  ///< the alert's id
    virtual Fetched<std::vector<Alert>> alerts(const AlertFilter& filter) = 0;
    /// Fails when the alert does not exist; resolving a resolved alert changes nothing.
    virtual Done acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;
    virtual Done resolve_alert(int64_t id, const std::string& by, int64_t now_ms) = 0;

    // Recommendations: put() creates or replaces the one of that device and kind.
    virtual Done put_recommendation(const Recommendation& recommendation) = 0;
    virtual Fetched<std::vector<Recommendation>> recommendations(
        const std::optional<std::string>& device_id,
        const std::optional<RecommendationState>& state) = 0;

    // Desired configuration. A device's own version is also shown in its DeviceRow.
    virtual Done set_desired_config(const DesiredConfig& config) = 0;
    virtual Fetched<std::optional<DesiredConfig>> desired_config(ConfigScope scope,
                                                                 const std::string& target) = 0;

    // Per-device detection state, opaque to the store, so any hub worker can pick a device up.
    virtual Done save_detection_state(const std::string& device_id,
                                      const std::vector<uint8_t>& state, int64_t now_ms) = 0;
    /// value empty when nothing was saved for the device.
    virtual Fetched<std::optional<std::vector<uint8_t>>> load_detection_state(
        const std::string& device_id) = 0;

    /// Deletes raw telemetry (flows, overflow, interface totals, heartbeats, port snapshots, dedupe
    /// keys) received
    /// before now_ms minus the retention, in short transactions so ingest keeps committing.
    virtual RetentionResult apply_retention(int64_t now_ms) = 0;
    virtual Fetched<StoreStats> stats() = 0;

    // Added after the first release of the interface: each has a default so that a store written
    // against the older interface still builds (and says plainly what it cannot do).

    /// Devices matching the filter (its paging fields are ignored), for /metrics. The default
    /// pages through list_devices(); a store should count in place.
    virtual Fetched<uint64_t> count_devices(const DeviceFilter& filter) {
        Fetched<uint64_t> result;
        DeviceFilter page = filter;
        page.after.clear();
        page.limit = 1000;
        for (;;) {
            Fetched<DevicePage> devices = list_devices(page);
            if (!devices.ok()) {
                result.error = devices.error;
                return result;
            }
            result.value += devices.value.devices.size();
            if (devices.value.next_after.empty()) {
                return result;
            }
            page.after = devices.value.next_after;
        }
    }

    // Device groups: a device belongs to at most one group, named by the operator; a group
    // config goes to every member. Membership is kept by device id, so a device can be placed
    // in a group before its first message.

    /// Puts the device in `group`, replacing its previous one; an empty group removes it.
    virtual Done set_device_group(const std::string& device_id, const std::string& group) {
        (void)device_id;
        (void)group;
        return Done{"this store does not keep device groups"};
    }
    /// value empty when the device is in no group.
    virtual Fetched<std::optional<std::string>> device_group(const std::string& device_id) {
        (void)device_id;
        Fetched<std::optional<std::string>> result;
        result.error = "this store does not keep device groups";
        return result;
    }
    /// The members' ids, sorted; empty when the group has none.
    virtual Fetched<std::vector<std::string>> group_members(const std::string& group) {
        (void)group;
        Fetched<std::vector<std::string>> result;
        result.error = "this store does not keep device groups";
        return result;
    }
};

}  // namespace vigil::hub

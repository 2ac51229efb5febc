// The hub's devices as the API and the command line see them: the list, one device's detail
// and flows, the operator's enrolment decision and device groups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/enrolment.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

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

class DeviceDirectory {
  public:
    virtual ~DeviceDirectory() = default;

    virtual Fetched<DevicePage> list_devices(const DeviceFilter& filter) = 0;
    /// Devices matching the filter (its paging fields are ignored), counted in place, for
    /// /metrics.
    virtual Fetched<uint64_t> count_devices(const DeviceFilter& filter) = 0;
    /// value empty when no device has that id.
    virtual Fetched<std::optional<DeviceDetail>> device_detail(const DetailQuery& query) = 0;
    virtual Fetched<FlowPage> flows(const FlowQuery& query) = 0;

    /// Records the operator's decision. A device that has no row yet (enrolled before its first
    /// message) gets one, with no messages and never seen; its first message keeps the enrolment.
    virtual Done set_enrolment(const std::string& device_id, Enrolment enrolment) = 0;

    // Device groups: a device belongs to at most one group, named by the operator; a group
    // config goes to every member. Membership is kept by device id, so a device can be placed
    // in a group before its first message.

    /// Puts the device in `group`, replacing its previous one; an empty group removes it.
    virtual Done set_device_group(const std::string& device_id, const std::string& group) = 0;
    /// value empty when the device is in no group.
    virtual Fetched<std::optional<std::string>> device_group(const std::string& device_id) = 0;
    /// The members' ids, sorted; empty when the group has none.
    virtual Fetched<std::vector<std::string>> group_members(const std::string& group) = 0;
};

}  // namespace vigil::hub

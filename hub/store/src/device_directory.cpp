// The devices' directory: the list, one device's detail and flows, enrolment and groups.
#include "sqlite_store_impl.hpp"

#include "vigil/hub/report_json.hpp"

namespace vigil::hub::sqlite {

std::optional<int64_t> device_key_of(Connection& connection, const std::string& device_id,
                                     std::string& error) {
    Statement find =
        connection.query("SELECT device_key FROM devices WHERE id = ?1", error, device_id);
    if (find && find.next_row("find device", error)) {
        return find.integer(0);
    }
    return std::nullopt;
}

std::optional<int64_t> known_device_key(Connection& connection, const std::string& device_id,
                                        std::string& error) {
    auto device_key = device_key_of(connection, device_id, error);
    if (!device_key && error.empty()) {
        error = "no device '" + device_id + "'";
    }
    return device_key;
}

namespace {

constexpr int64_t kSmallest = std::numeric_limits<int64_t>::min();

// The columns DeviceRow is read from, in read_device_row()'s order.
#define VIGIL_DEVICE_COLUMNS                                                     \
    "id, format, first_seen_ms, last_seen_ms, agent_version, state, enrolment, " \
    "applied_config_version, desired_config_version, messages"

DeviceRow read_device_row(const Statement& row) {
    DeviceRow device;
    device.id = row.text(0);
    if (!row.is_null(1)) {
        device.format = static_cast<Format>(row.integer(1));
    }
    if (!row.is_null(2)) {
        device.first_seen_ms = row.integer(2);
    }
    if (!row.is_null(3)) {
        device.last_seen_ms = row.integer(3);
    }
    device.agent_version = row.text(4);
    device.state = row.text(5);
    device.enrolment = static_cast<Enrolment>(row.integer(6));
    if (!row.is_null(7)) {
        device.applied_config_version = static_cast<uint32_t>(row.integer(7));
    }
    if (!row.is_null(8)) {
        device.desired_config_version = static_cast<uint32_t>(row.integer(8));
    }
    device.messages = as_counter(row.integer(9));
    return device;
}

}  // namespace

Fetched<DevicePage> SqliteStore::list_devices(const DeviceFilter& filter) {
    return with_reader<DevicePage>([&](Connection& reader, Fetched<DevicePage>& result) {
        Statement list = reader.query(
            "SELECT " VIGIL_DEVICE_COLUMNS
            " FROM devices "
            "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR format = ?2) "
            "AND (?3 IS NULL OR enrolment = ?3) AND (?4 IS NULL OR last_seen_ms >= ?4) "
            "AND (?5 IS NULL OR last_seen_ms < ?5) AND id > ?6 ORDER BY id LIMIT ?7",
            result.error, filter.state, filter.format, filter.enrolment, filter.seen_since_ms,
            filter.seen_before_ms, filter.after,
            // One row more than asked says whether another page follows.
            static_cast<int64_t>(filter.limit) + 1);
        while (list && list.next_row("list devices", result.error)) {
            if (result.value.devices.size() == filter.limit) {
                result.value.next_after = result.value.devices.back().id;
                break;
            }
            result.value.devices.push_back(read_device_row(list));
        }
    });
}

Fetched<std::optional<DeviceDetail>> SqliteStore::device_detail(const DetailQuery& query) {
    return with_reader<std::optional<DeviceDetail>>(
        [&](Connection& reader, Fetched<std::optional<DeviceDetail>>& result) {
            // One read transaction: the device row and its traffic are one snapshot.
            Transaction snapshot(reader);
            if (!snapshot.begin("BEGIN", result.error)) {
                return;
            }
            Statement device = reader.query("SELECT " VIGIL_DEVICE_COLUMNS
                                            ", device_key FROM devices WHERE id = ?1",
                                            result.error, query.device_id);
            if (!device || !device.next_row("device detail", result.error)) {
                return;
            }
            DeviceDetail detail;
            detail.device = read_device_row(device);
            const int64_t device_key = device.integer(10);
            Statement latest = reader.query(
                "SELECT part, body_json, received_ms FROM device_latest WHERE device_key = ?1",
                result.error, device_key);
            while (latest && latest.next_row("device latest", result.error)) {
                const std::string body = latest.text(1);
                const int64_t received_ms = latest.integer(2);
                switch (static_cast<LatestPart>(latest.integer(0))) {
                    case LatestPart::System:
                        detail.system = parse_system_json(body);
                        detail.system_received_ms = received_ms;
                        break;
                    case LatestPart::Ports:
                        detail.listening_ports = parse_ports_json(body);
                        detail.ports_received_ms = received_ms;
                        break;
                    case LatestPart::Status:
                        detail.status = parse_status_json(body);
                        detail.status_received_ms = received_ms;
                        break;
                }
            }
            if (!result.error.empty()) {
                return;
            }
            if (!traffic_summary(reader, device_key, query, detail.traffic, result.error)) {
                return;
            }
            result.value = std::move(detail);
        });
}

bool SqliteStore::traffic_summary(Connection& connection, int64_t device_key,
                                  const DetailQuery& query, TrafficSummary& traffic,
                                  std::string& error) {
    Statement totals = connection.query(
        "WITH window AS (SELECT id FROM messages "
        "                WHERE device_key = ?1 AND time_ms >= ?2 AND time_ms < ?3), "
        "f AS (SELECT count(*) AS flows, coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN flows ON flows.message_id = window.id), "
        "o AS (SELECT coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN flow_overflow ON flow_overflow.message_id = window.id), "
        "i AS (SELECT coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN interface_totals t ON t.message_id = window.id) "
        "SELECT f.flows, f.bytes_in + o.bytes_in, f.bytes_out + o.bytes_out, "
        "  f.packets_in + o.packets_in, f.packets_out + o.packets_out, "
        "  o.bytes_in + o.bytes_out, i.bytes_in, i.bytes_out, i.packets_in, "
        "  i.packets_out FROM f, o, i",
        error, device_key, query.from_ms, query.to_ms);
    if (!totals || !totals.only_row("traffic totals", error)) {
        return false;
    }
    traffic.flows = as_counter(totals.integer(0));
    traffic.bytes_in = as_counter(totals.integer(1));
    traffic.bytes_out = as_counter(totals.integer(2));
    traffic.packets_in = as_counter(totals.integer(3));
    traffic.packets_out = as_counter(totals.integer(4));
    traffic.overflow_bytes = as_counter(totals.integer(5));
    traffic.interfaces = {as_counter(totals.integer(6)), as_counter(totals.integer(7)),
                          as_counter(totals.integer(8)), as_counter(totals.integer(9))};
    return top_remotes(connection, device_key, query, traffic, error);
}

bool SqliteStore::top_remotes(Connection& connection, int64_t device_key, const DetailQuery& query,
                              TrafficSummary& traffic, std::string& error) {
    Statement top = connection.query(
        "SELECT f.remote, sum(f.bytes_in), sum(f.bytes_out), count(*) "
        "FROM messages m JOIN flows f ON f.message_id = m.id "
        "WHERE m.device_key = ?1 AND m.time_ms >= ?2 AND m.time_ms < ?3 "
        "GROUP BY f.remote ORDER BY sum(f.bytes_in) + sum(f.bytes_out) DESC, f.remote "
        "LIMIT ?4",
        error, device_key, query.from_ms, query.to_ms, static_cast<int64_t>(query.top_remotes));
    if (!top) {
        return false;
    }
    while (top.next_row("top remotes", error)) {
        traffic.top_remotes.push_back({top.text(0), as_counter(top.integer(1)),
                                       as_counter(top.integer(2)), as_counter(top.integer(3))});
    }
    return error.empty();
}

namespace {

StoredFlow read_flow(const Statement& row) {
    StoredFlow stored;
    stored.message_id = row.integer(0);
    stored.index = static_cast<uint32_t>(row.integer(1));
    stored.time_ms = row.integer(2);
    stored.received_ms = row.integer(3);
    stored.window_duration_ms = static_cast<uint32_t>(row.integer(4));
    Flow& flow = stored.flow;
    flow.local = row.text(5);
    flow.remote = row.text(6);
    flow.protocol = static_cast<Protocol>(row.integer(7));
    flow.local_port = static_cast<uint16_t>(row.integer(8));
    flow.remote_port = static_cast<uint16_t>(row.integer(9));
    flow.bytes_in = as_counter(row.integer(10));
    flow.bytes_out = as_counter(row.integer(11));
    if (!row.is_null(12)) {
        flow.packets_in = as_counter(row.integer(12));
    }
    if (!row.is_null(13)) {
        flow.packets_out = as_counter(row.integer(13));
    }
    if (!row.is_null(14)) {
        flow.remote_opened = row.integer(14) != 0;
    }
    flow.handshake = row.text(15);
    flow.local_interface = row.text(16);
    return stored;
}

}  // namespace

Fetched<FlowPage> SqliteStore::flows(const FlowQuery& query) {
    return with_reader<FlowPage>([&](Connection& reader, Fetched<FlowPage>& result) {
        // (m.time_ms, m.id) >= the cursor lets the index seek to the page; the seq term then skips
        // the flows of the cursor's own window already returned.
        Statement list = reader.query(
            "SELECT m.id, f.seq, m.time_ms, m.received_ms, m.window_duration_ms, f.local, "
            "f.remote, f.protocol, f.local_port, f.remote_port, f.bytes_in, f.bytes_out, "
            "f.packets_in, f.packets_out, f.remote_opened, f.handshake, f.local_interface "
            "FROM messages m JOIN flows f ON f.message_id = m.id "
            "WHERE m.device_key = (SELECT device_key FROM devices WHERE id = ?1) "
            "AND m.time_ms >= ?2 AND m.time_ms < ?3 AND (m.time_ms, m.id) >= (?4, ?5) "
            "AND (m.time_ms, m.id, f.seq) > (?4, ?5, ?6) "
            "ORDER BY m.time_ms, m.id, f.seq LIMIT ?7",
            result.error, query.device_id, query.from_ms, query.to_ms,
            query.after ? query.after->time_ms : kSmallest,
            query.after ? query.after->message_id : kSmallest,
            query.after ? static_cast<int64_t>(query.after->index) : kSmallest,
            static_cast<int64_t>(query.limit) + 1);
        while (list && list.next_row("flows", result.error)) {
            if (result.value.flows.size() == query.limit) {
                const StoredFlow& last = result.value.flows.back();
                result.value.next = FlowCursor{last.time_ms, last.message_id, last.index};
                break;
            }
            result.value.flows.push_back(read_flow(list));
        }
    });
}

Done SqliteStore::set_enrolment(const std::string& device_id, Enrolment enrolment) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    // A device enrolled (or revoked) before it ever reported gets its row now, never seen, so
    // it is listed at once; its first message fills in the rest and keeps the enrolment.
    writer_.run("write",
                "INSERT INTO devices (id, enrolment) VALUES (?1, ?2) "
                "ON CONFLICT (id) DO UPDATE SET enrolment = excluded.enrolment",
                result.error, device_id, static_cast<int64_t>(enrolment));
    return result;
}

Fetched<uint64_t> SqliteStore::count_devices(const DeviceFilter& filter) {
    return with_reader<uint64_t>([&](Connection& reader, Fetched<uint64_t>& result) {
        Statement count = reader.query(
            "SELECT count(*) FROM devices "
            "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR format = ?2) "
            "AND (?3 IS NULL OR enrolment = ?3) AND (?4 IS NULL OR last_seen_ms >= ?4) "
            "AND (?5 IS NULL OR last_seen_ms < ?5)",
            result.error, filter.state, filter.format, filter.enrolment, filter.seen_since_ms,
            filter.seen_before_ms);
        if (count && count.only_row("count devices", result.error)) {
            result.value = as_counter(count.integer(0));
        }
    });
}

Done SqliteStore::set_device_group(const std::string& device_id, const std::string& group) {
    Done result;
    if (device_id.empty()) {
        result.error = "empty device id";
        return result;
    }
    std::lock_guard<std::mutex> lock(writer_mutex_);
    if (group.empty()) {
        writer_.run("write", "DELETE FROM device_groups WHERE device_id = ?1", result.error,
                    device_id);
        return result;
    }
    writer_.run("write",
                "INSERT INTO device_groups (device_id, group_name) VALUES (?1, ?2) "
                "ON CONFLICT (device_id) DO UPDATE SET group_name = excluded.group_name",
                result.error, device_id, group);
    return result;
}

Fetched<std::optional<std::string>> SqliteStore::device_group(const std::string& device_id) {
    return with_reader<std::optional<std::string>>(
        [&](Connection& reader, Fetched<std::optional<std::string>>& result) {
            Statement get =
                reader.query("SELECT group_name FROM device_groups WHERE device_id = ?1",
                             result.error, device_id);
            if (get && get.next_row("device group", result.error)) {
                result.value = get.text(0);
            }
        });
}

Fetched<std::vector<std::string>> SqliteStore::group_members(const std::string& group) {
    return with_reader<std::vector<std::string>>(
        [&](Connection& reader, Fetched<std::vector<std::string>>& result) {
            Statement members = reader.query(
                "SELECT device_id FROM device_groups WHERE group_name = ?1 ORDER BY device_id",
                result.error, group);
            while (members && members.next_row("group members", result.error)) {
                result.value.push_back(members.text(0));
            }
        });
}

}  // namespace vigil::hub::sqlite

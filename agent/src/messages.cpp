// Turns one collection into messages in the backlog: plans how the window's flows and the
// snapshots split over messages of at most max_message_bytes, then encodes each straight into
// the backlog (no separate message buffer).
#include "vigil/agent/agent.hpp"

#include "collector_ids.hpp"

namespace vigil::agent {

namespace {

// Upper bounds for planning; the real encoding is never larger.
constexpr size_t kEnvelopeBound = 1 + 2 + 3 * 6 + 6;  // map head, version, 3 x uint32, uptime
constexpr size_t kNetworkOverheadBound = 2 + 2 * 6 + 2 * 4 + 12;  // head, window, 2 arrays, part

size_t group_head_size(size_t flows) {
    return cbor::head_size(wire::kGroupHeaderItems + wire::kFlowItems * flows);
}

wire::ListeningPortFields to_wire(const vigil_listening_port& port) {
    wire::ListeningPortFields out;
    out.protocol = static_cast<wire::Protocol>(port.protocol);
    out.port = port.port;
    out.address.family = port.address.family;
    __builtin_memcpy(out.address.bytes, port.address.bytes, 16);
    return out;
}

void encode_ports(cbor::Writer& out, const vigil_listening_port* ports, size_t count) {
    out.array(count);
    for (size_t i = 0; i < count; ++i) {
        wire::encode_listening_port(out, to_wire(ports[i]));
    }
}

bool has_traffic(const wire::OverflowFields& o) {
    return o.packets_in + o.packets_out > 0;
}

/// The overflow records that counted something, `entries` of them.
void encode_overflows(cbor::Writer& out, const wire::OverflowFields (&overflow)[2][3],
                      size_t entries) {
    out.array(entries);
    for (const auto& family : overflow) {
        for (const wire::OverflowFields& o : family) {
            if (has_traffic(o)) {
                wire::encode_overflow(out, o);
            }
        }
    }
}

/// A window's records of one family, read through the layout both record types share
/// (detail::kLaidOutAlike), so the window's sorting and reading exist once for both.
struct RecordLayout {
    const uint8_t* records;
    size_t stride;
    size_t address_bytes;

    template <typename Record>
    static RecordLayout of(const Record* records) {
        return {reinterpret_cast<const uint8_t*>(records), sizeof(Record), sizeof(Record::local)};
    }
    const uint8_t* local(size_t index) const { return records + index * stride; }
    const uint8_t* remote(size_t index) const { return local(index) + address_bytes; }
    uint16_t port(size_t index, size_t which) const {
        uint16_t value;
        __builtin_memcpy(&value, local(index) + 2 * address_bytes + 2 * which, 2);
        return value;
    }
    const detail::FlowStats& stats(size_t index) const {
        return *reinterpret_cast<const detail::FlowStats*>(local(index) + 2 * address_bytes + 4);
    }

    /// By local address, remote address, protocol, local port, remote port.
    bool less(size_t a, size_t b) const {
        int order = __builtin_memcmp(local(a), local(b), 2 * address_bytes);
        if (order == 0) {
            order = (stats(a).flags & wire::flow_flag::kProtocolMask) -
                    (stats(b).flags & wire::flow_flag::kProtocolMask);
        }
        for (size_t which = 0; order == 0 && which < 2; ++which) {
            order = port(a, which) - port(b, which);
        }
        return order < 0;
    }
};

/// Heapsort of record indices: O(n log n) with no recursion and no allocation, where the
/// standard library's sort is not available to a freestanding build.
void sort_indices(uint16_t* order, size_t count, const RecordLayout& layout) {
    auto sift_down = [&](size_t root, size_t end) {
        while (2 * root + 1 < end) {
            size_t child = 2 * root + 1;
            if (child + 1 < end && layout.less(order[child], order[child + 1])) {
                ++child;
            }
            if (!layout.less(order[root], order[child])) {
                return;
            }
            const uint16_t swap = order[root];
            order[root] = order[child];
            order[child] = swap;
            root = child;
        }
    };
    for (size_t start = count / 2; start-- > 0;) {
        sift_down(start, count);
    }
    for (size_t end = count; end > 1; --end) {
        const uint16_t swap = order[0];
        order[0] = order[end - 1];
        order[end - 1] = swap;
        sift_down(0, end - 1);
    }
}

/// Closes every record of the window: from now on the hook leaves them alone.
size_t close_records(const detail::table::Layout& table, uint16_t* order) {
    size_t count = 0;
    for (size_t i = 0; i < table.capacity; ++i) {
        detail::FlowStats& stats = table.stats(table.record(i));
        if (stats.used != detail::kFree) {
            stats.used = detail::kClosed;
            order[count++] = static_cast<uint16_t>(i);
        }
    }
    return count;
}

}  // namespace

/// A sorted view of one window's records: IPv4 first, then IPv6, each by local, remote, key.
struct AgentBase::Window {
    const AgentBase& agent;
    size_t count4 = 0;
    size_t count6 = 0;
    uint64_t duration_ms = 0;
    /// The window's overflow records, taken when it closed (the agent's own start the next one).
    wire::OverflowFields overflow[2][3] = {};
    size_t overflow_entries = 0;  ///< overflow records that counted something

    size_t size() const { return count4 + count6; }

    RecordLayout layout(size_t position) const {
        return position < count4 ? RecordLayout::of(&agent.flows4_.slot(0))
                                 : RecordLayout::of(&agent.flows6_.slot(0));
    }
    size_t address_bytes(size_t position) const { return layout(position).address_bytes; }
    /// The flow's local address, its remote address right after it.
    const uint8_t* local(size_t position) const {
        return layout(position).local(agent.storage_.order[position]);
    }
    wire::FlowFields fields(size_t position) const;

    /// Whether the flows at two positions share the local address (`with_remote`: and the remote
    /// one too). Positions of the two families never do.
    bool same(size_t a, size_t b, bool with_remote) const {
        const size_t bytes = address_bytes(a);
        return (a < count4) == (b < count4) &&
               __builtin_memcmp(local(a), local(b), with_remote ? 2 * bytes : bytes) == 0;
    }
};

wire::FlowFields AgentBase::Window::fields(size_t position) const {
    const uint16_t index = agent.storage_.order[position];
    const RecordLayout records = layout(position);
    const detail::FlowStats& stats = records.stats(index);
    wire::FlowFields out;
    out.local_port = records.port(index, 0);
    out.remote_port = records.port(index, 1);
    out.flags = stats.flags;
    out.bytes_in = stats.bytes_in;
    out.bytes_out = stats.bytes_out;
    out.packets_in = stats.packets_in;
    out.packets_out = stats.packets_out;
    out.first_s = stats.first_ms / 1000;
    out.last_s = stats.last_ms / 1000;
    return out;
}

/// What one message carries. Snapshots go first; flows fill the rest.
struct AgentBase::Part {
    bool heartbeat = false;
    bool system = false;
    bool ports = false;
    bool network = false;
    bool overflow = false;
    size_t first_flow = 0;
    size_t end_flow = 0;
    size_t locals = 0;  ///< local addresses and groups among the part's flows
    size_t groups = 0;
    size_t bound = kEnvelopeBound;
};

/// What is still to be placed, and the exact sizes of the snapshots.
struct AgentBase::Plan {
    bool heartbeat = false;
    bool system = false;
    bool ports = false;
    bool overflow = false;
    bool network = false;
    size_t next_flow = 0;
    size_t heartbeat_size = 0;
    size_t system_size = 0;
    size_t ports_size = 0;
    size_t overflow_size = 0;

    bool done(const Window& window) const {
        return !heartbeat && !system && !ports &&
               !(network && (overflow || next_flow < window.size()));
    }
};

AgentBase::Part AgentBase::plan_part(Plan& plan, const Window& window) const {
    Part part;
    const size_t max = storage_.max_message_bytes;
    auto take = [&](bool& pending, size_t size, bool& placed) {
        // An item always goes into an empty message, so planning cannot stall.
        const bool empty = part.bound == kEnvelopeBound;
        if (pending && (part.bound + size <= max || empty)) {
            part.bound += size;
            placed = true;
            pending = false;
        }
    };
    take(plan.heartbeat, plan.heartbeat_size, part.heartbeat);
    take(plan.system, plan.system_size, part.system);
    take(plan.ports, plan.ports_size, part.ports);
    if (!plan.network || (!plan.overflow && plan.next_flow == window.size())) {
        return part;
    }
    const size_t overhead = kNetworkOverheadBound + (plan.overflow ? plan.overflow_size : 0);
    if (part.bound + overhead > max) {
        return part;
    }
    part.bound += overhead;
    part.overflow = plan.overflow;
    plan.overflow = false;
    part.first_flow = plan.next_flow;
    size_t group_flows = 0;
    for (; plan.next_flow < window.size(); ++plan.next_flow) {
        const size_t i = plan.next_flow;
        const bool first = i == part.first_flow;
        const bool new_local = first || !window.same(i - 1, i, false);
        const bool new_group = first || !window.same(i - 1, i, true);
        const size_t address = window.address_bytes(i);
        size_t size = wire::flow_size(window.fields(i));
        if (new_local) {
            size += 1 + address;
        }
        if (new_group) {
            size += group_head_size(1) + cbor::head_size(part.locals - (new_local ? 0 : 1)) + 1 +
                    address;
        } else {
            size += group_head_size(group_flows + 1) - group_head_size(group_flows);
        }
        if (part.bound + size > max) {
            break;
        }
        part.bound += size;
        part.locals += new_local ? 1 : 0;
        part.groups += new_group ? 1 : 0;
        group_flows = new_group ? 1 : group_flows + 1;
    }
    part.end_flow = plan.next_flow;
    part.network = part.overflow || part.end_flow > part.first_flow;
    return part;
}

void AgentBase::encode_network(cbor::Writer& out, const Part& part, const Window& window,
                               size_t index, size_t count) const {
    const bool with_overflow = part.overflow && window.overflow_entries > 0;
    out.map(4 + (with_overflow ? 1 : 0) + (count > 1 ? 1 : 0));
    const uint64_t clamped = window.duration_ms > 0xFFFFFFFFu ? 0xFFFFFFFFu : window.duration_ms;
    out.uint(wire::network_key::kWindowStartAgeMs);
    out.uint(clamped);
    out.uint(wire::network_key::kWindowDurationMs);
    out.uint(clamped);

    // Local addresses in this part, in order; records are sorted by local address.
    out.uint(wire::network_key::kLocalAddresses);
    out.array(part.locals);
    for (size_t i = part.first_flow; i < part.end_flow; ++i) {
        if (i == part.first_flow || !window.same(i - 1, i, false)) {
            out.bytes(window.local(i), window.address_bytes(i));
        }
    }

    out.uint(wire::network_key::kGroups);
    out.array(part.groups);
    size_t local_index = 0;
    for (size_t start = part.first_flow; start < part.end_flow;) {
        if (start != part.first_flow && !window.same(start - 1, start, false)) {
            ++local_index;
        }
        size_t end = start + 1;
        while (end < part.end_flow && window.same(start, end, true)) {
            ++end;
        }
        out.array(wire::kGroupHeaderItems + wire::kFlowItems * (end - start));
        out.uint(local_index);
        const size_t address = window.address_bytes(start);
        out.bytes(window.local(start) + address, address);
        for (size_t i = start; i < end; ++i) {
            wire::encode_flow(out, window.fields(i));
        }
        start = end;
    }

    if (with_overflow) {
        out.uint(wire::network_key::kOverflow);
        encode_overflows(out, window.overflow, window.overflow_entries);
    }
    if (count > 1) {
        out.uint(wire::network_key::kPart);
        out.array(2);
        out.uint(index);
        out.uint(count);
    }
}

void AgentBase::encode_part(cbor::Writer& out, const Part& part, const Window& window,
                            const Snapshot& snapshot, size_t network_index,
                            size_t network_count) const {
    wire::Envelope envelope;
    envelope.boot_id = boot_id_;
    envelope.sequence = sequence_;
    envelope.unix_time = snapshot.unix_time_s;
    const uint64_t uptime_s = agent_ms_ / 1000;
    envelope.uptime = uptime_s > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(uptime_s);
    wire::encode_envelope(out, envelope,
                          (part.network ? 1 : 0) + (part.system ? 1 : 0) + (part.ports ? 1 : 0) +
                              (part.heartbeat ? 1 : 0));
    if (part.network) {
        out.uint(wire::message_key::kNetwork);
        encode_network(out, part, window, network_index, network_count);
    }
    if (part.system) {
        out.uint(wire::message_key::kSystem);
        wire::encode_system(out, *snapshot.system);
    }
    if (part.ports) {
        out.uint(wire::message_key::kPorts);
        encode_ports(out, storage_.ports, snapshot.port_count);
    }
    if (part.heartbeat) {
        out.uint(wire::message_key::kHeartbeat);
        wire::encode_heartbeat(out, snapshot.heartbeat);
    }
}

void AgentBase::encode_messages(const Due& due, Snapshot& snapshot) {
    Window window{*this};
    Plan plan;
    const bool network = due.collectors[detail::kNetworkCollector];
    // The only critical section of a collection: read the counters and close the window. Closed
    // records are not touched by the hook, so they are sorted and encoded outside it.
    enter();
    if (due.collectors[detail::kHeartbeatCollector]) {
        fill_heartbeat(snapshot.heartbeat);
    }
    if (network) {
        window.count4 = close_records(flows4_.layout(), storage_.order);
        window.count6 = close_records(flows6_.layout(), storage_.order + window.count4);
        window.duration_ms = agent_ms_ - window_start_agent_ms_;
        __builtin_memcpy(window.overflow, overflow_, sizeof(overflow_));
        start_window();
    }
    exit();

    if (due.collectors[detail::kHeartbeatCollector]) {
        cbor::Writer counter;
        wire::encode_heartbeat(counter, snapshot.heartbeat);
        plan.heartbeat = true;
        plan.heartbeat_size = 1 + counter.size();
    }
    if (snapshot.system != nullptr) {
        cbor::Writer counter;
        wire::encode_system(counter, *snapshot.system);
        plan.system = true;
        plan.system_size = 1 + counter.size();
    }
    if (snapshot.ports_known && due.collectors[detail::kPortsCollector]) {
        cbor::Writer counter;
        encode_ports(counter, storage_.ports, snapshot.port_count);
        plan.ports = true;
        plan.ports_size = 1 + counter.size();
    }
    if (network) {
        plan.network = true;
        sort_indices(storage_.order, window.count4, window.layout(0));
        sort_indices(storage_.order + window.count4, window.count6, window.layout(window.count4));
        for (const auto& family : window.overflow) {
            for (const wire::OverflowFields& o : family) {
                window.overflow_entries += has_traffic(o) ? 1 : 0;
            }
        }
        cbor::Writer counter;
        encode_overflows(counter, window.overflow, window.overflow_entries);
        plan.overflow = window.overflow_entries > 0;
        plan.overflow_size = 1 + counter.size();
    }

    size_t network_parts = 0;
    for (Plan counting = plan; !counting.done(window);) {
        const Part part = plan_part(counting, window);
        network_parts += part.network ? 1 : 0;
    }
    size_t network_index = 0;
    size_t written = 0;
    while (!plan.done(window)) {
        const Part part = plan_part(plan, window);
        if (written > 0 && state_ == State::Active && !backlog_.fits(part.bound)) {
            // Send this collection's first messages rather than push them out of a small backlog.
            flush_backlog();
        }
        uint8_t* buffer = backlog_.reserve(part.bound, counters_.messages_dropped);
        if (buffer == nullptr) {
            break;  // cannot happen: max_message_bytes fits the backlog (static_assert)
        }
        cbor::Writer out(buffer, part.bound);
        encode_part(out, part, window, snapshot, network_index, network_parts);
        network_index += part.network ? 1 : 0;
        if (out.ok()) {
            backlog_.commit(out.size());
            ++sequence_;
            ++written;
        }
        release_flows(window, part.first_flow, part.end_flow);
    }
}

void AgentBase::release_flows(const Window& window, size_t first, size_t end) {
    enter();  // the hook reads every slot's state while it probes
    for (size_t position = first; position < end; ++position) {
        const uint16_t index = storage_.order[position];
        if (position < window.count4) {
            flows4_.release(index);
        } else {
            flows6_.release(index);
        }
    }
    exit();
}

}  // namespace vigil::agent

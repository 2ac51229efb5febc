#include "vigil/agent/agent.hpp"

#include "collector_ids.hpp"

#include "vigil/agent/detail/compiler.hpp"
#include "vigil/agent/detail/packet_parser.hpp"
#include "vigil/agent/version.h"

namespace vigil::agent {

using detail::FlowRecord4;
using detail::FlowRecord6;
using detail::ParsedPacket;
using detail::ParseResult;

namespace {

// A whole config encodes to under 64 bytes (every field at its largest value).
constexpr size_t kLocalConfigBytes = 96;

constexpr bool kBuiltIn[wire::kCollectorCount] = {
    VIGIL_COLLECTOR_NETWORK != 0, VIGIL_COLLECTOR_SYSTEM != 0, VIGIL_COLLECTOR_HEARTBEAT != 0,
    VIGIL_COLLECTOR_LISTENING_PORTS != 0};

wire::ConfigFields build_defaults() {
    wire::ConfigFields config;
    config.version = 0;
    config.interval_s[0] = VIGIL_HIGH_INTERVAL_S;
    config.interval_s[1] = VIGIL_MEDIUM_INTERVAL_S;
    config.interval_s[2] = VIGIL_LOW_INTERVAL_S;
    const uint8_t priorities[wire::kCollectorCount] = {
        VIGIL_NETWORK_PRIORITY, VIGIL_SYSTEM_PRIORITY, VIGIL_HEARTBEAT_PRIORITY,
        VIGIL_LISTENING_PORTS_PRIORITY};
    for (size_t i = 0; i < wire::kCollectorCount; ++i) {
        config.collectors[i] = {kBuiltIn[i], static_cast<wire::Priority>(priorities[i] % 3)};
    }
    config.unicast_only = VIGIL_UNICAST_ONLY != 0;
    config.pending_timeout_s = VIGIL_PENDING_TIMEOUT_S;
    config.retry_s = VIGIL_SEND_RETRY_S;
    return config;
}

uint32_t fnv1a(const char* text, uint32_t hash) {
    for (; *text != '\0'; ++text) {
        hash = (hash ^ static_cast<uint8_t>(*text)) * 16777619u;
    }
    return hash;
}

char* append(char* out, const char* text) {
    while (*text != '\0') {
        *out++ = *text++;
    }
    return out;
}

/// Which side opened a TCP connection whose SYN was not seen: the side on a well-known port
/// serves, then the side on an ephemeral port opened, else whoever spoke first in this window.
bool infer_remote_opened(uint16_t local_port, uint16_t remote_port, bool outbound) {
    const bool local_service = local_port < 1024;
    const bool remote_service = remote_port < 1024;
    if (local_service != remote_service) {
        return local_service;
    }
    const bool local_ephemeral = local_port >= 32768;
    const bool remote_ephemeral = remote_port >= 32768;
    if (local_ephemeral != remote_ephemeral) {
        return remote_ephemeral;
    }
    return !outbound;
}

uint8_t opener_bits(bool remote_opened, bool inferred) {
    return static_cast<uint8_t>((remote_opened ? wire::flow_flag::kRemoteOpened : 0) |
                                (inferred ? wire::flow_flag::kOpenerInferred : 0));
}

uint8_t with_handshake(uint8_t flags, wire::Handshake handshake) {
    return static_cast<uint8_t>(
        (flags & ~wire::flow_flag::kHandshakeMask) |
        (static_cast<uint8_t>(handshake) << wire::flow_flag::kHandshakeShift));
}

wire::Handshake handshake_of(uint8_t flags) {
    return static_cast<wire::Handshake>((flags & wire::flow_flag::kHandshakeMask) >>
                                        wire::flow_flag::kHandshakeShift);
}

uint8_t update_tcp_flags(uint8_t flags, bool inserted, const ParsedPacket& p, bool outbound,
                         uint16_t local_port, uint16_t remote_port) {
    using wire::Handshake;
    namespace tf = detail::tcp_flag;
    const bool syn = (p.tcp_flags & tf::kSyn) != 0;
    const bool ack = (p.tcp_flags & tf::kAck) != 0;
    const bool rst = (p.tcp_flags & tf::kRst) != 0;
    if (inserted) {
        if (syn && !ack) {  // the sender opens
            return with_handshake(flags | opener_bits(!outbound, false), Handshake::Unanswered);
        }
        if (syn && ack) {  // the receiver of a SYN-ACK opened
            return with_handshake(flags | opener_bits(outbound, false), Handshake::Completed);
        }
        flags |= opener_bits(infer_remote_opened(local_port, remote_port, outbound), true);
        return with_handshake(flags, rst ? Handshake::Reset : Handshake::Completed);
    }
    const Handshake current = handshake_of(flags);
    if (syn && ack && current == Handshake::Unanswered) {
        return with_handshake(flags, Handshake::Completed);
    }
    if (rst && current == Handshake::Unanswered) {
        return with_handshake(flags, Handshake::Refused);
    }
    if (rst && current == Handshake::Completed) {
        return with_handshake(flags, Handshake::Reset);
    }
    return flags;
}

/// Counts one packet in a flow record or an overflow record.
template <typename Totals>
VIGIL_ALWAYS_INLINE void add_packet(Totals& totals, bool outbound, uint32_t ip_bytes) {
    if (outbound) {
        totals.bytes_out += ip_bytes;
        ++totals.packets_out;
    } else {
        totals.bytes_in += ip_bytes;
        ++totals.packets_in;
    }
}

/// Flags of a new flow, or of a TCP segment carrying SYN or RST: the packet hook's slow path,
/// kept out of line so the common packet stays short.
VIGIL_NOINLINE uint8_t opening_flags(uint8_t flags, bool inserted, const ParsedPacket& p,
                                     bool outbound, const detail::FlowKey& key) {
    if (p.protocol == static_cast<uint8_t>(wire::Protocol::Tcp)) {
        return update_tcp_flags(flags, inserted, p, outbound, key.local_port, key.remote_port);
    }
    // UDP: the first sender opened. ICMP: the sender of the request (icmp_reply is false for UDP).
    return static_cast<uint8_t>(flags | opener_bits(p.icmp_reply ? outbound : !outbound, false));
}

}  // namespace

const char* to_string(Status status) {
    return vigil_status_string(static_cast<vigil_status>(status));
}

bool AgentBase::Due::any() const {
    for (bool due : collectors) {
        if (due) {
            return true;
        }
    }
    return false;
}

AgentBase::AgentBase(const Storage& storage)
    : storage_(storage),
      flows4_(storage.flows4, storage.flows4_capacity),
      flows6_(storage.flows6, storage.flows6_capacity),
      backlog_(storage.backlog, storage.backlog_bytes),
      overflow_{} {}

void AgentBase::enter() const {
    if (port_.enter_critical != nullptr) {
        port_.enter_critical(port_.context);
    }
}

void AgentBase::exit() const {
    if (port_.exit_critical != nullptr) {
        port_.exit_critical(port_.context);
    }
}

uint32_t AgentBase::random_or(uint32_t fallback) const {
    return port_.random32 != nullptr ? port_.random32(port_.context) : fallback;
}

Status AgentBase::init(const Port& port, const Transport& transport, const char* device_id,
                       const Options* options) {
    if (VIGIL_AGENT_DISABLED) {
        return Status::Disabled;
    }
    if (initialised_) {
        return Status::AlreadyInitialised;
    }
    if (port.now_ms == nullptr ||
        (port.enter_critical == nullptr) != (port.exit_critical == nullptr)) {
        return Status::BadParameter;
    }
    if (transport.is_connected == nullptr || transport.send == nullptr) {
        return Status::BadParameter;
    }
    const size_t id_length = wire::device_id_length(device_id);
    if (id_length == 0) {
        return Status::BadParameter;
    }
    port_ = port;
    transport_ = transport;
    for (size_t i = 0; i <= id_length; ++i) {
        device_id_[i] = device_id[i];
    }
    const char* const topic_parts[] = {wire::kTopicPrefix, device_id_, wire::kTopicSuffix};
    char* end = topic_;
    for (const char* part : topic_parts) {
        end = append(end, part);
    }
    *end = '\0';

    last_port_ms_ = port_.now_ms(port_.context);
    agent_ms_ = 0;
    const uint32_t fallback = fnv1a(device_id_, 2166136261u) ^ static_cast<uint32_t>(last_port_ms_);
    boot_id_ = random_or(fallback);
    hash_seed_ = random_or(fallback * 2654435761u);
    splay_max_ms_ = options != nullptr ? options->first_collection_splay_max_ms
                                       : VIGIL_FIRST_COLLECTION_SPLAY_MAX_MS;
    config_ = build_defaults();
    initialised_ = true;
    return enable();
}

Status AgentBase::enable() {
    if (!initialised_) {
        return Status::NotInitialised;
    }
    if (enabled_) {
        return Status::Ok;
    }
    advance_clock();
    enter();
    reset_window();
    enabled_ = true;
    exit();
    if (port_.attach_hooks != nullptr) {
        port_.attach_hooks(port_.context);
    }
    set_state(State::Pending);
    uint32_t splay = 0;
    if (splay_max_ms_ > 0) {
        const uint32_t random = random_or(boot_id_ * 2246822519u);
        splay = random % splay_max_ms_;
    }
    schedule_from(agent_ms_ + splay);
    return Status::Ok;
}

Status AgentBase::disable() {
    if (!initialised_) {
        return Status::NotInitialised;
    }
    if (!enabled_) {
        return Status::Ok;
    }
    if (port_.detach_hooks != nullptr) {
        port_.detach_hooks(port_.context);
    }
    enter();
    enabled_ = false;
    reset_window();
    exit();
    state_ = State::NotInitialised;
    return Status::Ok;
}

uint64_t AgentBase::advance_clock() {
    const uint64_t now = port_.now_ms(port_.context);
    if (now >= last_port_ms_) {
        agent_ms_ += now - last_port_ms_;
    } else {
        // The port clock went back: time stands still for the agent, and packet stamps are
        // measured from the new reading so their offsets stay meaningful.
        ++counters_.clock_jumps;
        enter();
        window_start_port_ms_ = now;
        exit();
    }
    last_port_ms_ = now;
    return now;
}

void AgentBase::set_state(State next) {
    if (next != state_) {
        state_ = next;
        state_since_ms_ = agent_ms_;
    }
}

void AgentBase::update_state() {
    const bool connected = transport_.is_connected(transport_.context);
    switch (state_) {
        case State::Pending:
            if (connected) {
                set_state(State::Active);
            } else if (agent_ms_ - state_since_ms_ >= uint64_t{config_.pending_timeout_s} * 1000) {
                set_state(State::Suspended);
            }
            break;
        case State::Suspended:
            if (connected) {
                set_state(State::Active);
                snapshot_requested_ = true;  // snapshots were skipped while suspended
            }
            break;
        case State::Active:
            if (!connected) {
                set_state(State::Pending);
            }
            break;
        case State::NotInitialised:
            break;
    }
}

void AgentBase::schedule_from(uint64_t first_due_ms) {
    for (uint64_t& due : next_due_ms_) {
        due = first_due_ms;
    }
}

AgentBase::Due AgentBase::due_collectors() {
    bool group_due[wire::kPriorityCount] = {};
    for (size_t g = 0; g < wire::kPriorityCount; ++g) {
        if (agent_ms_ < next_due_ms_[g]) {
            continue;
        }
        group_due[g] = true;
        const uint64_t interval = uint64_t{config_.interval_s[g]} * 1000;
        uint64_t next = next_due_ms_[g] + interval;
        if (next <= agent_ms_) {
            // Ticks came late: skip what was missed instead of catching up in a burst.
            counters_.schedule_drift += (agent_ms_ - next_due_ms_[g]) / interval;
            next = agent_ms_ + interval;
        }
        next_due_ms_[g] = next;
    }
    Due due{};
    for (size_t c = 0; c < wire::kCollectorCount; ++c) {
        const wire::CollectorSetting& setting = config_.collectors[c];
        due.collectors[c] = setting.enabled && group_due[static_cast<size_t>(setting.priority)];
    }
    if (state_ == State::Suspended) {
        // Snapshots are sent again on reconnect; the backlog keeps room for the window data.
        snapshot_requested_ = snapshot_requested_ || due.collectors[detail::kSystemCollector] ||
                              due.collectors[detail::kPortsCollector];
        due.collectors[detail::kSystemCollector] = false;
        due.collectors[detail::kPortsCollector] = false;
    } else if (snapshot_requested_ && state_ == State::Active) {
        due.collectors[detail::kSystemCollector] =
            config_.collectors[detail::kSystemCollector].enabled;
        due.collectors[detail::kPortsCollector] =
            config_.collectors[detail::kPortsCollector].enabled;
        due.collectors[detail::kHeartbeatCollector] =
            config_.collectors[detail::kHeartbeatCollector].enabled;
        snapshot_requested_ = false;
    }
    return due;
}

Status AgentBase::tick() {
    if (!initialised_) {
        return Status::NotInitialised;
    }
    if (!enabled_) {
        return Status::Disabled;
    }
    advance_clock();
    update_state();
    const Due due = due_collectors();
    if (due.any()) {
        collect(due);
    }
    if (state_ == State::Active) {
        flush_backlog();
    }
    return Status::Ok;
}

void AgentBase::flush_backlog() {
    if (agent_ms_ < next_send_ms_) {
        return;
    }
    const uint8_t* data = nullptr;
    size_t length = 0;
    while (backlog_.front(data, length)) {
        const int32_t sent =
            transport_.send(transport_.context, topic_, wire::kPropertyBag, data, length);
        if (sent > 0) {
            backlog_.pop_front();
            ++counters_.messages_sent;
            continue;
        }
        next_send_ms_ = agent_ms_ + uint64_t{config_.retry_s} * 1000;
        if (sent < 0) {
            ++counters_.send_failures;
            if (!transport_.is_connected(transport_.context)) {
                set_state(State::Pending);
            }
        }
        return;
    }
}

// One instantiation per entry point, and each build calls one of them, so neither is a copy
// of the other in an image.
template <bool TakeCriticalSection>
void AgentBase::count_packet(const uint8_t* ip, size_t length, vigil_direction direction,
                             uint8_t interface_index, uint64_t timestamp_ms) {
    if (!enabled_.load(std::memory_order_relaxed) || !kBuiltIn[detail::kNetworkCollector]) {
        return;
    }
    ParsedPacket parsed;
    const ParseResult result = detail::parse_packet(ip, length, parsed);
    const bool outbound = direction == VIGIL_OUTBOUND;
    if (TakeCriticalSection) {
        enter();
    }
    ++counters_.packets_seen;
    if (VIGIL_UNLIKELY(result != ParseResult::Flow)) {
        ++(result == ParseResult::Unparsed ? counters_.packets_unparsed
                                           : counters_.packets_ignored);
    } else if (VIGIL_UNLIKELY(
                   ((ignored_interfaces_ >> (interface_index & 31)) & 1) != 0 ||
                   !config_.collectors[detail::kNetworkCollector].enabled ||
                   (config_.unicast_only && !outbound && parsed.multicast_destination))) {
        ++counters_.packets_ignored;
    } else {
        record_flow(parsed, outbound, timestamp_ms);
    }
    if (TakeCriticalSection) {
        exit();
    }
}

void AgentBase::packet(const uint8_t* ip, size_t length, vigil_direction direction,
                       uint8_t interface_index, uint64_t timestamp_ms) {
    count_packet<true>(ip, length, direction, interface_index, timestamp_ms);
}

void AgentBase::packet_in_critical_section(const uint8_t* ip, size_t length,
                                           vigil_direction direction, uint8_t interface_index,
                                           uint64_t timestamp_ms) {
    count_packet<false>(ip, length, direction, interface_index, timestamp_ms);
}

VIGIL_ALWAYS_INLINE void AgentBase::record_flow(const ParsedPacket& p, bool outbound,
                                                uint64_t timestamp_ms) {
    const bool icmp = p.protocol == static_cast<uint8_t>(wire::Protocol::Icmp);
    detail::FlowKey key;
    key.local = outbound ? p.source : p.destination;
    key.remote = outbound ? p.destination : p.source;
    // ICMP keys on (type, code) whatever the direction; TCP/UDP on (local, remote) ports.
    const bool source_is_local = icmp || outbound;
    key.local_port = source_is_local ? p.source_port : p.destination_port;
    key.remote_port = source_is_local ? p.destination_port : p.source_port;
    key.protocol = p.protocol;

    bool inserted = false;
    detail::FlowStats* stats;
    if (p.family == 4) {
        FlowRecord4* record = flows4_.find_or_insert(key, hash_seed_, inserted);
        stats = record != nullptr ? &record->stats : nullptr;
    } else {
        FlowRecord6* record = flows6_.find_or_insert(key, hash_seed_, inserted);
        stats = record != nullptr ? &record->stats : nullptr;
    }
    if (VIGIL_UNLIKELY(stats == nullptr)) {
        add_overflow(p, outbound);
        return;
    }
    const uint64_t offset =
        timestamp_ms > window_start_port_ms_ ? timestamp_ms - window_start_port_ms_ : 0;
    const uint32_t offset_ms = offset > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(offset);
    if (VIGIL_UNLIKELY(inserted ||
                       (p.tcp_flags & (detail::tcp_flag::kSyn | detail::tcp_flag::kRst)) != 0)) {
        stats->flags = opening_flags(stats->flags, inserted, p, outbound, key);
        if (inserted) {
            stats->first_ms = offset_ms;
        }
    }
    stats->last_ms = offset_ms > stats->last_ms ? offset_ms : stats->last_ms;
    add_packet(*stats, outbound, p.ip_bytes);
}

void AgentBase::add_overflow(const ParsedPacket& p, bool outbound) {
    wire::OverflowFields& o = overflow_[p.family == 4 ? 0 : 1][p.protocol];
    o.family = p.family;
    o.protocol = static_cast<wire::Protocol>(p.protocol);
    add_packet(o, outbound, p.ip_bytes);
    ++counters_.overflow_packets;
}

void AgentBase::reset_window() {
    flows4_.clear();
    flows6_.clear();
    start_window();
}

void AgentBase::start_window() {
    // Zero counts are all that matters: add_overflow sets a record's family and protocol.
    __builtin_memset(static_cast<void*>(overflow_), 0, sizeof(overflow_));
    window_start_agent_ms_ = agent_ms_;
    window_start_port_ms_ = last_port_ms_;
}

void AgentBase::fill_heartbeat(wire::HeartbeatFields& hb) const {
    hb.state = state_;
    hb.config_version = config_.version;
    // The counters run in the heartbeat's order: two copies instead of one per count.
    static_assert(offsetof(Counters, messages_dropped) - offsetof(Counters, packets_seen) ==
                          offsetof(wire::HeartbeatFields, messages_dropped) -
                              offsetof(wire::HeartbeatFields, packets_seen) &&
                      offsetof(Counters, schedule_drift) ==
                          offsetof(Counters, messages_dropped) + sizeof(uint64_t) &&
                      offsetof(Counters, clock_jumps) - offsetof(Counters, schedule_drift) ==
                          offsetof(wire::HeartbeatFields, clock_jumps) -
                              offsetof(wire::HeartbeatFields, schedule_drift),
                  "counters in the heartbeat's order");
    __builtin_memcpy(&hb.packets_seen, &counters_.packets_seen,
                     offsetof(Counters, schedule_drift) - offsetof(Counters, packets_seen));
    __builtin_memcpy(&hb.schedule_drift, &counters_.schedule_drift, 2 * sizeof(uint64_t));
    hb.backlog_messages = static_cast<uint32_t>(backlog_.messages());
    hb.backlog_bytes = static_cast<uint32_t>(backlog_.bytes());
    hb.rejected_config_version = rejected_version_;
    hb.rejected_config_reason = rejected_reason_;
    hb.collectors = 0;
    for (size_t c = 0; c < wire::kCollectorCount; ++c) {
        if (config_.collectors[c].enabled) {
            hb.collectors |= 1u << (c + 1);
        }
    }
}

// The port's facts and the wire's share their layout from os_name on, so they are taken in one
// copy; the counts are then held to what the wire carries.
void AgentBase::gather_system(wire::SystemFields& out) const {
    static_assert(sizeof(wire::Address) == sizeof(vigil_address) &&
                      offsetof(wire::Address, bytes) == offsetof(vigil_address, bytes) &&
                      wire::kMaxSystemAddresses == VIGIL_MAX_SYSTEM_ADDRESSES &&
                      wire::kMaxSystemMacs == VIGIL_MAX_SYSTEM_MACS,
                  "addresses and MACs alike");
    static_assert(
        offsetof(wire::SystemFields, board) - offsetof(wire::SystemFields, os_name) ==
                offsetof(vigil_system_info, board) &&
            offsetof(wire::SystemFields, addresses) - offsetof(wire::SystemFields, os_name) ==
                offsetof(vigil_system_info, addresses) &&
            offsetof(wire::SystemFields, address_count) - offsetof(wire::SystemFields, os_name) ==
                offsetof(vigil_system_info, address_count) &&
            offsetof(wire::SystemFields, macs) - offsetof(wire::SystemFields, os_name) ==
                offsetof(vigil_system_info, macs) &&
            offsetof(wire::SystemFields, mac_count) - offsetof(wire::SystemFields, os_name) ==
                offsetof(vigil_system_info, mac_count) &&
            sizeof(wire::SystemFields) - offsetof(wire::SystemFields, os_name) ==
                sizeof(vigil_system_info),
        "the port's system facts laid out as the wire's from os_name on");
    out.agent_version = kVersionString;
    if (port_.system_info == nullptr) {
        return;
    }
    vigil_system_info info{};
    port_.system_info(port_.context, &info);
    __builtin_memcpy(&out.os_name, &info, sizeof(info));
    out.address_count = info.address_count < wire::kMaxSystemAddresses ? info.address_count
                                                                       : wire::kMaxSystemAddresses;
    out.mac_count = info.mac_count < wire::kMaxSystemMacs ? info.mac_count : wire::kMaxSystemMacs;
}

size_t AgentBase::gather_ports() {
    if (port_.listening_ports == nullptr) {
        return 0;
    }
    const size_t count =
        port_.listening_ports(port_.context, storage_.ports, storage_.ports_capacity);
    return count < storage_.ports_capacity ? count : storage_.ports_capacity;
}

void AgentBase::collect(const Due& due) {
    // Port callbacks run before the critical section is entered, so they may take locks.
    wire::SystemFields system;
    Snapshot snapshot;
    snapshot.unix_time_s = port_.unix_time_s != nullptr ? port_.unix_time_s(port_.context) : 0;
    if (due.collectors[detail::kSystemCollector]) {
        gather_system(system);
        snapshot.system = &system;
    }
    snapshot.ports_known = port_.listening_ports != nullptr;
    snapshot.port_count = due.collectors[detail::kPortsCollector] ? gather_ports() : 0;
    encode_messages(due, snapshot);
}

void AgentBase::set_ignored_interfaces(uint32_t mask) {
    enter();
    ignored_interfaces_ = mask;
    exit();
}

Status AgentBase::apply_config(const uint8_t* data, size_t length) {
    return apply_config_message(data, length, false);
}

Status AgentBase::apply_local_config(const uint8_t* data, size_t length) {
    return apply_config_message(data, length, true);
}

// A config from the hub must be newer than the one in force, and a refusal is reported with its
// version in the heartbeat; a local one is version 0 and only valid before any from the hub.
Status AgentBase::apply_config_message(const uint8_t* data, size_t length, bool local) {
    if (!initialised_) {
        return Status::NotInitialised;
    }
    if (data == nullptr || length == 0) {
        if (local) {
            return Status::BadParameter;
        }
        rejected_reason_ = wire::ConfigError::Malformed;
        rejected_version_ = 0;
        return Status::InvalidConfig;
    }
    wire::ConfigFields next = config_;
    uint32_t version = 0;
    wire::ConfigError error = local ? wire::decode_config_settings(data, length, next, version)
                                    : wire::decode_config(data, length, next, version);
    if (local && error == wire::ConfigError::None && (version != 0 || config_.version != 0)) {
        return Status::BadParameter;
    }
    if (error == wire::ConfigError::None) {
        error = check_built_in(next);
    }
    if (error != wire::ConfigError::None) {
        rejected_reason_ = error;
        rejected_version_ = local ? 0 : version;
        return Status::InvalidConfig;
    }
    install_config(next);
    return Status::Ok;
}

Status AgentBase::apply_local_config(const wire::ConfigFields& local) {
    uint8_t encoded[kLocalConfigBytes];
    cbor::Writer writer(encoded, sizeof(encoded));
    wire::encode_config(writer, local);
    if (!writer.ok()) {
        return Status::BadParameter;
    }
    return apply_local_config(encoded, writer.size());
}

wire::ConfigError AgentBase::check_built_in(const wire::ConfigFields& next) {
    for (size_t c = 0; c < wire::kCollectorCount; ++c) {
        if (next.collectors[c].enabled && !kBuiltIn[c]) {
            return wire::ConfigError::Unavailable;
        }
    }
    return wire::ConfigError::None;
}

void AgentBase::install_config(const wire::ConfigFields& next) {
    // A group whose interval changed starts over from now, so a shorter interval applies at once
    // and a longer one does not fire early.
    for (size_t g = 0; g < wire::kPriorityCount; ++g) {
        if (next.interval_s[g] != config_.interval_s[g]) {
            next_due_ms_[g] = agent_ms_ + uint64_t{next.interval_s[g]} * 1000;
        }
    }
    const bool network_switched = next.collectors[detail::kNetworkCollector].enabled !=
                                  config_.collectors[detail::kNetworkCollector].enabled;
    enter();  // the packet hook reads the network collector's switch and the unicast filter
    config_ = next;
    if (network_switched) {
        reset_window();  // a window never spans a time the collector was off
    }
    exit();
    rejected_reason_ = wire::ConfigError::None;
    rejected_version_ = 0;
}

}  // namespace vigil::agent

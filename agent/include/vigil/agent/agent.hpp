// Vigil agent core, C++ API. See vigil_agent.h for the contexts each call may run in; the rules
// are the same here, per instance.
//
//   static vigil::agent::Agent<> agent;            // default capacities, in .bss
//   agent.init(port, transport, "device-42");     // enabled, PENDING
//   stack: agent.packet(ip, len, VIGIL_OUTBOUND, 0, now_ms);
//   loop:  agent.tick();                          // every 100 ms .. 1 s
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "vigil/agent/config.h"
#include "vigil/agent/detail/backlog.hpp"
#include "vigil/agent/detail/flow_table.hpp"
#include "vigil/agent/detail/packet_parser.hpp"
#include "vigil/agent/vigil_agent.h"
#include "vigil/protocol/wire.h"

namespace vigil::agent {

enum class [[nodiscard]] Status : int{
    Ok = VIGIL_OK,
    BadParameter = VIGIL_BAD_PARAMETER,
    NotInitialised = VIGIL_NOT_INITIALISED,
    AlreadyInitialised = VIGIL_ALREADY_INITIALISED,
    Disabled = VIGIL_DISABLED,
    InvalidConfig = VIGIL_INVALID_CONFIG,
};

const char* to_string(Status status);

using Port = vigil_port;
using Transport = vigil_transport;
using Options = vigil_options;
using State = wire::AgentState;

constexpr size_t kMaxDeviceIdBytes = wire::kMaxDeviceIdBytes;

/// Counters the heartbeat reports; cumulative since init.
struct Counters {
    uint64_t packets_seen = 0;
    uint64_t packets_unparsed = 0;
    uint64_t packets_ignored = 0;
    uint64_t overflow_packets = 0;
    uint64_t messages_sent = 0;
    uint64_t send_failures = 0;
    uint64_t messages_dropped = 0;
    uint64_t schedule_drift = 0;
    uint64_t clock_jumps = 0;
};

/// Where an agent keeps its tables and backlog; Agent<> provides it from its own members.
struct Storage {
    detail::FlowRecord4* flows4;
    size_t flows4_capacity;
    detail::FlowRecord6* flows6;
    size_t flows6_capacity;
    uint16_t* order;  ///< flows4_capacity + flows6_capacity entries, to sort a window
    uint8_t* backlog;
    size_t backlog_bytes;
    size_t max_message_bytes;
    vigil_listening_port* ports;
    size_t ports_capacity;
};

/// The agent's logic, independent of its capacities.
class AgentBase {
  public:
    AgentBase(const AgentBase&) = delete;
    AgentBase& operator=(const AgentBase&) = delete;

    Status init(const Port& port, const Transport& transport, const char* device_id,
                const Options* options = nullptr);
    Status enable();
    Status disable();
    Status tick();
    void packet(const uint8_t* ip, size_t length, vigil_direction direction,
                uint8_t interface_index, uint64_t timestamp_ms);
    /// packet() for a caller that already holds the port's critical section.
    void packet_in_critical_section(const uint8_t* ip, size_t length, vigil_direction direction,
                                    uint8_t interface_index, uint64_t timestamp_ms);
    Status apply_config(const uint8_t* data, size_t length);
    /// Starting settings from the device's own configuration, in force until a config message
    /// replaces them: checked by the same rules, applied whole or rejected whole
    /// (InvalidConfig, reason in last_config_error()), and kept at version 0 so that any config
    /// the hub sends is newer. BadParameter when local.version is not 0 or a config from the hub
    /// is already in force.
    Status apply_local_config(const wire::ConfigFields& local);
    /// The same, from a config message (docs/protocol.md) whose version is 0.
    Status apply_local_config(const uint8_t* data, size_t length);

    State state() const { return state_; }
    bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
    const Counters& counters() const { return counters_; }
    const wire::ConfigFields& config() const { return config_; }
    wire::ConfigError last_config_error() const { return rejected_reason_; }
    size_t backlog_messages() const { return backlog_.messages(); }
    size_t backlog_bytes() const { return backlog_.bytes(); }
    const char* topic() const { return topic_; }
    /// Packets from interfaces whose bit is set are ignored (bit i for interface index i mod 32).
    /// None by default.
    void set_ignored_interfaces(uint32_t mask);

  protected:
    explicit AgentBase(const Storage& storage);
    ~AgentBase() = default;

  private:
    struct Due {
        bool collectors[wire::kCollectorCount];
        bool any() const;
    };
    struct Window;
    struct Part;
    struct Plan;
    /// What a collection gathered outside the critical section.
    struct Snapshot {
        uint32_t unix_time_s = 0;
        const wire::SystemFields* system = nullptr;
        bool ports_known = false;
        size_t port_count = 0;
        wire::HeartbeatFields heartbeat{};
    };

    void enter() const;
    /// The port's random number, or `fallback` when it has no generator.
    uint32_t random_or(uint32_t fallback) const;
    void exit() const;
    uint64_t advance_clock();
    void update_state();
    void set_state(State next);
    Due due_collectors();
    void schedule_from(uint64_t first_due_ms);
    void collect(const Due& due);
    void flush_backlog();
    template <bool TakeCriticalSection>
    void count_packet(const uint8_t* ip, size_t length, vigil_direction direction,
                      uint8_t interface_index, uint64_t timestamp_ms);
    void record_flow(const detail::ParsedPacket& parsed, bool outbound, uint64_t timestamp_ms);
    void add_overflow(const detail::ParsedPacket& parsed, bool outbound);
    /// Drops the open window's records and starts a new window.
    void reset_window();
    /// Starts a new window: its overflow records empty, its start now.
    void start_window();
    void fill_heartbeat(wire::HeartbeatFields& out) const;
    Status apply_config_message(const uint8_t* data, size_t length, bool local);
    static wire::ConfigError check_built_in(const wire::ConfigFields& next);
    void install_config(const wire::ConfigFields& next);
    size_t gather_ports();
    /// Fills a newly constructed `out` (fields the port does not know stay as constructed).
    void gather_system(wire::SystemFields& out) const;
    void encode_messages(const Due& due, Snapshot& snapshot);
    void release_flows(const Window& window, size_t first, size_t end);
    Part plan_part(Plan& plan, const Window& window) const;
    void encode_part(cbor::Writer& out, const Part& part, const Window& window,
                     const Snapshot& snapshot, size_t network_index, size_t network_count) const;
    void encode_network(cbor::Writer& out, const Part& part, const Window& window, size_t index,
                        size_t count) const;

    Storage storage_;
    detail::FlowTable<detail::FlowRecord4> flows4_;
    detail::FlowTable<detail::FlowRecord6> flows6_;
    detail::Backlog backlog_;
    wire::OverflowFields overflow_[2][3];

    Port port_{};
    Transport transport_{};
    char device_id_[kMaxDeviceIdBytes + 1] = {};
    char topic_[sizeof(wire::kTopicPrefix) + kMaxDeviceIdBytes + sizeof(wire::kTopicSuffix)] = {};

    wire::ConfigFields config_{};
    wire::ConfigError rejected_reason_ = wire::ConfigError::None;
    uint32_t rejected_version_ = 0;

    Counters counters_{};
    State state_ = State::NotInitialised;
    bool initialised_ = false;
    /// Read by the packet hook before it takes the critical section; written under it.
    std::atomic<bool> enabled_{false};
    bool snapshot_requested_ = false;  ///< send system info and ports with the next collection
    uint32_t ignored_interfaces_ = 0;
    uint32_t boot_id_ = 0;
    uint32_t hash_seed_ = 0;
    uint32_t sequence_ = 0;
    uint32_t splay_max_ms_ = VIGIL_FIRST_COLLECTION_SPLAY_MAX_MS;

    // Time: agent_ms_ is the port clock made monotonic (never goes back, late ticks add once).
    uint64_t last_port_ms_ = 0;
    uint64_t agent_ms_ = 0;
    uint64_t state_since_ms_ = 0;
    uint64_t next_send_ms_ = 0;
    uint64_t next_due_ms_[wire::kPriorityCount] = {};
    uint64_t window_start_agent_ms_ = 0;
    uint64_t window_start_port_ms_ = 0;  ///< same instant on the port clock, for packet stamps
};

/// An agent with its storage inside: place it statically. Capacities default to the build
/// settings in config.h.
template <size_t Ipv4Flows = VIGIL_MAX_IPV4_FLOWS, size_t Ipv6Flows = VIGIL_MAX_IPV6_FLOWS,
          size_t BacklogBytes = VIGIL_BACKLOG_BYTES,
          size_t MaxMessageBytes = VIGIL_MAX_MESSAGE_BYTES,
          size_t ListeningPorts = VIGIL_MAX_LISTENING_PORTS>
class Agent : public AgentBase {
    static_assert(Ipv4Flows > 0 && Ipv6Flows > 0, "flow tables need at least one record");
    static_assert(Ipv4Flows + Ipv6Flows < 65536, "flow order indices are 16-bit");
    static_assert(MaxMessageBytes >= 256 && MaxMessageBytes <= 65535,
                  "a message must hold one flow with its headers and fit a 16-bit length");
    static_assert(BacklogBytes >= MaxMessageBytes + 2, "the backlog must hold one full message");

  public:
    Agent()
        : AgentBase(Storage{flows4_, Ipv4Flows, flows6_, Ipv6Flows, order_, backlog_, BacklogBytes,
                            MaxMessageBytes, ports_, ListeningPorts}) {}

  private:
    detail::FlowRecord4 flows4_[Ipv4Flows];
    detail::FlowRecord6 flows6_[Ipv6Flows];
    uint16_t order_[Ipv4Flows + Ipv6Flows];
    uint8_t backlog_[BacklogBytes];
    vigil_listening_port ports_[ListeningPorts];
};

}  // namespace vigil::agent

// One virtual device: a real agent core (Agent<> with the build's small-device capacities) on a
// platform whose clock is the simulation's, fed the packets of its traffic profile and its
// attacks, publishing through its own MQTT connection with its own credentials.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attacks.hpp"
#include "packet_writer.hpp"
#include "profiles.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/mqtt/client.h"
#include "vigil/mqtt/posix_transport.h"
#include "vigil/ports/bind_port.hpp"

namespace vigil::sim {

struct DeviceIdentity {
    std::string device_id;
    std::string username;
    std::string password;
    std::string client_id;
};

struct BrokerAddress {
    std::string host = "127.0.0.1";  ///< numeric IPv4
    uint16_t port = 1883;
};

/// Where a device stands, for the run's report.
struct DeviceReport {
    std::string device_id;
    std::string profile;
    uint64_t messages_sent = 0;  ///< handed to the MQTT client by the agent
    size_t messages_unacknowledged = 0;
    size_t backlog_messages = 0;  ///< encoded by the agent, not yet handed to the client
    uint64_t packets = 0;         ///< given to the packet hook
    uint32_t connects = 0;
    bool connected = false;
    agent::Counters agent{};
};

class VirtualDevice : private PacketSink {
  public:
    /// number: the device's place among its profile's devices, which sets its addresses.
    /// start_unix_s: the wall-clock time the simulation starts at; boot_offset_ms: how long the
    /// device had been up then. traffic_seed sets the traffic's phases and jitter (the same seed
    /// plays the same traffic); boot_seed the agent's randomness, its boot id among it, which
    /// must differ from run to run: every run is a new boot of the device, and a hub takes a
    /// message with a boot id and sequence it already holds for a redelivery.
    VirtualDevice(DeviceIdentity identity, const Profile& profile, uint32_t profile_index,
                  uint32_t number, uint32_t start_unix_s, uint64_t boot_offset_ms,
                  uint32_t traffic_seed, uint32_t boot_seed);
    VirtualDevice(const VirtualDevice&) = delete;
    VirtualDevice& operator=(const VirtualDevice&) = delete;

    void add_attack(const AttackSpec& spec, uint32_t seed);

    /// Starts the agent and the MQTT client (the first connection is tried at once).
    bool start(const BrokerAddress& broker, uint32_t real_ms);
    /// Plays the device's traffic and attacks up to the simulated time and ticks its agent;
    /// false when too little simulated time passed since the last step to do anything.
    bool advance(uint64_t sim_ms);
    /// Sends, receives and keeps the MQTT connection up (real time).
    void process_network(uint32_t real_ms);
    /// Sends DISCONNECT and closes the connection.
    void stop();
    /// Stops for good in the middle of the run (a clone switched off): no more steps, traffic or
    /// connections; what the broker had not acknowledged stays unacknowledged.
    void retire();

    int socket_fd() const { return retired_ ? -1 : socket_.fd; }
    /// Whether the client holds bytes or publishes the broker has not acknowledged.
    bool has_output() const {
        return !retired_ && (client_.unsent() > 0 || client_.in_flight() > 0);
    }
    /// Whether the client holds bytes the socket has not taken yet.
    bool has_unsent() const { return !retired_ && client_.unsent() > 0; }
    bool connected() const { return retired_ || client_.is_connected(); }
    const std::string& device_id() const { return identity_.device_id; }
    DeviceReport report() const;
    const std::vector<AttackRun>& attacks() const { return attacks_; }

  private:
    template <typename Port>
    friend vigil_port vigil::ports::bind_port(Port& port);

    /// A pattern's packets, written once: the data packets each way and the handshake.
    struct PatternRun {
        const TrafficPattern* pattern;
        PacketHeader from_device;  ///< data packet the device sends
        PacketHeader to_device;    ///< data packet the peer sends
        uint64_t next_ms = 0;      ///< simulated time of the next exchange
        uint16_t next_ephemeral = 0;
        bool connection_open = false;
        PacketBytes out_bytes, in_bytes;
    };

    // The platform the agent runs on (called through bind_port).
    uint64_t now_ms() const { return boot_offset_ms_ + sim_ms_; }
    uint32_t unix_time_s() const { return start_unix_s_ + static_cast<uint32_t>(sim_ms_ / 1000); }
    uint32_t random32() { return next_random(boot_random_); }
    void enter_critical() {}  // the hook and the tick run on one thread
    void exit_critical() {}
    void system_info(vigil_system_info& out);
    size_t listening_ports(vigil_listening_port* out, size_t capacity);
    void attach_hooks() {}
    void detach_hooks() {}

    // PacketSink
    void deliver(const PacketHeader& header, vigil_direction direction, uint64_t sim_ms) override;
    const IpAddress& local_ipv4() const override { return ipv4_; }
    bool listens(Transport transport, uint16_t port) const override;
    void listen(Transport transport, uint16_t port) override;
    void deliver_bytes(const PacketBytes& packet, vigil_direction direction,
                       uint64_t sim_ms) override {
        send_bytes(packet, direction, sim_ms, 1);
    }

    void exchange(PatternRun& run, uint64_t at_ms);
    void send_bytes(const PacketBytes& packet, vigil_direction direction, uint64_t at_ms,
                    uint16_t count);
    void handshake(PatternRun& run, PacketHeader from_device, PacketHeader to_device,
                   uint64_t at_ms);
    static uint32_t next_random(uint32_t& state);
    uint32_t traffic_random() { return next_random(traffic_random_); }
    static void on_config(void* context, const char* topic, size_t topic_length,
                          const uint8_t* payload, size_t payload_length);

    DeviceIdentity identity_;
    const Profile& profile_;
    SystemFacts system_;
    IpAddress ipv4_, ipv6_;
    uint32_t start_unix_s_;
    uint64_t boot_offset_ms_;
    uint32_t traffic_random_;
    uint32_t boot_random_;
    uint64_t sim_ms_ = 0;
    uint64_t last_step_ms_ = 0;
    bool stepped_ = false;
    bool retired_ = false;
    uint64_t packets_ = 0;
    std::vector<PatternRun> patterns_;
    std::vector<AttackRun> attacks_;
    std::vector<ListeningPort> listening_;  ///< the profile's, and what attacks opened

    agent::Agent<> agent_;
    vigil_port port_{};
    mqtt::PosixSocket socket_;
    mqtt::Client client_;
    mqtt::StaticStorage<1024, 4096, 4, 1400> storage_;
    mqtt::Settings mqtt_settings_;
    std::string config_topic_;
    std::string broker_host_;
};

/// Simulated time between two steps of one device: the agent expects a tick every 100 ms to
/// 1 s of its clock.
constexpr uint64_t kStepMs = 250;

}  // namespace vigil::sim

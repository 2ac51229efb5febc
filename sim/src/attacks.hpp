// Attacks as packets and facts a device's agent sees: each started at its time, then run a step
// at a time as the device's simulated clock advances.
#pragma once

#include <cstdint>

#include "packet_writer.hpp"
#include "profiles.hpp"
#include "scenario.hpp"
#include "vigil/agent/vigil_agent.h"

namespace vigil::sim {

/// Where an attack's packets go: the device's packet hook, stamped with simulated time.
class PacketSink {
  public:
    virtual ~PacketSink() = default;
    virtual void deliver(const PacketHeader& header, vigil_direction direction,
                         uint64_t sim_ms) = 0;
    /// The same, for a packet already written (a flood sends one many times).
    virtual void deliver_bytes(const PacketBytes& packet, vigil_direction direction,
                               uint64_t sim_ms) = 0;
    /// The device's own IPv4 address.
    virtual const IpAddress& local_ipv4() const = 0;
    /// Which of the device's ports listen (a scan's probe is answered or refused).
    virtual bool listens(Transport transport, uint16_t port) const = 0;
    /// The device opens a listening socket.
    virtual void listen(Transport transport, uint16_t port) = 0;
};

/// One attack on one device.
class AttackRun {
  public:
    AttackRun(const AttackSpec& spec, uint32_t seed) : spec_(spec), random_(seed | 1) {}

    /// Runs whatever is due up to sim_ms; system facts change in place.
    void advance(uint64_t sim_ms, PacketSink& sink, SystemFacts& system);
    bool started() const { return started_; }
    bool finished() const { return finished_; }
    const AttackSpec& spec() const { return spec_; }
    uint32_t probes() const { return probes_; }
    /// Whether the attack keeps the device from reporting at sim_ms (silence).
    bool silences(uint64_t sim_ms) const;

  private:
    void probe_port(uint64_t at_ms, PacketSink& sink);
    void probe_telnet(uint64_t at_ms, PacketSink& sink);
    void backdoor_session(uint64_t at_ms, PacketSink& sink);
    void flood_until(uint64_t sim_ms, PacketSink& sink);
    void beacon(uint64_t at_ms, PacketSink& sink);
    void exfiltrate_until(uint64_t sim_ms, PacketSink& sink);
    IpAddress random_public_ipv4();
    uint32_t next_random();

    AttackSpec spec_;
    uint32_t random_;
    bool started_ = false;
    bool finished_ = false;
    bool started_listening_ = false;
    uint32_t probes_ = 0;
};

}  // namespace vigil::sim

// How each device reaches the hub's broker, as the broker's guard plugin reports it
// (kGuardConnectionsTopic in vigil/hub/broker.hpp): the address of its latest connection, whether
// it came over TLS and since when, and how often the identity went back and forth between two
// addresses (two devices taking one client id from each other; one device moving once does not).
// The hub's broker watch feeds the reports in; the hygiene checks read them on every report.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace vigil::hub::recommend {

struct DeviceConnection {
    std::string address;  ///< the latest connection's source address
    bool tls = false;
    int64_t since_ms = 0;  ///< hub time the broker first saw that connection publish
    uint64_t number = 0;   ///< the device's connections since the broker started
    /// The identity taken in turns by two addresses: the address before the latest, how often
    /// the latest went back to it, and the hub time it last did.
    std::string other_address;
    uint32_t address_returns = 0;
    int64_t last_return_ms = 0;
};

class BrokerConnections {
  public:
    /// Returns further apart than `forget_after_ms` (hub time) start the count again.
    explicit BrokerConnections(int64_t forget_after_ms) : forget_after_ms_(forget_after_ms) {}

    /// Takes one report of the guard; false when it is not one (nothing changes then).
    /// Connections already taken are skipped; a new broker start (epoch) starts the numbering
    /// again without forgetting the devices' addresses.
    bool take_report(const std::string& payload);

    std::optional<DeviceConnection> find(const std::string& device_id) const;

  private:
    struct Known {
        DeviceConnection connection;
        std::string epoch;
    };
    int64_t forget_after_ms_;
    mutable std::mutex mutex_;
    std::map<std::string, Known, std::less<>> devices_;
};

/// One identity seen in turns: `value` (a boot id, a source address) came at `when_ms` after
/// `current`. Going back to `previous` is a return, counted in `returns` with its time; a count
/// whose last return is older than `forget_after_ms` starts again first, so a device that moves
/// once, or goes back a day later, is not two. The one rule both kinds of evidence of
/// identity.shared follow. True when `value` is not `current` (current and previous swapped).
bool note_turn(std::string& current, std::string& previous, uint32_t& returns,
               int64_t& last_return_ms, const std::string& value, int64_t when_ms,
               int64_t forget_after_ms);

}  // namespace vigil::hub::recommend

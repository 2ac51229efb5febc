// vigil-agent's settings: a TOML file (see linux-agent/vigil-agent.toml) with command-line
// overrides. Loading is strict: an unknown key, a value of the wrong type or out of range is an
// error that names the key and its line, because a typo in a security agent's config must not
// silently fall back to a default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/agent/vigil_agent.h"
#include "vigil/linux_agent/mosquitto_link.hpp"
#include "vigil/protocol/wire.h"

namespace vigil::linux_agent {

/// The longest password read from mqtt.password_file: MQTT's CONNECT carries the password with
/// a two-byte length, so a longer one could never be sent. Only this much of the file is read
/// (plus its line end), so a password_file naming a device or a huge file cannot exhaust memory.
constexpr size_t kMaxPasswordBytes = 65535;

struct CaptureSettings {
    /// Interfaces to capture on; empty means every interface that is up, loopback excepted.
    std::vector<std::string> interfaces;
    uint32_t snap_length = 256;  ///< bytes kept per frame: headers only
    uint32_t ring_block_kb = 256;
    uint32_t ring_blocks = 4;
};

struct ReplaySettings {
    std::string pcap;  ///< replay this capture file instead of capturing live
    /// The device's addresses in the capture (packets from them are outbound); empty: inferred.
    std::vector<std::string> local_addresses;
    /// Frames fed per second of wall time; 0 replays as fast as the agent takes them.
    uint32_t packets_per_second = 0;
};

struct Settings {
    std::string device_id;
    std::string firmware_version;
    std::string log_level = "info";  ///< error, warning, info or debug
    CaptureSettings capture;
    ReplaySettings replay;
    bool mqtt_enabled = false;  ///< a [mqtt] table with a host was given
    MqttSettings mqtt;
    /// Starting collection settings (version 0); the hub's runtime config replaces them.
    wire::ConfigFields collection;
    uint32_t first_collection_splay_s = 10;
    uint32_t flush_timeout_s = 5;  ///< on shutdown, how long to wait for the broker's PUBACKs
};

/// Reads `path` onto `settings` (which holds the defaults). Appends one line per problem to
/// `errors`; true when there were none.
bool load_settings_file(const std::string& path, Settings& settings,
                        std::vector<std::string>& errors);

/// Checks what a file cannot: the device id's characters, that the files named can be read (and
/// are not directories), the replay's addresses, and that the settings fit together. Appends one
/// line per problem; true when there were none.
bool check_settings(const Settings& settings, std::vector<std::string>& errors);

/// The replay's local addresses, parsed; one error per text that is not an IPv4 or IPv6 address.
/// check_settings runs it, so a file it passes is never refused by the replay.
std::vector<vigil_address> local_addresses(const ReplaySettings& replay,
                                           std::vector<std::string>& errors);

/// A short description of the settings in force, for --check-config and the start-up log.
std::string describe(const Settings& settings);

}  // namespace vigil::linux_agent

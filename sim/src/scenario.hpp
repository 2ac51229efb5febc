// A scenario file (TOML): how many devices of each profile, how fast time runs, for how long,
// and which attacks start when on which devices. docs/sim.md describes the format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::sim {

enum class AttackKind {
    PortScanInbound,     ///< one remote probing many of the device's ports
    TelnetScan,          ///< the device probing many hosts on telnet (Mirai)
    VulnerableFirmware,  ///< the device reports a release with published vulnerabilities
    BackdoorListener,    ///< the device opens a new port, and a remote peer connects to it
    Flood,               ///< one source sends the device more packets a second than a device gets
    Beaconing,       ///< the device calls a listed address briefly, again and again (C2 check-ins)
    Exfiltration,    ///< the device uploads far more than usual to a remote it never talks to
    Silence,         ///< the device stops reporting (switched off, crashed, or its agent killed)
    SharedIdentity,  ///< a second agent starts with the device's id and credentials (a clone)
};

const char* to_string(AttackKind kind);

struct AttackSpec {
    AttackKind kind = AttackKind::PortScanInbound;
    std::vector<std::string> devices;
    uint64_t at_ms = 0;  ///< simulated time since the start
    // port_scan_inbound
    std::string source = "198.51.100.23";
    uint32_t ports = 40;
    // telnet_scan
    uint32_t targets = 60;
    // both scans: probes per simulated second; backdoor_listener: connections per simulated second
    double rate_per_s = 2;
    // backdoor_listener (source is its peer), flood (the port it floods)
    uint16_t port = 4444;
    // flood: UDP packets per simulated second, for how long (also exfiltration's and silence's
    // length; silence: 0 lasts the rest of the run)
    uint32_t packets_per_s = 3000;
    uint64_t duration_ms = 30000;
    // beaconing, exfiltration: the remote the device calls (port is its port)
    std::string destination = "203.0.113.66";
    // beaconing: seconds between two calls
    uint64_t interval_ms = 60000;
    // exfiltration: bytes uploaded over duration_ms
    uint64_t bytes = 50ull * 1000 * 1000;
    // vulnerable_firmware: what the device reports from then on
    std::string os_name = "Eclipse ThreadX";
    std::string os_version = "6.1.7";
    std::string stack_name = "NetX Duo";
    std::string stack_version = "6.1.7";
};

struct Scenario {
    double speed = 1;          ///< simulated seconds per real second
    uint64_t duration_ms = 0;  ///< simulated; 0 runs until stopped
    uint32_t seed = 1;
    std::string prefix = "sim-";  ///< device ids are <prefix><profile>-<n>
    /// Profile name -> device count, in the file's order of profiles().
    std::vector<std::pair<std::string, uint32_t>> fleet;
    std::vector<AttackSpec> attacks;
};

/// The device id of the nth device of a profile.
std::string device_id(const Scenario& scenario, const std::string& profile, uint32_t n);

/// Reads and checks a scenario; nullopt with every error (and its line) in `errors`.
std::optional<Scenario> load_scenario(const std::string& path, std::vector<std::string>& errors);
std::optional<Scenario> parse_scenario(const std::string& text, const std::string& source,
                                       std::vector<std::string>& errors);

}  // namespace vigil::sim

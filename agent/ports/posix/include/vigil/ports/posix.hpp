// The POSIX (Linux) port of the agent core: clocks, randomness, a lock for the packet hook, and
// the host's system facts and listening sockets read from /proc, /sys and /etc.
//
//   vigil::ports::posix::PosixPort platform;
//   agent.init(platform.port(), transport, "gateway-7");
//
// Unlike the core, this is hosted C++ (standard library, heap). The parsers are free functions
// over text so they can be checked against sample files.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/bind_port.hpp"

namespace vigil::ports::posix {

/// The fields of os-release(5) the agent reports. Empty when absent.
struct OsRelease {
    std::string name;
    std::string version_id;
    std::string pretty_name;
};

/// Parses os-release text: KEY=value lines, values optionally quoted with shell-style escapes.
OsRelease parse_os_release(std::string_view text);

/// The order in which the kernel printed the 32-bit words of /proc/net addresses: the byte
/// order of the machine that produced the text.
enum class WordOrder { Little, Big, Host };

enum class SocketTable { Tcp, Tcp6, Udp, Udp6 };

/// Listening sockets in the text of /proc/net/tcp, tcp6, udp or udp6: TCP sockets in state
/// LISTEN, UDP sockets bound to a local port with no remote. Local addresses are reported as
/// local_address() says. Malformed lines are skipped.
std::vector<vigil_listening_port> parse_proc_net(std::string_view text, SocketTable table,
                                                 WordOrder order = WordOrder::Host);

/// The listening sockets of the caller's network namespace, asked of the kernel over
/// NETLINK_SOCK_DIAG (inet_diag): TCP sockets in LISTEN and UDP sockets with no peer, IPv4 and
/// IPv6, reported as parse_proc_net does (wildcard address as family 0, v4-mapped IPv6 as IPv4),
/// sorted and without duplicates. One dump per table instead of formatting and parsing every
/// socket as text, which matters on a gateway with many connections. nullopt with `error` set
/// when the kernel cannot answer (no inet_diag or udp_diag, netlink refused): read /proc then.
std::optional<std::vector<vigil_listening_port>> sock_diag_listening_ports(std::string& error);

/// A socket's local address as the agent reports it: 4 (IPv4) or 16 (IPv6) bytes in network
/// order; a v4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4 and an unspecified one
/// (0.0.0.0, ::) family 0, "all addresses".
vigil_address local_address(const uint8_t* bytes, bool v6);

/// Sorts by protocol, port and address and drops duplicates (a socket bound to 0.0.0.0 and
/// one bound to [::] on the same port are one "all addresses" entry on the wire).
void sort_unique(std::vector<vigil_listening_port>& ports);

/// Text of the first of `paths` that can be read and is not blank, with trailing NULs and
/// whitespace trimmed; nullopt when there is none.
std::optional<std::string> read_first(const std::vector<std::string>& paths);

class PosixPort {
  public:
    struct Options {
        /// Roots of the files read, so tests can point them at a prepared tree.
        std::string proc_root = "/proc";
        std::string sys_root = "/sys";
        std::string etc_root = "/etc";
        /// The application's firmware or software version; left out when empty.
        std::string firmware_version;
        /// Name of the network stack reported beside its version (the kernel release).
        std::string stack_name = "Linux";
    };

    PosixPort();
    explicit PosixPort(Options options);
    PosixPort(const PosixPort&) = delete;
    PosixPort& operator=(const PosixPort&) = delete;

    /// The port to hand to the agent. It points at this object, which must outlive the agent.
    const vigil_port& port() const { return port_; }

    /// Replay mode: the caller drives the clock (for example from a capture's timestamps, in
    /// milliseconds since 1970), and unix_time follows it. Set before the agent's init.
    void use_replay_clock(uint64_t now_ms);
    /// Moves the replay clock; ignored outside replay mode.
    void set_now_ms(uint64_t now_ms);
    bool replay_clock() const { return replay_; }

    uint64_t now_ms() const;
    uint32_t unix_time_s() const;
    uint32_t random32() const;

    /// Reports these addresses instead of the host's, for example the device addresses of a
    /// replayed capture. An empty list reports none.
    void override_addresses(std::vector<vigil_address> addresses);
    /// Likewise for the MAC addresses.
    void override_macs(std::vector<std::array<uint8_t, 6>> macs);

    /// Called when the agent attaches or detaches its packet hooks (enable / disable).
    void on_hooks(std::function<void()> attach, std::function<void()> detach);

    /// The facts as the agent will see them; the strings stay valid until the next call.
    void system_info(vigil_system_info& out);
    /// All listening sockets, sorted and without duplicates: from sock_diag_listening_ports(),
    /// or from proc_root's net/{tcp,tcp6,udp,udp6} when netlink cannot answer or proc_root is
    /// not /proc (a prepared tree).
    std::vector<vigil_listening_port> listening_ports() const;

  private:
    template <typename Port>
    friend vigil_port vigil::ports::bind_port(Port& port);
    void enter_critical();
    void exit_critical();
    size_t listening_ports(vigil_listening_port* out, size_t capacity) const;
    void attach_hooks();
    void detach_hooks();

    Options options_;
    vigil_port port_{};
    std::mutex critical_;
    bool replay_ = false;
    std::atomic<uint64_t> replay_now_ms_{0};
    std::optional<std::vector<vigil_address>> address_override_;
    std::optional<std::vector<std::array<uint8_t, 6>>> mac_override_;
    std::function<void()> attach_;
    std::function<void()> detach_;
    // What the last system_info() pointed the agent at.
    std::string os_name_, os_version_, stack_name_, stack_version_, firmware_version_, board_;
};

}  // namespace vigil::ports::posix

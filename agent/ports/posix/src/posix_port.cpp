#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "vigil/ports/host_facts.hpp"
#include "vigil/ports/posix.hpp"

namespace vigil::ports::posix {

namespace {

uint64_t to_ms(const timespec& ts) {
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

/// Order of reported addresses: IPv4, then global IPv6, then link-local IPv6, since only
/// VIGIL_MAX_SYSTEM_ADDRESSES fit and the routable ones say most about the device.
int address_rank(const vigil_address& a) {
    if (a.family == 4) {
        return 0;
    }
    const bool link_local = a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80;
    return link_local ? 2 : 1;
}

struct HostInterfaces {
    std::vector<vigil_address> addresses;
    std::vector<std::array<uint8_t, 6>> macs;
};

HostInterfaces read_interfaces() {
    HostInterfaces out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        return out;
    }
    for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
        if (it->ifa_addr == nullptr || (it->ifa_flags & IFF_LOOPBACK) != 0 ||
            (it->ifa_flags & IFF_UP) == 0) {
            continue;
        }
        const int family = it->ifa_addr->sa_family;
        vigil_address address{};
        if (family == AF_INET) {
            const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
            address.family = 4;
            std::memcpy(address.bytes, &in->sin_addr, 4);
            out.addresses.push_back(address);
        } else if (family == AF_INET6) {
            const auto* in6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
            address.family = 6;
            std::memcpy(address.bytes, &in6->sin6_addr, 16);
            out.addresses.push_back(address);
        } else if (family == AF_PACKET) {
            const auto* ll = reinterpret_cast<const sockaddr_ll*>(it->ifa_addr);
            std::array<uint8_t, 6> mac{};
            if (ll->sll_halen != mac.size()) {
                continue;
            }
            std::memcpy(mac.data(), ll->sll_addr, mac.size());
            const bool zero = std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return b == 0; });
            if (!zero && std::find(out.macs.begin(), out.macs.end(), mac) == out.macs.end()) {
                out.macs.push_back(mac);
            }
        }
    }
    freeifaddrs(list);
    std::stable_sort(out.addresses.begin(), out.addresses.end(),
                     [](const vigil_address& a, const vigil_address& b) {
                         return address_rank(a) < address_rank(b);
                     });
    return out;
}

}  // namespace

PosixPort::PosixPort() : PosixPort(Options{}) {}

PosixPort::PosixPort(Options options) : options_(std::move(options)) {
    port_ = bind_port(*this);
}

void PosixPort::use_replay_clock(uint64_t now_ms) {
    replay_now_ms_ = now_ms;
    replay_ = true;
}

void PosixPort::set_now_ms(uint64_t now_ms) {
    if (replay_) {
        replay_now_ms_ = now_ms;
    }
}

uint64_t PosixPort::now_ms() const {
    if (replay_) {
        return replay_now_ms_;
    }
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return to_ms(ts);
}

uint32_t PosixPort::unix_time_s() const {
    return replay_ ? plausible_unix_time_s(replay_now_ms_ / 1000) : unix_time_now_s();
}

uint32_t PosixPort::random32() const {
    return host_random32();
}

void PosixPort::override_addresses(std::vector<vigil_address> addresses) {
    address_override_ = std::move(addresses);
}

void PosixPort::override_macs(std::vector<std::array<uint8_t, 6>> macs) {
    mac_override_ = std::move(macs);
}

void PosixPort::on_hooks(std::function<void()> attach, std::function<void()> detach) {
    attach_ = std::move(attach);
    detach_ = std::move(detach);
}

void PosixPort::system_info(vigil_system_info& out) {
    out = vigil_system_info{};
    utsname uts{};
    const bool have_uts = uname(&uts) == 0;

    std::vector<std::string> release_paths{options_.etc_root + "/os-release"};
    if (options_.etc_root == "/etc") {
        release_paths.emplace_back("/usr/lib/os-release");
    }
    const OsRelease release = parse_os_release(read_first(release_paths).value_or(""));
    os_name_ = !release.name.empty() ? release.name : have_uts ? uts.sysname : "";
    os_version_ = !release.version_id.empty() ? release.version_id : have_uts ? uts.release : "";
    stack_name_ = options_.stack_name;
    stack_version_ = have_uts ? uts.release : "";
    firmware_version_ = options_.firmware_version;
    board_ = read_first({options_.sys_root + "/class/dmi/id/product_name",
                         options_.proc_root + "/device-tree/model",
                         options_.sys_root + "/firmware/devicetree/base/model"})
                 .value_or(have_uts ? uts.machine : "");

    auto set = [](const std::string& value) { return value.empty() ? nullptr : value.c_str(); };
    out.os_name = set(os_name_);
    out.os_version = set(os_version_);
    out.stack_name = set(stack_name_);
    out.stack_version = set(stack_version_);
    out.firmware_version = set(firmware_version_);
    out.board = set(board_);

    const HostInterfaces host = read_interfaces();
    const std::vector<vigil_address>& addresses =
        address_override_ ? *address_override_ : host.addresses;
    out.address_count = std::min<size_t>(addresses.size(), VIGIL_MAX_SYSTEM_ADDRESSES);
    std::copy_n(addresses.begin(), out.address_count, out.addresses);
    const std::vector<std::array<uint8_t, 6>>& macs = mac_override_ ? *mac_override_ : host.macs;
    out.mac_count = std::min<size_t>(macs.size(), VIGIL_MAX_SYSTEM_MACS);
    for (size_t i = 0; i < out.mac_count; ++i) {
        std::memcpy(out.macs[i], macs[i].data(), 6);
    }
}

std::vector<vigil_listening_port> PosixPort::listening_ports() const {
    // Netlink describes the live host; a proc_root elsewhere is a prepared tree to read.
    if (options_.proc_root == "/proc") {
        std::string error;
        std::optional<std::vector<vigil_listening_port>> ports = sock_diag_listening_ports(error);
        if (ports) {
            return std::move(*ports);
        }
    }
    const std::pair<const char*, SocketTable> tables[] = {{"/net/tcp", SocketTable::Tcp},
                                                          {"/net/tcp6", SocketTable::Tcp6},
                                                          {"/net/udp", SocketTable::Udp},
                                                          {"/net/udp6", SocketTable::Udp6}};
    std::vector<vigil_listening_port> all;
    for (const auto& [file, table] : tables) {
        // A kernel without IPv6 has no tcp6/udp6; that is not an error.
        const std::optional<std::string> text = read_first({options_.proc_root + file});
        if (text) {
            const std::vector<vigil_listening_port> found = parse_proc_net(*text, table);
            all.insert(all.end(), found.begin(), found.end());
        }
    }
    sort_unique(all);
    return all;
}

void PosixPort::enter_critical() {
    critical_.lock();
}

void PosixPort::exit_critical() {
    critical_.unlock();
}

size_t PosixPort::listening_ports(vigil_listening_port* out, size_t capacity) const {
    const std::vector<vigil_listening_port> ports = listening_ports();
    std::copy_n(ports.begin(), std::min(capacity, ports.size()), out);
    return ports.size();
}

void PosixPort::attach_hooks() {
    if (attach_) {
        attach_();
    }
}

void PosixPort::detach_hooks() {
    if (detach_) {
        detach_();
    }
}

}  // namespace vigil::ports::posix

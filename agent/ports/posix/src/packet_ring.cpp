// AF_PACKET with a TPACKET_V3 ring (packet_mmap): libpcap's Linux backend uses the same
// mechanism, but it offers one interface per handle, copies nothing less than its own
// buffering, and hides the kernel's packet type, which gives each frame its direction here.
#include "vigil/ports/packet_ring.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace vigil::ports::posix {

struct PacketRing::Socket {
    int fd = -1;
    int ifindex = 0;
    uint8_t* ring = nullptr;
    size_t ring_size = 0;
    uint32_t block_size = 0;
    uint32_t block_count = 0;
    uint32_t next_block = 0;  ///< the oldest block not yet handed back to the kernel
    bool down = false;        ///< the link went down: watched until it is up again or removed
};

namespace {

constexpr size_t kMaxInterfaces = 256;  // interface_index is a uint8_t
/// While a link is down, how often poll() looks whether it is back or removed.
constexpr int kDownRecheckMs = 200;

uint64_t monotonic_ms() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000u +
           static_cast<uint64_t>(now.tv_nsec) / 1000000u;
}

std::string system_error(const std::string& what, int error_number) {
    return what + ": " + std::strerror(error_number);
}

/// Every interface that is up and not a loopback, in interface index order.
bool up_interfaces(std::vector<std::string>& names, std::string& error) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) {
        error = system_error("listing interfaces", errno);
        return false;
    }
    std::vector<std::pair<int, std::string>> found;
    for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
        // Each interface has exactly one AF_PACKET entry, whatever addresses it has.
        if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_PACKET ||
            (it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) {
            continue;
        }
        const auto* link = reinterpret_cast<const sockaddr_ll*>(it->ifa_addr);
        found.emplace_back(link->sll_ifindex, it->ifa_name);
    }
    freeifaddrs(list);
    std::sort(found.begin(), found.end());
    names.clear();
    for (auto& [index, name] : found) {
        names.push_back(std::move(name));
    }
    if (names.empty()) {
        error = "no network interface is up (loopback aside)";
        return false;
    }
    return true;
}

/// Passes IPv4 and IPv6 (by the frame's protocol, so whatever the link type), cut to
/// snap_length bytes: a filter's return value is how much of the frame the ring keeps.
bool attach_ip_filter(int fd, uint32_t snap_length) {
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, snap_length),
    };
    const sock_fprog program{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) == 0;
}

std::string check_options(const PacketRing::Options& options) {
    const long page = sysconf(_SC_PAGESIZE);
    if (options.snap_length == 0) {
        return "snap_length must be at least 1";
    }
    if (options.block_count == 0) {
        return "block_count must be at least 1";
    }
    if (page <= 0 || options.block_size == 0 ||
        options.block_size % static_cast<unsigned long>(page) != 0) {
        return "block_size must be a multiple of the page size (" + std::to_string(page) + ")";
    }
    const uint64_t frame = TPACKET_ALIGN(TPACKET3_HDRLEN + options.snap_length);
    if (frame + TPACKET_ALIGN(sizeof(tpacket_block_desc)) > options.block_size) {
        return "block_size is too small for one frame of snap_length bytes";
    }
    if (static_cast<uint64_t>(options.block_size) * options.block_count > (1ull << 31)) {
        return "the ring (block_size * block_count) must not exceed 2 GiB";
    }
    return {};
}

}  // namespace

PacketRing::PacketRing() = default;

PacketRing::~PacketRing() {
    for (Socket& socket : sockets_) {
        if (socket.ring != nullptr) {
            munmap(socket.ring, socket.ring_size);
        }
        if (socket.fd >= 0) {
            close(socket.fd);
        }
    }
}

std::unique_ptr<PacketRing> PacketRing::open(const Options& options, std::string& error) {
    error = check_options(options);
    if (!error.empty()) {
        return nullptr;
    }
    std::unique_ptr<PacketRing> ring(new PacketRing());
    ring->names_ = options.interfaces;
    if (ring->names_.empty() && !up_interfaces(ring->names_, error)) {
        return nullptr;
    }
    if (ring->names_.size() > kMaxInterfaces) {
        error = "at most " + std::to_string(kMaxInterfaces) + " interfaces";
        return nullptr;
    }
    ring->sockets_.reserve(ring->names_.size());
    for (const std::string& name : ring->names_) {
        if (!ring->open_socket(name, options, error)) {
            return nullptr;
        }
    }
    return ring;
}

bool PacketRing::open_socket(const std::string& name, const Options& options, std::string& error) {
    // Owned by the ring at once, so every early return below closes what was made.
    sockets_.emplace_back();
    Socket& socket = sockets_.back();
    socket.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (socket.ifindex == 0) {
        error = "no such interface: " + name;
        return false;
    }
    // Protocol 0: the socket receives nothing until bind(), after the filter and ring are set,
    // so no frame of another interface or protocol slips in first.
    socket.fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (socket.fd < 0) {
        const int code = errno;
        error = code == EPERM || code == EACCES
                    ? system_error("capturing on " + name +
                                       " needs CAP_NET_RAW (run as root or "
                                       "grant the capability)",
                                   code)
                    : system_error("opening a packet socket for " + name, code);
        return false;
    }
    const int version = TPACKET_V3;
    if (setsockopt(socket.fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0) {
        error = system_error("TPACKET_V3 ring on " + name, errno);
        return false;
    }
    if (!attach_ip_filter(socket.fd, options.snap_length)) {
        error = system_error("filter on " + name, errno);
        return false;
    }
    const uint32_t frame_size = TPACKET_ALIGN(TPACKET3_HDRLEN + options.snap_length);
    tpacket_req3 request{};
    request.tp_block_size = options.block_size;
    request.tp_block_nr = options.block_count;
    request.tp_frame_size = frame_size;
    request.tp_frame_nr = options.block_size / frame_size * options.block_count;
    request.tp_retire_blk_tov = options.block_timeout_ms;
    if (setsockopt(socket.fd, SOL_PACKET, PACKET_RX_RING, &request, sizeof(request)) != 0) {
        error = system_error("ring of " + std::to_string(options.block_count) + " blocks of " +
                                 std::to_string(options.block_size) + " bytes on " + name,
                             errno);
        return false;
    }
    socket.block_size = options.block_size;
    socket.block_count = options.block_count;
    socket.ring_size = static_cast<size_t>(options.block_size) * options.block_count;
    void* mapped =
        mmap(nullptr, socket.ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, socket.fd, 0);
    if (mapped == MAP_FAILED) {
        error = system_error("mapping the ring of " + name, errno);
        return false;
    }
    socket.ring = static_cast<uint8_t*>(mapped);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);  // ETH_P_ALL also sees what the host sends
    address.sll_ifindex = socket.ifindex;
    if (bind(socket.fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int code = errno;
        error = code == ENODEV ? "no such interface: " + name
                               : system_error("binding to " + name, code);
        return false;
    }
    return true;
}

PacketRing::Result PacketRing::poll(int timeout_ms, const Callback& on_frame) {
    if (!error_.empty()) {
        return Result::Error;
    }
    if (drain(on_frame)) {
        return Result::Ok;
    }
    pollfd fds[kMaxInterfaces];
    for (size_t i = 0; i < sockets_.size(); ++i) {
        fds[i] = pollfd{sockets_[i].fd, POLLIN, 0};
    }
    const uint64_t start = monotonic_ms();
    for (;;) {
        const uint64_t elapsed = monotonic_ms() - start;
        int wait =
            timeout_ms < 0
                ? -1
                : static_cast<int>(timeout_ms -
                                   std::min<uint64_t>(elapsed, static_cast<uint64_t>(timeout_ms)));
        const bool any_down = std::any_of(sockets_.begin(), sockets_.end(),
                                          [](const Socket& socket) { return socket.down; });
        if (any_down) {
            wait = wait < 0 ? kDownRecheckMs : std::min(wait, kDownRecheckMs);
        }
        const int ready = ::poll(fds, static_cast<nfds_t>(sockets_.size()), wait);
        if (ready < 0) {
            if (errno == EINTR) {
                return Result::Timeout;  // so the caller can look at its stop flag
            }
            error_ = system_error("waiting for frames", errno);
            return Result::Error;
        }
        bool failed = false;
        for (size_t i = 0; i < sockets_.size(); ++i) {
            if (ready > 0 && (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
                failed = !check_error(i) || failed;
            } else if (sockets_[i].down) {
                failed = !check_link(i) || failed;
            }
        }
        // Frames that reached the ring before a failure are still handed over.
        const bool delivered = drain(on_frame);
        if (failed) {
            return Result::Error;
        }
        if (delivered) {
            return Result::Ok;
        }
        if (timeout_ms >= 0 && monotonic_ms() - start >= static_cast<uint64_t>(timeout_ms)) {
            return Result::Timeout;
        }
    }
}

bool PacketRing::check_error(size_t index) {
    int pending = 0;
    socklen_t length = sizeof(pending);
    // Reading SO_ERROR clears it, so one event wakes poll() once, not in a loop.
    if (getsockopt(sockets_[index].fd, SOL_SOCKET, SO_ERROR, &pending, &length) != 0) {
        error_ = system_error("capture on " + names_[index], errno);
        return false;
    }
    if (pending != 0 && pending != ENETDOWN) {
        error_ = system_error("capture on " + names_[index], pending);
        return false;
    }
    // ENETDOWN comes both when the link goes down (the kernel binds the socket again when it
    // comes back up) and, first of all, when the interface is being removed, for good: the
    // removal itself sends no further event, so the link is watched until it is up or gone.
    if (pending == ENETDOWN) {
        sockets_[index].down = true;
    }
    return check_link(index);
}

bool PacketRing::check_link(size_t index) {
    Socket& socket = sockets_[index];
    // Asked through the packet socket, so in the network namespace it captures in, whichever
    // namespace the calling thread is in now.
    ifreq request{};
    request.ifr_ifindex = socket.ifindex;
    if (ioctl(socket.fd, SIOCGIFNAME, &request) != 0) {
        error_ = errno == ENODEV ? "interface " + names_[index] + " was removed"
                                 : system_error("capture on " + names_[index], errno);
        return false;
    }
    if (socket.down && ioctl(socket.fd, SIOCGIFFLAGS, &request) == 0 &&
        (request.ifr_flags & IFF_UP) != 0) {
        socket.down = false;
    }
    return true;
}

bool PacketRing::drain(const Callback& on_frame) {
    bool delivered = false;
    for (size_t i = 0; i < sockets_.size(); ++i) {
        delivered = drain_socket(sockets_[i], static_cast<uint8_t>(i), on_frame) || delivered;
    }
    return delivered;
}

bool PacketRing::drain_socket(Socket& socket, uint8_t index, const Callback& on_frame) {
    bool delivered = false;
    // At most one lap of the ring per call, so a busy interface cannot keep poll() from
    // returning.
    for (uint32_t n = 0; n < socket.block_count; ++n) {
        uint8_t* block = socket.ring + static_cast<size_t>(socket.next_block) * socket.block_size;
        auto* descriptor = reinterpret_cast<tpacket_block_desc*>(block);
        uint32_t& status = descriptor->hdr.bh1.block_status;
        if ((__atomic_load_n(&status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) {
            break;
        }
        delivered = deliver_block(block, socket.block_size, index, on_frame) || delivered;
        __atomic_store_n(&status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        socket.next_block = (socket.next_block + 1) % socket.block_count;
    }
    return delivered;
}

bool PacketRing::deliver_block(const uint8_t* block, uint32_t block_size, uint8_t index,
                               const Callback& on_frame) {
    const auto* descriptor = reinterpret_cast<const tpacket_block_desc*>(block);
    const uint32_t count = descriptor->hdr.bh1.num_pkts;
    // Offsets come from the kernel; checking them keeps a bad one from reading past the block.
    size_t offset = descriptor->hdr.bh1.offset_to_first_pkt;
    constexpr size_t kAddressOffset = TPACKET_ALIGN(sizeof(tpacket3_hdr));
    bool delivered = false;
    for (uint32_t n = 0; n < count; ++n) {
        if (offset + kAddressOffset + sizeof(sockaddr_ll) > block_size) {
            break;
        }
        const auto* header = reinterpret_cast<const tpacket3_hdr*>(block + offset);
        const auto* link = reinterpret_cast<const sockaddr_ll*>(block + offset + kAddressOffset);
        const uint8_t* ip = block + offset + header->tp_net;
        const size_t captured = header->tp_snaplen;
        const uint16_t protocol = ntohs(link->sll_protocol);
        const unsigned version =
            captured > 0 && offset + header->tp_net + captured <= block_size ? ip[0] >> 4 : 0;
        if ((protocol == ETH_P_IP && version == 4) || (protocol == ETH_P_IPV6 && version == 6)) {
            Frame frame;
            frame.time_ms =
                static_cast<uint64_t>(header->tp_sec) * 1000u + header->tp_nsec / 1000000u;
            frame.ip = ip;
            frame.captured = captured;
            frame.original = header->tp_len;
            frame.direction = link->sll_pkttype == PACKET_OUTGOING ? VIGIL_OUTBOUND : VIGIL_INBOUND;
            frame.interface_index = index;
            frame.otherhost = link->sll_pkttype == PACKET_OTHERHOST;
            on_frame(frame);
            delivered = true;
        } else {
            ++non_ip_;
        }
        if (header->tp_next_offset == 0) {
            break;
        }
        offset += header->tp_next_offset;
    }
    return delivered;
}

PacketRing::Stats PacketRing::stats() {
    for (const Socket& socket : sockets_) {
        // The kernel's counters restart at every read, so they are added up here.
        tpacket_stats_v3 counters{};
        socklen_t length = sizeof(counters);
        if (getsockopt(socket.fd, SOL_PACKET, PACKET_STATISTICS, &counters, &length) == 0) {
            packets_ += counters.tp_packets;
            drops_ += counters.tp_drops;
        }
    }
    return Stats{packets_, drops_, non_ip_};
}

}  // namespace vigil::ports::posix

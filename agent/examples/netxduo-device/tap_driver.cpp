#include "tap_driver.hpp"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include <atomic>
#include <cstring>

#include "tx_api.h"

extern "C" {
VOID _tx_thread_context_save(VOID);
VOID _tx_thread_context_restore(VOID);
}

namespace vigil::netxduo_device {

namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kMaxFrame = 1514;
constexpr UINT kEthertypeIpv4 = 0x0800;
constexpr UINT kEthertypeArp = 0x0806;
constexpr UINT kEthertypeRarp = 0x8035;
constexpr UINT kEthertypeIpv6 = 0x86DD;
constexpr int kRunningWaitMs = 5000;

TapSettings g_settings;
NX_IP* g_ip = nullptr;
NX_INTERFACE* g_interface = nullptr;
int g_fd = -1;
pthread_t g_reader;
// Written by the reader pthread, read by ThreadX threads.
struct {
    std::atomic<ULONG> frames_in{0};
    std::atomic<ULONG> frames_out{0};
    std::atomic<ULONG> dropped_in{0};
    std::atomic<ULONG> read_failed{0};
} g_counts;

bool open_tap(const char* name) {
    g_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (g_fd < 0) {
        return false;
    }
    ifreq request{};
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(g_fd, TUNSETIFF, &request) != 0) {
        close(g_fd);
        g_fd = -1;
        return false;
    }
    return true;
}

// Attaching turns the TAP's carrier on, but the kernel starts the TAP's transmit queue only when
// its link watch runs, asynchronously and up to a second later on a busy machine. Until then the
// host's frames to the device are dropped, the reply to the device's first ARP request included,
// and NetX asks again only NX_ARP_UPDATE_RATE (10 s) later: the device would spend its first
// windows without its peer, its first SYNs counted by the agent but held behind that ARP and
// dropped. The link watch sets IFF_RUNNING in the step that starts the queue, so the link is
// ready once the interface runs.
bool wait_until_running(const char* name) {
    const int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return false;
    }
    ifreq request{};
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    bool running = false;
    for (int waited_ms = 0; !running && waited_ms < kRunningWaitMs; ++waited_ms) {
        running = ioctl(probe, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_RUNNING);
        if (!running) {
            usleep(1000);
        }
    }
    close(probe);
    return running;
}

bool for_this_device(const uint8_t* frame) {
    if (frame[0] & 1) {
        return true;  // broadcast or multicast
    }
    const uint8_t own[6] = {static_cast<uint8_t>(g_settings.mac_msw >> 8),
                            static_cast<uint8_t>(g_settings.mac_msw),
                            static_cast<uint8_t>(g_settings.mac_lsw >> 24),
                            static_cast<uint8_t>(g_settings.mac_lsw >> 16),
                            static_cast<uint8_t>(g_settings.mac_lsw >> 8),
                            static_cast<uint8_t>(g_settings.mac_lsw)};
    return std::memcmp(frame, own, sizeof own) == 0;
}

// Runs between context save and restore: only NX_NO_WAIT calls, no locks, no stdio.
void deliver(const uint8_t* frame, size_t length) {
    const UINT type = static_cast<UINT>(frame[12] << 8 | frame[13]);
    if (type != kEthertypeIpv4 && type != kEthertypeIpv6 && type != kEthertypeArp &&
        type != kEthertypeRarp) {
        return;
    }
    NX_PACKET* packet = nullptr;
    if (nx_packet_allocate(g_ip->nx_ip_default_packet_pool, &packet, NX_RECEIVE_PACKET,
                           NX_NO_WAIT) != NX_SUCCESS) {
        ++g_counts.dropped_in;
        return;
    }
    // Only the payload is copied, so the IP header starts at the packet's (aligned) data start:
    // NetX reads its headers as 32-bit words.
    const ULONG payload = static_cast<ULONG>(length - kEthernetHeader);
    if (nx_packet_data_append(packet, const_cast<uint8_t*>(frame + kEthernetHeader), payload,
                              g_ip->nx_ip_default_packet_pool, NX_NO_WAIT) != NX_SUCCESS) {
        nx_packet_release(packet);
        ++g_counts.dropped_in;
        return;
    }
    // IPv4 looks up the receiving interface's address and mask through this.
    packet->nx_packet_address.nx_packet_interface_ptr = g_interface;
    ++g_counts.frames_in;
    if (type == kEthertypeIpv4 || type == kEthertypeIpv6) {
        _nx_ip_packet_deferred_receive(g_ip, packet);
    } else if (type == kEthertypeArp) {
        _nx_arp_packet_deferred_receive(g_ip, packet);
    } else {
        _nx_rarp_packet_deferred_receive(g_ip, packet);
    }
}

void* read_frames(void*) {
    // The ThreadX port suspends its own threads with SIGUSR1/SIGUSR2; this one is not ThreadX's
    // and takes no signal at all.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    uint8_t frame[kMaxFrame + 64];
    for (;;) {
        const ssize_t got = read(g_fd, frame, sizeof frame);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            ++g_counts.read_failed;
            return nullptr;
        }
        if (static_cast<size_t>(got) < kEthernetHeader || !for_this_device(frame)) {
            ++g_counts.dropped_in;
            continue;
        }
        _tx_thread_context_save();
        deliver(frame, static_cast<size_t>(got));
        _tx_thread_context_restore();
    }
}

UINT ethertype_for(const NX_IP_DRIVER* request) {
    switch (request->nx_ip_driver_command) {
        case NX_LINK_ARP_SEND:
        case NX_LINK_ARP_RESPONSE_SEND:
            return kEthertypeArp;
        case NX_LINK_RARP_SEND:
            return kEthertypeRarp;
        default:
            return request->nx_ip_driver_packet->nx_packet_ip_version == NX_IP_VERSION_V6
                       ? kEthertypeIpv6
                       : kEthertypeIpv4;
    }
}

void send_frame(NX_IP_DRIVER* request) {
    NX_PACKET* packet = request->nx_ip_driver_packet;
    uint8_t frame[kMaxFrame];
    const ULONG length = packet->nx_packet_length;
    if (length + kEthernetHeader > sizeof frame) {
        nx_packet_transmit_release(packet);
        request->nx_ip_driver_status = NX_NOT_SUCCESSFUL;
        return;
    }
    const ULONG msw = request->nx_ip_driver_physical_address_msw;
    const ULONG lsw = request->nx_ip_driver_physical_address_lsw;
    const uint8_t header[kEthernetHeader] = {
        static_cast<uint8_t>(msw >> 8),
        static_cast<uint8_t>(msw),
        static_cast<uint8_t>(lsw >> 24),
        static_cast<uint8_t>(lsw >> 16),
        static_cast<uint8_t>(lsw >> 8),
        static_cast<uint8_t>(lsw),
        static_cast<uint8_t>(g_settings.mac_msw >> 8),
        static_cast<uint8_t>(g_settings.mac_msw),
        static_cast<uint8_t>(g_settings.mac_lsw >> 24),
        static_cast<uint8_t>(g_settings.mac_lsw >> 16),
        static_cast<uint8_t>(g_settings.mac_lsw >> 8),
        static_cast<uint8_t>(g_settings.mac_lsw),
        static_cast<uint8_t>(ethertype_for(request) >> 8),
        static_cast<uint8_t>(ethertype_for(request)),
    };
    std::memcpy(frame, header, sizeof header);
    ULONG copied = 0;
    nx_packet_data_retrieve(packet, frame + kEthernetHeader, &copied);
    nx_packet_transmit_release(packet);
    const size_t total = kEthernetHeader + copied;
    ssize_t written = -1;
    do {
        written = write(g_fd, frame, total);
    } while (written < 0 && errno == EINTR);
    if (written == static_cast<ssize_t>(total)) {
        ++g_counts.frames_out;
    }
}

}  // namespace

bool tap_open(const TapSettings& settings) {
    g_settings = settings;
    if (settings.interface_name == nullptr || !open_tap(settings.interface_name)) {
        return false;
    }
    if (!wait_until_running(settings.interface_name)) {
        std::fprintf(stderr,
                     "warning: the TAP %s does not run after %d ms (is its host side up?); the "
                     "first ARP requests may go unanswered\n",
                     settings.interface_name, kRunningWaitMs);
    }
    return true;
}

TapCounts tap_counts() {
    TapCounts out;
    out.frames_in = g_counts.frames_in.load(std::memory_order_relaxed);
    out.frames_out = g_counts.frames_out.load(std::memory_order_relaxed);
    out.dropped_in = g_counts.dropped_in.load(std::memory_order_relaxed);
    out.read_failed = g_counts.read_failed.load(std::memory_order_relaxed);
    return out;
}

extern "C" VOID tap_driver(NX_IP_DRIVER* request) {
    NX_IP* ip = request->nx_ip_driver_ptr;
    NX_INTERFACE* interface = request->nx_ip_driver_interface;
    request->nx_ip_driver_status = NX_SUCCESS;
    switch (request->nx_ip_driver_command) {
        case NX_LINK_INTERFACE_ATTACH:
            break;
        case NX_LINK_INITIALIZE: {
            const UINT index = interface->nx_interface_index;
            if (g_ip != nullptr || g_fd < 0) {
                request->nx_ip_driver_status = NX_NOT_SUCCESSFUL;
                break;
            }
            g_ip = ip;
            g_interface = interface;
            nx_ip_interface_mtu_set(ip, index, 1500);
            nx_ip_interface_physical_address_set(ip, index, g_settings.mac_msw, g_settings.mac_lsw,
                                                 NX_FALSE);
            nx_ip_interface_address_mapping_configure(ip, index, NX_TRUE);
            if (pthread_create(&g_reader, nullptr, read_frames, nullptr) != 0) {
                request->nx_ip_driver_status = NX_NOT_SUCCESSFUL;
            }
            break;
        }
        case NX_LINK_ENABLE:
            interface->nx_interface_link_up = NX_TRUE;
            break;
        case NX_LINK_DISABLE:
            interface->nx_interface_link_up = NX_FALSE;
            break;
        case NX_LINK_PACKET_SEND:
        case NX_LINK_PACKET_BROADCAST:
        case NX_LINK_ARP_SEND:
        case NX_LINK_ARP_RESPONSE_SEND:
        case NX_LINK_RARP_SEND:
            send_frame(request);
            break;
        case NX_LINK_MULTICAST_JOIN:
        case NX_LINK_MULTICAST_LEAVE:
            break;  // every multicast frame is delivered; NetX filters by group itself
        case NX_LINK_GET_STATUS:
            *request->nx_ip_driver_return_ptr = interface->nx_interface_link_up;
            break;
        default:
            request->nx_ip_driver_status = NX_UNHANDLED_COMMAND;
            break;
    }
}

}  // namespace vigil::netxduo_device

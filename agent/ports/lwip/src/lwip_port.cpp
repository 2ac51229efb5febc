#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <cstring>

// Only the raw-API headers: anything that pulls in lwip/sockets.h sees glibc's TCP_MSS of 512
// instead of lwipopts' 1460 (see memp_pool_fix.c); nothing here depends on it, but the port
// keeps the same view of lwIP's structures as the library's own tcp.c and udp.c.
// Before any other lwIP header: it gives lwIP's C prototypes C linkage.
#include "vigil/ports/lwip_c.h"

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
#include "vigil/ports/ethertype.hpp"
#include "vigil/ports/host_facts.hpp"
#include "vigil/ports/lwip.hpp"

namespace vigil::ports::lwip {

namespace {

// Bytes copied out of a chained pbuf so the agent sees contiguous headers: Ethernet + VLAN,
// an IPv6 header with a few extension headers, and a TCP header with options. The agent takes
// byte counts from the IP header's length field, so the payload itself is never needed.
constexpr uint16_t kHeaderCopyBytes = 256;

// The hooks are C function pointers without a context argument, so they find the port here.
std::atomic<LwipPort*> g_port{nullptr};
netif_init_fn g_driver_init = nullptr;

// The netif function pointers are read by the driver's rx thread and by transmitting threads
// without any lock; an aligned pointer store is atomic on every target lwIP runs on, and the
// builtin makes that explicit (and visible to ThreadSanitizer).
template <typename Fn>
void store_pointer(Fn* field, Fn value) {
    __atomic_store_n(field, value, __ATOMIC_RELEASE);
}

int address_rank(const vigil_address& a) {
    if (a.family == 4) {
        return 0;
    }
    const bool link_local = a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80;
    return link_local ? 2 : 1;
}

// An lwIP address as the agent's; "any" (including the dual-stack IPADDR_TYPE_ANY) is family 0.
vigil_address to_vigil(const ip_addr_t& address) {
    vigil_address out{};
    if (IP_IS_ANY_TYPE_VAL(address)) {
        return out;
    }
    if (IP_IS_V4_VAL(address)) {
        const ip4_addr_t* v4 = ip_2_ip4(&address);
        if (!ip4_addr_isany(v4)) {
            out.family = 4;
            std::memcpy(out.bytes, &v4->addr, 4);
        }
        return out;
    }
    const ip6_addr_t* v6 = ip_2_ip6(&address);
    if (!ip6_addr_isany(v6)) {
        out.family = 6;
        std::memcpy(out.bytes, v6->addr, 16);
    }
    return out;
}

}  // namespace

int ip_offset(const uint8_t* frame, size_t length) {
    return static_cast<int>(ip_offset_after_ethertype(frame, length, 12));
}

LwipPort::LwipPort() : LwipPort(Options{}) {}

LwipPort::LwipPort(Options options) : options_(std::move(options)) {
    port_ = bind_port(*this);
    g_port.store(this, std::memory_order_release);
}

LwipPort::~LwipPort() {
    detach_hooks();
    LwipPort* expected = this;
    g_port.compare_exchange_strong(expected, nullptr);
}

LwipPort::Hooked* LwipPort::find(const struct netif* netif) {
    LwipPort* port = g_port.load(std::memory_order_acquire);
    if (port == nullptr) {
        return nullptr;
    }
    const size_t count = port->netif_count_.load(std::memory_order_acquire);
    for (size_t i = 0; i < count; ++i) {
        if (port->netifs_[i].netif.load(std::memory_order_acquire) == netif) {
            return &port->netifs_[i];
        }
    }
    return nullptr;
}

LwipPort::Hooked* LwipPort::add(struct netif* netif) {
    for (size_t i = 0; i < netif_count_.load(); ++i) {
        if (netifs_[i].netif.load() == netif) {
            return &netifs_[i];
        }
    }
    const size_t index = netif_count_.load();
    if (index == kMaxNetifs) {
        return nullptr;
    }
    netifs_[index].netif.store(netif, std::memory_order_release);
    netif_count_.store(index + 1, std::memory_order_release);
    return &netifs_[index];
}

bool LwipPort::watch(struct netif* netif) {
    if (netif == nullptr) {
        return false;
    }
    std::lock_guard<std::mutex> lock(hooks_);
    Hooked* hooked = add(netif);
    if (hooked == nullptr) {
        return false;
    }
    if (attached_.load()) {
        install(*hooked);
    }
    return true;
}

void LwipPort::set_driver_init(netif_init_fn init) {
    g_driver_init = init;
}

err_t LwipPort::init_with_hooks(struct netif* netif) {
    LwipPort* port = g_port.load(std::memory_order_acquire);
    if (port == nullptr || g_driver_init == nullptr) {
        return ERR_ARG;
    }
    std::lock_guard<std::mutex> lock(port->hooks_);
    Hooked* hooked = port->add(netif);
    if (hooked == nullptr) {
        return ERR_MEM;
    }
    // netif_add() has already set netif->input to input_hook, so the rx thread that the driver
    // starts below observes from its first frame; the frames then go on to tcpip_input.
    hooked->original_input = tcpip_input;
    const err_t result = g_driver_init(netif);
    if (result != ERR_OK) {
        return result;
    }
    // Nothing can be sent before netif_add() returns and the netif is set up, so hooking the
    // output here closes the window on that side too.
    hooked->original_linkoutput = netif->linkoutput;
    store_pointer(&netif->linkoutput, &LwipPort::output_hook);
    hooked->installed = true;
    return ERR_OK;
}

void LwipPort::install(Hooked& hooked) {
    if (hooked.installed) {
        return;
    }
    struct netif* netif = hooked.netif.load();
    if (netif->input != &LwipPort::input_hook) {
        hooked.original_input = netif->input;
    }
    hooked.original_linkoutput = netif->linkoutput;
    store_pointer(&netif->input, &LwipPort::input_hook);
    store_pointer(&netif->linkoutput, &LwipPort::output_hook);
    hooked.installed = true;
}

void LwipPort::restore(Hooked& hooked) {
    if (!hooked.installed) {
        return;
    }
    // A hook already running in another thread still finds the originals: they are never
    // cleared, only the netif's pointers change.
    struct netif* netif = hooked.netif.load();
    store_pointer(&netif->input, hooked.original_input);
    store_pointer(&netif->linkoutput, hooked.original_linkoutput);
    hooked.installed = false;
}

// Attach and detach only swap pointers (see store_pointer) and deliberately do not take
// LOCK_TCPIP_CORE: the agent may be enabled by code that already holds it, and the core lock of
// this port is not recursive.
void LwipPort::attach_hooks() {
    std::lock_guard<std::mutex> lock(hooks_);
    attached_.store(true);
    for (size_t i = 0; i < netif_count_.load(); ++i) {
        install(netifs_[i]);
    }
}

void LwipPort::detach_hooks() {
    std::lock_guard<std::mutex> lock(hooks_);
    attached_.store(false);
    for (size_t i = 0; i < netif_count_.load(); ++i) {
        restore(netifs_[i]);
    }
}

void LwipPort::observe(const struct pbuf* frame, vigil_direction direction,
                       const struct netif* netif) {
    LwipPort* port = g_port.load(std::memory_order_acquire);
    if (port == nullptr || frame == nullptr) {
        return;
    }
    const bool inbound = direction == VIGIL_INBOUND;
    (inbound ? port->frames_in_ : port->frames_out_).fetch_add(1, std::memory_order_relaxed);
    (inbound ? port->bytes_in_ : port->bytes_out_)
        .fetch_add(frame->tot_len, std::memory_order_relaxed);

    const uint8_t* data = static_cast<const uint8_t*>(frame->payload);
    size_t available = frame->len;
    uint8_t copy[kHeaderCopyBytes];
    if (frame->len < frame->tot_len && frame->len < kHeaderCopyBytes) {
        // A chain (a header pbuf in front of the payload): gather the headers.
        available = pbuf_copy_partial(frame, copy, kHeaderCopyBytes, 0);
        data = copy;
    }
    const int offset = ip_offset(data, available);
    if (offset < 0) {
        return;
    }
    (inbound ? port->ip_in_ : port->ip_out_).fetch_add(1, std::memory_order_relaxed);
    if (!port->attached_.load(std::memory_order_acquire)) {
        return;
    }
    vigil_agent_packet(data + offset, available - static_cast<size_t>(offset), direction,
                       netif_get_index(netif), port->now_ms());
}

// Runs in tapif's rx thread, without the core lock. The frame is observed before it is passed
// on, because from then on it belongs to the stack (tcpip_input queues it for another thread).
err_t LwipPort::input_hook(struct pbuf* frame, struct netif* netif) {
    observe(frame, VIGIL_INBOUND, netif);
    const Hooked* hooked = find(netif);
    const netif_input_fn next = hooked != nullptr && hooked->original_input != nullptr
                                    ? hooked->original_input
                                    : tcpip_input;
    return next(frame, netif);
}

// Runs in the thread that transmits: the tcpip thread, or an application thread that holds the
// core lock inside lwip_send / lwip_connect. The frame stays the caller's.
err_t LwipPort::output_hook(struct netif* netif, struct pbuf* frame) {
    observe(frame, VIGIL_OUTBOUND, netif);
    const Hooked* hooked = find(netif);
    if (hooked == nullptr || hooked->original_linkoutput == nullptr) {
        return ERR_IF;
    }
    return hooked->original_linkoutput(netif, frame);
}

FrameCounts LwipPort::counts() const {
    FrameCounts out;
    out.frames_in = frames_in_.load();
    out.bytes_in = bytes_in_.load();
    out.frames_out = frames_out_.load();
    out.bytes_out = bytes_out_.load();
    out.ip_in = ip_in_.load();
    out.ip_out = ip_out_.load();
    return out;
}

uint64_t LwipPort::now_ms() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

uint32_t LwipPort::unix_time_s() const {
    return unix_time_now_s();
}

// Not LWIP_RAND(): in this build that is the unseeded rand(), the same sequence on every boot.
uint32_t LwipPort::random32() const {
    return host_random32();
}

void LwipPort::system_info(vigil_system_info& out) {
    out = vigil_system_info{};
    utsname uts{};
    const bool have_uts = uname(&uts) == 0;
    os_name_ = !options_.os_name.empty() ? options_.os_name : have_uts ? uts.sysname : "";
    os_version_ = !options_.os_version.empty() ? options_.os_version : have_uts ? uts.release : "";
    stack_version_ = LWIP_VERSION_STRING;
    auto set = [](const std::string& value) { return value.empty() ? nullptr : value.c_str(); };
    out.os_name = set(os_name_);
    out.os_version = set(os_version_);
    out.stack_name = "lwIP";
    out.stack_version = stack_version_.c_str();
    out.firmware_version = set(options_.firmware_version);
    out.board = set(options_.board);

    vigil_address addresses[VIGIL_MAX_SYSTEM_ADDRESSES * 2];
    size_t address_count = 0;
    auto add_address = [&](const vigil_address& a) {
        if (a.family != 0 && address_count < sizeof(addresses) / sizeof(addresses[0])) {
            addresses[address_count++] = a;
        }
    };
    // The netif list and its addresses belong to the tcpip thread; the tick runs in the agent
    // context, which never holds the core lock.
    LOCK_TCPIP_CORE();
    struct netif* netif = nullptr;
    NETIF_FOREACH(netif) {
        add_address(to_vigil(netif->ip_addr));
        for (int i = 0; i < LWIP_IPV6_NUM_ADDRESSES; ++i) {
            if (ip6_addr_isvalid(netif_ip6_addr_state(netif, i))) {
                add_address(to_vigil(netif->ip6_addr[i]));
            }
        }
        if (netif->hwaddr_len == 6 && out.mac_count < VIGIL_MAX_SYSTEM_MACS) {
            std::memcpy(out.macs[out.mac_count++], netif->hwaddr, 6);
        }
    }
    UNLOCK_TCPIP_CORE();
    std::stable_sort(addresses, addresses + address_count,
                     [](const vigil_address& a, const vigil_address& b) {
                         return address_rank(a) < address_rank(b);
                     });
    out.address_count = std::min<size_t>(address_count, VIGIL_MAX_SYSTEM_ADDRESSES);
    std::copy_n(addresses, out.address_count, out.addresses);
}

// Read from lwIP's own PCB lists (liblwip exports tcp_listen_pcbs and udp_pcbs), so the agent
// reports exactly the sockets the stack would answer on, raw-API and socket-API alike.
size_t LwipPort::listening_ports(vigil_listening_port* out, size_t capacity) const {
    size_t count = 0;
    auto report = [&](vigil_protocol protocol, uint16_t port, const ip_addr_t& address) {
        if (count < capacity) {
            out[count].protocol = protocol;
            out[count].port = port;
            out[count].address = to_vigil(address);
        }
        ++count;
    };
    LOCK_TCPIP_CORE();
    for (const struct tcp_pcb_listen* pcb = tcp_listen_pcbs.listen_pcbs; pcb != nullptr;
         pcb = pcb->next) {
        report(VIGIL_TCP, pcb->local_port, pcb->local_ip);
    }
    for (const struct udp_pcb* pcb = udp_pcbs; pcb != nullptr; pcb = pcb->next) {
        // A connected UDP pcb is a client's socket; a bound, unconnected one receives from anyone.
        if (pcb->local_port != 0 && (pcb->flags & UDP_FLAGS_CONNECTED) == 0) {
            report(VIGIL_UDP, pcb->local_port, pcb->local_ip);
        }
    }
    UNLOCK_TCPIP_CORE();
    return count;
}

// The critical section shared by the hooks and the tick is a mutex of the port's own.
//  - Blocking is allowed: on this hosted lwIP the hooks run only in threads (tapif's rx thread,
//    the tcpip thread, application threads transmitting under the core lock), never in a signal
//    handler or an interrupt.
//  - No deadlock with the core lock: a transmitting thread may hold LOCK_TCPIP_CORE when it takes
//    this mutex, but whoever holds this mutex (the hook's flow update, the tick's window close)
//    calls nothing of lwIP and never takes the core lock, so the locks are always taken in the
//    same order.
//  - Not SYS_ARCH_PROTECT: in this port that is one process-wide mutex behind every pbuf and
//    memp allocation, and the tick's window close (one pass over the flow tables) would stall
//    the whole stack's memory management for its duration.
void LwipPort::enter_critical() {
    critical_.lock();
}

void LwipPort::exit_critical() {
    critical_.unlock();
}

}  // namespace vigil::ports::lwip

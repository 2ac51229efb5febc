// The lwIP port of the agent core, for Debian's liblwip (NO_SYS=0, core locking, tapif driver).
//
// The agent sees a netif's traffic the way the Defender micro-agent saw NetX Duo's: by wrapping
// the driver's two frame paths, netif->input (frames received, in the driver's rx thread) and
// netif->linkoutput (frames sent, in whichever thread transmits). Both see raw Ethernet, so what
// the agent counts is exactly what crosses the wire; the hooks find the IPv4 / IPv6 header
// (after at most one 802.1Q tag) and hand it to vigil_agent_packet().
//
// Two ways to hook a netif:
//  - watch(netif) after netif_add(): the hooks go in when the agent attaches them (init, enable)
//    and the original pointers come back when it detaches them (disable). Frames the driver
//    received between netif_add() and the attach are not seen.
//  - race-free: set_driver_init(tapif_init), then
//      netif_add(&netif, ip, mask, gw, nullptr, LwipPort::init_with_hooks, LwipPort::input_hook)
//    so the input hook is in place before tapif_init starts its rx thread and the output hook
//    before the netif can transmit. The netif is watched from then on.
//
// One port instance per process (the hooks are plain C function pointers with no context
// argument, and the C ABI drives one agent). It is hosted C++ beside the hosted lwIP build.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

// Before any other lwIP header: it gives lwIP's C prototypes C linkage.
#include "vigil/ports/lwip_c.h"

#include "lwip/err.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/bind_port.hpp"

namespace vigil::ports::lwip {

/// Frames the hooks saw, per direction, and how many of them carried IP (the rest are ARP and
/// other non-IP types). Counted before the agent's own filters, for comparison with the
/// driver's or the kernel's interface counters.
struct FrameCounts {
    uint64_t frames_in = 0;
    uint64_t bytes_in = 0;
    uint64_t frames_out = 0;
    uint64_t bytes_out = 0;
    uint64_t ip_in = 0;
    uint64_t ip_out = 0;
};

/// Finds the IP header in an Ethernet frame: after the 14-byte header, or 18 with one 802.1Q
/// tag. Returns the offset of an IPv4 or IPv6 header, or -1 for any other payload (ARP...).
int ip_offset(const uint8_t* frame, size_t length);

class LwipPort {
  public:
    struct Options {
        /// Reported as the OS; lwIP itself runs on whatever hosts it (here Linux). Empty: uname.
        std::string os_name;
        std::string os_version;
        std::string firmware_version;
        std::string board;
    };

    static constexpr size_t kMaxNetifs = 4;

    LwipPort();
    explicit LwipPort(Options options);
    ~LwipPort();
    LwipPort(const LwipPort&) = delete;
    LwipPort& operator=(const LwipPort&) = delete;

    /// The port to hand to the agent; it points at this object, which must outlive the agent.
    const vigil_port& port() const { return port_; }

    /// Hooks `netif` whenever the agent's hooks are attached. Call with the netif added (and,
    /// from a thread other than tcpip's, under LOCK_TCPIP_CORE). False when kMaxNetifs are
    /// already watched.
    bool watch(struct netif* netif);

    /// The race-free variant: the driver init that init_with_hooks() wraps (tapif_init).
    static void set_driver_init(netif_init_fn init);
    /// netif_add()'s init argument: watches the netif, installs the output hook after the driver
    /// set linkoutput, and the input hook (already given to netif_add as input_hook) stays.
    static err_t init_with_hooks(struct netif* netif);
    /// netif_add()'s input argument for init_with_hooks(): observes the frame, then tcpip_input().
    static err_t input_hook(struct pbuf* frame, struct netif* netif);

    FrameCounts counts() const;

    uint64_t now_ms() const;
    uint32_t unix_time_s() const;
    uint32_t random32() const;
    void system_info(vigil_system_info& out);
    size_t listening_ports(vigil_listening_port* out, size_t capacity) const;

    void attach_hooks();
    void detach_hooks();

  private:
    struct Hooked {
        std::atomic<struct netif*> netif{nullptr};
        netif_input_fn original_input = nullptr;
        netif_linkoutput_fn original_linkoutput = nullptr;
        bool installed = false;
    };

    static err_t output_hook(struct netif* netif, struct pbuf* frame);
    static Hooked* find(const struct netif* netif);
    static void observe(const struct pbuf* frame, vigil_direction direction,
                        const struct netif* netif);
    Hooked* add(struct netif* netif);
    void install(Hooked& hooked);
    void restore(Hooked& hooked);

    template <typename Port>
    friend vigil_port vigil::ports::bind_port(Port& port);
    void enter_critical();
    void exit_critical();

    Options options_;
    vigil_port port_{};
    std::mutex critical_;
    std::mutex hooks_;  // serialises watch / attach / detach (the agent context and init)
    Hooked netifs_[kMaxNetifs];
    std::atomic<size_t> netif_count_{0};
    std::atomic<bool> attached_{false};
    std::atomic<uint64_t> frames_in_{0}, bytes_in_{0}, frames_out_{0}, bytes_out_{0}, ip_in_{0},
        ip_out_{0};
    std::string os_name_, os_version_, stack_version_;
};

}  // namespace vigil::ports::lwip

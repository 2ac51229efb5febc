// Live capture of a Linux host's own IP packets through AF_PACKET sockets with a TPACKET_V3
// memory-mapped ring, for a daemon that feeds every packet to the agent core:
//
//   std::string error;
//   auto ring = vigil::ports::posix::PacketRing::open({{"eth0", "wlan0"}}, error);
//   while (running) {
//       if (ring->poll(100, [&](const PacketRing::Frame& f) {
//               agent.packet(f.ip, f.captured, f.direction, f.interface_index, f.time_ms);
//           }) == PacketRing::Result::Error) { /* ring->error(); reopen or stop */ }
//       agent.tick();
//   }
//
// One socket per interface, each bound to it and with its own ring, so a frame's interface is
// known without a lookup and a removed interface is noticed. The sockets are SOCK_DGRAM: frames
// start at the network header whatever the link type. A classic BPF filter in the kernel passes
// IPv4 and IPv6 only and cuts each frame to snap_length bytes, so nothing else is copied.
//
// Memory: every interface's ring is block_size * block_count bytes of kernel memory mapped into
// the process (1 MiB with the defaults); nothing is allocated per frame. The frames handed to
// on_frame point into the ring and are valid only during the call.
//
// Threads: a ring is used from one thread (poll, stats and error are not synchronised); it
// starts none of its own.
//
// What the frames show:
// - Both directions: packets the host receives (unicast to it, broadcast, multicast) are
//   INBOUND, packets it sends are OUTBOUND. Frames for other hosts reach the ring only when the
//   interface is promiscuous (a bridge port, a sniffer running): they are INBOUND with
//   `otherhost` set, for the caller to drop or keep.
// - The loopback interface is left out unless named, since a ring sees every loopback packet
//   twice (sent, then received).
// - On a VLAN parent interface the frames of its VLAN interfaces show too; name either the
//   parent or the VLAN interfaces, not both, or those packets count twice.
// - Segmentation offload: on the sending host the ring sees a TCP/UDP super-packet before the
//   NIC cuts it, as one frame. Up to 64 KiB its IPv4 total length (IPv6 payload length) covers
//   the whole super-packet, so the core counts all its bytes as one packet. Larger ones (BIG TCP,
//   only where gso_max_size was raised above 64 KiB) carry a length of 0: the frame is passed
//   as it is, `original` holds its real size, and the core counts it as unparsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigil/agent/vigil_agent.h"

namespace vigil::ports::posix {

class PacketRing {
  public:
    struct Options {
        /// Interfaces by name. Empty: every interface that is up, except loopback ones.
        std::vector<std::string> interfaces;
        /// Bytes kept of each frame, from the IP header: headers are enough, since byte counts
        /// come from the IP length fields.
        uint32_t snap_length = 256;
        /// Per interface: the ring is block_count blocks of block_size bytes (a multiple of the
        /// page size). The kernel hands a block over when it is full or block_timeout_ms after
        /// its first frame, so that bounds how late a frame arrives. A trickle of frames uses a
        /// block per timeout, so poll at least every block_count * block_timeout_ms or frames
        /// are dropped (and counted in Stats::drops).
        uint32_t block_size = 1 << 18;
        uint32_t block_count = 4;
        uint32_t block_timeout_ms = 100;
    };

    struct Frame {
        uint64_t time_ms;   ///< when the kernel saw it: CLOCK_REALTIME, ms since 1970
        const uint8_t* ip;  ///< the IPv4 or IPv6 header
        size_t captured;    ///< bytes readable at ip (at most snap_length)
        size_t original;    ///< bytes of the packet from the IP header on (received
                            ///< Ethernet frames: with the link's padding, if any)
        vigil_direction direction;
        uint8_t interface_index;  ///< index into interfaces(), 0-based
        bool otherhost;           ///< addressed to another host (a promiscuous interface)
    };

    enum class Result {
        Ok,       ///< on_frame was called for at least one frame
        Timeout,  ///< nothing arrived within the time given
        Error,    ///< error() says why; the ring is unusable from now on (reopen it)
    };

    struct Stats {
        uint64_t packets;  ///< frames that passed the filter, whether or not they fit the ring
        uint64_t drops;    ///< of those, frames lost because the ring was full
        uint64_t non_ip;   ///< frames handed over that were not IPv4/IPv6 after all (skipped)
    };

    /// Null with `error` set when a socket or ring cannot be made: no CAP_NET_RAW, no such
    /// interface, a ring size the kernel refuses, more than 256 interfaces.
    static std::unique_ptr<PacketRing> open(const Options& options, std::string& error);

    PacketRing(const PacketRing&) = delete;
    PacketRing& operator=(const PacketRing&) = delete;
    ~PacketRing();

    /// Waits up to timeout_ms for frames, calls on_frame for every IPv4/IPv6 frame available
    /// (on all interfaces), and returns. Frames already in the ring are delivered before an
    /// error is reported. An interface that goes down is not an error: its frames stop and
    /// resume when it is up again. One that is removed is an error.
    Result poll(int timeout_ms, const std::function<void(const Frame&)>& on_frame);
    const std::string& error() const { return error_; }

    /// Totals since open (the kernel's PACKET_STATISTICS, summed over the interfaces).
    Stats stats();

    /// The interfaces captured on, in interface_index order: Options.interfaces, or the ones
    /// found when that was empty.
    const std::vector<std::string>& interfaces() const { return names_; }

  private:
    struct Socket;
    using Callback = std::function<void(const Frame&)>;

    PacketRing();
    bool open_socket(const std::string& name, const Options& options, std::string& error);
    bool check_error(size_t index);
    bool check_link(size_t index);
    bool drain(const Callback& on_frame);
    bool drain_socket(Socket& socket, uint8_t index, const Callback& on_frame);
    bool deliver_block(const uint8_t* block, uint32_t block_size, uint8_t index,
                       const Callback& on_frame);

    std::vector<Socket> sockets_;
    std::vector<std::string> names_;
    std::string error_;
    uint64_t packets_ = 0;
    uint64_t drops_ = 0;
    uint64_t non_ip_ = 0;
};

}  // namespace vigil::ports::posix

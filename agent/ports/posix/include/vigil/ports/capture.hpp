// A packet source over libpcap: a capture file (pcap or pcapng) or a live interface.
//
//   std::string error;
//   auto capture = vigil::ports::posix::Capture::open_file("trace.pcapng", error);
//   Capture::Frame frame;
//   while (capture && capture->next(frame) == Capture::Next::Frame) { ... }
//
// Frames carry the link-layer header of capture->link_type(); link_layer.hpp finds the IP header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct pcap;  // libpcap's handle (pcap_t); its header stays out of this one

namespace vigil::ports::posix {

class Capture {
  public:
    struct Frame {
        uint64_t time_ms = 0;  ///< the capture's timestamp, milliseconds since 1970
        const uint8_t* data = nullptr;
        size_t captured = 0;  ///< bytes in `data` (may be less than on the wire)
        size_t original = 0;  ///< bytes on the wire
    };
    enum class Next { Frame, Timeout, End, Error };

    /// Null with `error` set when the file cannot be opened or is not a capture (the message
    /// is libpcap's: "truncated dump file", "unknown file format", ...).
    static std::unique_ptr<Capture> open_file(const std::string& path, std::string& error);
    /// Null with `error` set when the interface cannot be opened (no such interface, no
    /// CAP_NET_RAW). Waits at most `timeout_ms` for a packet so the caller can stop.
    static std::unique_ptr<Capture> open_live(const std::string& interface, int timeout_ms,
                                              std::string& error);

    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    ~Capture();

    /// The pcap DLT_ value of every frame.
    int link_type() const;
    /// The next frame; valid until the next call. On Error, error() says why (a file cut short
    /// reads as Error, never as End).
    Next next(Frame& frame);
    const std::string& error() const { return error_; }

  private:
    explicit Capture(pcap* handle) : handle_(handle) {}

    pcap* handle_;
    std::string error_;
};

}  // namespace vigil::ports::posix

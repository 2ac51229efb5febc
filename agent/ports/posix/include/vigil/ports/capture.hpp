// A packet source over libpcap: a capture file (pcap or pcapng) or a live interface.
#pragma once

#include <pcap/pcap.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vigil::examples {

class Capture {
  public:
    struct Frame {
        uint64_t time_ms = 0;  ///< the capture's timestamp, milliseconds since 1970
        const uint8_t* data = nullptr;
        size_t captured = 0;  ///< bytes in `data` (may be less than on the wire)
        size_t original = 0;  ///< bytes on the wire
    };
    enum class Next { Frame, Timeout, End, Error };

    /// Null with `error` set when the file cannot be opened or is not a capture.
    static std::unique_ptr<Capture> open_file(const std::string& path, std::string& error);
    /// Null with `error` set when the interface cannot be opened (no such interface, no
    /// CAP_NET_RAW). Waits at most `timeout_ms` for a packet so the caller can stop.
    static std::unique_ptr<Capture> open_live(const std::string& interface, int timeout_ms,
                                              std::string& error);

    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    ~Capture();

    int link_type() const;
    /// The next frame; valid until the next call. On Error, error() says why.
    Next next(Frame& frame);
    const std::string& error() const { return error_; }

  private:
    explicit Capture(pcap_t* handle) : handle_(handle) {}

    pcap_t* handle_;
    std::string error_;
};

}  // namespace vigil::examples

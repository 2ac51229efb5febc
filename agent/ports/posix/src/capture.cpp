#include "vigil/ports/capture.hpp"

#include <pcap/pcap.h>

namespace vigil::ports::posix {

std::unique_ptr<Capture> Capture::open_file(const std::string& path, std::string& error) {
    char message[PCAP_ERRBUF_SIZE] = {};
    pcap_t* handle =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, message);
    if (handle == nullptr) {
        error = message;
        return nullptr;
    }
    return std::unique_ptr<Capture>(new Capture(handle));
}

std::unique_ptr<Capture> Capture::open_live(const std::string& interface, int timeout_ms,
                                            std::string& error) {
    char message[PCAP_ERRBUF_SIZE] = {};
    pcap_t* handle = pcap_create(interface.c_str(), message);
    if (handle == nullptr) {
        error = message;
        return nullptr;
    }
    // Headers are enough: the agent takes byte counts from the IP length field.
    constexpr int kSnapLength = 256;
    pcap_set_snaplen(handle, kSnapLength);
    pcap_set_promisc(handle, 0);
    pcap_set_timeout(handle, timeout_ms);
    // Without immediate mode the kernel hands packets over in blocks, late for the tick.
    pcap_set_immediate_mode(handle, 1);
    const int status = pcap_activate(handle);
    if (status < 0) {
        error = pcap_geterr(handle);
        if (error.empty()) {
            error = pcap_statustostr(status);
        }
        pcap_close(handle);
        return nullptr;
    }
    return std::unique_ptr<Capture>(new Capture(handle));
}

Capture::~Capture() {
    pcap_close(handle_);
}

int Capture::link_type() const {
    return pcap_datalink(handle_);
}

Capture::Next Capture::next(Frame& frame) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int status = pcap_next_ex(handle_, &header, &data);
    if (status == 1) {
        // A stamp before 1970 is a broken clock; it is read as 0 rather than wrapped.
        frame.time_ms = header->ts.tv_sec < 0
                            ? 0
                            : static_cast<uint64_t>(header->ts.tv_sec) * 1000u +
                                  static_cast<uint64_t>(header->ts.tv_usec) / 1000u;
        frame.data = data;
        frame.captured = header->caplen;
        frame.original = header->len;
        return Next::Frame;
    }
    if (status == 0) {
        return Next::Timeout;
    }
    if (status == PCAP_ERROR_BREAK) {
        return Next::End;
    }
    error_ = pcap_geterr(handle_);
    return Next::Error;
}

}  // namespace vigil::ports::posix

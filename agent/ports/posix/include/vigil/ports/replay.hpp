// Replaying a capture taken on (or next to) a device: which of its addresses are the device's,
// so each packet gets its direction, and which hardware addresses the device sent from.
//
//   Survey survey;
//   if (!survey_capture("trace.pcap", survey, error)) { ... }   // reads the file once
//   LocalAddresses locals;
//   survey.infer(locals);                                        // or add() the known ones
//   agent.packet(ip.data, ip.length, locals.outbound(ip) ? VIGIL_OUTBOUND : VIGIL_INBOUND, ...);
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vigil/agent/vigil_agent.h"
#include "vigil/ports/link_layer.hpp"

namespace vigil::ports::posix {

/// An IPv4 or IPv6 address in text; false when it is neither.
bool parse_address(const std::string& text, vigil_address& out);
std::string address_text(const vigil_address& address);

/// The device's own addresses: a packet from one of them is outbound.
class LocalAddresses {
  public:
    void add(const vigil_address& address);
    const std::vector<vigil_address>& all() const { return addresses_; }
    bool empty() const { return addresses_.empty(); }
    bool outbound(const IpSlice& ip) const;

    /// The source address of an IP packet, or null when the header is cut short.
    static const uint8_t* source_of(const IpSlice& ip, uint8_t& family);

  private:
    std::vector<vigil_address> addresses_;
};

using Mac = std::array<uint8_t, 6>;

/// What one read of a capture file tells before the replay: which addresses take part in how
/// many packets, and which hardware address sent from each IP address.
struct Survey {
    using AddressKey = std::pair<uint8_t, std::string>;  // family, address bytes
    struct Seen {
        uint64_t packets = 0;
        uint64_t sent = 0;
        size_t first = 0;
    };
    std::map<AddressKey, Seen> seen;
    std::map<AddressKey, Mac> macs;

    /// Per address family, the address seen in the most packets. A capture taken on the device
    /// has the device at one end of every packet, while each peer appears only in its own
    /// exchanges; the most common *source* would be wrong for a download, where the server
    /// sends most. Ties go to the address that sent more.
    void infer(LocalAddresses& locals) const;
    /// The device's hardware addresses: those that sent from its IP addresses.
    std::vector<Mac> macs_of(const LocalAddresses& locals) const;
};

/// Reads the whole capture once, so that a damaged file is reported before any message. False
/// with `error` set when the file cannot be read to its end.
bool survey_capture(const std::string& path, Survey& survey, std::string& error);

}  // namespace vigil::ports::posix

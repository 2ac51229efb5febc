#include "packets.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <stdexcept>

namespace vigil::test {

std::array<uint8_t, 4> ipv4(const std::string& dotted) {
    std::array<uint8_t, 4> out{};
    if (inet_pton(AF_INET, dotted.c_str(), out.data()) != 1) {
        throw std::invalid_argument("bad IPv4 address: " + dotted);
    }
    return out;
}

std::array<uint8_t, 16> ipv6(const std::string& text) {
    std::array<uint8_t, 16> out{};
    if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) {
        throw std::invalid_argument("bad IPv6 address: " + text);
    }
    return out;
}

namespace {

void put16(std::vector<uint8_t>& out, size_t at, uint16_t value) {
    out[at] = static_cast<uint8_t>(value >> 8);
    out[at + 1] = static_cast<uint8_t>(value);
}

}  // namespace

Transport tcp_segment(uint16_t source_port, uint16_t destination_port, uint8_t flags,
                      size_t payload_bytes) {
    Transport t{6, std::vector<uint8_t>(20 + payload_bytes, 0)};
    put16(t.bytes, 0, source_port);
    put16(t.bytes, 2, destination_port);
    t.bytes[12] = 5 << 4;  // data offset: 5 words
    t.bytes[13] = flags;
    put16(t.bytes, 14, 65535);
    return t;
}

Transport udp_datagram(uint16_t source_port, uint16_t destination_port, size_t payload_bytes) {
    Transport t{17, std::vector<uint8_t>(8 + payload_bytes, 0)};
    put16(t.bytes, 0, source_port);
    put16(t.bytes, 2, destination_port);
    put16(t.bytes, 4, static_cast<uint16_t>(8 + payload_bytes));
    return t;
}

Transport icmp_message(uint8_t type, uint8_t code, size_t payload_bytes, bool v6) {
    Transport t{static_cast<uint8_t>(v6 ? 58 : 1), std::vector<uint8_t>(8 + payload_bytes, 0)};
    t.bytes[0] = type;
    t.bytes[1] = code;
    return t;
}

std::vector<uint8_t> ipv4_packet(const std::string& source, const std::string& destination,
                                 const Transport& transport) {
    std::vector<uint8_t> p(20, 0);
    p[0] = 0x45;
    put16(p, 2, static_cast<uint16_t>(20 + transport.bytes.size()));
    p[8] = 64;
    p[9] = transport.protocol;
    const auto s = ipv4(source);
    const auto d = ipv4(destination);
    std::copy(s.begin(), s.end(), p.begin() + 12);
    std::copy(d.begin(), d.end(), p.begin() + 16);
    p.insert(p.end(), transport.bytes.begin(), transport.bytes.end());
    return p;
}

std::vector<uint8_t> ipv6_packet(const std::string& source, const std::string& destination,
                                 const Transport& transport,
                                 const std::vector<uint8_t>& extensions) {
    std::vector<uint8_t> body;
    for (size_t i = 0; i < extensions.size(); ++i) {
        const uint8_t next = i + 1 < extensions.size() ? extensions[i + 1] : transport.protocol;
        if (extensions[i] == 51) {  // AH: length in 4-byte units minus 2; 12 bytes + 4 ICV
            std::vector<uint8_t> ah(16, 0);
            ah[0] = next;
            ah[1] = 2;
            body.insert(body.end(), ah.begin(), ah.end());
        } else {  // hop-by-hop, routing, fragment (offset 0), destination options: 8 bytes
            std::vector<uint8_t> ext(8, 0);
            ext[0] = next;
            if (extensions[i] == 43) {
                ext[2] = 0;  // routing type 0 with no segments left
            }
            body.insert(body.end(), ext.begin(), ext.end());
        }
    }
    body.insert(body.end(), transport.bytes.begin(), transport.bytes.end());
    std::vector<uint8_t> p(40, 0);
    p[0] = 0x60;
    put16(p, 4, static_cast<uint16_t>(body.size()));
    p[6] = extensions.empty() ? transport.protocol : extensions[0];
    p[7] = 64;
    const auto s = ipv6(source);
    const auto d = ipv6(destination);
    std::copy(s.begin(), s.end(), p.begin() + 8);
    std::copy(d.begin(), d.end(), p.begin() + 24);
    p.insert(p.end(), body.begin(), body.end());
    return p;
}

}  // namespace vigil::test

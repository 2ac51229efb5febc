#include "packet_writer.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace vigil::sim {
namespace {

void store16(uint8_t* p, uint32_t value) {
    p[0] = static_cast<uint8_t>(value >> 8);
    p[1] = static_cast<uint8_t>(value);
}

uint8_t ip_protocol(Transport transport, bool v6) {
    switch (transport) {
        case Transport::Tcp:
            return 6;
        case Transport::Udp:
            return 17;
        case Transport::Icmp:
            return v6 ? 58 : 1;
    }
    return 6;
}

uint32_t transport_header_bytes(Transport transport) {
    return transport == Transport::Tcp ? 20 : 8;
}

void write_transport(const PacketHeader& h, uint8_t* out) {
    if (h.transport == Transport::Icmp) {
        out[0] = static_cast<uint8_t>(h.source_port);
        out[1] = static_cast<uint8_t>(h.destination_port);
        return;
    }
    store16(out, h.source_port);
    store16(out + 2, h.destination_port);
    if (h.transport == Transport::Tcp) {
        out[12] = 5 << 4;  // data offset: a header without options
        out[13] = h.flags;
        store16(out + 14, 65535);  // window
    } else {
        store16(out + 4, static_cast<uint32_t>(8 + h.payload_bytes));
    }
}

}  // namespace

IpAddress IpAddress::parse(const std::string& text) {
    IpAddress address;
    if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) == 1) {
        address.family = 4;
    } else if (inet_pton(AF_INET6, text.c_str(), address.bytes.data()) == 1) {
        address.family = 6;
    } else {
        address.family = 0;
    }
    return address;
}

std::string IpAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = {};
    if (family == 0 ||
        inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text) == nullptr) {
        return "";
    }
    return text;
}

PacketBytes write_packet(const PacketHeader& h) {
    PacketBytes packet;
    uint8_t* p = packet.bytes.data();
    const bool v6 = h.source.family == 6;
    const uint32_t l4 = transport_header_bytes(h.transport);
    if (!v6) {
        const uint32_t total = std::min<uint32_t>(20 + l4 + h.payload_bytes, 65535);
        p[0] = 0x45;
        store16(p + 2, total);
        p[8] = 64;  // TTL
        p[9] = ip_protocol(h.transport, false);
        std::copy_n(h.source.bytes.data(), 4, p + 12);
        std::copy_n(h.destination.bytes.data(), 4, p + 16);
        write_transport(h, p + 20);
        packet.length = 20 + l4;
    } else {
        const uint32_t payload = std::min<uint32_t>(l4 + h.payload_bytes, 65535);
        p[0] = 0x60;
        store16(p + 4, payload);
        p[6] = ip_protocol(h.transport, true);
        p[7] = 64;  // hop limit
        std::copy_n(h.source.bytes.data(), 16, p + 8);
        std::copy_n(h.destination.bytes.data(), 16, p + 24);
        write_transport(h, p + 40);
        packet.length = 40 + l4;
    }
    return packet;
}

}  // namespace vigil::sim

#include "wire_tally.hpp"

#include <cstring>

namespace vigil::test::netx {

namespace {

uint16_t be16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

struct Parsed {
    uint8_t family = 0;
    const uint8_t* source = nullptr;
    const uint8_t* destination = nullptr;
    uint8_t protocol = 0;  // IP protocol number
    const uint8_t* l4 = nullptr;
    uint32_t ip_bytes = 0;
    bool multicast = false;
};

bool parse(const WirePacket& packet, Parsed& out) {
    const uint8_t* ip = packet.bytes;
    if (packet.length < 20) {
        return false;
    }
    if (ip[0] >> 4 == 4) {
        out.family = 4;
        out.ip_bytes = be16(ip + 2);
        out.protocol = ip[9];
        out.source = ip + 12;
        out.destination = ip + 16;
        out.multicast = ip[16] >= 224;
        out.l4 = ip + (ip[0] & 0x0F) * 4;
        return true;
    }
    if (packet.length < 48) {
        return false;
    }
    out.family = 6;
    out.ip_bytes = 40u + be16(ip + 4);
    out.source = ip + 8;
    out.destination = ip + 24;
    out.multicast = ip[24] == 0xFF;
    uint8_t next = ip[6];
    size_t offset = 40;
    // Hop-by-hop, routing and destination options (MLD reports carry a hop-by-hop header).
    while ((next == 0 || next == 43 || next == 60) && offset + 8 <= packet.length) {
        next = ip[offset];
        offset += (static_cast<size_t>(ip[offset + 1]) + 1) * 8;
    }
    out.protocol = next;
    out.l4 = ip + offset;
    return offset + 8 <= packet.length;
}

std::array<uint8_t, 16> address(const uint8_t* bytes, uint8_t family) {
    std::array<uint8_t, 16> out{};
    std::memcpy(out.data(), bytes, family == 4 ? 4 : 16);
    return out;
}

uint16_t icmp_request_type(uint8_t type, bool v6) {
    if (v6) {
        return type == 129 ? 128 : type;  // echo reply onto echo request
    }
    switch (type) {
        case 0:
            return 8;
        case 14:
            return 13;
        case 16:
            return 15;
        case 18:
            return 17;
        default:
            return type;
    }
}

}  // namespace

Expected expected_flows(const std::vector<WirePacket>& wire) {
    Expected expected;
    for (const WirePacket& packet : wire) {
        Parsed p;
        if (!parse(packet, p)) {
            continue;
        }
        ++expected.ip_packets;
        const bool v6 = p.family == 6;
        const bool icmp = p.protocol == (v6 ? 58 : 1);
        const bool tcp_or_udp = p.protocol == 6 || p.protocol == 17;
        if (!icmp && !tcp_or_udp) {
            continue;
        }
        FlowKey out_key;
        out_key.family = p.family;
        out_key.protocol = static_cast<uint8_t>(icmp              ? wire::Protocol::Icmp
                                                : p.protocol == 6 ? wire::Protocol::Tcp
                                                                  : wire::Protocol::Udp);
        out_key.local = address(p.source, p.family);
        out_key.remote = address(p.destination, p.family);
        FlowKey in_key = out_key;
        in_key.local = out_key.remote;
        in_key.remote = out_key.local;
        if (icmp) {
            out_key.local_port = in_key.local_port = icmp_request_type(p.l4[0], v6);
            out_key.remote_port = in_key.remote_port = p.l4[1];
        } else {
            out_key.local_port = in_key.remote_port = be16(p.l4);
            out_key.remote_port = in_key.local_port = be16(p.l4 + 2);
        }
        if (v6 && icmp && p.l4[0] == 135) {
            ++expected.neighbour_solicitations_out;
        } else {
            Totals& sent = expected.flows[out_key];
            ++sent.packets_out;
            sent.bytes_out += p.ip_bytes;
        }
        if (!p.multicast) {
            Totals& received = expected.flows[in_key];
            ++received.packets_in;
            received.bytes_in += p.ip_bytes;
        }
    }
    return expected;
}

Flows reported_flows(const std::vector<protocol::Message>& messages) {
    Flows flows;
    for (const protocol::Message& message : messages) {
        if (!message.network) {
            continue;
        }
        const protocol::NetworkActivity& network = *message.network;
        for (const protocol::Flow& flow : network.flows) {
            const wire::Address& local = network.local_addresses.at(flow.local_index);
            FlowKey key;
            key.family = local.family;
            key.local = address(local.bytes, local.family);
            key.remote = address(flow.remote.bytes, flow.remote.family);
            key.local_port = flow.fields.local_port;
            key.remote_port = flow.fields.remote_port;
            key.protocol = static_cast<uint8_t>(flow.protocol());
            Totals& totals = flows[key];
            totals.packets_in += flow.fields.packets_in;
            totals.packets_out += flow.fields.packets_out;
            totals.bytes_in += flow.fields.bytes_in;
            totals.bytes_out += flow.fields.bytes_out;
        }
    }
    return flows;
}

std::string describe(const FlowKey& key) {
    wire::Address local;
    local.family = key.family;
    std::memcpy(local.bytes, key.local.data(), 16);
    wire::Address remote = local;
    std::memcpy(remote.bytes, key.remote.data(), 16);
    static const char* const kProtocols[] = {"tcp", "udp", "icmp"};
    return std::string(kProtocols[key.protocol % 3]) + " " + protocol::to_string(local) + ":" +
           std::to_string(key.local_port) + " <-> " + protocol::to_string(remote) + ":" +
           std::to_string(key.remote_port);
}

std::string describe(const Totals& t) {
    return "in " + std::to_string(t.packets_in) + " pkts / " + std::to_string(t.bytes_in) +
           " B, out " + std::to_string(t.packets_out) + " pkts / " + std::to_string(t.bytes_out) +
           " B";
}

}  // namespace vigil::test::netx

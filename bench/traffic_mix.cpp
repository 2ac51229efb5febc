#include "traffic_mix.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "packets.hpp"

namespace vigil::bench {

namespace {

constexpr const char* kLocal4 = "192.168.1.50";
constexpr const char* kLocal6 = "2001:db8:1:0:a8bb:ccff:fedd:ee50";
constexpr const char* kLinkLocal6 = "fe80::a8bb:ccff:fedd:ee50";

using K = FlowKind;

// 50 flows, 20 remotes, one 10-second window of a device that talks MQTT/TLS to its hub, fetches
// a firmware chunk and API calls over HTTPS, resolves names through two resolvers (a new
// ephemeral port per query), keeps time with NTP, is pinged and pings, serves SSH and HTTP to
// two LAN hosts, refuses a scanner, fails to reach a local broker, logs to syslog, announces
// itself over mDNS and gets an ICMP port-unreachable for a CoAP probe.
// clang-format off
const FlowSpec kMix4[] = {
    // kind              local    remote            lport  rport  p_out p_in  b_out   b_in  start   end
    {K::TcpRunning,     kLocal4, "20.49.110.137",  49731, 8883,  14, 12,   2300,   1900,   120, 9870},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        38211,   53,   1,  1,     71,    135,   210,  228},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        41876,   53,   1,  1,     74,    182,  1502, 1519},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        50113,   53,   1,  1,     68,    246,  3010, 3031},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        53390,   53,   1,  1,     77,    129,  4420, 4433},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        57022,   53,   2,  1,    148,    212,  6105, 7110},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        60745,   53,   1,  1,     72,    301,  8002, 8020},
    {K::UdpOutbound,    kLocal4, "8.8.8.8",        33190,   53,   1,  1,     70,    118,  9311, 9327},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        35002,   53,   1,  1,     73,    141,   230,  241},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        44519,   53,   1,  1,     75,    190,  1525, 1534},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        47788,   53,   1,  1,     69,    233,  3040, 3052},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        52937,   53,   1,  1,     78,    127,  4440, 4449},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        61204,   53,   1,  1,     72,    288,  8030, 8041},
    {K::UdpOutbound,    kLocal4, "1.1.1.1",        39870,   53,   1,  1,     70,    116,  9333, 9340},
    {K::UdpOutbound,    kLocal4, "162.159.200.1",    123,  123,   1,  1,     76,     76,   505,  531},
    {K::UdpOutbound,    kLocal4, "216.239.35.0",   40123,  123,   1,  1,     76,     76,  5520, 5544},
    {K::TcpOutbound,    kLocal4, "52.84.150.12",   49802,  443,  24, 48,   2100,  68400,  1210, 4420},
    {K::TcpOutbound,    kLocal4, "52.84.150.12",   49810,  443,  30, 64,   2600,  91500,  4500, 8210},
    {K::TcpOutbound,    kLocal4, "52.84.150.12",   49815,  443,   9, 11,   1400,   5200,  8300, 8930},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49770,  443,  12, 10,   3400,   4100,   250,  980},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49771,  443,  16, 14,   5900,   7600,  2010, 2870},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49775,  443,  10,  9,   2200,   3300,  4010, 4520},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49779,  443,  11, 10,   2600,   3900,  6020, 6640},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49784,  443,  18, 20,   6100,   8200,  7300, 8450},
    {K::TcpOutbound,    kLocal4, "40.112.72.205",  49788,  443,   9,  8,   1900,   2800,  9120, 9800},
    {K::TcpOutbound,    kLocal4, "13.107.42.14",   49790,  443,  10, 12,   1500,   4800,   560, 1380},
    {K::TcpOutbound,    kLocal4, "13.107.42.14",   49793,  443,  12, 15,   2100,   9600,  3300, 4150},
    {K::TcpOutbound,    kLocal4, "13.107.42.14",   49797,  443,  14, 18,   2900,  12100,  5600, 6720},
    {K::TcpOutbound,    kLocal4, "13.107.42.14",   49799,  443,   8,  9,   1200,   3900,  8800, 9350},
    {K::TcpOutbound,    kLocal4, "104.18.32.7",    49820,  443,  11, 13,   1800,   6900,  1030, 1820},
    {K::TcpOutbound,    kLocal4, "104.18.32.7",    49823,  443,   9, 10,   1500,   4400,  7020, 7600},
    {K::TcpOutbound,    kLocal4, "151.101.1.69",   49830,  443,  10, 16,   1300,  17800,  2500, 3600},
    {K::TcpReset,       kLocal4, "151.101.1.69",   49834,  443,   6,  5,    900,   2100,  9000, 9700},
    {K::TcpOutbound,    kLocal4, "93.184.216.34",  49840,   80,   6,  9,    520,   9800,  3700, 4100},
    {K::TcpOutbound,    kLocal4, "93.184.216.34",  49843,   80,   5,  6,    430,   1650,  6800, 7050},
    {K::IcmpEchoOut,    kLocal4, "192.168.1.1",        0,    0,   1,  1,     84,     84,  1000, 1002},
    {K::UdpOutbound,    kLocal4, "192.168.1.1",       68,   67,   1,  1,    328,    328,  2000, 2004},
    {K::IcmpEchoOut,    kLocal4, "8.8.4.4",            0,    0,   3,  3,    252,    252,  5000, 7015},
    {K::TcpInbound,     kLocal4, "192.168.1.10",      22, 52344,  48, 40,   9800,   5200,   300, 9950},
    {K::IcmpEchoIn,     kLocal4, "192.168.1.10",       0,    0,   2,  2,    168,    168,   100, 1101},
    {K::TcpInbound,     kLocal4, "192.168.1.20",      80, 50412,  10,  6,  11200,    680,  2200, 2500},
    {K::TcpInbound,     kLocal4, "192.168.1.20",      80, 50418,   5,  4,   3100,    560,  7400, 7600},
    {K::TcpRefusedIn,   kLocal4, "203.0.113.45",      23, 61001,   1,  1,     40,     40,  3900, 3900},
    {K::TcpRefusedIn,   kLocal4, "203.0.113.45",    2323, 61001,   1,  1,     40,     40,  3901, 3901},
    {K::TcpRefusedIn,   kLocal4, "203.0.113.45",    8080, 61002,   1,  1,     40,     40,  3903, 3903},
    {K::TcpRefusedOut,  kLocal4, "192.168.1.5",    49900, 1883,   1,  1,     40,     40,   150,  151},
    {K::UdpOutbound,    kLocal4, "192.168.1.2",    51514,  514,   9,  0,   1350,      0,   400, 9600},
    {K::UdpOutbound,    kLocal4, "224.0.0.251",     5353, 5353,   2,  0,    240,      0,   600, 1600},
    {K::UdpOutbound,    kLocal4, "198.51.100.7",   50544, 5683,   2,  0,    120,      0,  5200, 7200},
    {K::IcmpErrorIn,    kLocal4, "198.51.100.7",       0,    0,   0,  2,      0,    112,  5201, 7201},
};
// clang-format on

struct V6Address {
    const char* v4;
    const char* v6;
    bool link_local;  ///< reached from the device's link-local address
};

// The same remotes over IPv6. Addresses on the device's own link use its link-local address.
const V6Address kV6Addresses[] = {
    {"20.49.110.137", "2603:1030:20e:3::23c", false},
    {"8.8.8.8", "2001:4860:4860::8888", false},
    {"1.1.1.1", "2606:4700:4700::1111", false},
    {"162.159.200.1", "2606:4700:f1::1", false},
    {"216.239.35.0", "2001:4860:4806::", false},
    {"52.84.150.12", "2600:9000:2156:a00:1f:2d4b:3e40:93a1", false},
    {"40.112.72.205", "2603:1020:203:3::25", false},
    {"13.107.42.14", "2620:1ec:21::14", false},
    {"104.18.32.7", "2606:4700::6812:2007", false},
    {"151.101.1.69", "2a04:4e42::645", false},
    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", false},
    {"192.168.1.1", "fe80::1", true},
    {"8.8.4.4", "2001:4860:4860::8844", false},
    {"192.168.1.10", "2001:db8:1:0:2e0:4cff:fe68:10a", false},
    {"192.168.1.20", "2001:db8:1:0:5054:ff:fe12:3420", false},
    {"203.0.113.45", "2001:db8:ffff:7::45", false},
    {"192.168.1.5", "2001:db8:1::5", false},
    {"192.168.1.2", "2001:db8:1::2", false},
    {"224.0.0.251", "ff02::fb", true},
    {"198.51.100.7", "2001:db8:c0a::7", false},
};

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "traffic mix: %s\n", what.c_str());
    std::abort();
}

std::vector<FlowSpec> make_ipv6_mix() {
    std::vector<FlowSpec> out;
    for (const FlowSpec& f : kMix4) {
        FlowSpec g = f;
        const V6Address* match = nullptr;
        for (const V6Address& a : kV6Addresses) {
            if (std::string(a.v4) == f.remote) {
                match = &a;
            }
        }
        if (match == nullptr) {
            fail(std::string("no IPv6 address for ") + f.remote);
        }
        g.remote = match->v6;
        g.local = match->link_local ? kLinkLocal6 : kLocal6;
        // Same payloads: each packet's IP header is 20 bytes longer.
        g.bytes_out = f.bytes_out + 20 * f.packets_out;
        g.bytes_in = f.bytes_in + 20 * f.packets_in;
        if (f.remote_port == 67) {  // DHCP -> DHCPv6
            g.local_port = 546;
            g.remote_port = 547;
        }
        out.push_back(g);
    }
    return out;
}

bool is_v6(const FlowSpec& f) {
    return std::string(f.local).find(':') != std::string::npos;
}

/// Splits `total` IP bytes over the packets of one direction: control packets (SYN, RST) carry
/// no payload, the others share what is left above the headers.
std::vector<size_t> payloads(const std::vector<bool>& control, uint32_t total, size_t header) {
    std::vector<size_t> out(control.size(), 0);
    size_t data_packets = 0;
    for (bool c : control) {
        data_packets += c ? 0 : 1;
    }
    const size_t floor_bytes = control.size() * header;
    if (data_packets == 0 || total <= floor_bytes) {
        return out;
    }
    const size_t extra = total - floor_bytes;
    size_t share = extra / data_packets;
    size_t remainder = extra % data_packets;
    for (size_t i = 0; i < out.size(); ++i) {
        if (!control[i]) {
            out[i] = share + (remainder > 0 ? 1 : 0);
            remainder -= remainder > 0 ? 1 : 0;
            if (out[i] + header > 1500) {
                fail("flow needs packets larger than 1500 bytes");
            }
        }
    }
    return out;
}

struct Step {
    bool outbound;
    uint8_t tcp_flags;  ///< TCP only
    bool control;       ///< carries no payload
};

/// The order of a flow's packets and their TCP flags.
std::vector<Step> steps_of(const FlowSpec& f) {
    namespace tf = test::tcp;
    std::vector<Step> steps;
    uint32_t out_left = f.packets_out;
    uint32_t in_left = f.packets_in;
    auto push = [&](bool outbound, uint8_t flags, bool control) {
        uint32_t& left = outbound ? out_left : in_left;
        if (left == 0) {
            fail("packet counts too small for the flow's handshake");
        }
        --left;
        steps.push_back({outbound, flags, control});
    };
    const uint8_t data = tf::kPsh | tf::kAck;
    bool outbound_next = true;
    switch (f.kind) {
        case K::TcpOutbound:
        case K::TcpReset:
            push(true, tf::kSyn, true);
            push(false, tf::kSyn | tf::kAck, true);
            push(true, tf::kAck, true);
            outbound_next = false;
            break;
        case K::TcpInbound:
            push(false, tf::kSyn, true);
            push(true, tf::kSyn | tf::kAck, true);
            push(false, tf::kAck, true);
            outbound_next = true;
            break;
        case K::TcpRefusedOut:
            push(true, tf::kSyn, true);
            push(false, tf::kRst | tf::kAck, true);
            break;
        case K::TcpRefusedIn:
            push(false, tf::kSyn, true);
            push(true, tf::kRst | tf::kAck, true);
            break;
        case K::IcmpEchoIn:
        case K::IcmpErrorIn:
            outbound_next = false;
            break;
        default:
            break;
    }
    while (out_left + in_left > 0) {
        const bool outbound = out_left == 0 ? false : in_left == 0 ? true : outbound_next;
        const bool last = out_left + in_left == 1;
        const bool reset = f.kind == K::TcpReset && last;
        push(outbound, reset ? static_cast<uint8_t>(tf::kRst | tf::kAck) : data, reset);
        outbound_next = !outbound;
    }
    return steps;
}

}  // namespace

const std::vector<FlowSpec>& ipv4_mix() {
    static const std::vector<FlowSpec> mix(std::begin(kMix4), std::end(kMix4));
    return mix;
}

const std::vector<FlowSpec>& ipv6_mix() {
    static const std::vector<FlowSpec> mix = make_ipv6_mix();
    return mix;
}

std::vector<FlowSpec> full_default_window() {
    std::vector<FlowSpec> flows = ipv4_mix();
    for (const FlowSpec& f : ipv4_mix()) {
        const bool icmp =
            f.kind == K::IcmpEchoOut || f.kind == K::IcmpEchoIn || f.kind == K::IcmpErrorIn;
        if (!icmp && flows.size() < 64) {
            FlowSpec g = f;
            g.local_port = static_cast<uint16_t>(f.local_port + 5);
            flows.push_back(g);
        }
    }
    const auto& mix6 = ipv6_mix();
    flows.insert(flows.end(), mix6.begin(), mix6.begin() + 16);
    return flows;
}

size_t distinct_remotes(const std::vector<FlowSpec>& mix) {
    std::set<std::string> remotes;
    for (const FlowSpec& f : mix) {
        remotes.insert(f.remote);
    }
    return remotes.size();
}

std::vector<TimedPacket> play(const std::vector<FlowSpec>& mix) {
    std::vector<TimedPacket> out;
    for (const FlowSpec& f : mix) {
        const bool v6 = is_v6(f);
        const bool icmp =
            f.kind == K::IcmpEchoOut || f.kind == K::IcmpEchoIn || f.kind == K::IcmpErrorIn;
        const bool tcp = !icmp && f.kind != K::UdpOutbound;
        const size_t header = (v6 ? 40 : 20) + (tcp ? 20 : 8);
        const std::vector<Step> steps = steps_of(f);
        std::vector<bool> control_out;
        std::vector<bool> control_in;
        for (const Step& s : steps) {
            (s.outbound ? control_out : control_in).push_back(s.control);
        }
        const std::vector<size_t> pay_out = payloads(control_out, f.bytes_out, header);
        const std::vector<size_t> pay_in = payloads(control_in, f.bytes_in, header);
        size_t next_out = 0;
        size_t next_in = 0;
        for (size_t i = 0; i < steps.size(); ++i) {
            const Step& s = steps[i];
            const size_t payload = s.outbound ? pay_out[next_out++] : pay_in[next_in++];
            const uint16_t src_port = s.outbound ? f.local_port : f.remote_port;
            const uint16_t dst_port = s.outbound ? f.remote_port : f.local_port;
            test::Transport t;
            if (tcp) {
                t = test::tcp_segment(src_port, dst_port, s.tcp_flags, payload);
            } else if (!icmp) {
                t = test::udp_datagram(src_port, dst_port, payload);
            } else {
                uint8_t type = 0;
                uint8_t code = 0;
                if (f.kind == K::IcmpErrorIn) {
                    type = v6 ? 1 : 3;  // destination unreachable
                    code = v6 ? 4 : 3;  // port unreachable
                } else {
                    const bool request = s.outbound == (f.kind == K::IcmpEchoOut);
                    type = v6 ? (request ? 128 : 129) : (request ? 8 : 0);
                }
                t = test::icmp_message(type, code, payload, v6);
            }
            const char* src = s.outbound ? f.local : f.remote;
            const char* dst = s.outbound ? f.remote : f.local;
            const uint32_t span = f.end_ms - f.start_ms;
            const uint32_t at =
                steps.size() > 1
                    ? f.start_ms + static_cast<uint32_t>(uint64_t{span} * i / (steps.size() - 1))
                    : f.start_ms;
            TimedPacket p{at, s.outbound ? VIGIL_OUTBOUND : VIGIL_INBOUND,
                          v6 ? test::ipv6_packet(src, dst, t) : test::ipv4_packet(src, dst, t)};
            out.push_back(std::move(p));
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const TimedPacket& a, const TimedPacket& b) { return a.at_ms < b.at_ms; });
    return out;
}

void feed(agent::AgentBase& agent, uint64_t& now_ms, uint64_t window_start_ms,
          const std::vector<TimedPacket>& packets) {
    for (const TimedPacket& p : packets) {
        const uint64_t at = window_start_ms + p.at_ms;
        now_ms = at > now_ms ? at : now_ms;
        agent.packet(p.ip.data(), p.ip.size(), p.direction, 0, at);
    }
}

bool collect_network_only(agent::AgentBase& agent) {
    wire::ConfigFields config = agent.config();
    config.version = 1;
    config.interval_s[1] = wire::kMaxIntervalS;
    config.interval_s[2] = wire::kMaxIntervalS;
    uint8_t buffer[128];
    cbor::Writer writer(buffer, sizeof(buffer));
    wire::encode_config(writer, config);
    return writer.ok() && agent.apply_config(buffer, writer.size()) == agent::Status::Ok;
}

}  // namespace vigil::bench

#include "attacks.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace vigil::sim {
namespace {

// The ports a scanner tries first (nmap's most common TCP ports), then upwards from 1024.
constexpr uint16_t kCommonPorts[] = {80,    23,  443,  21,   22,   25,   3389, 110,  445,   139,
                                     143,   53,  135,  3306, 8080, 1723, 111,  995,  993,   5900,
                                     1025,  587, 8888, 199,  1720, 465,  548,  113,  81,    6001,
                                     10000, 514, 5060, 179,  1026, 2000, 8443, 8000, 32768, 554};

uint16_t scanned_port(uint32_t n) {
    if (n < std::size(kCommonPorts)) {
        return kCommonPorts[n];
    }
    return static_cast<uint16_t>(1024 + (n - std::size(kCommonPorts)) % 60000);
}

// First octets of ordinary public unicast space: a Mirai bot picks random addresses and skips
// private, reserved and multicast ranges.
constexpr uint8_t kPublicFirstOctets[] = {5,   31,  37,  45,  62,  77,  89,  91,  103, 112,
                                          118, 125, 141, 151, 171, 177, 185, 190, 201, 213};

// One short TCP session as the device's stack sees it: the opener's handshake and request, the
// answer, and both sides closing, the opener first. `opener` is the opener's first packet.
void play_session(PacketHeader opener, vigil_direction opener_direction, uint16_t request_bytes,
                  uint16_t answer_bytes, uint64_t at_ms, PacketSink& sink) {
    PacketHeader answerer = opener;
    std::swap(answerer.source, answerer.destination);
    std::swap(answerer.source_port, answerer.destination_port);
    const vigil_direction answer_direction =
        opener_direction == VIGIL_INBOUND ? VIGIL_OUTBOUND : VIGIL_INBOUND;
    struct Step {
        PacketHeader* header;
        vigil_direction direction;
        uint8_t flags;
        uint16_t payload_bytes;
    };
    const Step steps[] = {
        {&opener, opener_direction, tcp_flags::kSyn, 0},
        {&answerer, answer_direction, tcp_flags::kSyn | tcp_flags::kAck, 0},
        {&opener, opener_direction, tcp_flags::kAck, 0},
        {&opener, opener_direction, tcp_flags::kAck | tcp_flags::kPsh, request_bytes},
        {&answerer, answer_direction, tcp_flags::kAck | tcp_flags::kPsh, answer_bytes},
        {&opener, opener_direction, tcp_flags::kFin | tcp_flags::kAck, 0},
        {&answerer, answer_direction, tcp_flags::kFin | tcp_flags::kAck, 0},
    };
    for (const Step& step : steps) {
        step.header->flags = step.flags;
        step.header->payload_bytes = step.payload_bytes;
        sink.deliver(*step.header, step.direction, at_ms);
    }
}

}  // namespace

uint32_t AttackRun::next_random() {
    // xorshift32: reproducible from the scenario's seed.
    random_ ^= random_ << 13;
    random_ ^= random_ >> 17;
    random_ ^= random_ << 5;
    return random_;
}

IpAddress AttackRun::random_public_ipv4() {
    IpAddress a;
    a.family = 4;
    const uint32_t r = next_random();
    a.bytes[0] = kPublicFirstOctets[r % std::size(kPublicFirstOctets)];
    a.bytes[1] = static_cast<uint8_t>(r >> 8);
    a.bytes[2] = static_cast<uint8_t>(r >> 16);
    a.bytes[3] = static_cast<uint8_t>(1 + (r >> 24) % 254);
    return a;
}

void AttackRun::probe_port(uint64_t at_ms, PacketSink& sink) {
    // A SYN scan: the device answers SYN-ACK on a listening port (and the scanner resets it)
    // and RST on a closed one.
    const uint16_t port = scanned_port(probes_);
    PacketHeader probe;
    probe.source = IpAddress::parse(spec_.source);
    probe.destination = sink.local_ipv4();
    probe.source_port = static_cast<uint16_t>(40000 + probes_ % 20000);
    probe.destination_port = port;
    probe.flags = tcp_flags::kSyn;
    sink.deliver(probe, VIGIL_INBOUND, at_ms);
    PacketHeader answer = probe;
    std::swap(answer.source, answer.destination);
    std::swap(answer.source_port, answer.destination_port);
    if (sink.listens(Transport::Tcp, port)) {
        answer.flags = tcp_flags::kSyn | tcp_flags::kAck;
        sink.deliver(answer, VIGIL_OUTBOUND, at_ms);
        probe.flags = tcp_flags::kRst;
        sink.deliver(probe, VIGIL_INBOUND, at_ms);
    } else {
        answer.flags = tcp_flags::kRst | tcp_flags::kAck;
        sink.deliver(answer, VIGIL_OUTBOUND, at_ms);
    }
}

void AttackRun::probe_telnet(uint64_t at_ms, PacketSink& sink) {
    // Mirai sends one SYN per random host, to port 23 nine times in ten and 2323 otherwise;
    // most hosts never answer.
    PacketHeader syn;
    syn.source = sink.local_ipv4();
    syn.destination = random_public_ipv4();
    syn.source_port = static_cast<uint16_t>(32768 + next_random() % 28000);
    syn.destination_port = next_random() % 10 == 0 ? 2323 : 23;
    syn.flags = tcp_flags::kSyn;
    sink.deliver(syn, VIGIL_OUTBOUND, at_ms);
    if (next_random() % 8 == 0) {
        PacketHeader reset = syn;
        std::swap(reset.source, reset.destination);
        std::swap(reset.source_port, reset.destination_port);
        reset.flags = tcp_flags::kRst | tcp_flags::kAck;
        sink.deliver(reset, VIGIL_INBOUND, at_ms);
    }
}

void AttackRun::backdoor_session(uint64_t at_ms, PacketSink& sink) {
    // The remote operator connects, sends a command and reads a larger answer.
    PacketHeader in;
    in.source = IpAddress::parse(spec_.source);
    in.destination = sink.local_ipv4();
    in.source_port = static_cast<uint16_t>(50000 + probes_ % 10000);
    in.destination_port = spec_.port;
    play_session(in, VIGIL_INBOUND, 120, 1400, at_ms, sink);
}

void AttackRun::flood_until(uint64_t sim_ms, PacketSink& sink) {
    // UDP from one source to one port; the device's stack answers none of it.
    PacketHeader packet;
    packet.source = IpAddress::parse(spec_.source);
    packet.destination = sink.local_ipv4();
    packet.transport = Transport::Udp;
    packet.source_port = 53413;
    packet.destination_port = spec_.port;
    packet.payload_bytes = 512;
    const PacketBytes bytes = write_packet(packet);
    const uint64_t end_ms = spec_.at_ms + spec_.duration_ms;
    while (true) {
        const uint64_t at_ms =
            spec_.at_ms + static_cast<uint64_t>(probes_) * 1000 / spec_.packets_per_s;
        if (at_ms > sim_ms || at_ms >= end_ms) {
            break;
        }
        sink.deliver_bytes(bytes, VIGIL_INBOUND, at_ms);
        ++probes_;
    }
    if (sim_ms >= end_ms) {
        finished_ = true;
    }
}

void AttackRun::beacon(uint64_t at_ms, PacketSink& sink) {
    // A check-in: connect, a small request, a small answer (the next command), close.
    PacketHeader out;
    out.source = sink.local_ipv4();
    out.destination = IpAddress::parse(spec_.destination);
    out.source_port = static_cast<uint16_t>(49152 + probes_ % 16000);
    out.destination_port = spec_.port;
    play_session(out, VIGIL_OUTBOUND, 180, 90, at_ms, sink);
}

void AttackRun::exfiltrate_until(uint64_t sim_ms, PacketSink& sink) {
    // One upload over one connection: full-sized segments out at an even pace, an ACK back for
    // every second one.
    constexpr uint16_t kSegmentBytes = 1400;
    PacketHeader out;
    out.source = sink.local_ipv4();
    out.destination = IpAddress::parse(spec_.destination);
    out.source_port = 51515;
    out.destination_port = spec_.port;
    PacketHeader in = out;
    std::swap(in.source, in.destination);
    std::swap(in.source_port, in.destination_port);
    if (!started_listening_) {  // the connection's handshake, once
        started_listening_ = true;
        out.flags = tcp_flags::kSyn;
        sink.deliver(out, VIGIL_OUTBOUND, spec_.at_ms);
        in.flags = tcp_flags::kSyn | tcp_flags::kAck;
        sink.deliver(in, VIGIL_INBOUND, spec_.at_ms);
        out.flags = tcp_flags::kAck;
        sink.deliver(out, VIGIL_OUTBOUND, spec_.at_ms);
    }
    out.flags = tcp_flags::kAck | tcp_flags::kPsh;
    out.payload_bytes = kSegmentBytes;
    in.flags = tcp_flags::kAck;
    const PacketBytes segment = write_packet(out);
    const PacketBytes ack = write_packet(in);
    const uint64_t segments = (spec_.bytes + kSegmentBytes - 1) / kSegmentBytes;
    const uint64_t length_ms = std::max<uint64_t>(spec_.duration_ms, 1);
    while (probes_ < segments) {
        const uint64_t at_ms = spec_.at_ms + probes_ * length_ms / segments;
        if (at_ms > sim_ms) {
            return;
        }
        sink.deliver_bytes(segment, VIGIL_OUTBOUND, at_ms);
        if (probes_ % 2 == 1) {
            sink.deliver_bytes(ack, VIGIL_INBOUND, at_ms);
        }
        ++probes_;
    }
    out.flags = tcp_flags::kFin | tcp_flags::kAck;
    out.payload_bytes = 0;
    sink.deliver(out, VIGIL_OUTBOUND, sim_ms);
    in.flags = tcp_flags::kFin | tcp_flags::kAck;
    sink.deliver(in, VIGIL_INBOUND, sim_ms);
    finished_ = true;
}

bool AttackRun::silences(uint64_t sim_ms) const {
    return spec_.kind == AttackKind::Silence && sim_ms >= spec_.at_ms &&
           (spec_.duration_ms == 0 || sim_ms < spec_.at_ms + spec_.duration_ms);
}

void AttackRun::advance(uint64_t sim_ms, PacketSink& sink, SystemFacts& system) {
    if (finished_ || sim_ms < spec_.at_ms) {
        return;
    }
    started_ = true;
    switch (spec_.kind) {
        case AttackKind::VulnerableFirmware:
            system.os_name = spec_.os_name;
            system.os_version = spec_.os_version;
            system.stack_name = spec_.stack_name;
            system.stack_version = spec_.stack_version;
            finished_ = true;
            return;
        case AttackKind::Flood:
            if (spec_.packets_per_s == 0) {
                finished_ = true;
            } else {
                flood_until(sim_ms, sink);
            }
            return;
        case AttackKind::BackdoorListener:
            if (!started_listening_) {
                sink.listen(Transport::Tcp, spec_.port);
                started_listening_ = true;
            }
            // The listener stays for the rest of the run, with a session now and then.
            while (true) {
                const auto at_ms =
                    spec_.at_ms + static_cast<uint64_t>(probes_ * (1000.0 / spec_.rate_per_s));
                if (at_ms > sim_ms) {
                    return;
                }
                backdoor_session(at_ms, sink);
                ++probes_;
            }
        case AttackKind::Beaconing:
            // Check-ins for the rest of the run.
            while (spec_.at_ms + probes_ * spec_.interval_ms <= sim_ms) {
                beacon(spec_.at_ms + probes_ * spec_.interval_ms, sink);
                ++probes_;
            }
            return;
        case AttackKind::Exfiltration:
            exfiltrate_until(sim_ms, sink);
            return;
        case AttackKind::Silence:
            // The device's step stops while silences() says so.
            finished_ = spec_.duration_ms > 0 && sim_ms >= spec_.at_ms + spec_.duration_ms;
            return;
        case AttackKind::SharedIdentity:
            // The fleet starts the clone (Fleet::follow_clones); nothing changes on this device.
            finished_ = true;
            return;
        case AttackKind::PortScanInbound:
        case AttackKind::TelnetScan:
            break;
    }
    const uint32_t total = spec_.kind == AttackKind::PortScanInbound ? spec_.ports : spec_.targets;
    const double interval_ms = 1000.0 / spec_.rate_per_s;
    while (probes_ < total) {
        const auto at_ms = spec_.at_ms + static_cast<uint64_t>(probes_ * interval_ms);
        if (at_ms > sim_ms) {
            return;
        }
        if (spec_.kind == AttackKind::PortScanInbound) {
            probe_port(at_ms, sink);
        } else {
            probe_telnet(at_ms, sink);
        }
        ++probes_;
    }
    finished_ = true;
}

}  // namespace vigil::sim

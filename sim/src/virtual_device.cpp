#include "virtual_device.hpp"

#include <cstring>
#include <utility>

#include "vigil/agent/mqtt_transport.h"
#include "vigil/protocol/topic.h"

namespace vigil::sim {
namespace {

constexpr uint16_t kEphemeralFirst = 49152;
constexpr uint16_t kEphemeralCount = 16000;

IpAddress device_ipv4(uint32_t profile_index, uint32_t number) {
    IpAddress a;
    a.family = 4;
    a.bytes[0] = 10;
    a.bytes[1] = static_cast<uint8_t>(20 + profile_index);
    a.bytes[2] = static_cast<uint8_t>(number / 250);
    a.bytes[3] = static_cast<uint8_t>(number % 250 + 2);
    return a;
}

IpAddress device_ipv6(uint32_t profile_index, uint32_t number) {
    IpAddress a;
    a.family = 6;
    a.bytes[0] = 0xfd;
    a.bytes[1] = 0x00;
    a.bytes[3] = static_cast<uint8_t>(20 + profile_index);
    const uint32_t host = number + 2;
    a.bytes[12] = static_cast<uint8_t>(host >> 24);
    a.bytes[13] = static_cast<uint8_t>(host >> 16);
    a.bytes[14] = static_cast<uint8_t>(host >> 8);
    a.bytes[15] = static_cast<uint8_t>(host);
    return a;
}

PacketHeader reversed(PacketHeader h) {
    std::swap(h.source, h.destination);
    std::swap(h.source_port, h.destination_port);
    return h;
}

}  // namespace

VirtualDevice::VirtualDevice(DeviceIdentity identity, const Profile& profile,
                             uint32_t profile_index, uint32_t number, uint32_t start_unix_s,
                             uint64_t boot_offset_ms, uint32_t traffic_seed, uint32_t boot_seed)
    : identity_(std::move(identity)),
      profile_(profile),
      system_(profile.system),
      ipv4_(device_ipv4(profile_index, number)),
      ipv6_(device_ipv6(profile_index, number)),
      start_unix_s_(start_unix_s),
      boot_offset_ms_(boot_offset_ms),
      traffic_random_(traffic_seed | 1),
      boot_random_(boot_seed | 1),
      listening_(profile.listening) {
    config_topic_ =
        std::string(wire::kTopicPrefix) + identity_.device_id + wire::kConfigTopicSuffix;
    patterns_.reserve(profile.patterns.size());
    for (const TrafficPattern& pattern : profile.patterns) {
        const IpAddress peer = IpAddress::parse(pattern.peer);
        if (peer.family == 0 || (peer.family == 6 && !profile.ipv6)) {
            continue;
        }
        PatternRun run{};
        run.pattern = &pattern;
        run.next_ephemeral = static_cast<uint16_t>(traffic_random() % kEphemeralCount);
        PacketHeader& out = run.from_device;
        out.source = peer.family == 6 ? ipv6_ : ipv4_;
        out.destination = peer;
        out.transport = pattern.transport;
        out.source_port = pattern.device_port;
        out.destination_port = pattern.peer_port;
        out.flags = tcp_flags::kAck | tcp_flags::kPsh;
        out.payload_bytes = pattern.device_opens ? pattern.request_bytes : pattern.response_bytes;
        run.to_device = reversed(out);
        run.to_device.payload_bytes =
            pattern.device_opens ? pattern.response_bytes : pattern.request_bytes;
        // Devices of one profile start their exchanges at different phases.
        run.next_ms = traffic_random() % pattern.period_ms;
        patterns_.push_back(run);
    }
}

void VirtualDevice::add_attack(const AttackSpec& spec, uint32_t seed) {
    attacks_.emplace_back(spec, seed);
}

uint32_t VirtualDevice::next_random(uint32_t& state) {
    // xorshift32: cheap, and reproducible from its seed.
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

void VirtualDevice::system_info(vigil_system_info& out) {
    out.os_name = system_.os_name.c_str();
    out.os_version = system_.os_version.c_str();
    out.stack_name = system_.stack_name.c_str();
    out.stack_version = system_.stack_version.c_str();
    out.firmware_version = system_.firmware_version.c_str();
    out.board = system_.board.c_str();
    out.address_count = 0;
    for (const IpAddress* a : {&ipv4_, &ipv6_}) {
        if (a->family == 6 && !profile_.ipv6) {
            continue;
        }
        vigil_address& slot = out.addresses[out.address_count++];
        slot.family = a->family;
        std::memcpy(slot.bytes, a->bytes.data(), sizeof slot.bytes);
    }
    // A locally administered MAC made from the device's IPv4 address.
    const uint8_t mac[6] = {0x02,           0x56,           ipv4_.bytes[0],
                            ipv4_.bytes[1], ipv4_.bytes[2], ipv4_.bytes[3]};
    std::memcpy(out.macs[0], mac, sizeof mac);
    out.mac_count = 1;
}

size_t VirtualDevice::listening_ports(vigil_listening_port* out, size_t capacity) {
    const std::vector<ListeningPort>& ports = listening_;
    for (size_t i = 0; i < ports.size() && i < capacity; ++i) {
        out[i] = vigil_listening_port{};
        out[i].protocol = ports[i].transport == Transport::Udp ? VIGIL_UDP : VIGIL_TCP;
        out[i].port = ports[i].port;
    }
    return ports.size();
}

bool VirtualDevice::listens(Transport transport, uint16_t port) const {
    for (const ListeningPort& p : listening_) {
        if (p.transport == transport && p.port == port) {
            return true;
        }
    }
    return false;
}

void VirtualDevice::listen(Transport transport, uint16_t port) {
    if (!listens(transport, port)) {
        listening_.push_back({transport, port});
    }
}

void VirtualDevice::deliver(const PacketHeader& header, vigil_direction direction,
                            uint64_t sim_ms) {
    send_bytes(write_packet(header), direction, sim_ms, 1);
}

void VirtualDevice::send_bytes(const PacketBytes& packet, vigil_direction direction, uint64_t at_ms,
                               uint16_t count) {
    for (uint16_t i = 0; i < count; ++i) {
        agent_.packet(packet.bytes.data(), packet.length, direction, 0, boot_offset_ms_ + at_ms);
    }
    packets_ += count;
}

void VirtualDevice::handshake(PatternRun& run, PacketHeader from_device, PacketHeader to_device,
                              uint64_t at_ms) {
    from_device.payload_bytes = 0;
    to_device.payload_bytes = 0;
    const bool device_opens = run.pattern->device_opens;
    PacketHeader& opener = device_opens ? from_device : to_device;
    PacketHeader& other = device_opens ? to_device : from_device;
    const vigil_direction opener_dir = device_opens ? VIGIL_OUTBOUND : VIGIL_INBOUND;
    const vigil_direction other_dir = device_opens ? VIGIL_INBOUND : VIGIL_OUTBOUND;
    opener.flags = tcp_flags::kSyn;
    deliver(opener, opener_dir, at_ms);
    other.flags = tcp_flags::kSyn | tcp_flags::kAck;
    deliver(other, other_dir, at_ms);
    opener.flags = tcp_flags::kAck;
    deliver(opener, opener_dir, at_ms);
}

void VirtualDevice::exchange(PatternRun& run, uint64_t at_ms) {
    const TrafficPattern& p = *run.pattern;
    const bool tcp = p.transport == Transport::Tcp;
    const bool new_connection = !p.persistent || !run.connection_open;
    if (new_connection) {
        // The client side takes a new ephemeral port for each connection (each query, for UDP).
        const auto ephemeral = static_cast<uint16_t>(kEphemeralFirst + run.next_ephemeral);
        run.next_ephemeral = static_cast<uint16_t>((run.next_ephemeral + 1) % kEphemeralCount);
        if (p.device_opens && p.device_port == 0) {
            run.from_device.source_port = ephemeral;
        } else if (!p.device_opens && p.peer_port == 0) {
            run.from_device.destination_port = ephemeral;
        }
        const uint16_t to_device_payload = run.to_device.payload_bytes;
        run.to_device = reversed(run.from_device);
        run.to_device.payload_bytes = to_device_payload;
        run.out_bytes = write_packet(run.from_device);
        run.in_bytes = write_packet(run.to_device);
        if (tcp) {
            handshake(run, run.from_device, run.to_device, at_ms);
        }
        run.connection_open = true;
    }
    const uint16_t out_count = p.device_opens ? p.request_packets : p.response_packets;
    const uint16_t in_count = p.device_opens ? p.response_packets : p.request_packets;
    if (p.device_opens) {
        send_bytes(run.out_bytes, VIGIL_OUTBOUND, at_ms, out_count);
        send_bytes(run.in_bytes, VIGIL_INBOUND, at_ms, in_count);
    } else {
        send_bytes(run.in_bytes, VIGIL_INBOUND, at_ms, in_count);
        send_bytes(run.out_bytes, VIGIL_OUTBOUND, at_ms, out_count);
    }
    if (tcp && !p.persistent) {
        PacketHeader fin_out = run.from_device;
        fin_out.flags = tcp_flags::kFin | tcp_flags::kAck;
        fin_out.payload_bytes = 0;
        PacketHeader fin_in = reversed(fin_out);
        deliver(fin_out, VIGIL_OUTBOUND, at_ms);
        deliver(fin_in, VIGIL_INBOUND, at_ms);
        run.connection_open = false;
    }
}

bool VirtualDevice::advance(uint64_t sim_ms) {
    if (retired_ || (stepped_ && sim_ms < last_step_ms_ + kStepMs)) {
        return false;
    }
    if (!stepped_) {
        // A device started late in the run (a clone) begins its exchanges from now.
        for (PatternRun& run : patterns_) {
            while (run.next_ms + run.pattern->period_ms <= sim_ms) {
                run.next_ms += run.pattern->period_ms;
            }
        }
    }
    stepped_ = true;
    last_step_ms_ = sim_ms;
    sim_ms_ = sim_ms;
    for (AttackRun& attack : attacks_) {
        if (attack.silences(sim_ms)) {
            // Neither traffic nor reports: as a device switched off. Its agent's clock runs on,
            // so once it comes back its next window starts from now.
            attack.advance(sim_ms, *this, system_);
            for (PatternRun& run : patterns_) {
                while (run.next_ms <= sim_ms) {
                    run.next_ms += run.pattern->period_ms;
                }
            }
            return false;
        }
    }
    for (PatternRun& run : patterns_) {
        const uint32_t period = run.pattern->period_ms;
        while (run.next_ms <= sim_ms) {
            exchange(run, run.next_ms);
            // A little jitter, as a device's timers have.
            run.next_ms += period - period / 100 + traffic_random() % (period / 50 + 1);
        }
    }
    for (AttackRun& attack : attacks_) {
        attack.advance(sim_ms, *this, system_);
    }
    (void)agent_.tick();
    return true;
}

void VirtualDevice::on_config(void* context, const char*, size_t, const uint8_t* payload,
                              size_t payload_length) {
    // A config the agent refuses is reported in its next heartbeat; nothing to do here.
    (void)static_cast<VirtualDevice*>(context)->agent_.apply_config(payload, payload_length);
}

bool VirtualDevice::start(const BrokerAddress& broker, uint32_t real_ms) {
    port_ = ports::bind_port(*this);
    const vigil_transport transport = agent::make_mqtt_transport(client_);
    if (agent_.init(port_, transport, identity_.device_id.c_str()) != agent::Status::Ok) {
        return false;
    }
    if (client_.init(mqtt::posix_transport(&socket_), storage_.view()) != mqtt::Status::Ok) {
        return false;
    }
    broker_host_ = broker.host;
    mqtt_settings_.host = broker_host_.c_str();
    mqtt_settings_.port = broker.port;
    mqtt_settings_.connect.client_id = identity_.client_id.c_str();
    mqtt_settings_.connect.username = identity_.username.c_str();
    mqtt_settings_.connect.password = identity_.password.c_str();
    mqtt_settings_.connect.keep_alive_s = 60;
    mqtt_settings_.on_message = on_config;
    mqtt_settings_.on_message_context = this;
    if (client_.subscribe(config_topic_.c_str(), 1) != mqtt::Status::Ok) {
        return false;
    }
    // A first attempt that fails is retried with backoff by process().
    const mqtt::Status s = client_.start(mqtt_settings_, real_ms);
    return s != mqtt::Status::BadParameter && s != mqtt::Status::BufferTooSmall;
}

void VirtualDevice::process_network(uint32_t real_ms) {
    if (!retired_) {
        (void)client_.process(real_ms);
    }
}

void VirtualDevice::stop() {
    (void)client_.stop();
}

void VirtualDevice::retire() {
    stop();
    retired_ = true;
}

DeviceReport VirtualDevice::report() const {
    DeviceReport r;
    r.device_id = identity_.device_id;
    r.profile = profile_.name;
    r.agent = agent_.counters();
    r.messages_sent = r.agent.messages_sent;
    r.messages_unacknowledged = client_.in_flight();
    r.backlog_messages = agent_.backlog_messages();
    r.packets = packets_;
    r.connects = client_.stats().connects;
    r.connected = client_.is_connected();
    return r;
}

}  // namespace vigil::sim

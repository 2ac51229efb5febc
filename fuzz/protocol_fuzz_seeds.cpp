// Writes the seed corpora of decode_message_fuzz and decode_config_fuzz:
//
//   protocol_fuzz_seeds <fuzz/corpus>
//
// into <fuzz/corpus>/decode_message/ and <fuzz/corpus>/decode_config/. Seeds that already cover
// every section, protocol, family and optional key let a short run start deep in the decoder
// instead of spending its inputs rediscovering the map layout.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "vigil/protocol/message.h"

namespace {

using vigil::protocol::Flow;
using vigil::protocol::Message;
namespace wire = vigil::wire;

wire::Address address(std::initializer_list<uint8_t> bytes) {
    wire::Address out;
    out.family = bytes.size() == 4 ? 4 : 6;
    std::copy(bytes.begin(), bytes.end(), out.bytes);
    return out;
}

wire::FlowFields flow(uint8_t flags, uint16_t local_port, uint16_t remote_port, uint32_t bytes) {
    wire::FlowFields f;
    f.flags = flags;
    f.local_port = local_port;
    f.remote_port = remote_port;
    f.bytes_in = bytes;
    f.bytes_out = bytes / 2;
    f.packets_in = 1 + bytes / 1000;
    f.packets_out = 1 + bytes / 2000;
    f.first_s = 1;
    f.last_s = 8;
    return f;
}

Message envelope(uint32_t sequence) {
    Message m;
    m.boot_id = 0xC0FFEE;
    m.sequence = sequence;
    m.unix_time = 1767225600;
    m.uptime = 600;
    return m;
}

std::vector<std::pair<std::string, Message>> messages() {
    std::vector<std::pair<std::string, Message>> out;
    out.emplace_back("envelope", envelope(0));

    Message network = envelope(1);
    auto& n = network.network.emplace();
    n.window_start_age_ms = 10000;
    n.window_duration_ms = 10000;
    const wire::Address local4 = address({192, 0, 2, 10});
    const wire::Address local6 =
        address({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    n.local_addresses = {local4, local6};
    n.flows = {
        Flow{0, address({198, 51, 100, 7}), flow(0x00, 49152, 8883, 4200)},
        Flow{0, address({198, 51, 100, 7}), flow(0x10, 49153, 8883, 0)},
        Flow{0, address({198, 51, 100, 7}), flow(0x24, 22, 50000, 300)},
        Flow{0, address({192, 0, 2, 1}), flow(0x09, 40000, 53, 120)},
        Flow{1, address({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99}),
             flow(0x02, 128, 0, 64)},
    };
    wire::OverflowFields overflow;
    overflow.family = 6;
    overflow.protocol = wire::Protocol::Icmp;
    overflow.bytes_in = 640;
    overflow.packets_in = 10;
    n.overflow = {overflow};
    n.part = std::make_pair(0u, 2u);
    out.emplace_back("network", network);

    Message system = envelope(2);
    auto& s = system.system.emplace();
    s.agent_version = "0.1.0";
    s.os_name = "Eclipse ThreadX";
    s.os_version = "6.4";
    s.stack_name = "NetX Duo";
    s.stack_version = "6.4";
    s.firmware_version = "fw \xe2\x80\x94 1";
    s.board = "board";
    s.addresses = {local4, local6};
    s.macs = {{2, 0, 0x5e, 0, 0, 1}};
    auto& ports = system.listening_ports.emplace(2);
    ports[0].port = 22;
    ports[1].protocol = wire::Protocol::Udp;
    ports[1].port = 5683;
    ports[1].address = local6;
    out.emplace_back("system_ports", system);

    Message heartbeat = envelope(3);
    auto& hb = heartbeat.heartbeat.emplace();
    hb.state = wire::AgentState::Active;
    hb.packets_seen = uint64_t{1} << 33;
    hb.messages_sent = 300;
    hb.rejected_config_version = 9;
    hb.rejected_config_reason = wire::ConfigError::BadPriority;
    hb.collectors = 0x1E;
    out.emplace_back("heartbeat", heartbeat);
    return out;
}

std::vector<uint8_t> config_bytes(const wire::ConfigFields& config) {
    vigil::cbor::Writer counter;
    wire::encode_config(counter, config);
    std::vector<uint8_t> bytes(counter.size());
    vigil::cbor::Writer writer(bytes.data(), bytes.size());
    wire::encode_config(writer, config);
    return bytes;
}

bool write(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <fuzz/corpus>\n", argv[0]);
        return 2;
    }
    const std::filesystem::path root = argv[1];
    const std::filesystem::path message_dir = root / "decode_message";
    const std::filesystem::path config_dir = root / "decode_config";
    std::filesystem::create_directories(message_dir);
    std::filesystem::create_directories(config_dir);
    bool ok = true;
    for (const auto& [name, message] : messages()) {
        ok = write(message_dir / (name + ".cbor"), vigil::protocol::encode_message(message)) && ok;
    }

    // decode_config_fuzz starts from a config of version 1000: seeds one newer, so they apply.
    wire::ConfigFields full;
    full.version = 1001;
    full.interval_s[2] = wire::kMaxIntervalS;
    full.collectors[0] = {false, wire::Priority::Low};
    full.retry_s = wire::kMaxRetryS;
    ok = write(config_dir / "full.cbor", config_bytes(full)) && ok;
    // Only some keys: version, one collector, retry.
    ok = write(config_dir / "partial.cbor", {0xA3, 0x01, 0x19, 0x03, 0xEA, 0x03, 0xA1, 0x02, 0x82,
                                             0xF4, 0x01, 0x06, 0x18, 0x3C}) &&
         ok;
    ok = write(config_dir / "version_only.cbor", {0xA1, 0x01, 0x19, 0x03, 0xEB}) && ok;
    return ok ? 0 : 1;
}

// Drives a real agent on the simulated platform and decodes what it publishes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fake_platform.hpp"
#include "packets.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/protocol/message.h"

namespace vigil::test {

inline std::vector<protocol::Message> decode_all(const std::vector<Published>& published) {
    std::vector<protocol::Message> out;
    for (const Published& p : published) {
        protocol::Message m;
        const protocol::DecodeResult r =
            protocol::decode_message(p.payload.data(), p.payload.size(), m);
        EXPECT_TRUE(r.ok()) << protocol::to_string(r.error) << ": " << r.detail;
        out.push_back(m);
    }
    return out;
}

/// Sums of a traffic direction over every flow and overflow record of some messages.
struct Totals {
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t packets_in = 0;
    uint64_t packets_out = 0;
    uint64_t overflow_packets = 0;
    size_t flows = 0;

    bool operator==(const Totals& o) const {
        return bytes_in == o.bytes_in && bytes_out == o.bytes_out && packets_in == o.packets_in &&
               packets_out == o.packets_out;
    }
};

inline Totals totals(const std::vector<protocol::Message>& messages) {
    Totals t;
    for (const protocol::Message& m : messages) {
        if (!m.network) {
            continue;
        }
        for (const protocol::Flow& f : m.network->flows) {
            t.bytes_in += f.fields.bytes_in;
            t.bytes_out += f.fields.bytes_out;
            t.packets_in += f.fields.packets_in;
            t.packets_out += f.fields.packets_out;
            ++t.flows;
        }
        for (const wire::OverflowFields& o : m.network->overflow) {
            t.bytes_in += o.bytes_in;
            t.bytes_out += o.bytes_out;
            t.packets_in += o.packets_in;
            t.packets_out += o.packets_out;
            t.overflow_packets += o.packets_in + o.packets_out;
        }
    }
    return t;
}

/// Feeds packets and remembers what was sent, so tests can compare against the agent's report.
template <typename AgentType>
class Harness {
  public:
    explicit Harness(uint32_t splay_max_ms = 0, const char* device_id = "device-1") {
        const vigil_options options{splay_max_ms};
        port_ = platform.port();
        transport_ = platform.transport();
        EXPECT_EQ(agent.init(port_, transport_, device_id, &options), agent::Status::Ok);
    }

    void send(const std::vector<uint8_t>& packet, vigil_direction direction) {
        agent.packet(packet.data(), packet.size(), direction, 0, platform.now_ms);
        Totals& t = sent;
        if (direction == VIGIL_INBOUND) {
            t.bytes_in += packet.size();
            ++t.packets_in;
        } else {
            t.bytes_out += packet.size();
            ++t.packets_out;
        }
    }

    /// Moves the clock in steps of `step_ms`, ticking at each step.
    void run_for(uint64_t duration_ms, uint64_t step_ms = 1000) {
        for (uint64_t elapsed = 0; elapsed < duration_ms; elapsed += step_ms) {
            platform.now_ms += step_ms;
            EXPECT_EQ(agent.tick(), agent::Status::Ok);
        }
    }

    std::vector<protocol::Message> messages() const { return decode_all(platform.published); }

    FakePlatform platform;
    AgentType agent;
    Totals sent;

  private:
    vigil_port port_{};
    vigil_transport transport_{};
};

}  // namespace vigil::test

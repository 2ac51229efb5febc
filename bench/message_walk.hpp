// Walks one agent message with the protocol's own CBOR reader and records how many bytes every
// part of it takes: the envelope pairs, each event, and inside the network event each local
// address, each group's head, local index and remote address, and each field of each flow.
// The benchmarks use it to split a message's size by field; it checks the layout the agent
// writes (docs/protocol.md), not every rule of the schema.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/protocol/wire.h"

namespace vigil::bench {

constexpr const char* kFlowFieldNames[wire::kFlowItems] = {
    "flags",      "local_port",  "remote_port", "bytes_in", "bytes_out",
    "packets_in", "packets_out", "first_s",     "last_s"};

struct FlowBytes {
    std::array<size_t, wire::kFlowItems> bytes{};
    std::array<uint64_t, wire::kFlowItems> value{};
};

struct GroupBytes {
    size_t head = 0;         ///< array head
    size_t local_index = 0;  ///< the uint that names the local address
    size_t remote = 0;       ///< bstr head + address
    uint64_t local_index_value = 0;
    std::vector<uint8_t> remote_address;
    std::vector<FlowBytes> flows;
};

struct MessageWalk {
    bool ok = false;
    std::string error;
    size_t total = 0;
    size_t map_head = 0;
    size_t envelope_pairs = 0;  ///< keys 1..5 with their values
    std::array<uint64_t, 6> envelope_value{};
    std::array<size_t, 6> envelope_pair_bytes{};
    std::array<size_t, 16> event_pair_bytes{};  ///< by message key (10..13), key included

    bool network = false;
    size_t network_map_head = 0;
    std::array<size_t, 7> network_pair_bytes{};  ///< by network key, key included
    std::array<size_t, 7> network_value_offset{};
    std::array<size_t, 7> network_value_bytes{};  ///< value only
    size_t locals_head = 0;
    std::vector<size_t> local_bytes;  ///< per address: bstr head + address
    size_t groups_head = 0;
    std::vector<GroupBytes> groups;
    uint64_t part_index = 0;
    uint64_t part_count = 1;

    size_t flow_count() const {
        size_t n = 0;
        for (const GroupBytes& g : groups) {
            n += g.flows.size();
        }
        return n;
    }
};

MessageWalk walk_message(const std::vector<uint8_t>& message);

/// The same message with empty local-address and group arrays: what it would weigh without a
/// single flow (envelope, network map, window keys and overflow unchanged). Built byte by byte
/// from `message`, so it is a real message the reader accepts.
std::vector<uint8_t> without_flows(const std::vector<uint8_t>& message, const MessageWalk& walk);

}  // namespace vigil::bench

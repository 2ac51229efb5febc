#include "message_walk.hpp"

#include "vigil/protocol/cbor.h"

namespace vigil::bench {

namespace {

struct Walker {
    cbor::Reader in;
    MessageWalk& out;

    bool fail(const std::string& what) {
        out.ok = false;
        out.error = what + " at offset " + std::to_string(in.offset()) +
                    (in.failed() ? std::string(" (") + cbor::to_string(in.error()) + ")" : "");
        return false;
    }

    bool uint_item(uint64_t& value, size_t& bytes) {
        const size_t start = in.offset();
        if (!in.read_uint(value)) {
            return false;
        }
        bytes = in.offset() - start;
        return true;
    }

    bool port_field(uint64_t& value, size_t& bytes) {
        const size_t start = in.offset();
        int64_t wide = 0;
        uint16_t port = 0;
        if (!in.read_int(wide) || !wire::port_from_wire(wide, port)) {
            return false;
        }
        value = port;
        bytes = in.offset() - start;
        return true;
    }

    bool group() {
        GroupBytes g;
        size_t start = in.offset();
        size_t items = 0;
        if (!in.read_array(items) || items < wire::kGroupHeaderItems ||
            (items - wire::kGroupHeaderItems) % wire::kFlowItems != 0) {
            return fail("group array");
        }
        g.head = in.offset() - start;
        if (!uint_item(g.local_index_value, g.local_index)) {
            return fail("group local index");
        }
        start = in.offset();
        const uint8_t* address = nullptr;
        size_t length = 0;
        if (!in.read_bytes(address, length) || (length != 4 && length != 16)) {
            return fail("group remote address");
        }
        g.remote = in.offset() - start;
        g.remote_address.assign(address, address + length);
        for (size_t f = 0; f < (items - wire::kGroupHeaderItems) / wire::kFlowItems; ++f) {
            FlowBytes flow;
            for (size_t i = 0; i < wire::kFlowItems; ++i) {
                // Items 1 and 2 are ports, which may name a well-known port as a negative int.
                const bool port_item = i == 1 || i == 2;
                if (!(port_item ? port_field(flow.value[i], flow.bytes[i])
                                : uint_item(flow.value[i], flow.bytes[i]))) {
                    return fail("flow field");
                }
            }
            g.flows.push_back(flow);
        }
        out.groups.push_back(std::move(g));
        return true;
    }

    bool network() {
        size_t start = in.offset();
        size_t pairs = 0;
        if (!in.read_map(pairs)) {
            return fail("network map");
        }
        out.network = true;
        out.network_map_head = in.offset() - start;
        for (size_t p = 0; p < pairs; ++p) {
            const size_t pair_start = in.offset();
            uint64_t key = 0;
            if (!in.read_uint(key) || key < 1 || key > 6) {
                return fail("network key");
            }
            const size_t value_start = in.offset();
            size_t count = 0;
            switch (key) {
                case wire::network_key::kLocalAddresses:
                    if (!in.read_array(count)) {
                        return fail("local addresses");
                    }
                    out.locals_head = in.offset() - value_start;
                    for (size_t i = 0; i < count; ++i) {
                        start = in.offset();
                        const uint8_t* data = nullptr;
                        size_t length = 0;
                        if (!in.read_bytes(data, length)) {
                            return fail("local address");
                        }
                        out.local_bytes.push_back(in.offset() - start);
                    }
                    break;
                case wire::network_key::kGroups:
                    if (!in.read_array(count)) {
                        return fail("groups");
                    }
                    out.groups_head = in.offset() - value_start;
                    for (size_t i = 0; i < count; ++i) {
                        if (!group()) {
                            return false;
                        }
                    }
                    break;
                case wire::network_key::kPart:
                    if (!in.read_array(count) || count != 2 || !in.read_uint(out.part_index) ||
                        !in.read_uint(out.part_count)) {
                        return fail("part");
                    }
                    break;
                default:
                    if (!in.skip()) {
                        return fail("network value");
                    }
                    break;
            }
            out.network_value_offset[key] = value_start;
            out.network_value_bytes[key] = in.offset() - value_start;
            out.network_pair_bytes[key] = in.offset() - pair_start;
        }
        return true;
    }

    bool message() {
        size_t pairs = 0;
        if (!in.read_map(pairs)) {
            return fail("message map");
        }
        out.map_head = in.offset();
        for (size_t p = 0; p < pairs; ++p) {
            const size_t pair_start = in.offset();
            uint64_t key = 0;
            if (!in.read_uint(key) || key >= out.event_pair_bytes.size()) {
                return fail("message key");
            }
            if (key >= wire::message_key::kVersion && key <= wire::message_key::kUptime) {
                if (!in.read_uint(out.envelope_value[key])) {
                    return fail("envelope value");
                }
                out.envelope_pair_bytes[key] = in.offset() - pair_start;
                out.envelope_pairs += in.offset() - pair_start;
                continue;
            }
            if (key == wire::message_key::kNetwork) {
                if (!network()) {
                    return false;
                }
            } else if (!in.skip()) {
                return fail("event value");
            }
            out.event_pair_bytes[key] = in.offset() - pair_start;
        }
        if (!in.finish()) {
            return fail("trailing bytes");
        }
        out.ok = true;
        return true;
    }
};

}  // namespace

MessageWalk walk_message(const std::vector<uint8_t>& message) {
    MessageWalk out;
    out.total = message.size();
    Walker walker{cbor::Reader(message.data(), message.size()), out};
    walker.message();
    return out;
}

std::vector<uint8_t> without_flows(const std::vector<uint8_t>& message, const MessageWalk& walk) {
    const size_t locals_at = walk.network_value_offset[wire::network_key::kLocalAddresses];
    const size_t locals_end =
        locals_at + walk.network_value_bytes[wire::network_key::kLocalAddresses];
    const size_t groups_at = walk.network_value_offset[wire::network_key::kGroups];
    const size_t groups_end = groups_at + walk.network_value_bytes[wire::network_key::kGroups];
    std::vector<uint8_t> out(message.begin(), message.begin() + locals_at);
    out.push_back(0x80);  // []
    out.insert(out.end(), message.begin() + locals_end, message.begin() + groups_at);
    out.push_back(0x80);  // []
    out.insert(out.end(), message.begin() + groups_end, message.end());
    return out;
}

}  // namespace vigil::bench

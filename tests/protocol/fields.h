// Builds wire structs in one line for the protocol tests and fixtures.
#pragma once

#include <cstdint>

#include "vigil/protocol/wire.h"

namespace vigil::test {

inline wire::FlowFields flow(uint8_t flags, uint16_t local_port, uint16_t remote_port,
                             uint32_t bytes_in, uint32_t bytes_out, uint32_t packets_in,
                             uint32_t packets_out, uint32_t first_s, uint32_t last_s) {
    wire::FlowFields f;
    f.flags = flags;
    f.local_port = local_port;
    f.remote_port = remote_port;
    f.bytes_in = bytes_in;
    f.bytes_out = bytes_out;
    f.packets_in = packets_in;
    f.packets_out = packets_out;
    f.first_s = first_s;
    f.last_s = last_s;
    return f;
}

}  // namespace vigil::test

// A config message that sets every priority group's interval to one second, so the NetX Duo
// tests see windows close within their time budgets.
#pragma once

#include <cstdint>
#include <vector>

#include "vigil/protocol/wire.h"

namespace vigil::test::netx {

inline std::vector<uint8_t> one_second_config() {
    vigil::wire::ConfigFields config;
    for (uint32_t& interval : config.interval_s) {
        interval = 1;
    }
    uint8_t buffer[256];
    vigil::cbor::Writer writer(buffer, sizeof(buffer));
    vigil::wire::encode_config(writer, config);
    return std::vector<uint8_t>(buffer, buffer + writer.size());
}

}  // namespace vigil::test::netx

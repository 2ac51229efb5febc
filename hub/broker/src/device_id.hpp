// The device id rule of topics and broker accounts, as decode.hpp states it: 1-127 bytes of
// A-Z a-z 0-9 - . _ : (so never an MQTT wildcard, a '/' or a leading '$'). The same as ingest's
// copy, so that the broker builds without the decoders' library.
#pragma once

#include <string_view>

namespace vigil::hub::broker_detail {

inline bool device_id_ok(std::string_view id) {
    if (id.empty() || id.size() > 127) {
        return false;
    }
    for (const char c : id) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace vigil::hub::broker_detail

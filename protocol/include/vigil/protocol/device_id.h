// The device id rule, shared by the agent (which refuses to start with a bad id), the hub's
// decoders (topics), its broker accounts and its API. A device id is 1-127 bytes of
// A-Z a-z 0-9 - . _ : so it is never an MQTT wildcard, a '/' or a leading '$', and is safe in
// URLs, logs and metric labels. Freestanding: the agent core includes it.
#pragma once

#include <cstddef>

namespace vigil::wire {

constexpr size_t kMaxDeviceIdBytes = 127;

/// A-Z a-z 0-9 - _ : — the characters device ids and AWS thing names share.
constexpr bool is_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == ':';
}

constexpr bool is_device_id_char(char c) {
    return is_name_char(c) || c == '.';
}

/// True for 1 to `max_length` bytes at `text`, each one `allowed`.
constexpr bool valid_name(const char* text, size_t length, size_t max_length,
                          bool (*allowed)(char)) {
    if (text == nullptr || length == 0 || length > max_length) {
        return false;
    }
    for (size_t i = 0; i < length; ++i) {
        if (!allowed(text[i])) {
            return false;
        }
    }
    return true;
}

/// True for `length` bytes at `id` that make a device id.
constexpr bool valid_device_id(const char* id, size_t length) {
    return valid_name(id, length, kMaxDeviceIdBytes, is_device_id_char);
}

/// The hub's own MQTT client ids: the prefix, then '/' and the client's name. A device id never
/// contains '/', so no device can ever hold one of them.
constexpr char kHubClientIdPrefix[] = "vigil-hub/";
/// Device ids the hub refuses to enrol: those starting with "vigil-hub" look like the hub's
/// clients (and include "vigil-hub-ingest", the ingest session's name before the prefix above).
/// The broker also refuses such client ids to anyone but the hub's accounts.
constexpr char kReservedDeviceIdPrefix[] = "vigil-hub";
constexpr bool is_reserved_device_id(const char* id, size_t length) {
    constexpr size_t prefix_length = sizeof kReservedDeviceIdPrefix - 1;
    if (id == nullptr || length < prefix_length) {
        return false;
    }
    for (size_t i = 0; i < prefix_length; ++i) {
        if (id[i] != kReservedDeviceIdPrefix[i]) {
            return false;
        }
    }
    return true;
}
/// The length of a NUL-terminated device id, or 0 when it is not one. Reads at most
/// kMaxDeviceIdBytes + 1 bytes, so an unterminated string is refused rather than overrun.
constexpr size_t device_id_length(const char* id) {
    if (id == nullptr) {
        return 0;
    }
    size_t length = 0;
    while (id[length] != '\0') {
        if (!is_device_id_char(id[length]) || ++length > kMaxDeviceIdBytes) {
            return 0;
        }
    }
    return length;
}

}  // namespace vigil::wire

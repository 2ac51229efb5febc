// libFuzzer target for the agent's config decoder (wire::decode_config), which reads what the hub
// or anyone else with access to the config topic sends. For every input:
//  1. no read outside the input (ASan);
//  2. on error the config in force is exactly as it was: a config applies whole or not at all;
//  3. on success every value is within its documented range, the version went up, and the
//     config encodes to bytes that decode back to the same config.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vigil/protocol/wire.h"

namespace {

namespace wire = vigil::wire;

[[noreturn]] void broken(const char* invariant) {
    std::fprintf(stderr, "decode_config_fuzz: %s\n", invariant);
    std::abort();
}

/// Large enough for any ConfigFields: six keys, the longest values 5 bytes each.
constexpr size_t kConfigBytes = 96;

struct Encoded {
    uint8_t bytes[kConfigBytes] = {};
    size_t size = 0;
};

Encoded encode(const wire::ConfigFields& config) {
    Encoded out;
    vigil::cbor::Writer writer(out.bytes, sizeof(out.bytes));
    wire::encode_config(writer, config);
    if (!writer.ok()) {
        broken("config encoding does not fit its buffer");
    }
    out.size = writer.size();
    return out;
}

bool same(const wire::ConfigFields& a, const wire::ConfigFields& b) {
    const Encoded ea = encode(a);
    const Encoded eb = encode(b);
    return ea.size == eb.size && std::memcmp(ea.bytes, eb.bytes, ea.size) == 0;
}

/// A config in force that is not the build default, so "unchanged" is a real check.
wire::ConfigFields in_force() {
    wire::ConfigFields config;
    config.version = 1000;
    config.interval_s[0] = 7;
    config.collectors[2] = {false, wire::Priority::Medium};
    config.unicast_only = false;
    config.pending_timeout_s = 77;
    config.retry_s = 11;
    return config;
}

void check_ranges(const wire::ConfigFields& config) {
    for (uint32_t interval : config.interval_s) {
        if (interval < wire::kMinIntervalS || interval > wire::kMaxIntervalS) {
            broken("interval out of range accepted");
        }
    }
    for (const wire::CollectorSetting& setting : config.collectors) {
        if (static_cast<size_t>(setting.priority) >= wire::kPriorityCount) {
            broken("priority out of range accepted");
        }
    }
    if (config.pending_timeout_s < 1 || config.pending_timeout_s > wire::kMaxPendingTimeoutS ||
        config.retry_s < 1 || config.retry_s > wire::kMaxRetryS) {
        broken("timeout out of range accepted");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const wire::ConfigFields before = in_force();
    wire::ConfigFields config = before;
    uint32_t version = 0;
    const wire::ConfigError error = wire::decode_config(data, size, config, version);
    if (error != wire::ConfigError::None) {
        if (!same(config, before)) {
            broken("a rejected config changed the config in force");
        }
        return 0;
    }
    if (version != config.version) {
        broken("reported another version than the one applied");
    }
    // Accepted: a newer version, or the config in force delivered again (same version, same
    // settings), which must change nothing.
    if (config.version < before.version ||
        (config.version == before.version && !same(config, before))) {
        broken("accepted a version that is not newer with other settings");
    }
    check_ranges(config);
    const Encoded encoded = encode(config);
    wire::ConfigFields decoded = wire::ConfigFields{};
    uint32_t decoded_version = 0;
    if (wire::decode_config(encoded.bytes, encoded.size, decoded, decoded_version) !=
            wire::ConfigError::None ||
        !same(decoded, config)) {
        broken("an applied config does not survive encode and decode");
    }
    return 0;
}

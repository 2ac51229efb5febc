// What every harness of the hub's decoders (hub_*_fuzz.cpp) checks on each input, so that a
// harness says only how it builds the message and what is particular to its format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vigil/hub/decode.hpp"

namespace vigil::hub::fuzz {

// The device id every harness puts in its topic.
inline constexpr const char* kDevice = "fuzz";

// Ends the run so that libFuzzer saves the input; harness names the target in the message.
[[noreturn]] inline void broken(const char* harness, const char* invariant) {
    std::fprintf(stderr, "%s: %s\n", harness, invariant);
    std::abort();
}

inline Incoming incoming(std::string topic, const uint8_t* data, size_t size) {
    Incoming message;
    message.topic = std::move(topic);
    message.payload.assign(data, data + size);
    return message;
}

// decode() of the message, then the invariants that hold for every format: a refusal always has
// a reason and a detail, an acceptance has no reason, and the JSON form of the report is valid.
inline DecodeOutcome decode_checked(const char* harness, const Incoming& message) {
    DecodeOutcome outcome = decode(message);
    if (outcome.ok != outcome.reason.empty() || (!outcome.ok && outcome.detail.empty())) {
        broken(harness, "ok, reason and detail disagree");
    }
    if (!nlohmann::json::accept(to_json(outcome.report))) {
        broken(harness, "to_json produced invalid JSON");
    }
    return outcome;
}

// For the formats a device sends on its own events topic (Vigil, legacy Defender): besides the
// common invariants, an accepted message has its key, the device id comes from the topic, the hub
// never answers, and decode_file() of the same bytes agrees with decode().
inline void check_device_message(const char* harness, std::string topic, FileFormat format,
                                 const uint8_t* data, size_t size) {
    const Incoming message = incoming(std::move(topic), data, size);
    const DecodeOutcome outcome = decode_checked(harness, message);
    if (outcome.ok && outcome.report.message_key.empty()) {
        broken(harness, "accepted without a message key");
    }
    if (outcome.report.device_id != kDevice || outcome.response) {
        broken(harness, "device id not from the topic, or an answer to a device message");
    }
    if (decode_file(message.payload, format).ok != outcome.ok) {
        broken(harness, "decode_file disagrees with decode");
    }
}

}  // namespace vigil::hub::fuzz

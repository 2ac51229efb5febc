// libFuzzer target for the hub's legacy Defender decoder (FlatBuffers), through decode() on its
// topic. For every input: no crash or out-of-bounds read (ASan), a refusal always has a reason
// and a detail, an accepted message has its key, and the JSON form of the report is valid JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "vigil/hub/decode.hpp"

namespace {

[[noreturn]] void broken(const char* invariant) {
    std::fprintf(stderr, "hub_defender_fuzz: %s\n", invariant);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vigil::hub;
    Incoming message;
    message.topic =
        "devices/fuzz/messages/events/"
        "mti=2.3-1-0-0&%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1";
    message.payload.assign(data, data + size);
    const DecodeOutcome outcome = decode(message);
    if (outcome.ok != outcome.reason.empty()) {
        broken("ok and reason disagree");
    }
    if (!outcome.ok && outcome.detail.empty()) {
        broken("refusal without a detail");
    }
    if (outcome.ok && outcome.report.message_key.empty()) {
        broken("accepted without a message key");
    }
    if (outcome.report.device_id != "fuzz" || outcome.response) {
        broken("device id not from the topic, or an answer to a Defender message");
    }
    if (decode_file(message.payload, FileFormat::LegacyDefender).ok != outcome.ok) {
        broken("decode_file disagrees with decode");
    }
    if (!nlohmann::json::accept(to_json(outcome.report))) {
        broken("to_json produced invalid JSON");
    }
    return 0;
}

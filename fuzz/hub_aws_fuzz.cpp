// libFuzzer target for the hub's AWS IoT Device Defender decoder. The first byte picks the
// topic (even: .../json, odd: .../cbor); the rest is the report. For every input: no crash or
// out-of-bounds read (ASan), no unbounded recursion, a refusal has a reason and a detail, and
// there is always an answer on .../accepted exactly when the report was accepted, encoded like
// the report and naming the thing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "vigil/hub/decode.hpp"

namespace {

[[noreturn]] void broken(const char* invariant) {
    std::fprintf(stderr, "hub_aws_fuzz: %s\n", invariant);
    std::abort();
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vigil::hub;
    if (size == 0) {
        return 0;
    }
    const bool cbor = (data[0] & 1) != 0;
    Incoming message;
    message.topic = std::string("$aws/things/fuzz/defender/metrics/") + (cbor ? "cbor" : "json");
    message.payload.assign(data + 1, data + size);
    const DecodeOutcome outcome = decode(message);
    if (outcome.ok != outcome.reason.empty() || (!outcome.ok && outcome.detail.empty())) {
        broken("ok, reason and detail disagree");
    }
    if (!outcome.response) {
        broken("a report on a valid topic without an answer");
    }
    if (ends_with(outcome.response->topic, "/accepted") != outcome.ok) {
        broken("answer topic does not match the outcome");
    }
    const nlohmann::json answer =
        cbor ? nlohmann::json::from_cbor(outcome.response->payload, true, false)
             : nlohmann::json::parse(outcome.response->payload.begin(),
                                     outcome.response->payload.end(), nullptr, false);
    if (answer.is_discarded() || answer.value("thingName", "") != "fuzz") {
        broken("answer is not a valid document naming the thing");
    }
    if (!nlohmann::json::accept(to_json(outcome.report))) {
        broken("to_json produced invalid JSON");
    }
    return 0;
}

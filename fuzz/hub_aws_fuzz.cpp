// libFuzzer target for the hub's AWS IoT Device Defender decoder. The first byte picks the
// topic (even: .../json, odd: .../cbor); the rest is the report. For every input: no crash or
// out-of-bounds read (ASan), no unbounded recursion, the invariants of hub_fuzz_checks.hpp, and
// there is always an answer, on .../accepted exactly when the report was accepted, encoded like
// the report and naming the thing.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "hub_fuzz_checks.hpp"

namespace {

constexpr const char* kHarness = "hub_aws_fuzz";

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
    const DecodeOutcome outcome = fuzz::decode_checked(
        kHarness,
        fuzz::incoming(std::string("$aws/things/fuzz/defender/metrics/") + (cbor ? "cbor" : "json"),
                       data + 1, size - 1));
    if (!outcome.response) {
        fuzz::broken(kHarness, "a report on a valid topic without an answer");
    }
    if (ends_with(outcome.response->topic, "/accepted") != outcome.ok) {
        fuzz::broken(kHarness, "answer topic does not match the outcome");
    }
    const nlohmann::json answer =
        cbor ? nlohmann::json::from_cbor(outcome.response->payload, true, false)
             : nlohmann::json::parse(outcome.response->payload.begin(),
                                     outcome.response->payload.end(), nullptr, false);
    if (answer.is_discarded() || answer.value("thingName", "") != fuzz::kDevice) {
        fuzz::broken(kHarness, "answer is not a valid document naming the thing");
    }
    return 0;
}

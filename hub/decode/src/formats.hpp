// What the dispatcher (decode.cpp) needs from each format's file. Internal to the library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "vigil/hub/decode.hpp"

namespace vigil::hub::detail {

/// Marks `outcome` failed with a reason:: code and a detail for people; always returns false so
/// that a decoder can `return fail(...)`.
bool fail(DecodeOutcome& outcome, const char* reason, std::string detail);

/// Each decoder parses `size` bytes (already checked: 1..kMaxPayloadBytes) and fills the report
/// fields its format carries; the dispatcher fills device_id, format, payload_bytes and
/// received_ms. Returns outcome.ok.
bool decode_vigil(const uint8_t* data, size_t size, DecodeOutcome& outcome);
bool decode_defender(const uint8_t* data, size_t size, DecodeOutcome& outcome);

enum class AwsEncoding : uint8_t { Json, Cbor };
/// What the answer to an AWS report says beyond the outcome (docs/formats.md, "Answer").
struct AwsAnswerFacts {
    /// Set whenever the header's report id could be read, even if the report was then
    /// rejected, so that the rejection can name it.
    std::optional<uint64_t> report_id;
    /// The service's statusDetails.ErrorCode for a rejection: "Malformed" (not a JSON or CBOR
    /// document), "MissingHeader", or "InvalidPayload" (read, but against the specification).
    const char* error_code = "InvalidPayload";
};
bool decode_aws(const uint8_t* data, size_t size, AwsEncoding encoding, DecodeOutcome& outcome,
                AwsAnswerFacts& facts);
/// The service's answer to a report on $aws/things/{thing}/defender/metrics/{json|cbor}:
/// .../accepted or .../rejected, encoded like the report.
Response aws_response(const std::string& thing, AwsEncoding encoding, const DecodeOutcome& outcome,
                      const AwsAnswerFacts& facts, int64_t received_ms);

/// Where a topic says a message goes.
struct Route {
    bool ok = false;
    const char* reason = "";  ///< reason:: code when !ok
    std::string detail;
    Format format = Format::Vigil;
    std::string device_id;  ///< the device id or thing name; set whenever the topic had a valid one
    AwsEncoding aws_encoding = AwsEncoding::Json;
};
Route route(const std::string& topic);

/// Percent-decoding of one property-bag key or value; nullopt on a bad escape.
std::optional<std::string> url_decode(const std::string& text);

}  // namespace vigil::hub::detail

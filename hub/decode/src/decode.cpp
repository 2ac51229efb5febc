// The one dispatch switch: topic -> format -> that format's decoder. Formats are never guessed
// from the payload here (see decode_file for the one place that may).
#include "vigil/hub/decode.hpp"

#include <array>
#include <cstring>
#include <limits>

#include "formats.hpp"
#include "vigil/hub/enum_names.hpp"

namespace vigil::hub {

namespace detail {

bool fail(DecodeOutcome& outcome, const char* reason, std::string detail) {
    outcome.ok = false;
    outcome.reason = reason;
    outcome.detail = std::move(detail);
    return false;
}

}  // namespace detail

namespace {

uint32_t clamp_size(size_t size) {
    return size > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                       : static_cast<uint32_t>(size);
}

/// Size checks shared by every format, then the format's decoder. The report is reset on
/// failure so that nothing half-read leaks to the store.
bool decode_payload(Format format, detail::AwsEncoding encoding,
                    const std::vector<uint8_t>& payload, DecodeOutcome& outcome,
                    detail::AwsAnswerFacts& aws_facts) {
    Report& report = outcome.report;
    report.format = format;
    report.payload_bytes = clamp_size(payload.size());
    if (payload.size() > kMaxPayloadBytes) {
        return detail::fail(
            outcome, reason::kOversized,
            std::to_string(payload.size()) + " bytes, limit " + std::to_string(kMaxPayloadBytes));
    }
    if (payload.empty()) {
        aws_facts.error_code = "Malformed";
        return detail::fail(outcome, reason::kEmpty, "no payload");
    }
    bool ok = false;
    switch (format) {
        case Format::Vigil:
            ok = detail::decode_vigil(payload.data(), payload.size(), outcome);
            break;
        case Format::LegacyDefender:
            ok = detail::decode_defender(payload.data(), payload.size(), outcome);
            break;
        case Format::AwsDefender:
            ok = detail::decode_aws(payload.data(), payload.size(), encoding, outcome, aws_facts);
            break;
    }
    if (!ok) {
        Report kept;
        kept.format = report.format;
        kept.device_id = report.device_id;
        kept.payload_bytes = report.payload_bytes;
        kept.received_ms = report.received_ms;
        report = std::move(kept);
    }
    return ok;
}

}  // namespace

DecodeOutcome decode(const Incoming& message) {
    DecodeOutcome outcome;
    outcome.report.received_ms = message.received_ms;
    outcome.report.payload_bytes = clamp_size(message.payload.size());
    const detail::Route route = detail::route(message.topic);
    outcome.report.format = route.format;
    outcome.report.device_id = route.device_id;
    if (!route.ok) {
        detail::fail(outcome, route.reason, route.detail);
        // A report on a valid AWS topic is always answered, even when it is refused unread.
        if (route.format == Format::AwsDefender && !route.device_id.empty()) {
            outcome.response = detail::aws_response(route.device_id, route.aws_encoding, outcome,
                                                    detail::AwsAnswerFacts{}, message.received_ms);
        }
        return outcome;
    }
    detail::AwsAnswerFacts aws_facts;
    decode_payload(route.format, route.aws_encoding, message.payload, outcome, aws_facts);
    if (route.format == Format::AwsDefender) {
        outcome.response = detail::aws_response(route.device_id, route.aws_encoding, outcome,
                                                aws_facts, message.received_ms);
    }
    return outcome;
}

namespace {

constexpr std::array<const char*, 5> kFileFormats = {"auto", "vigil", "legacy-defender", "aws-json",
                                                     "aws-cbor"};

}  // namespace

const char* to_string(FileFormat format) {
    return name_of(format, kFileFormats);
}

std::optional<FileFormat> parse_file_format(const std::string& name) {
    return value_named<FileFormat>(name, kFileFormats);
}

DecodeOutcome decode_file(const std::vector<uint8_t>& payload, FileFormat format) {
    if (format == FileFormat::Auto) {
        std::string tried;
        for (FileFormat candidate : {FileFormat::Vigil, FileFormat::LegacyDefender,
                                     FileFormat::AwsJson, FileFormat::AwsCbor}) {
            DecodeOutcome outcome = decode_file(payload, candidate);
            if (outcome.ok || outcome.reason == reason::kOversized ||
                outcome.reason == reason::kEmpty) {
                return outcome;
            }
            tried += std::string(tried.empty() ? "" : "; ") + to_string(candidate) + ": " +
                     outcome.reason + " (" + outcome.detail + ")";
        }
        DecodeOutcome outcome;
        outcome.report.payload_bytes = clamp_size(payload.size());
        detail::fail(outcome, reason::kUnknownFormat, "no decoder accepts it: " + tried);
        return outcome;
    }
    DecodeOutcome outcome;
    detail::AwsAnswerFacts aws_facts;
    switch (format) {
        case FileFormat::Vigil:
            decode_payload(Format::Vigil, detail::AwsEncoding::Json, payload, outcome, aws_facts);
            break;
        case FileFormat::LegacyDefender:
            decode_payload(Format::LegacyDefender, detail::AwsEncoding::Json, payload, outcome,
                           aws_facts);
            break;
        case FileFormat::AwsJson:
        case FileFormat::AwsCbor:
            decode_payload(Format::AwsDefender,
                           format == FileFormat::AwsJson ? detail::AwsEncoding::Json
                                                         : detail::AwsEncoding::Cbor,
                           payload, outcome, aws_facts);
            break;
        case FileFormat::Auto:
            break;
    }
    return outcome;
}

}  // namespace vigil::hub

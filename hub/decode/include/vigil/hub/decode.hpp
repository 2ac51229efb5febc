// The hub's message decoders: one entry point that picks the format from the topic (and the
// IoT-hub property bag), never from the payload, and turns the message into a Report. The three
// formats and their topics are described in docs/formats.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/report.hpp"
// A decoded report's JSON form, to_json(report), is the model's.
#include "vigil/hub/report_json.hpp"

namespace vigil::hub {

/// Largest payload any decoder parses; a larger one is refused unread.
constexpr size_t kMaxPayloadBytes = 256 * 1024;

/// The stable codes of DecodeOutcome::reason (metric labels: never rename one).
namespace reason {
constexpr char kUnknownTopic[] = "unknown_topic";    ///< no decoder listens on this topic
constexpr char kBadDeviceId[] = "bad_device_id";     ///< the topic's device id or thing name
constexpr char kUnknownFormat[] = "unknown_format";  ///< the property bag names no known format
constexpr char kOversized[] = "oversized";           ///< payload over kMaxPayloadBytes
constexpr char kEmpty[] = "empty";                   ///< no payload at all
constexpr char kMalformed[] = "malformed";  ///< not the encoding or shape the format asks for
constexpr char kTruncated[] = "truncated";  ///< the payload ends inside an item
constexpr char kMissingField[] = "missing_field";              ///< a required field is absent
constexpr char kBadValue[] = "bad_value";                      ///< a value outside its range
constexpr char kUnsupportedVersion[] = "unsupported_version";  ///< a version we do not read
constexpr char kSpoofed[] = "spoofed";  ///< the message names another device than its topic
}  // namespace reason

/// A message the hub must publish in answer (AWS: .../accepted or .../rejected).
struct Response {
    std::string topic;
    std::vector<uint8_t> payload;
};

struct DecodeOutcome {
    bool ok = false;
    /// Complete when ok. On failure, format, device_id (when the topic gave one),
    /// payload_bytes and received_ms are still set, so the failure can be counted per device.
    Report report;
    std::string reason;  ///< one of the reason:: codes; empty when ok
    std::string detail;  ///< for people: what was wrong and where (byte offset, field)
    std::optional<Response> response;
};

/// Decodes one message as the broker delivered it. Topics:
///   devices/{id}/messages/events/{bag}   mti=vigil.1 -> Vigil; mti=2.3-1-0-0 (or 2.0-1-0-0)
///                                        with $.ifid=urn:azureiot:Security:SecurityAgent:1
///                                        -> legacy Defender
///   $aws/things/{thing}/defender/metrics/json | /cbor -> AWS IoT Device Defender report; the
///                                        outcome then always carries the accepted/rejected
///                                        response, unless the thing name itself is invalid.
DecodeOutcome decode(const Incoming& message);

/// How decode_file reads a file.
enum class FileFormat : uint8_t { Auto, Vigil, LegacyDefender, AwsJson, AwsCbor };
/// "auto", "vigil", "legacy-defender", "aws-json", "aws-cbor"; parse_file_format is the inverse.
const char* to_string(FileFormat format);
std::optional<FileFormat> parse_file_format(const std::string& name);

/// Decodes a payload saved to a file, for the command line: there is no topic, so the device id
/// stays empty and no AWS response is built. Auto tries Vigil, legacy Defender, AWS JSON and AWS
/// CBOR in that order and keeps the first that decodes: a guess that only a tool may make, since
/// a hostile payload could be crafted to pass for another format.
DecodeOutcome decode_file(const std::vector<uint8_t>& payload, FileFormat format);


}  // namespace vigil::hub

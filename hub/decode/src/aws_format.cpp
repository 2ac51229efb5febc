// AWS IoT Device Defender metrics reports (JSON or CBOR, long or short key names) to a Report,
// and the accepted/rejected answer the service would publish. The schema and the checks are in
// docs/formats.md; they follow the service's document specification.
#include <arpa/inet.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "formats.hpp"
#include "vigil/protocol/topic.h"

namespace vigil::hub::detail {

namespace {

using nlohmann::json;

/// Deeper than any valid report (which nests 6 levels); a limit so hostile nesting can neither
/// exhaust the stack of the recursive CBOR reader nor cost time.
constexpr size_t kMaxDepth = 16;
/// Most entries the hub takes in one list (ports, connections, custom metric values). The service
/// publishes no figure; this bounds the work per report far above what a device reports.
constexpr size_t kMaxListItems = 4096;
constexpr char kSupportedVersion[] = "1.0";

struct Key {
    const char* long_name;
    const char* short_name;
};
constexpr Key kHeader{"header", "hed"};
constexpr Key kReportId{"report_id", "rid"};
constexpr Key kVersion{"version", "v"};
constexpr Key kMetrics{"metrics", "met"};
constexpr Key kCustomMetrics{"custom_metrics", "cmet"};
constexpr Key kTcpPorts{"listening_tcp_ports", "tp"};
constexpr Key kUdpPorts{"listening_udp_ports", "up"};
constexpr Key kPorts{"ports", "pts"};
constexpr Key kPort{"port", "pt"};
constexpr Key kInterface{"interface", "if"};
constexpr Key kTotal{"total", "t"};
constexpr Key kNetworkStats{"network_stats", "ns"};
constexpr Key kBytesIn{"bytes_in", "bi"};
constexpr Key kBytesOut{"bytes_out", "bo"};
constexpr Key kPacketsIn{"packets_in", "pi"};
constexpr Key kPacketsOut{"packets_out", "po"};
constexpr Key kTcpConnections{"tcp_connections", "tc"};
constexpr Key kEstablished{"established_connections", "ec"};
constexpr Key kConnections{"connections", "cs"};
constexpr Key kRemoteAddr{"remote_addr", "rad"};
constexpr Key kLocalPort{"local_port", "lp"};
constexpr Key kLocalInterface{"local_interface", "li"};

/// Checks nesting and duplicate keys before the document is built, and keeps where a parse error
/// was found. nlohmann-json keeps the last of repeated keys; a report that says two things at once
/// is refused instead, as Vigil's own CBOR decoder refuses it.
class StructureCheck : public nlohmann::json_sax<json> {
  public:
    bool too_deep = false;
    bool truncated = false;
    std::optional<std::string> duplicate_key;
    size_t error_byte = 0;
    std::string error_text;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return enter(true); }
    bool key(string_t& name) override {
        if (!open_keys_.back().insert(name).second) {
            duplicate_key = name;
            return false;
        }
        return true;
    }
    bool end_object() override { return leave(true); }
    bool start_array(std::size_t) override { return enter(false); }
    bool end_array() override { return leave(false); }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& error) override {
        error_byte = position;
        error_text = error.what();
        // 110: "unexpected end of input" (CBOR); 101 at the last byte: JSON that stops early.
        truncated =
            error.id == 110 || error_text.find("unexpected end of input") != std::string::npos;
        return false;
    }

  private:
    size_t depth_ = 0;
    // The keys seen so far in each object being read, innermost last (at most kMaxDepth).
    std::vector<std::set<std::string>> open_keys_;
    bool enter(bool object) {
        if (++depth_ > kMaxDepth) {
            too_deep = true;
            return false;
        }
        if (object) {
            open_keys_.emplace_back();
        }
        return true;
    }
    bool leave(bool object) {
        --depth_;
        if (object) {
            open_keys_.pop_back();
        }
        return true;
    }
};

/// Reads one report; the first failure is kept in the outcome and ends the walk.
class ReportReader {
  public:
    explicit ReportReader(DecodeOutcome& outcome) : outcome_(outcome) {}

    bool failed() const { return failed_; }

    bool fail_with(const char* reason, const std::string& detail) {
        if (!failed_) {
            failed_ = true;
            fail(outcome_, reason, detail);
        }
        return false;
    }

    /// The member under its long or its short name; nullptr when absent (or on failure).
    const json* find(const json& object, const Key& key, const std::string& path) {
        const auto long_it = object.find(key.long_name);
        const auto short_it = object.find(key.short_name);
        if (long_it != object.end() && short_it != object.end()) {
            fail_with(reason::kMalformed,
                      path + ": both " + key.long_name + " and " + key.short_name + " given");
            return nullptr;
        }
        if (long_it != object.end()) {
            return &*long_it;
        }
        return short_it != object.end() ? &*short_it : nullptr;
    }

    const json* object_member(const json& object, const Key& key, const std::string& path) {
        const json* member = find(object, key, path);
        if (member != nullptr && !member->is_object()) {
            fail_with(reason::kMalformed, path + "." + key.long_name + ": not an object");
            return nullptr;
        }
        return member;
    }

    const json* list_member(const json& object, const Key& key, const std::string& path) {
        const json* member = find(object, key, path);
        if (member == nullptr) {
            return nullptr;
        }
        if (!member->is_array()) {
            fail_with(reason::kMalformed, path + "." + key.long_name + ": not a list");
            return nullptr;
        }
        if (member->size() > kMaxListItems) {
            fail_with(reason::kBadValue, path + "." + key.long_name + ": " +
                                             std::to_string(member->size()) + " entries, over " +
                                             std::to_string(kMaxListItems));
            return nullptr;
        }
        return member;
    }

    /// A non-negative integer no larger than `max`, or absent.
    bool uint_member(const json& object, const Key& key, const std::string& path, uint64_t max,
                     std::optional<uint64_t>& out) {
        const json* member = find(object, key, path);
        if (member == nullptr) {
            return !failed_;
        }
        if (!member->is_number_integer() ||
            (member->is_number_integer() && !member->is_number_unsigned())) {
            return fail_with(reason::kBadValue,
                             path + "." + key.long_name + ": not a non-negative integer");
        }
        const uint64_t value = member->get<uint64_t>();
        if (value > max) {
            return fail_with(reason::kBadValue, path + "." + key.long_name + ": " +
                                                    std::to_string(value) + " over " +
                                                    std::to_string(max));
        }
        out = value;
        return true;
    }

    bool string_member(const json& object, const Key& key, const std::string& path,
                       std::string& out) {
        const json* member = find(object, key, path);
        if (member == nullptr) {
            return !failed_;
        }
        if (!member->is_string()) {
            return fail_with(reason::kBadValue, path + "." + key.long_name + ": not a string");
        }
        out = member->get<std::string>();
        return true;
    }

  private:
    DecodeOutcome& outcome_;
    bool failed_ = false;
};

std::string item_path(const std::string& path, const Key& key, size_t index) {
    return path + "." + key.long_name + "[" + std::to_string(index) + "]";
}

// A group's list beside its total (checked, not kept): each entry must be an object and goes to
// read_entry(entry, entry_path). An absent list reads as empty.
template <typename ReadEntry>
bool read_counted_list(ReportReader& reader, const json& group, const Key& list_key,
                       const std::string& path, ReadEntry read_entry) {
    std::optional<uint64_t> total;
    if (!reader.uint_member(group, kTotal, path, UINT32_MAX, total)) {
        return false;
    }
    const json* list = reader.list_member(group, list_key, path);
    if (list == nullptr) {
        return !reader.failed();
    }
    for (size_t i = 0; i < list->size(); ++i) {
        const json& entry = (*list)[i];
        const std::string entry_path = item_path(path, list_key, i);
        if (!entry.is_object()) {
            return reader.fail_with(reason::kMalformed, entry_path + ": not an object");
        }
        if (!read_entry(entry, entry_path)) {
            return false;
        }
    }
    return true;
}

bool read_ports(ReportReader& reader, const json& metrics, const Key& group, Protocol protocol,
                Report& report) {
    const std::string path = std::string("metrics.") + group.long_name;
    const json* ports_group = reader.object_member(metrics, group, "metrics");
    if (ports_group == nullptr) {
        return !reader.failed();
    }
    if (!report.listening_ports) {
        report.listening_ports.emplace();
    }
    return read_counted_list(
        reader, *ports_group, kPorts, path, [&](const json& entry, const std::string& entry_path) {
            ListeningPort port;
            port.protocol = protocol;
            std::optional<uint64_t> number;
            if (!reader.uint_member(entry, kPort, entry_path, 65535, number) ||
                !reader.string_member(entry, kInterface, entry_path, port.interface_name)) {
                return false;
            }
            if (!number || *number == 0) {
                return reader.fail_with(reason::kBadValue, entry_path + ".port: missing or 0");
            }
            port.port = static_cast<uint16_t>(*number);
            report.listening_ports->push_back(std::move(port));
            return true;
        });
}

/// "192.0.2.1:443", "[2001:db8::1]:443" or "2001:db8::1:443" (the last colon splits off the
/// port, as the service reads it); the address comes back in its canonical text form.
bool parse_remote(const std::string& text, std::string& address, uint16_t& port) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 >= text.size() || text.size() - colon > 6) {
        return false;
    }
    uint32_t value = 0;
    for (size_t i = colon + 1; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
        value = value * 10 + static_cast<uint32_t>(text[i] - '0');
    }
    if (value > 65535) {
        return false;
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned char bytes[16];
    char canonical[INET6_ADDRSTRLEN];
    const int family = host.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (inet_pton(family, host.c_str(), bytes) != 1 ||
        inet_ntop(family, bytes, canonical, sizeof(canonical)) == nullptr) {
        return false;
    }
    address = canonical;
    port = static_cast<uint16_t>(value);
    return true;
}

bool read_connections(ReportReader& reader, const json& metrics, Report& report) {
    const json* tcp = reader.object_member(metrics, kTcpConnections, "metrics");
    if (tcp == nullptr) {
        return !reader.failed();
    }
    report.has_network = true;
    const std::string tcp_path = "metrics.tcp_connections";
    const json* established = reader.object_member(*tcp, kEstablished, tcp_path);
    if (established == nullptr) {
        return !reader.failed();
    }
    const std::string path = tcp_path + ".established_connections";
    return read_counted_list(
        reader, *established, kConnections, path,
        [&](const json& entry, const std::string& entry_path) {
            Flow flow;
            flow.protocol = Protocol::Tcp;
            flow.handshake = "completed";
            std::string remote;
            std::optional<uint64_t> local_port;
            if (!reader.string_member(entry, kRemoteAddr, entry_path, remote) ||
                !reader.uint_member(entry, kLocalPort, entry_path, 65535, local_port) ||
                !reader.string_member(entry, kLocalInterface, entry_path, flow.local_interface)) {
                return false;
            }
            if (reader.find(entry, kRemoteAddr, entry_path) == nullptr) {
                return reader.fail_with(reason::kMissingField,
                                        entry_path + ".remote_addr: missing");
            }
            if (!parse_remote(remote, flow.remote, flow.remote_port)) {
                return reader.fail_with(reason::kBadValue, entry_path + ".remote_addr: \"" +
                                                               remote + "\" is not ip:port");
            }
            flow.local_port = static_cast<uint16_t>(local_port.value_or(0));
            report.flows.push_back(std::move(flow));
            return true;
        });
}

bool read_network_stats(ReportReader& reader, const json& metrics, Report& report) {
    const json* stats = reader.object_member(metrics, kNetworkStats, "metrics");
    if (stats == nullptr) {
        return !reader.failed();
    }
    const std::string path = "metrics.network_stats";
    std::optional<uint64_t> bytes_in, bytes_out, packets_in, packets_out;
    if (!reader.uint_member(*stats, kBytesIn, path, UINT64_MAX, bytes_in) ||
        !reader.uint_member(*stats, kBytesOut, path, UINT64_MAX, bytes_out) ||
        !reader.uint_member(*stats, kPacketsIn, path, UINT64_MAX, packets_in) ||
        !reader.uint_member(*stats, kPacketsOut, path, UINT64_MAX, packets_out)) {
        return false;
    }
    InterfaceTotals totals;
    totals.bytes_in = bytes_in.value_or(0);
    totals.bytes_out = bytes_out.value_or(0);
    totals.packets_in = packets_in.value_or(0);
    totals.packets_out = packets_out.value_or(0);
    report.interface_totals = totals;
    return true;
}

bool valid_custom_value(const json& value) {
    if (!value.is_object() || value.size() != 1) {
        return false;
    }
    // Named references, not a structured binding: C++17 lambdas cannot capture those.
    const std::string type = value.begin().key();
    const json& content = value.begin().value();
    auto all = [&content](auto&& check) {
        if (!content.is_array() || content.size() > kMaxListItems) {
            return false;
        }
        for (const json& item : content) {
            if (!check(item)) {
                return false;
            }
        }
        return true;
    };
    if (type == "number") {
        return content.is_number();
    }
    if (type == "number_list") {
        return all([](const json& item) { return item.is_number(); });
    }
    if (type == "string_list") {
        return all([](const json& item) { return item.is_string(); });
    }
    if (type == "ip_list") {
        return all([](const json& item) {
            unsigned char bytes[16];
            if (!item.is_string()) {
                return false;
            }
            const std::string text = item.get<std::string>();
            const int family = text.find(':') == std::string::npos ? AF_INET : AF_INET6;
            return inet_pton(family, text.c_str(), bytes) == 1;
        });
    }
    return false;
}

/// Custom metrics are checked for shape (the service drops what does not match) but not kept:
/// the Report has no place for site-defined values yet.
bool check_custom_metrics(ReportReader& reader, const json& custom) {
    for (const auto& [name, values] : custom.items()) {
        const std::string path = "custom_metrics." + name;
        if (!wire::valid_thing_name(name.data(), name.size())) {
            return reader.fail_with(reason::kBadValue,
                                    path + ": name is not 1-128 of A-Za-z0-9-_:");
        }
        if (!values.is_array() || values.size() != 1 || !valid_custom_value(values[0])) {
            return reader.fail_with(
                reason::kBadValue, path + ": not [{number | number_list | string_list | ip_list}]");
        }
    }
    return true;
}

bool read_header(ReportReader& reader, const json& document, Report& report,
                 AwsAnswerFacts& facts) {
    std::optional<uint64_t>& report_id = facts.report_id;
    const json* header = reader.object_member(document, kHeader, "report");
    if (header == nullptr) {
        if (reader.failed()) {
            return false;
        }
        facts.error_code = "MissingHeader";
        return reader.fail_with(reason::kMissingField, "header: missing");
    }
    if (!reader.uint_member(*header, kReportId, "header", UINT64_MAX, report_id)) {
        return false;
    }
    if (!report_id) {
        return reader.fail_with(reason::kMissingField, "header.report_id: missing");
    }
    report.message_key = std::to_string(*report_id);
    std::string version;
    if (!reader.string_member(*header, kVersion, "header", version)) {
        return false;
    }
    if (reader.find(*header, kVersion, "header") == nullptr) {
        return reader.fail_with(reason::kMissingField, "header.version: missing");
    }
    if (version != kSupportedVersion) {
        return reader.fail_with(reason::kUnsupportedVersion,
                                "header.version \"" + version + "\", not \"1.0\"");
    }
    return true;
}

bool parse_document(const uint8_t* data, size_t size, AwsEncoding encoding, json& document,
                    DecodeOutcome& outcome) {
    StructureCheck check;
    const auto input_format = encoding == AwsEncoding::Json
                                  ? nlohmann::detail::input_format_t::json
                                  : nlohmann::detail::input_format_t::cbor;
    const bool well_formed = json::sax_parse(data, data + size, &check, input_format, true);
    if (check.too_deep) {
        return fail(outcome, reason::kMalformed,
                    "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    if (check.duplicate_key) {
        return fail(outcome, reason::kMalformed,
                    "key \"" + *check.duplicate_key + "\" given twice");
    }
    if (!well_formed) {
        return fail(outcome, check.truncated ? reason::kTruncated : reason::kMalformed,
                    check.error_text);
    }
    try {
        document = encoding == AwsEncoding::Json ? json::parse(data, data + size)
                                                 : json::from_cbor(data, data + size);
    } catch (const json::exception& error) {
        return fail(outcome, reason::kMalformed, error.what());
    }
    if (!document.is_object()) {
        return fail(outcome, reason::kMalformed, "report is not an object");
    }
    return true;
}

}  // namespace

bool decode_aws(const uint8_t* data, size_t size, AwsEncoding encoding, DecodeOutcome& outcome,
                AwsAnswerFacts& facts) {
    json document;
    if (!parse_document(data, size, encoding, document, outcome)) {
        facts.error_code = "Malformed";
        return false;
    }
    ReportReader reader(outcome);
    Report& report = outcome.report;
    if (!read_header(reader, document, report, facts)) {
        return false;
    }
    const json* metrics = reader.object_member(document, kMetrics, "report");
    const json* custom = reader.object_member(document, kCustomMetrics, "report");
    if (reader.failed()) {
        return false;
    }
    if (metrics == nullptr && custom == nullptr) {
        return reader.fail_with(reason::kMissingField, "neither metrics nor custom_metrics");
    }
    if (metrics != nullptr && (!read_ports(reader, *metrics, kTcpPorts, Protocol::Tcp, report) ||
                               !read_ports(reader, *metrics, kUdpPorts, Protocol::Udp, report) ||
                               !read_connections(reader, *metrics, report) ||
                               !read_network_stats(reader, *metrics, report))) {
        return false;
    }
    if (custom != nullptr && !check_custom_metrics(reader, *custom)) {
        return false;
    }
    outcome.ok = true;
    return true;
}

Response aws_response(const std::string& thing, AwsEncoding encoding, const DecodeOutcome& outcome,
                      const AwsAnswerFacts& facts, int64_t received_ms) {
    json answer;
    answer["thingName"] = thing;
    if (facts.report_id) {
        answer["reportId"] = *facts.report_id;
    }
    answer["status"] = outcome.ok ? "ACCEPTED" : "REJECTED";
    answer["timestamp"] = received_ms;
    if (!outcome.ok) {
        answer["statusDetails"] = {{"ErrorCode", facts.error_code},
                                   {"ErrorMessage", outcome.reason + ": " + outcome.detail}};
    }
    Response response;
    const char* suffix =
        encoding == AwsEncoding::Json ? wire::kAwsMetricsJson : wire::kAwsMetricsCbor;
    response.topic = wire::kAwsThingPrefix + thing + wire::kAwsMetricsSegment + suffix +
                     (outcome.ok ? "/accepted" : "/rejected");
    if (encoding == AwsEncoding::Json) {
        const std::string text = answer.dump(-1, ' ', false, json::error_handler_t::replace);
        response.payload.assign(text.begin(), text.end());
    } else {
        response.payload = json::to_cbor(answer);
    }
    return response;
}

}  // namespace vigil::hub::detail

#include "config_message.hpp"

#include "vigil/protocol/cbor.h"

namespace vigil::hub::api {

namespace {

constexpr const char* kCollectorNames[wire::kCollectorCount] = {"network", "system", "heartbeat",
                                                                "listening_ports"};
constexpr const char* kPriorityNames[wire::kPriorityCount] = {"high", "medium", "low"};

// An unsigned integer within [low, high]; JSON floats, booleans and negatives are refused.
bool read_uint(const nlohmann::json& value, uint32_t low, uint32_t high, const std::string& name,
               uint32_t& out, std::string& error) {
    if (!value.is_number_unsigned() || value.get<uint64_t>() < low ||
        value.get<uint64_t>() > high) {
        error = name + " must be an integer from " + std::to_string(low) + " to " +
                std::to_string(high);
        return false;
    }
    out = value.get<uint32_t>();
    return true;
}

bool parse_intervals(const nlohmann::json& value, ConfigRequest& out, std::string& error) {
    if (!value.is_object()) {
        error = "intervals must be an object {high, medium, low}";
        return false;
    }
    std::array<uint32_t, wire::kPriorityCount> intervals{};
    for (size_t i = 0; i < wire::kPriorityCount; ++i) {
        // The wire carries all three intervals at once.
        if (!value.contains(kPriorityNames[i])) {
            error = std::string("intervals.") + kPriorityNames[i] + " is missing";
            return false;
        }
        if (!read_uint(value[kPriorityNames[i]], wire::kMinIntervalS, wire::kMaxIntervalS,
                       std::string("intervals.") + kPriorityNames[i], intervals[i], error)) {
            return false;
        }
    }
    if (value.size() != wire::kPriorityCount) {
        error = "intervals takes only high, medium and low";
        return false;
    }
    out.intervals = intervals;
    return true;
}

std::optional<wire::Priority> parse_priority(const nlohmann::json& value) {
    for (size_t i = 0; i < wire::kPriorityCount; ++i) {
        if (value.is_string() && value.get<std::string>() == kPriorityNames[i]) {
            return static_cast<wire::Priority>(i);
        }
    }
    return std::nullopt;
}

bool parse_collector(const std::string& name, const nlohmann::json& value,
                     wire::CollectorSetting& out, std::string& error) {
    const std::string where = "collectors." + name;
    if (!value.is_object() || value.size() != 2 || !value.contains("enabled") ||
        !value.contains("priority")) {
        error = where + " must be {enabled, priority}";
        return false;
    }
    if (!value["enabled"].is_boolean()) {
        error = where + ".enabled must be true or false";
        return false;
    }
    const auto priority = parse_priority(value["priority"]);
    if (!priority) {
        error = where + ".priority must be \"high\", \"medium\" or \"low\"";
        return false;
    }
    out = {value["enabled"].get<bool>(), *priority};
    return true;
}

bool parse_collectors(const nlohmann::json& value, ConfigRequest& out, std::string& error) {
    if (!value.is_object() || value.empty()) {
        error = "collectors must be an object naming at least one collector";
        return false;
    }
    for (const auto& [name, setting] : value.items()) {
        size_t index = wire::kCollectorCount;
        for (size_t i = 0; i < wire::kCollectorCount; ++i) {
            if (name == kCollectorNames[i]) {
                index = i;
            }
        }
        if (index == wire::kCollectorCount) {
            error = "collectors." + name +
                    " is not a collector (network, system, heartbeat, listening_ports)";
            return false;
        }
        wire::CollectorSetting parsed;
        if (!parse_collector(name, setting, parsed, error)) {
            return false;
        }
        out.collectors[index] = parsed;
    }
    return true;
}

bool parse_field(const std::string& key, const nlohmann::json& value, ConfigRequest& out,
                 std::string& error) {
    uint32_t number = 0;
    if (key == "intervals") {
        return parse_intervals(value, out, error);
    }
    if (key == "collectors") {
        return parse_collectors(value, out, error);
    }
    if (key == "unicast_only") {
        if (!value.is_boolean()) {
            error = "unicast_only must be true or false";
            return false;
        }
        out.unicast_only = value.get<bool>();
        return true;
    }
    if (key == "pending_timeout_s") {
        if (!read_uint(value, 1, wire::kMaxPendingTimeoutS, key, number, error)) {
            return false;
        }
        out.pending_timeout_s = number;
        return true;
    }
    if (key == "retry_s") {
        if (!read_uint(value, 1, wire::kMaxRetryS, key, number, error)) {
            return false;
        }
        out.retry_s = number;
        return true;
    }
    error = "unknown field '" + key + "'";
    return false;
}

}  // namespace

bool parse_config_request(const nlohmann::json& body, ConfigRequest& out, std::string& error) {
    if (!body.is_object()) {
        error = "the body must be a JSON object";
        return false;
    }
    if (body.empty()) {
        error = "the config changes nothing: give at least one setting";
        return false;
    }
    out = ConfigRequest{};
    for (const auto& [key, value] : body.items()) {
        if (!parse_field(key, value, out, error)) {
            return false;
        }
    }
    return true;
}

// wire::encode_config always writes all six keys (it serves the agent's complete config); a hub
// message carries only what the operator changed, so it is written here with the same CBOR
// writer and the keys of wire.h.
std::vector<uint8_t> encode_config_message(const ConfigRequest& config, uint32_t version) {
    size_t collectors = 0;
    for (const auto& setting : config.collectors) {
        collectors += setting ? 1 : 0;
    }
    const size_t pairs = 1 + (config.intervals ? 1 : 0) + (collectors ? 1 : 0) +
                         (config.unicast_only ? 1 : 0) + (config.pending_timeout_s ? 1 : 0) +
                         (config.retry_s ? 1 : 0);
    std::vector<uint8_t> bytes(128);
    cbor::Writer out(bytes.data(), bytes.size());
    out.map(pairs);
    out.uint(wire::config_key::kVersion);
    out.uint(version);
    if (config.intervals) {
        out.uint(wire::config_key::kIntervals);
        out.array(wire::kPriorityCount);
        for (uint32_t interval : *config.intervals) {
            out.uint(interval);
        }
    }
    if (collectors) {
        out.uint(wire::config_key::kCollectors);
        out.map(collectors);
        for (size_t i = 0; i < wire::kCollectorCount; ++i) {
            if (config.collectors[i]) {
                out.uint(i + 1);
                out.array(2);
                out.boolean(config.collectors[i]->enabled);
                out.uint(static_cast<uint8_t>(config.collectors[i]->priority));
            }
        }
    }
    if (config.unicast_only) {
        out.uint(wire::config_key::kUnicastOnly);
        out.boolean(*config.unicast_only);
    }
    if (config.pending_timeout_s) {
        out.uint(wire::config_key::kPendingTimeout);
        out.uint(*config.pending_timeout_s);
    }
    if (config.retry_s) {
        out.uint(wire::config_key::kRetry);
        out.uint(*config.retry_s);
    }
    // 128 bytes hold the largest message (about 60 bytes): running out is a bug.
    bytes.resize(out.ok() ? out.size() : 0);
    return bytes;
}

namespace {

bool decode_collectors(cbor::Reader& in, ConfigRequest& out) {
    size_t pairs = 0;
    if (!in.read_map(pairs)) {
        return false;
    }
    for (size_t i = 0; i < pairs; ++i) {
        uint32_t id = 0, priority = 0;
        size_t items = 0;
        bool enabled = false;
        if (!in.read_uint32(id) || id < 1 || id > wire::kCollectorCount || !in.read_array(items) ||
            items != 2 || !in.read_bool(enabled) || !in.read_uint32(priority) ||
            priority >= wire::kPriorityCount) {
            return false;
        }
        out.collectors[id - 1] =
            wire::CollectorSetting{enabled, static_cast<wire::Priority>(priority)};
    }
    return true;
}

bool decode_value(cbor::Reader& in, uint32_t key, ConfigRequest& out, uint32_t& version) {
    uint32_t number = 0;
    bool flag = false;
    size_t count = 0;
    switch (key) {
        case wire::config_key::kVersion:
            return in.read_uint32(version);
        case wire::config_key::kIntervals: {
            std::array<uint32_t, wire::kPriorityCount> intervals{};
            if (!in.read_array(count) || count != wire::kPriorityCount) {
                return false;
            }
            for (uint32_t& interval : intervals) {
                if (!in.read_uint32(interval)) {
                    return false;
                }
            }
            out.intervals = intervals;
            return true;
        }
        case wire::config_key::kCollectors:
            return decode_collectors(in, out);
        case wire::config_key::kUnicastOnly:
            return in.read_bool(flag) && (out.unicast_only = flag, true);
        case wire::config_key::kPendingTimeout:
            return in.read_uint32(number) && (out.pending_timeout_s = number, true);
        case wire::config_key::kRetry:
            return in.read_uint32(number) && (out.retry_s = number, true);
        default:
            return false;
    }
}

}  // namespace

bool decode_config_message(const std::vector<uint8_t>& bytes, ConfigRequest& out,
                           uint32_t& version) {
    cbor::Reader in(bytes.data(), bytes.size());
    size_t pairs = 0;
    out = ConfigRequest{};
    if (!in.read_map(pairs)) {
        return false;
    }
    for (size_t i = 0; i < pairs; ++i) {
        uint32_t key = 0;
        if (!in.read_uint32(key) || !decode_value(in, key, out, version)) {
            return false;
        }
    }
    return true;
}

nlohmann::json to_json(const ConfigRequest& config) {
    nlohmann::json out = nlohmann::json::object();
    if (config.intervals) {
        out["intervals"] = {{"high", (*config.intervals)[0]},
                            {"medium", (*config.intervals)[1]},
                            {"low", (*config.intervals)[2]}};
    }
    for (size_t i = 0; i < wire::kCollectorCount; ++i) {
        if (config.collectors[i]) {
            out["collectors"][kCollectorNames[i]] = {
                {"enabled", config.collectors[i]->enabled},
                {"priority", kPriorityNames[static_cast<size_t>(config.collectors[i]->priority)]}};
        }
    }
    if (config.unicast_only) {
        out["unicast_only"] = *config.unicast_only;
    }
    if (config.pending_timeout_s) {
        out["pending_timeout_s"] = *config.pending_timeout_s;
    }
    if (config.retry_s) {
        out["retry_s"] = *config.retry_s;
    }
    return out;
}

}  // namespace vigil::hub::api

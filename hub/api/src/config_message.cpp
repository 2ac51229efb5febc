#include "config_message.hpp"

#include "vigil/protocol/cbor.h"

namespace vigil::hub::api {

namespace {

using wire::kCollectorNames;
using wire::kPriorityNames;

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
    wire::Priority priority = wire::Priority::High;
    const std::string* name = value.get_ptr<const std::string*>();
    if (name == nullptr || !wire::priority_from_name(name->data(), name->size(), priority)) {
        return std::nullopt;
    }
    return priority;
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
        wire::CollectorId id = wire::CollectorId::Network;
        if (!wire::collector_from_name(name.data(), name.size(), id)) {
            error = "collectors." + name +
                    " is not a collector (network, system, heartbeat, listening_ports)";
            return false;
        }
        wire::CollectorSetting parsed;
        if (!parse_collector(name, setting, parsed, error)) {
            return false;
        }
        out.collectors[static_cast<size_t>(id) - 1] = parsed;
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

std::vector<uint8_t> encode_config_message(const ConfigRequest& config, uint32_t version) {
    wire::ConfigFields fields;
    wire::ConfigKeys keys = wire::ConfigKeys::none();
    fields.version = version;
    if (config.intervals) {
        keys.intervals = true;
        for (size_t i = 0; i < wire::kPriorityCount; ++i) {
            fields.interval_s[i] = (*config.intervals)[i];
        }
    }
    for (size_t i = 0; i < wire::kCollectorCount; ++i) {
        if (config.collectors[i]) {
            keys.collectors[i] = true;
            fields.collectors[i] = *config.collectors[i];
        }
    }
    keys.unicast_only = config.unicast_only.has_value();
    fields.unicast_only = config.unicast_only.value_or(fields.unicast_only);
    keys.pending_timeout = config.pending_timeout_s.has_value();
    fields.pending_timeout_s = config.pending_timeout_s.value_or(fields.pending_timeout_s);
    keys.retry = config.retry_s.has_value();
    fields.retry_s = config.retry_s.value_or(fields.retry_s);

    cbor::Writer counter;
    wire::encode_config(counter, fields, keys);
    std::vector<uint8_t> bytes(counter.size());
    cbor::Writer out(bytes.data(), bytes.size());
    wire::encode_config(out, fields, keys);
    return bytes;
}

bool decode_config_message(const std::vector<uint8_t>& bytes, ConfigRequest& out,
                           uint32_t& version) {
    out = ConfigRequest{};
    wire::ConfigFields fields;
    wire::ConfigKeys keys;
    if (wire::decode_config_settings(bytes.data(), bytes.size(), fields, version, keys) !=
        wire::ConfigError::None) {
        return false;
    }
    if (keys.intervals) {
        out.intervals = {fields.interval_s[0], fields.interval_s[1], fields.interval_s[2]};
    }
    for (size_t i = 0; i < wire::kCollectorCount; ++i) {
        if (keys.collectors[i]) {
            out.collectors[i] = fields.collectors[i];
        }
    }
    if (keys.unicast_only) {
        out.unicast_only = fields.unicast_only;
    }
    if (keys.pending_timeout) {
        out.pending_timeout_s = fields.pending_timeout_s;
    }
    if (keys.retry) {
        out.retry_s = fields.retry_s;
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

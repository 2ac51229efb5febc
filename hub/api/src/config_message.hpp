// A desired config as the API takes it in JSON, checked against the ranges of docs/protocol.md,
// and its CBOR config message.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/protocol/wire.h"

namespace vigil::hub::api {

/// Only the settings the request gave; the rest stay as the agent runs them.
struct ConfigRequest {
    std::optional<std::array<uint32_t, wire::kPriorityCount>> intervals;  ///< high, medium, low
    /// Indexed by collector id - 1.
    std::array<std::optional<wire::CollectorSetting>, wire::kCollectorCount> collectors;
    std::optional<bool> unicast_only;
    std::optional<uint32_t> pending_timeout_s;
    std::optional<uint32_t> retry_s;
};

/// Reads and checks a request body's JSON; false with `error` naming the field at fault.
bool parse_config_request(const nlohmann::json& body, ConfigRequest& out, std::string& error);

/// The config message: version, then the given keys in key order, so the bytes are deterministic.
std::vector<uint8_t> encode_config_message(const ConfigRequest& config, uint32_t version);

/// Reads back a message encode_config_message() wrote (a stored desired config), for display.
bool decode_config_message(const std::vector<uint8_t>& bytes, ConfigRequest& out,
                           uint32_t& version);

/// The JSON form of a request (the same shape parse_config_request reads).
nlohmann::json to_json(const ConfigRequest& config);

}  // namespace vigil::hub::api

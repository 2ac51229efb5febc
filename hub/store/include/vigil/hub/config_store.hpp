// The configuration the hub wants agents to run (desired configs), by device or group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

/// The configuration the hub wants agents to run, for one device or a group.
enum class ConfigScope : uint8_t { Device = 0, Group = 1 };

struct DesiredConfig {
    ConfigScope scope = ConfigScope::Device;
    std::string target;  ///< the device id, or the group's name
    uint32_t version = 0;
    std::string content_type = "application/cbor";
    std::vector<uint8_t> body;
    int64_t updated_ms = 0;
};

class ConfigStore {
  public:
    virtual ~ConfigStore() = default;

    /// Versions only increase: fails when the stored config of that scope and target is as new.
    /// A device's own version is also shown in its DeviceRow.
    virtual Done set_desired_config(const DesiredConfig& config) = 0;
    /// value empty when none was set.
    virtual Fetched<std::optional<DesiredConfig>> desired_config(ConfigScope scope,
                                                                 const std::string& target) = 0;
};

}  // namespace vigil::hub

// Per-device detection state, opaque to the store, so any hub worker can pick a device up.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

class DetectionStateStore {
  public:
    virtual ~DetectionStateStore() = default;

    /// Replaces the device's state; fails for a device the store does not know. State caused by
    /// reports is saved with them instead (TelemetryWriter::commit_batch).
    virtual Done save_detection_state(const std::string& device_id,
                                      const std::vector<uint8_t>& state, int64_t now_ms) = 0;
    /// value empty when nothing was saved for the device.
    virtual Fetched<std::optional<std::vector<uint8_t>>> load_detection_state(
        const std::string& device_id) = 0;
    /// The states of several devices, read in one go (one point in time); a device with none
    /// is left out.
    virtual Fetched<std::map<std::string, std::vector<uint8_t>>> load_detection_states(
        const std::vector<std::string>& device_ids) = 0;
};

}  // namespace vigil::hub

// Credentials for the fleet's devices at a running vigil-hub's broker, enrolled through the hub's
// API with the admin token of its data directory (as `vigil devices add` does) and kept in a file
// beside them, so a second run of the same fleet reuses its identities.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "virtual_device.hpp"

namespace vigil::sim {

struct HubEndpoint {
    BrokerAddress broker;
    std::map<std::string, DeviceIdentity> identities;  ///< by device id
};

/// Reads <data_dir>/hub.json, enrols the ids not yet in credentials_file through the hub's API
/// (<data_dir>/admin.token) and writes it back. false with `error` when the hub is not running
/// there or refused.
bool enrol_devices(const std::string& data_dir, const std::string& credentials_file,
                   const std::vector<std::string>& device_ids, HubEndpoint& out,
                   std::string& error);

}  // namespace vigil::sim

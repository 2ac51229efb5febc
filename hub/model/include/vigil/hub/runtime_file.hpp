#pragma once
// <data>/hub.json: where the hub holding a data directory listens, written once it runs and
// removed when it stops. The hub's own command line, vigil-sim and the load bench find a running
// hub's broker and API through it.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::hub {

struct HubRuntime {
    pid_t pid = 0;
    std::string broker_host = "127.0.0.1";
    uint16_t broker_port = 0;
    std::string api_address = "127.0.0.1";
    uint16_t api_port = 0;  // 0: the hub runs no API
};

std::string runtime_path(const std::string& data_dir);

/// Written whole (a temporary file renamed over the old one): a reader never sees half of it.
bool write_hub_runtime(const std::string& data_dir, const HubRuntime& runtime, std::string& error);

/// Empty when the file is missing or not a hub runtime file.
std::optional<HubRuntime> read_hub_runtime(const std::string& data_dir);

/// The address a client on this host reaches the API at ("0.0.0.0" and "::" mean any address,
/// loopback among them), as a URL: "http://127.0.0.1:8080", "http://[::1]:8080".
std::string api_url(const HubRuntime& runtime);

}  // namespace vigil::hub

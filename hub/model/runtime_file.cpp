#include "vigil/hub/runtime_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace vigil::hub {

using json = nlohmann::json;

namespace {

bool port_in_range(int64_t port) {
    return port >= 0 && port <= UINT16_MAX;
}

}  // namespace

std::string runtime_path(const std::string& data_dir) {
    return data_dir + "/hub.json";
}

bool write_hub_runtime(const std::string& data_dir, const HubRuntime& runtime, std::string& error) {
    const std::string path = runtime_path(data_dir);
    const std::string temporary = path + ".tmp";
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << json{{"pid", runtime.pid},
                    {"broker_host", runtime.broker_host},
                    {"broker_port", runtime.broker_port},
                    {"api_address", runtime.api_address},
                    {"api_port", runtime.api_port}}
                   .dump()
            << "\n";
        out.close();
        if (!out) {
            error = "cannot write " + temporary;
            std::remove(temporary.c_str());
            return false;
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        error = "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno);
        std::remove(temporary.c_str());
        return false;
    }
    return true;
}

std::optional<HubRuntime> read_hub_runtime(const std::string& data_dir) {
    std::ifstream in(runtime_path(data_dir));
    if (!in) {
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    const json parsed = json::parse(text.str(), nullptr, false);
    if (!parsed.is_object()) {
        return std::nullopt;
    }
    HubRuntime runtime;
    try {
        const int64_t pid = parsed.value("pid", int64_t{0});
        const int64_t broker_port = parsed.value("broker_port", int64_t{0});
        const int64_t api_port = parsed.value("api_port", int64_t{0});
        // The library would narrow 70000 to a port silently.
        if (pid < 0 || pid > INT32_MAX || !port_in_range(broker_port) || !port_in_range(api_port)) {
            return std::nullopt;
        }
        runtime.pid = static_cast<pid_t>(pid);
        runtime.broker_port = static_cast<uint16_t>(broker_port);
        runtime.api_port = static_cast<uint16_t>(api_port);
        runtime.broker_host = parsed.value("broker_host", runtime.broker_host);
        runtime.api_address = parsed.value("api_address", runtime.api_address);
    } catch (const json::exception&) {
        return std::nullopt;  // a field of the wrong type
    }
    return runtime;
}

std::string api_url(const HubRuntime& runtime) {
    std::string address = runtime.api_address;
    if (address.empty() || address == "0.0.0.0") {
        address = "127.0.0.1";
    } else if (address == "::") {
        address = "::1";
    }
    const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    return "http://" + host + ":" + std::to_string(runtime.api_port);
}

}  // namespace vigil::hub

#include "enrolment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <httplib.h>

#include "vigil/hub/runtime_file.hpp"

namespace vigil::sim {
namespace {

using json = nlohmann::json;

json read_credentials(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    json known = json::parse(text.str(), nullptr, false);
    return known.is_object() ? known : json::object();
}

DeviceIdentity identity_from(const json& entry, const std::string& device_id) {
    DeviceIdentity d;
    d.device_id = device_id;
    d.username = entry.value("username", device_id);
    d.password = entry.value("password", std::string());
    d.client_id = entry.value("client_id", device_id);
    return d;
}

// Passwords: readable by the owner only, from the moment the file exists.
bool save_credentials(const std::string& path, const json& known, std::string& error) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const std::string text = known.dump(1) + "\n";
    const bool written = fd >= 0 && ::fchmod(fd, 0600) == 0 &&
                         ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (fd >= 0) {
        ::close(fd);
    }
    if (!written) {
        error = "cannot write " + path;
    }
    return written;
}

struct HubApi {
    std::string url;
    std::string token;
};

// The running hub's API (hub.json) and the admin token it wrote at its first start.
bool hub_api(const std::string& data_dir, const hub::HubRuntime& runtime, HubApi& api,
             std::string& error) {
    if (runtime.api_port == 0) {
        error =
            "the hub in " + data_dir + " runs no API (hub.json): devices are enrolled through it";
        return false;
    }
    std::ifstream in(data_dir + "/admin.token");
    std::getline(in, api.token);
    if (api.token.empty()) {
        error = "no admin token in " + data_dir +
                "/admin.token: devices are enrolled through the "
                "hub's API with it";
        return false;
    }
    api.url = hub::api_url(runtime);
    return true;
}

// Through the hub's own enrolment (POST /api/devices), so that the hub lists the device as
// enrolled and tells its dashboard, as for any device enrolled there.
bool enrol_through_api(const HubApi& api, const std::string& device_id, json& credentials,
                       std::string& error) {
    httplib::Client client(api.url);
    client.set_connection_timeout(10, 0);
    client.set_read_timeout(30, 0);
    const httplib::Headers headers = {{"Authorization", "Bearer " + api.token}};
    const httplib::Result result =
        client.Post("/api/devices", headers, json{{"id", device_id}}.dump(), "application/json");
    if (!result) {
        error = "enrolling " + device_id + ": the hub's API at " + api.url + " did not answer (" +
                httplib::to_string(result.error()) + ")";
        return false;
    }
    const json body = json::parse(result->body, nullptr, false);
    if (result->status != 201 || !body.is_object() || !body.contains("password")) {
        error = "enrolling " + device_id + ": the hub answered " + std::to_string(result->status) +
                " " + (body.is_object() ? body.value("detail", result->body) : result->body);
        return false;
    }
    credentials = json{{"username", body.value("username", device_id)},
                       {"password", body.value("password", std::string())},
                       {"client_id", device_id}};
    return true;
}

}  // namespace

bool enrol_devices(const std::string& data_dir, const std::string& credentials_file,
                   const std::vector<std::string>& device_ids, HubEndpoint& out,
                   std::string& error) {
    const std::optional<hub::HubRuntime> runtime = hub::read_hub_runtime(data_dir);
    if (!runtime) {
        error = "no running vigil-hub in " + data_dir + " (" + hub::runtime_path(data_dir) + ")";
        return false;
    }
    out.broker.host = runtime->broker_host;
    out.broker.port = runtime->broker_port;
    json known = read_credentials(credentials_file);
    std::vector<std::string> missing;
    for (const std::string& id : device_ids) {
        if (known.contains(id) && known[id].is_object()) {
            out.identities[id] = identity_from(known[id], id);
        } else {
            missing.push_back(id);
        }
    }
    if (!missing.empty()) {
        HubApi api;
        if (!hub_api(data_dir, *runtime, api, error)) {
            return false;
        }
        for (const std::string& id : missing) {
            json credentials;
            if (!enrol_through_api(api, id, credentials, error)) {
                break;
            }
            known[id] = std::move(credentials);
            out.identities[id] = identity_from(known[id], id);
        }
        // Those enrolled keep their credentials for the next run, also when others failed.
        if (!error.empty()) {
            std::string ignored;
            (void)save_credentials(credentials_file, known, ignored);
            return false;
        }
        if (!save_credentials(credentials_file, known, error)) {
            return false;
        }
    }
    return true;
}

}  // namespace vigil::sim

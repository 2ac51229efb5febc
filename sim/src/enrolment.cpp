#include "enrolment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vigil/hub/broker.hpp"

namespace vigil::sim {
namespace {

using json = nlohmann::json;

json read_json(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return json();
    }
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, false);
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

}  // namespace

bool enrol_devices(const std::string& data_dir, const std::string& credentials_file,
                   const std::vector<std::string>& device_ids, HubEndpoint& out,
                   std::string& error) {
    const json runtime = read_json(data_dir + "/hub.json");
    hub::BrokerSettings settings;
    settings.data_dir = data_dir;
    if (!runtime.is_object()) {
        error = "no running vigil-hub in " + data_dir + " (hub.json)";
        return false;
    }
    out.broker.host = runtime.value("broker_host", std::string("127.0.0.1"));
    out.broker.port = runtime.value("broker_port", uint16_t{0});
    if (!hub::use_hub_administrator(settings, out.broker.host, out.broker.port)) {
        error = "no broker administrator in " + data_dir + " (broker-credentials.json)";
        return false;
    }
    json known = read_json(credentials_file);
    if (!known.is_object()) {
        known = json::object();
    }
    std::vector<std::string> missing;
    for (const std::string& id : device_ids) {
        if (known.contains(id) && known[id].is_object()) {
            out.identities[id] = identity_from(known[id], id);
        } else {
            missing.push_back(id);
        }
    }
    if (!missing.empty()) {
        hub::Broker broker(settings);
        if (const hub::BrokerResult started = broker.start(); !started.ok()) {
            error = "the hub's broker: " + started.error;
            return false;
        }
        const std::vector<hub::Enrolled> enrolled = broker.add_devices(missing);
        for (size_t i = 0; i < missing.size(); ++i) {
            const std::string& id = missing[i];
            if (!enrolled[i].ok()) {
                error = "enrolling " + id + ": " + enrolled[i].error;
                continue;
            }
            const hub::DeviceCredentials& c = enrolled[i].credentials;
            known[id] = json{
                {"username", c.username}, {"password", c.password}, {"client_id", c.client_id}};
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

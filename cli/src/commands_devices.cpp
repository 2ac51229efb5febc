// devices: list them, enrol one (add) or revoke one; device: one device in detail.
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

int list_devices(const Context& context) {
    return request(context, "GET", "/api/devices?limit=1000", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& device : body["devices"]) {
            rows.push_back({text(device["id"]), text(device["format"]), text(device["state"]),
                            text(device["enrolment"]), seen_text(device["last_seen_ms"]),
                            text(device["messages"]),
                            text(device["applied_config_version"]) + "/" +
                                text(device["desired_config_version"])});
        }
        print_table({"ID", "FORMAT", "STATE", "ENROLMENT", "LAST SEEN", "MESSAGES",
                     "CONFIG (applied/desired)"},
                    rows);
    });
}

int add_device(const Context& context, const std::string& id) {
    const nlohmann::json body = {{"id", id}};
    return request(context, "POST", "/api/devices", body.dump(), [](const nlohmann::json& c) {
        std::cout << "device    " << text(c["device_id"]) << "\nusername  " << text(c["username"])
                  << "\npassword  " << text(c["password"]) << "\nbroker    "
                  << text(c["broker_host"]) << ":" << text(c["broker_port"])
                  << "\n(the password is shown only this once)\n";
    });
}

int revoke_device(const Context& context, const std::string& id) {
    return request(context, "DELETE", "/api/devices/" + url_encode(id), "",
                   [&id](const nlohmann::json&) { std::cout << "device " << id << " revoked\n"; });
}

void print_detail(const nlohmann::json& body) {
    const auto& device = body["device"];
    std::cout << "device       " << text(device["id"]) << "\n"
              << "format       " << text(device["format"]) << "\n"
              << "state        " << text(device["state"]) << "\n"
              << "enrolment    " << text(device["enrolment"]) << "\n"
              << "agent        " << text(device["agent_version"]) << "\n"
              << "first seen   " << seen_text(device["first_seen_ms"]) << "\n"
              << "last seen    " << seen_text(device["last_seen_ms"]) << "\n"
              << "messages     " << text(device["messages"]) << "\n"
              << "config       applied " << text(body["config"]["applied_version"]) << ", desired "
              << text(body["config"]["desired_version"]) << ", group "
              << text(body["config"]["group"]) << "\n";
    if (body["system"].is_object()) {
        const auto& system = body["system"];
        std::cout << "system       " << text(system["os_name"]) << " " << text(system["os_version"])
                  << ", " << text(system["stack_name"]) << ", board " << text(system["board"])
                  << "\n";
    }
    if (body["listening_ports"].is_array()) {
        std::string ports;
        for (const auto& port : body["listening_ports"]) {
            ports += (ports.empty() ? "" : " ") + text(port["protocol"]) + "/" + text(port["port"]);
        }
        std::cout << "listening    " << (ports.empty() ? "-" : ports) << "\n";
    }
    const auto& traffic = body["traffic"];
    std::cout << "traffic      " << text(traffic["flows"]) << " flows, "
              << text(traffic["bytes_in"]) << " bytes in, " << text(traffic["bytes_out"])
              << " bytes out\n";
    for (const auto& remote : traffic["top_remotes"]) {
        std::cout << "  " << text(remote["remote"]) << "  " << text(remote["bytes_in"]) << " in, "
                  << text(remote["bytes_out"]) << " out, " << text(remote["flows"]) << " flows\n";
    }
}

}  // namespace

void add_device_commands(CLI::App& app, Context& context) {
    // The options' values live as long as the callbacks that read them.
    const auto ids = std::make_shared<std::pair<std::string, std::string>>();

    CLI::App* devices = app.add_subcommand("devices", "List devices (or add/revoke one)");
    CLI::App* add = devices->add_subcommand("add", "Enrol a device and print its credentials");
    add->add_option("id", ids->first, "Device id")->required();
    add->callback([&context, ids] { context.exit_code = add_device(context, ids->first); });
    CLI::App* revoke = devices->add_subcommand("revoke", "Revoke a device at the broker");
    revoke->add_option("id", ids->second, "Device id")->required();
    revoke->callback([&context, ids] { context.exit_code = revoke_device(context, ids->second); });
    // A subcommand's callback runs before its parent's: the list only when none was given.
    devices->callback([&context, devices] {
        if (devices->get_subcommands().empty()) {
            context.exit_code = list_devices(context);
        }
    });

    const auto device_id = std::make_shared<std::string>();
    CLI::App* device = app.add_subcommand("device", "Show one device");
    device->add_option("id", *device_id, "Device id")->required();
    device->callback([&context, device_id] {
        context.exit_code =
            request(context, "GET", "/api/devices/" + url_encode(*device_id), "", print_detail);
    });
}

}  // namespace vigil::cli

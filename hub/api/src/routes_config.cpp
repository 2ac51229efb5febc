// Desired configs for a device or a group, and group membership.
//
// Versions: an agent accepts only a config newer than the one in force, and a device may get its
// configs from its own pushes and from its group's. So every push to a device takes a version
// above anything the device was sent (its stored desired config) or reported applying, and a
// group push takes one above every member's, so that all members accept it; each member then
// also gets the group's message as its own desired config.
#include <algorithm>

#include "config_message.hpp"
#include "http_util.hpp"
#include "server_impl.hpp"
#include "vigil/protocol/device_id.h"

namespace vigil::hub {

namespace {

bool valid_group_name(const std::string& name) {
    // The device id's alphabet: safe in URLs, logs and metric labels.
    return wire::valid_device_id(name.data(), name.size());
}

nlohmann::json desired_json(const std::optional<DesiredConfig>& desired) {
    if (!desired) {
        return nullptr;
    }
    api::ConfigRequest settings;
    uint32_t version = 0;
    nlohmann::json out = {{"version", desired->version}, {"updated_ms", desired->updated_ms}};
    out["settings"] = api::decode_config_message(desired->body, settings, version)
                          ? api::to_json(settings)
                          : nlohmann::json(nullptr);
    return out;
}

}  // namespace

void ApiServer::Impl::add_config_routes() {
    route("GET", "/api/devices/([^/]+)/config", "/api/devices/{id}/config",
          &Impl::get_device_config);
    route("PUT", "/api/devices/([^/]+)/config", "/api/devices/{id}/config",
          &Impl::put_device_config);
    route("PUT", "/api/devices/([^/]+)/group", "/api/devices/{id}/group", &Impl::put_device_group);
    route("GET", "/api/groups/([^/]+)/config", "/api/groups/{group}/config",
          &Impl::get_group_config);
    route("PUT", "/api/groups/([^/]+)/config", "/api/groups/{group}/config",
          &Impl::put_group_config);
}

bool ApiServer::Impl::next_device_version(const std::string& device_id, uint32_t& version,
                                          std::string& error) {
    const auto desired = store_.configs.desired_config(ConfigScope::Device, device_id);
    if (!desired.ok()) {
        error = desired.error;
        return false;
    }
    uint32_t highest = desired.value ? desired.value->version : 0;
    const auto device = find_device_row(store_.devices, device_id, error);
    if (!error.empty()) {
        return false;
    }
    if (device) {
        highest = std::max({highest, device->applied_config_version.value_or(0),
                            device->desired_config_version.value_or(0)});
    }
    version = highest + 1;
    return true;
}

ApiServer::Impl::Push ApiServer::Impl::push_to_device(const std::string& device_id,
                                                      uint32_t version,
                                                      const std::vector<uint8_t>& body) {
    Push push{device_id, ""};
    const Done stored = store_.configs.set_desired_config(
        {ConfigScope::Device, device_id, version, "application/cbor", body, now_ms()});
    if (!stored.ok()) {
        push.error = "not stored: " + stored.error;
        return push;
    }
    std::string error;
    if (!control_.publish_config(device_id, body, error)) {
        push.error =
            "stored as version " + std::to_string(version) + " but not published: " + error;
    }
    return push;
}

void ApiServer::Impl::put_device_config(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    nlohmann::json body;
    api::ConfigRequest config;
    std::string error;
    if (!id || !api::parse_body(req, res, body)) {
        return;
    }
    if (!api::parse_config_request(body, config, error)) {
        api::send_error(res, 400, "bad_config", error);
        return;
    }
    std::lock_guard<std::mutex> lock(config_mutex_);
    uint32_t version = 0;
    if (!next_device_version(*id, version, error)) {
        api::send_error(res, 500, "store_error", error);
        return;
    }
    const Push push = push_to_device(*id, version, api::encode_config_message(config, version));
    if (!push.error.empty()) {
        api::send_error(res, 502, "publish_failed", push.error);
        return;
    }
    api::send_json(res, 200,
                   {{"device_id", *id}, {"version", version}, {"settings", api::to_json(config)}});
}

void ApiServer::Impl::put_group_config(const HttpRequest& req, HttpResponse& res) {
    const std::string group = req.matches[1];
    nlohmann::json body;
    api::ConfigRequest config;
    std::string error;
    if (!valid_group_name(group)) {
        api::send_error(res, 400, "bad_group", "a group name is 1-127 of A-Z a-z 0-9 - . _ :");
        return;
    }
    if (!api::parse_body(req, res, body)) {
        return;
    }
    if (!api::parse_config_request(body, config, error)) {
        api::send_error(res, 400, "bad_config", error);
        return;
    }
    std::lock_guard<std::mutex> lock(config_mutex_);
    const auto members = store_.devices.group_members(group);
    const auto current = store_.configs.desired_config(ConfigScope::Group, group);
    if (!members.ok() || !current.ok()) {
        api::send_error(res, 500, "store_error", members.ok() ? current.error : members.error);
        return;
    }
    uint32_t version = current.value ? current.value->version + 1 : 1;
    for (const std::string& member : members.value) {
        uint32_t next = 0;
        if (!next_device_version(member, next, error)) {
            api::send_error(res, 500, "store_error", error);
            return;
        }
        version = std::max(version, next);
    }
    const std::vector<uint8_t> message = api::encode_config_message(config, version);
    const Done stored = store_.configs.set_desired_config(
        {ConfigScope::Group, group, version, "application/cbor", message, now_ms()});
    if (api::store_failed(res, stored)) {
        return;
    }
    nlohmann::json devices = nlohmann::json::array();
    std::string first_failure;
    for (const std::string& member : members.value) {
        const Push push = push_to_device(member, version, message);
        devices.push_back(
            {{"device_id", member},
             {"published", push.error.empty()},
             {"error", push.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(push.error)}});
        if (first_failure.empty() && !push.error.empty()) {
            first_failure = member + ": " + push.error;
        }
    }
    nlohmann::json answer = {{"group", group},
                             {"version", version},
                             {"settings", api::to_json(config)},
                             {"devices", devices}};
    if (!first_failure.empty()) {
        answer["error"] = "publish_failed";
        answer["detail"] = first_failure;
    }
    api::send_json(res, first_failure.empty() ? 200 : 502, answer);
}

void ApiServer::Impl::get_device_config(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    if (!id) {
        return;
    }
    std::string error;
    const auto device = find_device_row(store_.devices, *id, error);
    const auto desired = store_.configs.desired_config(ConfigScope::Device, *id);
    const auto group = store_.devices.device_group(*id);
    if (!error.empty() || !desired.ok() || !group.ok()) {
        api::send_error(res, 500, "store_error",
                        !error.empty()  ? error
                        : !desired.ok() ? desired.error
                                        : group.error);
        return;
    }
    if (!device && !desired.value && !group.value) {
        api::send_error(res, 404, "not_found", "no device '" + *id + "'");
        return;
    }
    nlohmann::json answer = {
        {"device_id", *id},
        {"group", group.value ? nlohmann::json(*group.value) : nlohmann::json(nullptr)},
        {"desired_version", nullptr},
        {"applied_version", nullptr},
        {"in_sync", false},
        {"desired", desired_json(desired.value)}};
    if (desired.value) {
        answer["desired_version"] = desired.value->version;
    }
    if (device && device->applied_config_version) {
        answer["applied_version"] = *device->applied_config_version;
        answer["in_sync"] =
            desired.value && desired.value->version == *device->applied_config_version;
    }
    api::send_json(res, 200, answer);
}

void ApiServer::Impl::get_group_config(const HttpRequest& req, HttpResponse& res) {
    const std::string group = req.matches[1];
    if (!valid_group_name(group)) {
        api::send_error(res, 400, "bad_group", "a group name is 1-127 of A-Z a-z 0-9 - . _ :");
        return;
    }
    const auto members = store_.devices.group_members(group);
    const auto desired = store_.configs.desired_config(ConfigScope::Group, group);
    if (!members.ok() || !desired.ok()) {
        api::send_error(res, 500, "store_error", members.ok() ? desired.error : members.error);
        return;
    }
    if (members.value.empty() && !desired.value) {
        api::send_error(res, 404, "not_found", "no group '" + group + "'");
        return;
    }
    api::send_json(
        res, 200,
        {{"group", group}, {"members", members.value}, {"desired", desired_json(desired.value)}});
}

// Joining a group that has a config sends that config to the device at once (with a version of
// the device's own), so a member never waits for the group's next push.
void ApiServer::Impl::put_device_group(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    nlohmann::json body;
    if (!id || !api::parse_body(req, res, body)) {
        return;
    }
    const bool leave = body.is_object() && body.contains("group") && body["group"].is_null();
    if (!body.is_object() || !body.contains("group") || (!leave && !body["group"].is_string()) ||
        (!leave && !valid_group_name(body["group"].get<std::string>()))) {
        api::send_error(res, 400, "bad_group",
                        "the body must be {\"group\": \"<name>\"} (1-127 of A-Z a-z 0-9 - . _ :) "
                        "or {\"group\": null}");
        return;
    }
    const std::string group = leave ? "" : body["group"].get<std::string>();
    std::lock_guard<std::mutex> lock(config_mutex_);
    const Done done = store_.devices.set_device_group(*id, group);
    if (api::store_failed(res, done)) {
        return;
    }
    nlohmann::json answer = {{"device_id", *id},
                             {"group", leave ? nlohmann::json(nullptr) : nlohmann::json(group)},
                             {"config_version", nullptr}};
    const auto desired = leave ? Fetched<std::optional<DesiredConfig>>{}
                               : store_.configs.desired_config(ConfigScope::Group, group);
    api::ConfigRequest settings;
    uint32_t ignored = 0, version = 0;
    std::string error;
    if (desired.ok() && desired.value &&
        api::decode_config_message(desired.value->body, settings, ignored) &&
        next_device_version(*id, version, error)) {
        const Push push =
            push_to_device(*id, version, api::encode_config_message(settings, version));
        if (!push.error.empty()) {
            api::send_error(res, 502, "publish_failed", push.error);
            return;
        }
        answer["config_version"] = version;
    }
    api::send_json(res, 200, answer);
}

}  // namespace vigil::hub

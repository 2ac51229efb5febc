// Devices: list, detail, enrolment and revocation, flows.
#include <cinttypes>
#include <cstdio>

#include "http_util.hpp"
#include "json_views.hpp"
#include "server_impl.hpp"
#include "vigil/protocol/device_id.h"

namespace vigil::hub {

namespace {

constexpr const char* kStates[] = {"not_initialised", "pending", "active", "suspended", nullptr};
constexpr int64_t kDay = 24LL * 3600 * 1000;

// A flow page's cursor in text: "<time_ms>:<message_id>:<index>".
std::string cursor_text(const FlowCursor& cursor) {
    return std::to_string(cursor.time_ms) + ":" + std::to_string(cursor.message_id) + ":" +
           std::to_string(cursor.index);
}

std::optional<FlowCursor> parse_cursor(const std::string& text) {
    FlowCursor cursor;
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%" SCNd64 ":%" SCNd64 ":%" SCNu32 "%n", &cursor.time_ms,
                    &cursor.message_id, &cursor.index, &consumed) != 3 ||
        static_cast<size_t>(consumed) != text.size()) {
        return std::nullopt;
    }
    return cursor;
}

nlohmann::json to_json(const EnrolmentCredentials& credentials) {
    return {{"device_id", credentials.device_id},
            {"username", credentials.username},
            {"password", credentials.password},
            {"client_certificate_pem", credentials.client_certificate_pem},
            {"client_key_pem", credentials.client_key_pem},
            {"ca_certificate_pem", credentials.ca_certificate_pem},
            {"broker_host", credentials.broker_host},
            {"broker_port", credentials.broker_port},
            {"broker_tls_port", credentials.broker_tls_port}};
}

}  // namespace

void ApiServer::Impl::add_device_routes() {
    route("GET", "/api/devices", "/api/devices", &Impl::list_devices);
    route("POST", "/api/devices", "/api/devices", &Impl::enrol_device);
    route("GET", "/api/devices/([^/]+)", "/api/devices/{id}", &Impl::device_detail);
    route("DELETE", "/api/devices/([^/]+)", "/api/devices/{id}", &Impl::revoke_device);
    route("GET", "/api/devices/([^/]+)/flows", "/api/devices/{id}/flows", &Impl::device_flows);
}

std::optional<std::string> ApiServer::Impl::path_device(const HttpRequest& req, HttpResponse& res) {
    const std::string id = req.matches[1];
    if (!wire::valid_device_id(id.data(), id.size())) {
        api::send_error(res, 400, "bad_device_id",
                        "a device id is 1-127 characters of A-Z a-z 0-9 - . _ :");
        return std::nullopt;
    }
    return id;
}

void ApiServer::Impl::list_devices(const HttpRequest& req, HttpResponse& res) {
    api::QueryReader query(req, res);
    DeviceFilter filter;
    if (const auto state = query.choice("state", kStates)) {
        filter.state = kStates[*state];
    }
    if (const auto format =
            query.named("format", {Format::Vigil, Format::LegacyDefender, Format::AwsDefender})) {
        filter.format = *format;
    }
    if (const auto enrolment = query.named(
            "enrolment", {Enrolment::Pending, Enrolment::Enrolled, Enrolment::Blocked})) {
        filter.enrolment = *enrolment;
    }
    filter.seen_since_ms = query.integer("seen_since", 0, INT64_MAX);
    filter.limit = static_cast<uint32_t>(query.integer("limit", 1, 1000).value_or(100));
    filter.after = query.text("after").value_or("");
    if (!query.ok()) {
        return;
    }
    const Fetched<DevicePage> page = store_.devices.list_devices(filter);
    if (api::store_failed(res, page)) {
        return;
    }
    api::send_json(
        res, 200,
        {{"devices", api::to_json_array(page.value.devices)},
         {"next_after", page.value.next_after.empty() ? nlohmann::json(nullptr)
                                                      : nlohmann::json(page.value.next_after)}});
}

void ApiServer::Impl::device_detail(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    if (!id) {
        return;
    }
    api::QueryReader params(req, res);
    DetailQuery query;
    query.device_id = *id;
    query.to_ms = params.integer("to", 0, INT64_MAX).value_or(now_ms() + 1);
    query.from_ms = params.integer("from", 0, INT64_MAX).value_or(query.to_ms - kDay);
    query.top_remotes = static_cast<uint32_t>(params.integer("top", 0, 100).value_or(10));
    if (!params.ok()) {
        return;
    }
    const Fetched<std::optional<DeviceDetail>> detail = store_.devices.device_detail(query);
    if (api::store_failed(res, detail)) {
        return;
    }
    if (!detail.value) {
        api::send_error(res, 404, "not_found", "no device '" + *id + "'");
        return;
    }
    nlohmann::json body = api::to_json(*detail.value);
    body["traffic"]["from_ms"] = query.from_ms;
    body["traffic"]["to_ms"] = query.to_ms;
    const DeviceRow& device = detail.value->device;
    const Fetched<std::optional<std::string>> group = store_.devices.device_group(*id);
    body["config"] = {{"desired_version", device.desired_config_version
                                              ? nlohmann::json(*device.desired_config_version)
                                              : nlohmann::json(nullptr)},
                      {"applied_version", device.applied_config_version
                                              ? nlohmann::json(*device.applied_config_version)
                                              : nlohmann::json(nullptr)},
                      {"group", group.ok() && group.value ? nlohmann::json(*group.value)
                                                          : nlohmann::json(nullptr)}};
    api::send_json(res, 200, body);
}

void ApiServer::Impl::enrol_device(const HttpRequest& req, HttpResponse& res) {
    nlohmann::json body;
    if (!api::parse_body(req, res, body)) {
        return;
    }
    if (!body.is_object() || !body.contains("id") || !body["id"].is_string()) {
        api::send_error(res, 400, "bad_request", "the body must be {\"id\": \"<device id>\"}");
        return;
    }
    const std::string id = body["id"].get<std::string>();
    if (!wire::valid_device_id(id.data(), id.size())) {
        api::send_error(res, 400, "bad_device_id",
                        "a device id is 1-127 characters of A-Z a-z 0-9 - . _ :");
        return;
    }
    const EnrolOutcome enrolled = enrolment_.enrol(id);
    if (!enrolled.ok()) {
        api::send_error(res, 409, "enrolment_refused", enrolled.error);
        return;
    }
    if (settings_.alert_events != nullptr) {
        settings_.alert_events->publish(DeviceEvent{id, DeviceChange::Enrolled, now_ms()});
    }
    nlohmann::json answer = to_json(enrolled.credentials);
    if (!enrolled.store_error.empty()) {
        answer["store_error"] = enrolled.store_error;
    }
    api::send_json(res, 201, answer);
}

void ApiServer::Impl::revoke_device(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    if (!id) {
        return;
    }
    const RevokeOutcome revoked = enrolment_.revoke(*id);
    switch (revoked.result) {
        case Revocation::Revoked:
            if (settings_.alert_events != nullptr) {
                settings_.alert_events->publish(DeviceEvent{*id, DeviceChange::Revoked, now_ms()});
            }
            res.status = 204;
            return;
        case Revocation::AlreadyBlocked:
            res.status = 204;
            return;
        case Revocation::UnknownDevice:
            api::send_error(res, 404, "not_found", revoked.error);
            return;
        case Revocation::BrokerRefused:
            api::send_error(res, 502, "broker_error", revoked.error);
            return;
        case Revocation::StoreFailed:
            api::send_error(res, 500, "store_error", revoked.error);
            return;
    }
}

void ApiServer::Impl::device_flows(const HttpRequest& req, HttpResponse& res) {
    const auto id = path_device(req, res);
    if (!id) {
        return;
    }
    api::QueryReader params(req, res);
    FlowQuery query;
    query.device_id = *id;
    query.from_ms = params.integer("from", INT64_MIN, INT64_MAX).value_or(0);
    query.to_ms = params.integer("to", INT64_MIN, INT64_MAX).value_or(INT64_MAX);
    query.limit = static_cast<uint32_t>(params.integer("limit", 1, 10000).value_or(1000));
    const auto after = params.text("after");
    if (!params.ok()) {
        return;
    }
    if (after) {
        query.after = parse_cursor(*after);
        if (!query.after) {
            api::send_error(res, 400, "bad_parameter",
                            "after must be a cursor from a previous page (\"next\")");
            return;
        }
    }
    std::string error;
    if (!find_device_row(store_.devices, *id, error)) {
        error.empty() ? api::send_error(res, 404, "not_found", "no device '" + *id + "'")
                      : api::send_error(res, 500, "store_error", error);
        return;
    }
    const Fetched<FlowPage> page = store_.devices.flows(query);
    if (api::store_failed(res, page)) {
        return;
    }
    api::send_json(res, 200,
                   {{"device_id", *id},
                    {"flows", api::to_json_array(page.value.flows)},
                    {"next", page.value.next ? nlohmann::json(cursor_text(*page.value.next))
                                             : nlohmann::json(nullptr)}});
}

}  // namespace vigil::hub

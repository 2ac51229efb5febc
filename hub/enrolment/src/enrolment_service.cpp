#include "vigil/hub/enrolment_service.hpp"

#include <optional>

namespace vigil::hub {

std::optional<DeviceRow> find_device_row(DeviceDirectory& devices, const std::string& device_id,
                                         std::string& error) {
    DetailQuery query;
    query.device_id = device_id;
    query.from_ms = 0;
    query.to_ms = 0;
    query.top_remotes = 0;
    Fetched<std::optional<DeviceDetail>> detail = devices.device_detail(query);
    if (!detail.ok()) {
        error = detail.error;
        return std::nullopt;
    }
    if (!detail.value) {
        return std::nullopt;
    }
    return detail.value->device;
}

void DeviceAccounts::add_devices(const std::vector<std::string>& device_ids,
                                 std::vector<EnrolmentCredentials>& out,
                                 std::vector<std::string>& errors) {
    out.assign(device_ids.size(), EnrolmentCredentials{});
    errors.assign(device_ids.size(), std::string());
    for (size_t i = 0; i < device_ids.size(); ++i) {
        if (!add_device(device_ids[i], out[i], errors[i]) && errors[i].empty()) {
            errors[i] = "the broker refused to enrol " + device_ids[i];
        }
    }
}

EnrolmentService::EnrolmentService(DeviceAccounts& accounts, DeviceDirectory* devices)
    : accounts_(accounts), devices_(devices) {}

EnrolOutcome EnrolmentService::enrol(const std::string& device_id) {
    EnrolOutcome out;
    if (!accounts_.add_device(device_id, out.credentials, out.error)) {
        if (out.error.empty()) {
            out.error = "the broker refused to enrol " + device_id;
        }
        return out;
    }
    record(device_id, out);
    return out;
}

std::vector<EnrolOutcome> EnrolmentService::enrol_many(const std::vector<std::string>& device_ids) {
    std::vector<EnrolmentCredentials> credentials;
    std::vector<std::string> errors;
    accounts_.add_devices(device_ids, credentials, errors);
    std::vector<EnrolOutcome> out(device_ids.size());
    for (size_t i = 0; i < device_ids.size(); ++i) {
        out[i].error = i < errors.size() ? errors[i] : "the broker did not answer";
        if (out[i].ok()) {
            out[i].credentials = credentials[i];
            record(device_ids[i], out[i]);
        }
    }
    return out;
}

void EnrolmentService::record(const std::string& device_id, EnrolOutcome& out) {
    // Listed at once, though never seen until its first message.
    if (devices_ != nullptr) {
        const Done marked = devices_->set_enrolment(device_id, Enrolment::Enrolled);
        if (!marked.ok()) {
            out.store_error = marked.error;
        }
    }
}

RevokeOutcome EnrolmentService::revoke(const std::string& device_id) {
    std::string refused;
    if (!accounts_.revoke_device(device_id, refused)) {
        if (devices_ == nullptr) {
            return {Revocation::BrokerRefused, refused};
        }
        std::string lookup_error;
        const std::optional<DeviceRow> device = find_device_row(*devices_, device_id, lookup_error);
        if (!device && lookup_error.empty()) {
            return {Revocation::UnknownDevice, "no device '" + device_id + "': " + refused};
        }
        if (device && device->enrolment == Enrolment::Blocked) {
            return {Revocation::AlreadyBlocked, ""};
        }
        return {Revocation::BrokerRefused, refused};
    }
    if (devices_ != nullptr) {
        const Done marked = devices_->set_enrolment(device_id, Enrolment::Blocked);
        if (!marked.ok()) {
            return {Revocation::StoreFailed,
                    "revoked at the broker, but not marked blocked: " + marked.error};
        }
    }
    return {Revocation::Revoked, ""};
}

}  // namespace vigil::hub

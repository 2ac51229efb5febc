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
    // Listed at once, though never seen until its first message.
    if (devices_ != nullptr) {
        const Done marked = devices_->set_enrolment(device_id, Enrolment::Enrolled);
        if (!marked.ok()) {
            out.store_error = marked.error;
        }
    }
    return out;
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

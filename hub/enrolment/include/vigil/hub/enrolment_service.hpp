// Enrolling and revoking a device: the broker account that lets it in (DeviceAccounts), and the
// store's record of the operator's decision. The HTTP API and `vigil-hub devices` both go through
// EnrolmentService, so they follow one policy:
//
// - enrol: the broker account decides. Once it exists the device can connect, and its credentials
//   exist only in this answer, so a store that fails to record it does not undo or hide the
//   enrolment: it is reported beside the credentials, and the device is listed with its first
//   message.
// - revoke: the goal is a device that cannot connect and is listed as blocked. A device the store
//   already lists as blocked is revoked again without error (the broker no longer holds its
//   account, which is the point), so a retry after any partial failure ends well; a device
//   neither the broker nor the store knows is an error of its own (a mistyped id); a store that
//   fails after the broker cut the device off is an error, so the operator retries until the
//   listing says blocked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/device_directory.hpp"
#include "vigil/hub/enrolment.hpp"

namespace vigil::hub {

/// What a newly enrolled device needs to connect: shown once, never stored in clear by the hub.
/// (Named apart from the broker's own DeviceCredentials in broker.hpp, which shares the namespace:
/// the program that binds the two includes both.)
struct EnrolmentCredentials {
    std::string device_id;
    std::string username;
    std::string password;
    std::string client_id;               ///< the MQTT client id the device must connect with
    std::string client_certificate_pem;  ///< with TLS on: issued by the hub's CA
    std::string client_key_pem;
    std::string ca_certificate_pem;  ///< the broker's CA, with TLS on
    std::string broker_host;
    uint16_t broker_port = 0;
    uint16_t broker_tls_port = 0;  ///< 0 without TLS
};

/// The broker's side of enrolment: vigil-hub implements it over its Broker; tests with doubles.
class DeviceAccounts {
  public:
    virtual ~DeviceAccounts() = default;
    /// Creates the device's broker account; false with `error` when the id is invalid, already
    /// enrolled, or the broker refused.
    virtual bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                            std::string& error) = 0;
    /// Many devices at once, each as add_device() answers it (out[i] and errors[i]: empty when
    /// enrolled); a broker that can enrol a batch faster than one by one overrides it.
    virtual void add_devices(const std::vector<std::string>& device_ids,
                             std::vector<EnrolmentCredentials>& out,
                             std::vector<std::string>& errors);
    /// Cuts the device off at the broker at once (a connected device is disconnected).
    virtual bool revoke_device(const std::string& device_id, std::string& error) = 0;
};

struct [[nodiscard]] EnrolOutcome {
    EnrolmentCredentials credentials;
    std::string error;        ///< the broker refused: nothing changed
    std::string store_error;  ///< enrolled, but the store did not record it
    bool ok() const { return error.empty(); }
};

enum class Revocation {
    Revoked,         ///< cut off at the broker and marked blocked
    AlreadyBlocked,  ///< the store lists it as blocked and the broker holds no account for it
    UnknownDevice,   ///< neither the broker nor the store knows it
    BrokerRefused,   ///< the broker refused (the store does not list it as blocked)
    StoreFailed,     ///< cut off at the broker, but not marked blocked
};

struct [[nodiscard]] RevokeOutcome {
    Revocation result = Revocation::Revoked;
    std::string error;  ///< why, unless Revoked or AlreadyBlocked
    bool ok() const {
        return result == Revocation::Revoked || result == Revocation::AlreadyBlocked;
    }
};

/// The device's own row, without its traffic (an empty traffic range keeps the lookup cheap).
/// nullopt with `error` empty when the store does not know the device; with `error` set when the
/// store failed.
std::optional<DeviceRow> find_device_row(DeviceDirectory& devices, const std::string& device_id,
                                         std::string& error);

class EnrolmentService {
  public:
    /// `store` may be null where there is none to record into (`vigil-hub devices` against an
    /// external broker without a data directory): the broker's answer is then the whole answer.
    EnrolmentService(DeviceAccounts& accounts, DeviceDirectory* devices);

    EnrolOutcome enrol(const std::string& device_id);
    /// Each device as enrol() would, the broker's accounts made in one batch.
    std::vector<EnrolOutcome> enrol_many(const std::vector<std::string>& device_ids);
    RevokeOutcome revoke(const std::string& device_id);

  private:
    void record(const std::string& device_id, EnrolOutcome& out);

    DeviceAccounts& accounts_;
    DeviceDirectory* devices_;  ///< nullptr: the broker alone
};

}  // namespace vigil::hub

#include "broker_accounts.hpp"

#include <utility>

namespace vigil::hub {

BrokerAccounts::BrokerAccounts(Broker& broker, uint16_t tls_port,
                               std::function<void(const std::string&)> log)
    : broker_(broker), tls_port_(tls_port), log_(std::move(log)) {}

bool BrokerAccounts::add_device(const std::string& device_id, EnrolmentCredentials& out,
                                std::string& error) {
    Enrolled e = broker_.add_device(device_id);
    if (!e.ok()) {
        error = e.error;
        return false;
    }
    out = credentials_of(e.credentials);
    if (log_) {
        log_("enrolled device " + device_id);
    }
    return true;
}

void BrokerAccounts::add_devices(const std::vector<std::string>& device_ids,
                                 std::vector<EnrolmentCredentials>& out,
                                 std::vector<std::string>& errors) {
    const std::vector<Enrolled> enrolled = broker_.add_devices(device_ids);
    out.assign(device_ids.size(), EnrolmentCredentials{});
    errors.assign(device_ids.size(), std::string());
    size_t count = 0;
    for (size_t i = 0; i < enrolled.size() && i < device_ids.size(); ++i) {
        errors[i] = enrolled[i].error;
        if (enrolled[i].ok()) {
            out[i] = credentials_of(enrolled[i].credentials);
            ++count;
        }
    }
    if (log_) {
        log_("enrolled " + std::to_string(count) + " devices");
    }
}

EnrolmentCredentials BrokerAccounts::credentials_of(const DeviceCredentials& enrolled) const {
    const BrokerEndpoint endpoint = broker_.ingest_endpoint();
    EnrolmentCredentials out;
    out.device_id = enrolled.device_id;
    out.username = enrolled.username;
    out.password = enrolled.password;
    out.client_id = enrolled.client_id;
    out.client_certificate_pem = enrolled.cert_pem;
    out.client_key_pem = enrolled.key_pem;
    out.ca_certificate_pem = enrolled.ca_pem;
    out.broker_host = endpoint.host;
    out.broker_port = endpoint.port;
    out.broker_tls_port = tls_port_;
    return out;
}

bool BrokerAccounts::revoke_device(const std::string& device_id, std::string& error) {
    BrokerResult r = broker_.revoke_device(device_id);
    if (!r.ok()) {
        error = r.error;
        return false;
    }
    if (log_) {
        log_("revoked device " + device_id);
    }
    return true;
}

}  // namespace vigil::hub

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
    const BrokerEndpoint endpoint = broker_.ingest_endpoint();
    out.device_id = e.credentials.device_id;
    out.username = e.credentials.username;
    out.password = e.credentials.password;
    out.client_id = e.credentials.client_id;
    out.client_certificate_pem = e.credentials.cert_pem;
    out.client_key_pem = e.credentials.key_pem;
    out.ca_certificate_pem = e.credentials.ca_pem;
    out.broker_host = endpoint.host;
    out.broker_port = endpoint.port;
    out.broker_tls_port = tls_port_;
    if (log_) {
        log_("enrolled device " + device_id);
    }
    return true;
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

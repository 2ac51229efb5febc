// Enrolment's broker side over the hub's Broker: the running hub's and `vigil-hub devices`'s.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vigil/hub/broker.hpp"
#include "vigil/hub/enrolment_service.hpp"

namespace vigil::hub {

class BrokerAccounts final : public DeviceAccounts {
  public:
    /// `tls_port` is what devices are told (0 without TLS); `log`, when set, hears each change.
    BrokerAccounts(Broker& broker, uint16_t tls_port,
                   std::function<void(const std::string&)> log = nullptr);

    bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                    std::string& error) override;
    void add_devices(const std::vector<std::string>& device_ids,
                     std::vector<EnrolmentCredentials>& out,
                     std::vector<std::string>& errors) override;
    bool revoke_device(const std::string& device_id, std::string& error) override;

  private:
    EnrolmentCredentials credentials_of(const DeviceCredentials& enrolled) const;

    Broker& broker_;
    uint16_t tls_port_;
    std::function<void(const std::string&)> log_;
};

}  // namespace vigil::hub

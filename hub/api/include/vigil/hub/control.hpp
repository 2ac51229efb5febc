// What the HTTP API asks of the running hub beyond the store: enrolment at the broker, publishing
// a desired config to a device, the ingest counters and the hub's health. vigil-hub implements it
// over its Broker and IngestPipeline; tests implement it with their own doubles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::hub {

/// What a newly enrolled device needs to connect: shown once, never stored in clear by the hub.
/// (Named apart from the broker's own DeviceCredentials in broker.hpp, which shares the namespace:
/// the program that implements HubControl includes both.)
struct EnrolmentCredentials {
    std::string device_id;
    std::string username;
    std::string password;
    std::string client_certificate_pem;  ///< with TLS on: issued by the hub's CA
    std::string client_key_pem;
    std::string ca_certificate_pem;  ///< the broker's CA, with TLS on
    std::string broker_host;
    uint16_t broker_port = 0;
    uint16_t broker_tls_port = 0;  ///< 0 without TLS
};

class HubControl {
  public:
    virtual ~HubControl() = default;

    /// Creates the device's broker account; false with `error` when the id is invalid, already
    /// enrolled, or the broker refused.
    virtual bool add_device(const std::string& device_id, EnrolmentCredentials& out,
                            std::string& error) = 0;
    /// Cuts the device off at the broker at once (a connected device is disconnected).
    virtual bool revoke_device(const std::string& device_id, std::string& error) = 0;
    /// Publishes `config` (a CBOR config message, docs/protocol.md) retained, QoS 1, on
    /// devices/{device_id}/config/vigil.
    virtual bool publish_config(const std::string& device_id, const std::vector<uint8_t>& config,
                                std::string& error) = 0;
    /// The ingest side's metrics in Prometheus text format (the API adds the store's own).
    virtual std::string ingest_metrics_text() = 0;
    /// Whether ingest is connected to the broker; `detail` says why not.
    virtual bool ingest_healthy(std::string& detail) = 0;
};

}  // namespace vigil::hub

// What the HTTP API asks of the running hub beyond the store: enrolment at the broker, publishing
// a desired config to a device, the ingest counters and the hub's health. vigil-hub implements it
// over its Broker and IngestPipeline; tests implement it with their own doubles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/hub/enrolment_service.hpp"

namespace vigil::hub {

/// Enrolment at the broker is DeviceAccounts (enrolment.hpp); the API records it in the store
/// through EnrolmentService.
class HubControl : public DeviceAccounts {
  public:
    /// Publishes `config` (a CBOR config message, docs/protocol.md) retained, QoS 1, on
    /// devices/{device_id}/config/vigil.
    virtual bool publish_config(const std::string& device_id, const std::vector<uint8_t>& config,
                                std::string& error) = 0;
    /// The ingest side's metrics in Prometheus text format (the API adds the store's own).
    virtual std::string ingest_metrics_text() = 0;
    /// Why the hub cannot do its job right now, one reason each, named by its part
    /// ("ingest: not connected to the broker", "store: ...", "broker: ..."); empty when healthy.
    /// /healthz answers 503 with these while any is present.
    virtual std::vector<std::string> health_problems() = 0;
    /// The detection policy in force as a JSON document: {"policy": what the file sets,
    /// "errors": why the file in place is refused (empty when it is in force), and with a
    /// device id, "device": that device's effective settings}.
    virtual std::string detection_policy_json(const std::string& device_id) = 0;
};

}  // namespace vigil::hub

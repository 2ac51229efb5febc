// What the HTTP API asks of the running hub beyond the store: enrolment at the broker, publishing
// a desired config to a device, the ingest counters and the hub's health. vigil-hub implements it
// over its Broker and IngestPipeline; tests implement it with their own doubles.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/hub/enrolment_service.hpp"

namespace vigil::hub {

/// A vulnerability catalog file in force: the built-in one or a drop-in of the hub's directory.
struct VulnerabilityFile {
    std::string name;
    bool built_in = false;
    size_t entries = 0;
    std::string error;  ///< why a drop-in is left out ("LINE:COL: message"); empty when in force
};

/// What installing a drop-in came to: refused with its errors, or written.
struct VulnerabilityInstall {
    bool installed = false;
    size_t entries = 0;
    /// Why it was refused: each error of the file with its line and column (0 when the whole
    /// request is wrong, such as its name).
    struct Error {
        int line = 0, column = 0;
        std::string message;
    };
    std::vector<Error> errors;
    bool unavailable = false;  ///< the hub could not write it (not the file's fault)
};

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
    /// The vulnerability catalogs: the built-in one first, then the drop-ins in name order.
    virtual std::vector<VulnerabilityFile> vulnerability_files() { return {}; }
    /// Checks `text` against the catalog schema and, when it holds, writes it as the drop-in
    /// `name` (replacing one of that name); the hub takes it into force within a second.
    virtual VulnerabilityInstall install_vulnerability_file(const std::string& name,
                                                            const std::string& text) {
        (void)name;
        (void)text;
        VulnerabilityInstall refused;
        refused.unavailable = true;
        refused.errors.push_back({0, 0, "this hub keeps no vulnerability catalogs"});
        return refused;
    }
};

}  // namespace vigil::hub

// Ingest's side of the store: batches of reports, and what detection made of them, committed
// together.
//
// Ingest is at-least-once: the hub acknowledges a message to the broker only after its batch has
// committed, so a message may arrive twice (after a crash, or a QoS 1 resend). The store makes
// that harmless: a report whose (device_id, message_key) is already stored is skipped and counted
// as a duplicate, in the same transaction. Detection is exactly-once on top of that: it sees only
// the reports the transaction stored for the first time, and its state changes and alerts commit
// or roll back with them, so a redelivered message changes nothing and a crash loses nothing that
// was acknowledged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vigil/hub/alert.hpp"
#include "vigil/hub/device_event.hpp"
#include "vigil/hub/recommendation.hpp"
#include "vigil/hub/report.hpp"
#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

/// One device's detection state after a batch, opaque to the store; it replaces the saved one
/// (stamped with the latest receive time among the batch's new reports).
struct DetectionStateChange {
    std::string device_id;
    std::vector<uint8_t> state;
};

/// What detection made of the new reports of one batch.
struct DetectionEffects {
    std::vector<DetectionStateChange> states;
    /// Raised in this order, each as AlertStore::raise_alert would: one alert per device, type
    /// and subject until it is resolved, counting repeats.
    std::vector<AlertRaise> alerts;
    /// Applied after the raises, each as AlertStore::clear_alert would.
    std::vector<AlertClear> clears;
    /// Applied after the clears, in this order, each as
    /// RecommendationStore::apply_recommendation_scan would.
    std::vector<RecommendationScan> recommendation_scans;
};

/// Detection's step for one batch. It gets the reports the store did not hold before, in batch
/// order, and answers their effects, or an error, which rolls the whole batch back (the reports
/// too). It runs inside the write transaction, after the reports are written and before the
/// commit: it must not write to the store itself, and it is not called when every report of the
/// batch was a duplicate. An exception it throws rolls the batch back too and reaches the caller.
/// The effects are only durable once commit_batch() returns ok, so a detection engine adopts its
/// new state then, and not before.
using DetectionStep =
    std::function<Fetched<DetectionEffects>(const std::vector<const Report*>& fresh)>;

struct WriteResult {
    bool ok = false;        ///< false: nothing of the batch was written (see error)
    size_t stored = 0;      ///< reports written
    size_t duplicates = 0;  ///< reports already stored, skipped
    /// What the raises and clears did, in their order (a clear that found no unresolved
    /// alert is left out), for the outputs and live consumers once the batch is durable.
    std::vector<AlertEvent> alert_events;
    /// What the recommendation scans changed, in their order (a scan that changed nothing makes
    /// no event).
    std::vector<RecommendationEvent> recommendation_events;
    /// Devices whose first message, or first heartbeat applying a new config version, the batch
    /// stored, in batch order.
    std::vector<DeviceEvent> device_events;
    std::string error;
};

class TelemetryWriter {
  public:
    virtual ~TelemetryWriter() = default;

    /// Writes every new report of the batch, and the effects `detect` returns for them (nothing
    /// when detect is empty), in one transaction, or nothing at all. Durable when it returns ok.
    virtual WriteResult commit_batch(const std::vector<Report>& reports,
                                     const DetectionStep& detect) = 0;

    /// A batch without detection.
    WriteResult write_batch(const std::vector<Report>& reports) {
        return commit_batch(reports, nullptr);
    }
};

}  // namespace vigil::hub

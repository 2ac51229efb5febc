// Where the hub keeps what devices reported, by role: each component depends only on the part it
// needs (ingest on TelemetryWriter, the API on the directory, the fleet overview, alerts,
// recommendations, configs and maintenance; detection on TelemetryWriter and DetectionStateStore).
// Store is all of them, for whoever opens one and hands its parts out. SQLite (sqlite_store.hpp)
// serves a site; a PostgreSQL implementation can stand behind the same interfaces when one machine
// is outgrown.
//
// Every method may be called from any thread at any time, and several hub processes may share one
// store: writes are serialised by the store, reads proceed while a write is in progress. Queries
// take their filters as values, never as SQL text.
#pragma once

#include "vigil/hub/alert_store.hpp"
#include "vigil/hub/config_store.hpp"
#include "vigil/hub/detection_state_store.hpp"
#include "vigil/hub/device_directory.hpp"
#include "vigil/hub/fleet_overview.hpp"
#include "vigil/hub/recommendation_store.hpp"
#include "vigil/hub/store_maintenance.hpp"
#include "vigil/hub/telemetry_writer.hpp"

namespace vigil::hub {

class Store : public TelemetryWriter,
              public DeviceDirectory,
              public AlertStore,
              public RecommendationStore,
              public ConfigStore,
              public DetectionStateStore,
              public StoreMaintenance,
              public FleetOverview {};

}  // namespace vigil::hub

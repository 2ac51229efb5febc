// Keeping the store in shape: retention of raw telemetry, and the figures /metrics shows.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/hub/store_result.hpp"

namespace vigil::hub {

struct RetentionResult {
    uint64_t flows = 0, overflow = 0, interface_totals = 0, messages = 0, heartbeats = 0,
             port_snapshots = 0;
    uint32_t chunks = 0;  ///< transactions used; ingest may commit between any two
    std::string error;
};

struct StoreStats {
    uint64_t devices = 0, messages = 0, flows = 0, overflow = 0, interface_totals = 0,
             port_snapshots = 0, heartbeats = 0, alerts = 0, open_alerts = 0, recommendations = 0;
    uint64_t file_bytes = 0;  ///< on disk, the write-ahead log included
};

class StoreMaintenance {
  public:
    virtual ~StoreMaintenance() = default;

    /// Deletes raw telemetry (flows, overflow, interface totals, heartbeats, port snapshots, dedupe
    /// keys) received before now_ms minus the retention, in short transactions so ingest keeps
    /// committing.
    virtual RetentionResult apply_retention(int64_t now_ms) = 0;
    virtual Fetched<StoreStats> stats() = 0;
};

}  // namespace vigil::hub

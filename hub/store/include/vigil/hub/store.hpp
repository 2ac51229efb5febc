// Where the hub keeps what devices reported. SQLite (sqlite_store.hpp) serves a site; a
// PostgreSQL implementation can stand behind the same interface when one machine is outgrown.
//
// Ingest is at-least-once: the hub acknowledges a message to the broker only after write_batch()
// has committed it, so a message may arrive twice (after a crash, or a QoS 1 resend). The store
// makes that harmless: a report whose (device_id, message_key) is already stored is skipped and
// counted as a duplicate, in the same transaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub {

struct WriteResult {
    bool ok = false;        ///< false: nothing of the batch was written (see error)
    size_t stored = 0;      ///< reports written
    size_t duplicates = 0;  ///< reports already stored, skipped
    std::string error;
};

class Store {
  public:
    virtual ~Store() = default;

    /// Writes every report in one transaction, or none of them. Durable when it returns ok.
    virtual WriteResult write_batch(const std::vector<Report>& reports) = 0;
};

}  // namespace vigil::hub

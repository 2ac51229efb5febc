// The SQLite store: one file (plus its write-ahead log) for a site's hub.
//
// Durability: the database runs in WAL mode. With Durability::Full (the default) every commit
// fsyncs the log before the call returns, so an acknowledged message survives a crash of the
// hub process and a power loss or kernel crash alike. Durability::Normal skips that fsync: a
// commit is then in the kernel's page cache when the call returns, which survives kill -9 of
// the hub (the kernel still writes it out) but not a power loss, which may roll back the last
// commits — messages the broker already counts as delivered. Choose Normal only where the
// filesystem or hardware already guarantees that (battery-backed cache) or where losing a few
// seconds of telemetry on power loss is acceptable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vigil/hub/store.hpp"

namespace vigil::hub {

enum class Durability : uint8_t { Full, Normal };

struct SqliteOptions {
    std::string path;  ///< the data file; created with its schema when missing
    /// How long a write waits for another process holding the database's write lock.
    uint32_t busy_timeout_ms = 5000;
    Durability durability = Durability::Full;
    /// Raw telemetry older than this is deleted by apply_retention().
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;
    /// Messages apply_retention() deletes (with their flows and other telemetry) per
    /// transaction: small enough that a pending batch commit never waits long.
    uint32_t retention_chunk_messages = 500;
    /// Page size of a database this call creates (an existing file keeps its own). Each page is one
    /// write to the WAL at commit, and flows arrive in large batches: 16 KiB pages take a quarter
    /// of the system calls that SQLite's default 4 KiB take.
    uint32_t page_size_bytes = 16384;
    /// A checkpoint (the WAL copied back into the database) starts on a thread of the store's own
    /// once a commit leaves the WAL this many pages long, and when the store closes; 0 leaves
    /// checkpoints to SQLite, which runs them inside the commit that crosses 1000 pages.
    uint32_t checkpoint_frames = 1000;
    /// Caps the data file (in database pages); 0 means no cap. Writes that would grow it further
    /// fail like a full disk.
    uint32_t max_pages = 0;
    /// Reader connections kept open for concurrent queries (more are opened on demand).
    uint32_t readers = 4;
    /// Opening an existing store runs SQLite's PRAGMA quick_check for at most this long and
    /// refuses a damaged store; 0 skips the check. The check reads the whole file, so the limit
    /// bounds the start of a large store, which then opens unchecked beyond what was read.
    uint32_t quick_check_ms = 30000;
    /// Hears how the quick check went; nothing is said when unset.
    std::function<void(const std::string&)> log;
};

/// Opens (creating or upgrading) the store; nullptr with error set when it cannot, for instance a
/// file that is not a Vigil database, one written by a newer vigil-hub, one that fails the quick
/// check, or an empty file. A store is created only where no file is.
std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options, std::string& error);

}  // namespace vigil::hub

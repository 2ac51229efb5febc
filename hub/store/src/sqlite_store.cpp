// Opening the SQLite store: the writer connection, the schema, the checkpointer and the readers.
#include <chrono>
#include <memory>

#include "pragmas.hpp"
#include "sqlite_store_impl.hpp"
#include "store_file.hpp"
#include "vigil/hub/sqlite/schema.hpp"

namespace vigil::hub {

namespace sqlite {

bool SqliteStore::open(std::string& error) {
    StoreFile found = StoreFile::Missing;
    if (!inspect_store_file(options_.path, found, error)) {
        return false;
    }
    if (found == StoreFile::Missing && !create_store_file(options_, error)) {
        return false;
    }
    // Never SQLITE_OPEN_CREATE: whatever made the file go between the look and the open must not
    // be replaced by an empty store.
    std::string reason;
    if (!writer_.open(options_.path, SQLITE_OPEN_READWRITE, reason)) {
        error = explain_open_failure(options_.path, reason);
        return false;
    }
    // journal_mode is the first statement to read the file: a file that is not a database fails
    // there, before anything is written to it.
    if (!writer_.execute("PRAGMA journal_mode = WAL", reason)) {
        error = explain_open_failure(options_.path, reason);
        return false;
    }
    if (found == StoreFile::Present && options_.quick_check_ms > 0) {
        const auto began = std::chrono::steady_clock::now();
        const CheckResult checked =
            quick_check(writer_, options_.path, options_.quick_check_ms, error);
        if (checked == CheckResult::Damaged) {
            return false;
        }
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - began)
                              .count();
        if (options_.log) {
            options_.log(checked == CheckResult::Passed
                             ? "quick check passed in " + std::to_string(took) + " ms"
                             : "quick check stopped at its limit of " +
                                   std::to_string(options_.quick_check_ms) +
                                   " ms, no damage found in what it read (the limit bounds the "
                                   "start of a large store)");
        }
    }
    if (!apply_pragmas(writer_, options_, reason) || !migrate(writer_, kSchemaVersion, reason) ||
        (options_.checkpoint_frames > 0 && !checkpointer_.start(writer_, options_, reason)) ||
        !readers_.fill(reason)) {
        error = options_.path + ": " + reason;
        return false;
    }
    return true;
}

}  // namespace sqlite

std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options, std::string& error) {
    auto store = std::make_unique<sqlite::SqliteStore>(options);
    if (!store->open(error)) {
        return nullptr;
    }
    return store;
}

}  // namespace vigil::hub

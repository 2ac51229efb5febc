// Opening the SQLite store: the writer connection, the schema, the checkpointer and the readers.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "pragmas.hpp"
#include "vigil/hub/sqlite/schema.hpp"
#include "sqlite_store_impl.hpp"

namespace vigil::hub {

namespace sqlite {

namespace {

// SQLite says "unable to open database file" for most reasons; the directory is the usual one.
std::string explain_open_failure(const std::string& path, const std::string& reason) {
    const auto slash = path.rfind('/');
    const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    if (access(directory.c_str(), W_OK) != 0) {
        return path + ": " + reason + "; the directory " + directory +
               " is not writable: " + std::strerror(errno);
    }
    return path + ": " + reason;
}

}  // namespace

bool SqliteStore::open(std::string& error) {
    std::string reason;
    if (!writer_.open(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, reason)) {
        error = explain_open_failure(options_.path, reason);
        return false;
    }
    // page_size only records a wish (it applies when the first table is created), so
    // journal_mode is still the first statement to read the file: a file that is not a database
    // fails there, before anything is written to it.
    const std::string page_size = "PRAGMA page_size = " + std::to_string(options_.page_size_bytes);
    if (!writer_.execute(page_size.c_str(), reason) ||
        !writer_.execute("PRAGMA journal_mode = WAL", reason)) {
        error = explain_open_failure(options_.path, reason);
        return false;
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

// The store's file before the store uses it: a fresh one is made only where there is none, and an
// existing one must pass SQLite's quick check. A store that silently started empty, or ran on
// damaged pages, would lose a site's history without anyone being told.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/hub/sqlite/connection.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::sqlite {

/// "path: reason", and why the directory is at fault when it is not writable.
std::string explain_open_failure(const std::string& path, const std::string& reason);

enum class StoreFile : uint8_t { Missing, Present };

/// What is at options.path: Missing when nothing is (and no write-ahead log is left of a store
/// that was there), Present for a file of some content; false with error set, saying what to do,
/// for anything else (an empty file, a directory, a log without its store).
bool inspect_store_file(const std::string& path, StoreFile& found, std::string& error);

/// Creates a store with the current schema at options.path, which must be Missing: built as
/// <path>.creating and renamed into place once complete, so a crash while creating leaves no
/// half-made file at the path.
bool create_store_file(const SqliteOptions& options, std::string& error);

/// The outcome of a bounded PRAGMA quick_check.
enum class CheckResult : uint8_t { Passed, Damaged, CutShort };

/// Runs PRAGMA quick_check on the connection's database for at most time_limit_ms. Damaged sets
/// error to what was found and how to recover; CutShort means the limit ended the check before
/// it found anything.
CheckResult quick_check(Connection& connection, const std::string& path, uint32_t time_limit_ms,
                        std::string& error);

}  // namespace vigil::hub::sqlite

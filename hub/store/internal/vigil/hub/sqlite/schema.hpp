// The store's schema, as numbered migrations kept in PRAGMA user_version. Migration n takes a
// database from version n - 1 to n in one transaction; a database newer than kSchemaVersion is
// refused, never written.
#pragma once

#include <string>

#include "vigil/hub/sqlite/connection.hpp"

namespace vigil::hub::sqlite {

constexpr int kSchemaVersion = 9;
/// PRAGMA application_id of a Vigil store ("Vigl"), so another program's database is refused.
constexpr int kApplicationId = 0x5669676c;

/// A device's latest report is kept a part per row (device_latest.part).
enum class LatestPart : int64_t { System = 0, Ports = 1, Status = 2 };

/// Brings the database up to target_version (at most kSchemaVersion). Refuses a database that is
/// newer, or that holds tables without being a Vigil store.
bool migrate(Connection& connection, int target_version, std::string& error);

/// The database's schema version (0: empty); -1 with error set when it cannot be read.
int schema_version(Connection& connection, std::string& error);

}  // namespace vigil::hub::sqlite

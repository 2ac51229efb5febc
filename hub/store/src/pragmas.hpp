// How every connection of the store is set up (the writer, the readers, the checkpointer).
#pragma once

#include <string>

#include "vigil/hub/sqlite/connection.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::sqlite {

/// Busy timeout, foreign keys, durability, cache and the page cap the options ask for.
bool apply_pragmas(Connection& connection, const SqliteOptions& options, std::string& error);

}  // namespace vigil::hub::sqlite

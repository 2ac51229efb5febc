#include "pragmas.hpp"

namespace vigil::hub::sqlite {

bool apply_pragmas(Connection& connection, const SqliteOptions& options, std::string& error) {
    sqlite3_busy_timeout(connection.handle(), static_cast<int>(options.busy_timeout_ms));
    const std::string pragmas =
        std::string("PRAGMA foreign_keys = ON; PRAGMA synchronous = ") +
        (options.durability == Durability::Full ? "FULL" : "NORMAL") +
        "; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;" +
        (options.max_pages ? " PRAGMA max_page_count = " + std::to_string(options.max_pages) + ";"
                           : std::string());
    return connection.execute(pragmas.c_str(), error);
}

}  // namespace vigil::hub::sqlite

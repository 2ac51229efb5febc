// row_counts: the large tables' row counts, kept up to date by the writes (schema.cpp, version 2)
// so /metrics never counts millions of rows.
#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

bool add_row_counts(Connection& connection, const RowDeltas& deltas, std::string& error) {
    Statement add =
        connection.statement("UPDATE row_counts SET rows = rows + ?2 WHERE name = ?1", error);
    if (!add) {
        return false;
    }
    const std::pair<const char*, int64_t> changes[] = {
        {"messages", deltas.messages},
        {"flows", deltas.flows},
        {"flow_overflow", deltas.overflow},
        {"interface_totals", deltas.interface_totals},
        {"port_snapshots", deltas.port_snapshots},
        {"heartbeats", deltas.heartbeats}};
    for (const auto& change : changes) {
        if (change.second == 0) {
            continue;
        }
        add.bind(1, change.first);
        add.bind(2, change.second);
        if (!add.run("write", error)) {
            return false;
        }
        add.reset();
    }
    return true;
}

}  // namespace vigil::hub::sqlite

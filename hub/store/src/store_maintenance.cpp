// Retention of raw telemetry and the store's figures.
#include <sys/stat.h>

#include "sqlite_store_impl.hpp"

namespace vigil::hub::sqlite {

namespace {

uint64_t file_size(const std::string& path) {
    struct stat status {};
    return stat(path.c_str(), &status) == 0 ? static_cast<uint64_t>(status.st_size) : 0;
}

}  // namespace

// Messages are appended in receive order, so the oldest are at the start of the rowid order. Each
// chunk looks only at the first rows there: it never scans the young rest of a large table, and
// stops as soon as the start holds nothing old enough. Deleting a message deletes its telemetry
// (foreign keys, ON DELETE CASCADE, found through each table's message_id key); the rows are
// counted first, for row_counts.
#define VIGIL_EXPIRED                                                             \
    "SELECT id FROM (SELECT id, received_ms FROM messages ORDER BY id LIMIT ?2) " \
    "WHERE received_ms < ?1"

bool SqliteStore::count_expired(int64_t cutoff_ms, RowDeltas& deltas, std::string& error) {
    Statement count =
        writer_.query("WITH expired AS (" VIGIL_EXPIRED
                      ") SELECT "
                      "(SELECT count(*) FROM expired), "
                      "(SELECT coalesce(sum(json_array_length(flows)), 0) FROM window_flows "
                      "WHERE message_id IN expired), "
                      "(SELECT count(*) FROM flow_overflow WHERE message_id IN expired), "
                      "(SELECT count(*) FROM interface_totals WHERE message_id IN expired), "
                      "(SELECT count(*) FROM port_snapshots WHERE message_id IN expired), "
                      "(SELECT count(*) FROM heartbeats WHERE message_id IN expired)",
                      error, cutoff_ms, static_cast<int64_t>(options_.retention_chunk_messages));
    if (!count || !count.only_row("retention", error)) {
        return false;
    }
    deltas.messages = -count.integer(0);
    deltas.flows = -count.integer(1);
    deltas.overflow = -count.integer(2);
    deltas.interface_totals = -count.integer(3);
    deltas.port_snapshots = -count.integer(4);
    deltas.heartbeats = -count.integer(5);
    return true;
}

RetentionResult SqliteStore::apply_retention(int64_t now_ms) {
    RetentionResult result;
    const int64_t cutoff_ms = now_ms - options_.retention_ms;
    for (;;) {
        // The lock is taken per chunk, so a waiting batch commit goes in between.
        std::lock_guard<std::mutex> lock(writer_mutex_);
        Transaction transaction(writer_);
        RowDeltas deltas;
        if (!transaction.begin("BEGIN IMMEDIATE", result.error) ||
            !count_expired(cutoff_ms, deltas, result.error)) {
            return result;
        }
        if (deltas.messages == 0) {
            return result;
        }
        if (!writer_.run("write", "DELETE FROM messages WHERE id IN (" VIGIL_EXPIRED ")",
                         result.error, cutoff_ms,
                         static_cast<int64_t>(options_.retention_chunk_messages)) ||
            !add_row_counts(writer_, deltas, result.error) || !transaction.commit(result.error)) {
            return result;
        }
        result.messages += as_counter(-deltas.messages);
        result.flows += as_counter(-deltas.flows);
        result.overflow += as_counter(-deltas.overflow);
        result.interface_totals += as_counter(-deltas.interface_totals);
        result.port_snapshots += as_counter(-deltas.port_snapshots);
        result.heartbeats += as_counter(-deltas.heartbeats);
        ++result.chunks;
    }
}

Fetched<StoreStats> SqliteStore::stats() {
    return with_reader<StoreStats>([&](Connection& reader, Fetched<StoreStats>& result) {
        Statement counts = reader.statement(
            "SELECT (SELECT count(*) FROM devices), "
            "(SELECT rows FROM row_counts WHERE name = 'messages'), "
            "(SELECT rows FROM row_counts WHERE name = 'flows'), "
            "(SELECT rows FROM row_counts WHERE name = 'flow_overflow'), "
            "(SELECT rows FROM row_counts WHERE name = 'interface_totals'), "
            "(SELECT rows FROM row_counts WHERE name = 'port_snapshots'), "
            "(SELECT rows FROM row_counts WHERE name = 'heartbeats'), "
            "(SELECT count(*) FROM alerts), "
            "(SELECT count(*) FROM alerts WHERE state <> 2), "
            "(SELECT count(*) FROM recommendations)",
            result.error);
        if (!counts || !counts.only_row("stats", result.error)) {
            return;
        }
        StoreStats& stats = result.value;
        // In the order of the columns above.
        uint64_t* const fields[] = {
            &stats.devices,          &stats.messages,       &stats.flows,      &stats.overflow,
            &stats.interface_totals, &stats.port_snapshots, &stats.heartbeats, &stats.alerts,
            &stats.open_alerts,      &stats.recommendations};
        int column = 0;
        for (uint64_t* field : fields) {
            *field = as_counter(counts.integer(column++));
        }
        stats.file_bytes = file_size(options_.path) + file_size(options_.path + "-wal");
    });
}

}  // namespace vigil::hub::sqlite

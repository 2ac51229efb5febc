// The SQLite store. One writer connection, guarded by a mutex, takes every write; a pool of
// reader connections serves queries, which WAL lets proceed while a write is in progress. Write
// transactions start with BEGIN IMMEDIATE, so another hub process sharing the file waits for the
// write lock (busy timeout) instead of failing midway on a lock upgrade.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>

#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "connection.hpp"
#include "report_json.hpp"
#include "schema.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub {

namespace {

using sqlite::Connection;
using sqlite::Statement;

constexpr int64_t kSmallest = std::numeric_limits<int64_t>::min();

// Rows added to (or deleted from) the tables row_counts follows, within one transaction.
struct RowDeltas {
    int64_t messages = 0, flows = 0, overflow = 0, interface_totals = 0, port_snapshots = 0,
            heartbeats = 0;
};

class Transaction {
  public:
    explicit Transaction(Connection& connection) : connection_(connection) {}
    ~Transaction() {
        if (open_) {
            std::string ignored;
            connection_.execute("ROLLBACK", ignored);
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    bool begin(const char* kind, std::string& error) {
        open_ = connection_.execute(kind, error);
        return open_;
    }
    bool commit(std::string& error) {
        if (!connection_.execute("COMMIT", error)) {
            return false;  // still open: the destructor rolls back
        }
        open_ = false;
        return true;
    }

  private:
    Connection& connection_;
    bool open_ = false;
};

// Runs a statement that returns no rows.
bool run(Connection& connection, Statement& statement, std::string& error) {
    if (statement.step() != SQLITE_DONE) {
        error = connection.describe("write");
        return false;
    }
    return true;
}

uint64_t file_size(const std::string& path) {
    struct stat status {};
    return stat(path.c_str(), &status) == 0 ? static_cast<uint64_t>(status.st_size) : 0;
}

int64_t as_integer(uint64_t value) {
    return static_cast<int64_t>(value);
}
uint64_t as_counter(int64_t value) {
    return static_cast<uint64_t>(value);
}

// Writes JSON into a buffer sized beforehand for the worst case: this runs for every flow
// ingested, and appending piecewise to a std::string was a third of a batch's time.
class JsonWriter {
  public:
    explicit JsonWriter(char* at) : at_(at) {}
    char* end() const { return at_; }

    void put(char c) { *at_++ = c; }
    void string(const std::string& text) {
        put('"');
        for (const char c : text) {
            const auto byte = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                put('\\');
                put(c);
            } else if (byte < 0x20) {
                static const char kHex[] = "0123456789abcdef";
                std::memcpy(at_, "\\u00", 4);
                at_ += 4;
                put(kHex[byte >> 4]);
                put(kHex[byte & 0xf]);
            } else {
                put(c);  // UTF-8 passes as it is
            }
        }
        put('"');
    }
    void integer(int64_t value) { at_ = std::to_chars(at_, at_ + kIntegerBytes, value).ptr; }
    template <typename T>
    void optional(const std::optional<T>& value) {
        if (value) {
            integer(static_cast<int64_t>(*value));
        } else {
            std::memcpy(at_, "null", 4);
            at_ += 4;
        }
    }

    static constexpr size_t kIntegerBytes = 20;  // "-9223372036854775808"
    static size_t string_bytes(const std::string& text) { return 2 + 6 * text.size(); }

  private:
    char* at_;
};

// A window's flows as window_flows holds them (schema.cpp, version 4): integers as SQLite holds
// them (unsigned counters as their int64 bit pattern, as the flows rows did), unknowns as null.
// Returns the length written; out only grows, so it is not cleared for every report.
size_t encode_flows(const std::vector<Flow>& flows, std::vector<char>& out) {
    size_t bound = 2;
    for (const Flow& flow : flows) {
        bound += 2 + 12 + 7 * JsonWriter::kIntegerBytes + JsonWriter::string_bytes(flow.local) +
                 JsonWriter::string_bytes(flow.remote) + JsonWriter::string_bytes(flow.handshake) +
                 JsonWriter::string_bytes(flow.local_interface);
    }
    if (out.size() < bound) {
        out.resize(bound);
    }
    JsonWriter json(out.data());
    json.put('[');
    for (size_t i = 0; i < flows.size(); ++i) {
        const Flow& flow = flows[i];
        if (i != 0) {
            json.put(',');
        }
        json.put('[');
        json.string(flow.local);
        json.put(',');
        json.string(flow.remote);
        json.put(',');
        json.integer(static_cast<int64_t>(flow.protocol));
        json.put(',');
        json.integer(flow.local_port);
        json.put(',');
        json.integer(flow.remote_port);
        json.put(',');
        json.integer(as_integer(flow.bytes_in));
        json.put(',');
        json.integer(as_integer(flow.bytes_out));
        json.put(',');
        json.optional(flow.packets_in);
        json.put(',');
        json.optional(flow.packets_out);
        json.put(',');
        json.optional(flow.remote_opened);
        json.put(',');
        json.string(flow.handshake);
        json.put(',');
        json.string(flow.local_interface);
        json.put(']');
    }
    json.put(']');
    return static_cast<size_t>(json.end() - out.data());
}

class SqliteStore final : public Store {
  public:
    explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    bool open(std::string& error);

    WriteResult write_batch(const std::vector<Report>& reports) override;
    Fetched<DevicePage> list_devices(const DeviceFilter& filter) override;
    Fetched<std::optional<DeviceDetail>> device_detail(const DetailQuery& query) override;
    Fetched<FlowPage> flows(const FlowQuery& query) override;
    Done set_enrolment(const std::string& device_id, Enrolment enrolment) override;
    Fetched<int64_t> raise_alert(const AlertRaise& alert) override;
    Fetched<std::vector<Alert>> alerts(const AlertFilter& filter) override;
    Done acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) override;
    Done resolve_alert(int64_t id, const std::string& by, int64_t now_ms) override;
    Done put_recommendation(const Recommendation& recommendation) override;
    Fetched<std::vector<Recommendation>> recommendations(
        const std::optional<std::string>& device_id,
        const std::optional<RecommendationState>& state) override;
    Done set_desired_config(const DesiredConfig& config) override;
    Fetched<std::optional<DesiredConfig>> desired_config(ConfigScope scope,
                                                         const std::string& target) override;
    Done save_detection_state(const std::string& device_id, const std::vector<uint8_t>& state,
                              int64_t now_ms) override;
    Fetched<std::optional<std::vector<uint8_t>>> load_detection_state(
        const std::string& device_id) override;
    RetentionResult apply_retention(int64_t now_ms) override;
    Fetched<StoreStats> stats() override;
    Fetched<uint64_t> count_devices(const DeviceFilter& filter) override;
    Done set_device_group(const std::string& device_id, const std::string& group) override;
    Fetched<std::optional<std::string>> device_group(const std::string& device_id) override;
    Fetched<std::vector<std::string>> group_members(const std::string& group) override;

  private:
    // A reader connection borrowed from the pool for one query.
    class Reader {
      public:
        Reader(SqliteStore& store, std::unique_ptr<Connection> connection)
            : store_(store), connection_(std::move(connection)) {}
        ~Reader() {
            if (connection_) {
                store_.give_back(std::move(connection_));
            }
        }
        Reader(const Reader&) = delete;
        Reader& operator=(const Reader&) = delete;
        explicit operator bool() const { return connection_ != nullptr; }
        Connection& operator*() { return *connection_; }

      private:
        SqliteStore& store_;
        std::unique_ptr<Connection> connection_;
    };

    Reader borrow(std::string& error);
    void give_back(std::unique_ptr<Connection> connection);
    std::unique_ptr<Connection> open_reader(std::string& error);

    bool write_report(const Report& report, bool& duplicate, RowDeltas& deltas, std::string& error);
    bool find_or_add_device(const Report& report, int64_t& device_key, std::string& error);
    bool write_flows(const Report& report, int64_t message_id, RowDeltas& deltas,
                     std::string& error);
    bool write_interface_totals(const Report& report, int64_t message_id, RowDeltas& deltas,
                                std::string& error);
    bool write_latest(const Report& report, int64_t device_key, int64_t message_id,
                      RowDeltas& deltas, std::string& error);
    bool write_heartbeat(const Report& report, int64_t device_key, int64_t message_id,
                         std::string& error);
    bool count_expired(int64_t cutoff_ms, RowDeltas& deltas, std::string& error);
    bool add_row_counts(Connection& connection, const RowDeltas& deltas, std::string& error);
    Done change_alert(int64_t id, AlertState target, const std::string& by, int64_t now_ms);
    bool top_remotes(Connection& connection, int64_t device_key, const DetailQuery& query,
                     TrafficSummary& traffic, std::string& error);
    bool traffic_summary(Connection& connection, int64_t device_key, const DetailQuery& query,
                         TrafficSummary& traffic, std::string& error);
    std::optional<int64_t> device_key_of(Connection& connection, const std::string& device_id,
                                         std::string& error);

    static int on_wal_commit(void* self, sqlite3*, const char*, int frames);
    void checkpoint_loop();

    SqliteOptions options_;
    std::mutex writer_mutex_;
    Connection writer_;
    // Checkpoints copy the WAL back into the database on their own connection and thread. Left to
    // SQLite's default, the connection that commits runs them, inside the commit: under sustained
    // ingest one such commit took the hub's receipt-to-commit p99 to about a second.
    Connection checkpointer_connection_;
    std::thread checkpointer_;
    std::mutex checkpoint_mutex_;
    std::condition_variable checkpoint_wake_;
    bool checkpoint_due_ = false;
    bool stopping_ = false;
    std::vector<char> flows_json_;  // write_flows()' buffer, kept for its capacity
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
};

// Prepares sql once per connection, and hands it out reset for each use.
#define VIGIL_STATEMENT(name, connection, sql, error, on_failure)     \
    sqlite3_stmt* name##_prepared = (connection).prepare(sql, error); \
    if (!name##_prepared) {                                           \
        on_failure;                                                   \
    }                                                                 \
    Statement name(name##_prepared)

bool configure(Connection& connection, const SqliteOptions& options, std::string& error) {
    sqlite3_busy_timeout(connection.handle(), static_cast<int>(options.busy_timeout_ms));
    const std::string pragmas =
        std::string("PRAGMA foreign_keys = ON; PRAGMA synchronous = ") +
        (options.durability == Durability::Full ? "FULL" : "NORMAL") +
        "; PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;" +
        (options.max_pages ? " PRAGMA max_page_count = " + std::to_string(options.max_pages) + ";"
                           : std::string());
    return connection.execute(pragmas.c_str(), error);
}

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
    if (!configure(writer_, options_, reason) ||
        !sqlite::migrate(writer_, sqlite::kSchemaVersion, reason)) {
        error = options_.path + ": " + reason;
        return false;
    }
    if (options_.checkpoint_frames > 0) {
        // Setting a WAL hook turns off SQLite's own automatic checkpoints on this connection.
        sqlite3_wal_hook(writer_.handle(), &SqliteStore::on_wal_commit, this);
        const std::string limit =
            "PRAGMA journal_size_limit = " +
            std::to_string(uint64_t{options_.checkpoint_frames} * options_.page_size_bytes * 4);
        if (!writer_.execute(limit.c_str(), reason) ||
            !checkpointer_connection_.open(options_.path, SQLITE_OPEN_READWRITE, reason) ||
            !configure(checkpointer_connection_, options_, reason)) {
            error = options_.path + ": " + reason;
            return false;
        }
        checkpointer_ = std::thread([this] { checkpoint_loop(); });
    }
    for (uint32_t i = 0; i < options_.readers; ++i) {
        auto reader = open_reader(reason);
        if (!reader) {
            error = options_.path + ": " + reason;
            return false;
        }
        idle_readers_.push_back(std::move(reader));
    }
    return true;
}

SqliteStore::~SqliteStore() {
    if (checkpointer_.joinable()) {
        {
            std::lock_guard<std::mutex> lock(checkpoint_mutex_);
            stopping_ = true;
        }
        checkpoint_wake_.notify_one();
        checkpointer_.join();
    }
}

// Called by SQLite after each commit on the writer, with the WAL's length in frames.
int SqliteStore::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    auto& store = *static_cast<SqliteStore*>(self);
    if (frames >= static_cast<int>(store.options_.checkpoint_frames)) {
        {
            std::lock_guard<std::mutex> lock(store.checkpoint_mutex_);
            store.checkpoint_due_ = true;
        }
        store.checkpoint_wake_.notify_one();
    }
    return SQLITE_OK;
}

// PASSIVE checkpoints never wait for the writer or readers; what they could not copy is copied
// the next time (a WAL below checkpoint_frames is left alone, as SQLite itself does). Once a
// checkpoint has copied the whole WAL, the writer's next transaction starts it again from the
// beginning, so it stops growing. A last one runs when the store closes.
void SqliteStore::checkpoint_loop() {
    for (;;) {
        bool stopping = false;
        {
            std::unique_lock<std::mutex> lock(checkpoint_mutex_);
            checkpoint_wake_.wait(lock, [this] { return checkpoint_due_ || stopping_; });
            checkpoint_due_ = false;
            stopping = stopping_;
        }
        int wal_frames = 0, copied_frames = 0;
        (void)sqlite3_wal_checkpoint_v2(checkpointer_connection_.handle(), nullptr,
                                        SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied_frames);
        if (stopping) {
            return;
        }
    }
}

std::unique_ptr<Connection> SqliteStore::open_reader(std::string& error) {
    auto reader = std::make_unique<Connection>();
    if (!reader->open(options_.path, SQLITE_OPEN_READWRITE, error) ||
        !configure(*reader, options_, error) || !reader->execute("PRAGMA query_only = ON", error)) {
        return nullptr;
    }
    return reader;
}

SqliteStore::Reader SqliteStore::borrow(std::string& error) {
    {
        std::lock_guard<std::mutex> lock(readers_mutex_);
        if (!idle_readers_.empty()) {
            auto connection = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return Reader(*this, std::move(connection));
        }
    }
    return Reader(*this, open_reader(error));
}

void SqliteStore::give_back(std::unique_ptr<Connection> connection) {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (idle_readers_.size() < options_.readers) {
        idle_readers_.push_back(std::move(connection));
    }
}

// ---- ingest ----

WriteResult SqliteStore::write_batch(const std::vector<Report>& reports) {
    WriteResult result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    RowDeltas deltas;
    for (size_t i = 0; i < reports.size(); ++i) {
        bool duplicate = false;
        if (!write_report(reports[i], duplicate, deltas, result.error)) {
            result.error = "report " + std::to_string(i) + " (device '" + reports[i].device_id +
                           "', message '" + reports[i].message_key + "'): " + result.error;
            result.stored = result.duplicates = 0;
            return result;
        }
        ++(duplicate ? result.duplicates : result.stored);
    }
    if (!add_row_counts(writer_, deltas, result.error) || !transaction.commit(result.error)) {
        result.stored = result.duplicates = 0;
        return result;
    }
    result.ok = true;
    return result;
}

bool SqliteStore::write_report(const Report& report, bool& duplicate, RowDeltas& deltas,
                               std::string& error) {
    int64_t device_key = 0;
    if (!find_or_add_device(report, device_key, error)) {
        return false;
    }
    VIGIL_STATEMENT(message, writer_,
                    "INSERT INTO messages (device_key, message_key, received_ms, device_time_ms, "
                    "time_ms, window_duration_ms, format, payload_bytes) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                    "ON CONFLICT (device_key, message_key) DO NOTHING",
                    error, return false);
    message.bind(1, device_key);
    message.bind(2, report.message_key);
    message.bind(3, report.received_ms);
    message.bind(4, report.device_time_ms);
    message.bind(5, report.device_time_ms != 0 ? report.device_time_ms : report.received_ms);
    message.bind(6, static_cast<int64_t>(report.window_duration_ms));
    message.bind(7, static_cast<int64_t>(report.format));
    message.bind(8, static_cast<int64_t>(report.payload_bytes));
    if (!run(writer_, message, error)) {
        return false;
    }
    duplicate = sqlite3_changes(writer_.handle()) == 0;
    if (duplicate) {
        return true;
    }
    const int64_t message_id = sqlite3_last_insert_rowid(writer_.handle());
    ++deltas.messages;
    // The latest message decides format and agent version; a late redelivery does not. A device
    // enrolled before it reported has no times yet (NULL): its first message sets them.
    VIGIL_STATEMENT(seen, writer_,
                    "UPDATE devices SET messages = messages + 1, "
                    "first_seen_ms = min(coalesce(first_seen_ms, ?2), ?2), "
                    "last_seen_ms = max(coalesce(last_seen_ms, ?2), ?2), "
                    "format = CASE WHEN ?2 >= coalesce(last_seen_ms, ?2) THEN ?3 ELSE format END, "
                    "agent_version = CASE WHEN ?4 <> '' AND ?2 >= coalesce(last_seen_ms, ?2) "
                    "THEN ?4 ELSE agent_version END WHERE device_key = ?1",
                    error, return false);
    seen.bind(1, device_key);
    seen.bind(2, report.received_ms);
    seen.bind(3, static_cast<int64_t>(report.format));
    seen.bind(4, report.agent_version);
    if (!run(writer_, seen, error)) {
        return false;
    }
    return write_flows(report, message_id, deltas, error) &&
           write_interface_totals(report, message_id, deltas, error) &&
           write_latest(report, device_key, message_id, deltas, error);
}

bool SqliteStore::find_or_add_device(const Report& report, int64_t& device_key,
                                     std::string& error) {
    VIGIL_STATEMENT(find, writer_, "SELECT device_key FROM devices WHERE id = ?1", error,
                    return false);
    find.bind(1, report.device_id);
    const int found = find.step();
    if (found == SQLITE_ROW) {
        device_key = find.integer(0);
        return true;
    }
    if (found != SQLITE_DONE) {
        error = writer_.describe("find device");
        return false;
    }
    VIGIL_STATEMENT(add, writer_,
                    "INSERT INTO devices (id, format, first_seen_ms, last_seen_ms) "
                    "VALUES (?1, ?2, ?3, ?3)",
                    error, return false);
    add.bind(1, report.device_id);
    add.bind(2, static_cast<int64_t>(report.format));
    add.bind(3, report.received_ms);
    if (!run(writer_, add, error)) {
        return false;
    }
    device_key = sqlite3_last_insert_rowid(writer_.handle());
    return true;
}

bool SqliteStore::write_flows(const Report& report, int64_t message_id, RowDeltas& deltas,
                              std::string& error) {
    if (!report.flows.empty()) {
        VIGIL_STATEMENT(flows, writer_,
                        "INSERT INTO window_flows (message_id, flows) VALUES (?1, ?2)", error,
                        return false);
        const size_t length = encode_flows(report.flows, flows_json_);
        flows.bind(1, message_id);
        sqlite3_bind_text(flows_prepared, 2, flows_json_.data(), static_cast<int>(length),
                          SQLITE_STATIC);
        if (!run(writer_, flows, error)) {
            return false;
        }
        deltas.flows += static_cast<int64_t>(report.flows.size());
    }
    int64_t seq = 0;
    VIGIL_STATEMENT(overflow, writer_,
                    "INSERT INTO flow_overflow (message_id, seq, family, protocol, bytes_in, "
                    "bytes_out, packets_in, packets_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    error, return false);
    seq = 0;
    for (const Overflow& record : report.overflow) {
        overflow.bind(1, message_id);
        overflow.bind(2, seq++);
        overflow.bind(3, static_cast<int64_t>(record.family));
        overflow.bind(4, static_cast<int64_t>(record.protocol));
        overflow.bind(5, as_integer(record.bytes_in));
        overflow.bind(6, as_integer(record.bytes_out));
        overflow.bind(7, as_integer(record.packets_in));
        overflow.bind(8, as_integer(record.packets_out));
        if (!run(writer_, overflow, error)) {
            return false;
        }
        sqlite3_reset(overflow_prepared);
    }
    deltas.overflow += seq;
    return true;
}

bool SqliteStore::write_interface_totals(const Report& report, int64_t message_id,
                                         RowDeltas& deltas, std::string& error) {
    if (!report.interface_totals) {
        return true;
    }
    const InterfaceTotals& totals = *report.interface_totals;
    VIGIL_STATEMENT(insert, writer_,
                    "INSERT INTO interface_totals (message_id, bytes_in, bytes_out, packets_in, "
                    "packets_out) VALUES (?1, ?2, ?3, ?4, ?5)",
                    error, return false);
    insert.bind(1, message_id);
    insert.bind(2, as_integer(totals.bytes_in));
    insert.bind(3, as_integer(totals.bytes_out));
    insert.bind(4, as_integer(totals.packets_in));
    insert.bind(5, as_integer(totals.packets_out));
    if (!run(writer_, insert, error)) {
        return false;
    }
    ++deltas.interface_totals;
    return true;
}

// The device row keeps the latest system info, ports and status by receive time, so the API
// reads one row; the history of ports and heartbeats is kept in their own tables until retention.
bool SqliteStore::write_latest(const Report& report, int64_t device_key, int64_t message_id,
                               RowDeltas& deltas, std::string& error) {
    if (report.system) {
        VIGIL_STATEMENT(system, writer_,
                        "UPDATE devices SET system_json = ?2, system_received_ms = ?3 "
                        "WHERE device_key = ?1 AND coalesce(system_received_ms, ?3) <= ?3",
                        error, return false);
        const std::string document = json::encode(*report.system);
        system.bind(1, device_key);
        system.bind(2, document);
        system.bind(3, report.received_ms);
        if (!run(writer_, system, error)) {
            return false;
        }
    }
    if (report.listening_ports) {
        const std::string ports = json::encode(*report.listening_ports);
        VIGIL_STATEMENT(snapshot, writer_,
                        "INSERT INTO port_snapshots (message_id, ports_json) VALUES (?1, ?2)",
                        error, return false);
        snapshot.bind(1, message_id);
        snapshot.bind(2, ports);
        VIGIL_STATEMENT(latest, writer_,
                        "UPDATE devices SET ports_json = ?2, ports_received_ms = ?3 "
                        "WHERE device_key = ?1 AND coalesce(ports_received_ms, ?3) <= ?3",
                        error, return false);
        latest.bind(1, device_key);
        latest.bind(2, ports);
        latest.bind(3, report.received_ms);
        if (!run(writer_, snapshot, error) || !run(writer_, latest, error)) {
            return false;
        }
        ++deltas.port_snapshots;
    }
    if (report.status) {
        if (!write_heartbeat(report, device_key, message_id, error)) {
            return false;
        }
        ++deltas.heartbeats;
    }
    return true;
}

bool SqliteStore::write_heartbeat(const Report& report, int64_t device_key, int64_t message_id,
                                  std::string& error) {
    const AgentStatus& status = *report.status;
    VIGIL_STATEMENT(heartbeat, writer_,
                    "INSERT INTO heartbeats (message_id, state, config_version, packets_seen, "
                    "packets_unparsed, packets_ignored, overflow_packets, messages_sent, "
                    "send_failures, messages_dropped, backlog_messages, backlog_bytes, "
                    "rejected_config_version, rejected_config_reason) VALUES "
                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                    error, return false);
    heartbeat.bind(1, message_id);
    heartbeat.bind(2, status.state);
    heartbeat.bind(3, static_cast<int64_t>(status.config_version));
    heartbeat.bind(4, as_integer(status.packets_seen));
    heartbeat.bind(5, as_integer(status.packets_unparsed));
    heartbeat.bind(6, as_integer(status.packets_ignored));
    heartbeat.bind(7, as_integer(status.overflow_packets));
    heartbeat.bind(8, as_integer(status.messages_sent));
    heartbeat.bind(9, as_integer(status.send_failures));
    heartbeat.bind(10, as_integer(status.messages_dropped));
    heartbeat.bind(11, static_cast<int64_t>(status.backlog_messages));
    heartbeat.bind(12, static_cast<int64_t>(status.backlog_bytes));
    heartbeat.bind(13, status.rejected_config_version);
    heartbeat.bind(14, status.rejected_config_reason);
    VIGIL_STATEMENT(latest, writer_,
                    "UPDATE devices SET status_json = ?2, status_received_ms = ?3, state = ?4, "
                    "applied_config_version = ?5 "
                    "WHERE device_key = ?1 AND coalesce(status_received_ms, ?3) <= ?3",
                    error, return false);
    const std::string document = json::encode(status);
    latest.bind(1, device_key);
    latest.bind(2, document);
    latest.bind(3, report.received_ms);
    latest.bind(4, status.state);
    latest.bind(5, static_cast<int64_t>(status.config_version));
    return run(writer_, heartbeat, error) && run(writer_, latest, error);
}

bool SqliteStore::add_row_counts(Connection& connection, const RowDeltas& deltas,
                                 std::string& error) {
    VIGIL_STATEMENT(add, connection, "UPDATE row_counts SET rows = rows + ?2 WHERE name = ?1",
                    error, return false);
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
        if (!run(connection, add, error)) {
            return false;
        }
        sqlite3_reset(add_prepared);
    }
    return true;
}

// ---- queries ----

std::optional<int64_t> SqliteStore::device_key_of(Connection& connection,
                                                  const std::string& device_id,
                                                  std::string& error) {
    VIGIL_STATEMENT(find, connection, "SELECT device_key FROM devices WHERE id = ?1", error,
                    return std::nullopt);
    find.bind(1, device_id);
    const int found = find.step();
    if (found == SQLITE_ROW) {
        return find.integer(0);
    }
    if (found != SQLITE_DONE) {
        error = connection.describe("find device");
    }
    return std::nullopt;
}

// The columns DeviceRow is read from, in read_device_row()'s order.
#define VIGIL_DEVICE_COLUMNS                                                     \
    "id, format, first_seen_ms, last_seen_ms, agent_version, state, enrolment, " \
    "applied_config_version, desired_config_version, messages"

DeviceRow read_device_row(const Statement& row) {
    DeviceRow device;
    device.id = row.text(0);
    if (!row.is_null(1)) {
        device.format = static_cast<Format>(row.integer(1));
    }
    if (!row.is_null(2)) {
        device.first_seen_ms = row.integer(2);
    }
    if (!row.is_null(3)) {
        device.last_seen_ms = row.integer(3);
    }
    device.agent_version = row.text(4);
    device.state = row.text(5);
    device.enrolment = static_cast<Enrolment>(row.integer(6));
    if (!row.is_null(7)) {
        device.applied_config_version = static_cast<uint32_t>(row.integer(7));
    }
    if (!row.is_null(8)) {
        device.desired_config_version = static_cast<uint32_t>(row.integer(8));
    }
    device.messages = as_counter(row.integer(9));
    return device;
}

Fetched<DevicePage> SqliteStore::list_devices(const DeviceFilter& filter) {
    Fetched<DevicePage> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(list, *reader,
                    "SELECT " VIGIL_DEVICE_COLUMNS
                    " FROM devices "
                    "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR format = ?2) "
                    "AND (?3 IS NULL OR enrolment = ?3) AND (?4 IS NULL OR last_seen_ms >= ?4) "
                    "AND (?5 IS NULL OR last_seen_ms < ?5) AND id > ?6 ORDER BY id LIMIT ?7",
                    result.error, return result);
    if (filter.state) {
        list.bind(1, *filter.state);
    }
    list.bind(2, filter.format);
    list.bind(3, filter.enrolment);
    list.bind(4, filter.seen_since_ms);
    list.bind(5, filter.seen_before_ms);
    list.bind(6, filter.after);
    // One row more than asked says whether another page follows.
    list.bind(7, static_cast<int64_t>(filter.limit) + 1);
    int step = SQLITE_ROW;
    while ((step = list.step()) == SQLITE_ROW) {
        if (result.value.devices.size() == filter.limit) {
            result.value.next_after = result.value.devices.back().id;
            break;
        }
        result.value.devices.push_back(read_device_row(list));
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        result.error = (*reader).describe("list devices");
    }
    return result;
}

Fetched<std::optional<DeviceDetail>> SqliteStore::device_detail(const DetailQuery& query) {
    Fetched<std::optional<DeviceDetail>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    // One read transaction: the device row and its traffic are one snapshot.
    Transaction snapshot(*reader);
    if (!snapshot.begin("BEGIN", result.error)) {
        return result;
    }
    VIGIL_STATEMENT(device, *reader,
                    "SELECT " VIGIL_DEVICE_COLUMNS
                    ", device_key, system_json, system_received_ms, "
                    "ports_json, ports_received_ms, status_json, status_received_ms "
                    "FROM devices WHERE id = ?1",
                    result.error, return result);
    device.bind(1, query.device_id);
    const int step = device.step();
    if (step != SQLITE_ROW) {
        if (step != SQLITE_DONE) {
            result.error = (*reader).describe("device detail");
        }
        return result;
    }
    DeviceDetail detail;
    detail.device = read_device_row(device);
    if (!device.is_null(11)) {
        detail.system = json::decode_system(device.text(11));
        detail.system_received_ms = device.integer(12);
    }
    if (!device.is_null(13)) {
        detail.listening_ports = json::decode_ports(device.text(13));
        detail.ports_received_ms = device.integer(14);
    }
    if (!device.is_null(15)) {
        detail.status = json::decode_status(device.text(15));
        detail.status_received_ms = device.integer(16);
    }
    if (!traffic_summary(*reader, device.integer(10), query, detail.traffic, result.error)) {
        return result;
    }
    result.value = std::move(detail);
    return result;
}

bool SqliteStore::traffic_summary(Connection& connection, int64_t device_key,
                                  const DetailQuery& query, TrafficSummary& traffic,
                                  std::string& error) {
    VIGIL_STATEMENT(
        totals, connection,
        "WITH window AS (SELECT id FROM messages "
        "                WHERE device_key = ?1 AND time_ms >= ?2 AND time_ms < ?3), "
        "f AS (SELECT count(*) AS flows, coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN flows ON flows.message_id = window.id), "
        "o AS (SELECT coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN flow_overflow ON flow_overflow.message_id = window.id), "
        "i AS (SELECT coalesce(sum(bytes_in), 0) AS bytes_in, "
        "        coalesce(sum(bytes_out), 0) AS bytes_out, "
        "        coalesce(sum(packets_in), 0) AS packets_in, "
        "        coalesce(sum(packets_out), 0) AS packets_out "
        "      FROM window JOIN interface_totals t ON t.message_id = window.id) "
        "SELECT f.flows, f.bytes_in + o.bytes_in, f.bytes_out + o.bytes_out, "
        "  f.packets_in + o.packets_in, f.packets_out + o.packets_out, "
        "  o.bytes_in + o.bytes_out, i.bytes_in, i.bytes_out, i.packets_in, "
        "  i.packets_out FROM f, o, i",
        error, return false);
    totals.bind(1, device_key);
    totals.bind(2, query.from_ms);
    totals.bind(3, query.to_ms);
    if (totals.step() != SQLITE_ROW) {
        error = connection.describe("traffic totals");
        return false;
    }
    traffic.flows = as_counter(totals.integer(0));
    traffic.bytes_in = as_counter(totals.integer(1));
    traffic.bytes_out = as_counter(totals.integer(2));
    traffic.packets_in = as_counter(totals.integer(3));
    traffic.packets_out = as_counter(totals.integer(4));
    traffic.overflow_bytes = as_counter(totals.integer(5));
    traffic.interfaces = {as_counter(totals.integer(6)), as_counter(totals.integer(7)),
                          as_counter(totals.integer(8)), as_counter(totals.integer(9))};
    return top_remotes(connection, device_key, query, traffic, error);
}

bool SqliteStore::top_remotes(Connection& connection, int64_t device_key, const DetailQuery& query,
                              TrafficSummary& traffic, std::string& error) {
    VIGIL_STATEMENT(top, connection,
                    "SELECT f.remote, sum(f.bytes_in), sum(f.bytes_out), count(*) "
                    "FROM messages m JOIN flows f ON f.message_id = m.id "
                    "WHERE m.device_key = ?1 AND m.time_ms >= ?2 AND m.time_ms < ?3 "
                    "GROUP BY f.remote ORDER BY sum(f.bytes_in) + sum(f.bytes_out) DESC, f.remote "
                    "LIMIT ?4",
                    error, return false);
    top.bind(1, device_key);
    top.bind(2, query.from_ms);
    top.bind(3, query.to_ms);
    top.bind(4, static_cast<int64_t>(query.top_remotes));
    int step = SQLITE_ROW;
    while ((step = top.step()) == SQLITE_ROW) {
        traffic.top_remotes.push_back({top.text(0), as_counter(top.integer(1)),
                                       as_counter(top.integer(2)), as_counter(top.integer(3))});
    }
    if (step != SQLITE_DONE) {
        error = connection.describe("top remotes");
        return false;
    }
    return true;
}

StoredFlow read_flow(const Statement& row) {
    StoredFlow stored;
    stored.message_id = row.integer(0);
    stored.index = static_cast<uint32_t>(row.integer(1));
    stored.time_ms = row.integer(2);
    stored.received_ms = row.integer(3);
    stored.window_duration_ms = static_cast<uint32_t>(row.integer(4));
    Flow& flow = stored.flow;
    flow.local = row.text(5);
    flow.remote = row.text(6);
    flow.protocol = static_cast<Protocol>(row.integer(7));
    flow.local_port = static_cast<uint16_t>(row.integer(8));
    flow.remote_port = static_cast<uint16_t>(row.integer(9));
    flow.bytes_in = as_counter(row.integer(10));
    flow.bytes_out = as_counter(row.integer(11));
    if (!row.is_null(12)) {
        flow.packets_in = as_counter(row.integer(12));
    }
    if (!row.is_null(13)) {
        flow.packets_out = as_counter(row.integer(13));
    }
    if (!row.is_null(14)) {
        flow.remote_opened = row.integer(14) != 0;
    }
    flow.handshake = row.text(15);
    flow.local_interface = row.text(16);
    return stored;
}

Fetched<FlowPage> SqliteStore::flows(const FlowQuery& query) {
    Fetched<FlowPage> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    // (m.time_ms, m.id) >= the cursor lets the index seek to the page; the seq term then skips
    // the flows of the cursor's own window already returned.
    VIGIL_STATEMENT(list, *reader,
                    "SELECT m.id, f.seq, m.time_ms, m.received_ms, m.window_duration_ms, f.local, "
                    "f.remote, f.protocol, f.local_port, f.remote_port, f.bytes_in, f.bytes_out, "
                    "f.packets_in, f.packets_out, f.remote_opened, f.handshake, f.local_interface "
                    "FROM messages m JOIN flows f ON f.message_id = m.id "
                    "WHERE m.device_key = (SELECT device_key FROM devices WHERE id = ?1) "
                    "AND m.time_ms >= ?2 AND m.time_ms < ?3 AND (m.time_ms, m.id) >= (?4, ?5) "
                    "AND (m.time_ms, m.id, f.seq) > (?4, ?5, ?6) "
                    "ORDER BY m.time_ms, m.id, f.seq LIMIT ?7",
                    result.error, return result);
    list.bind(1, query.device_id);
    list.bind(2, query.from_ms);
    list.bind(3, query.to_ms);
    list.bind(4, query.after ? query.after->time_ms : kSmallest);
    list.bind(5, query.after ? query.after->message_id : kSmallest);
    list.bind(6, query.after ? static_cast<int64_t>(query.after->index) : kSmallest);
    list.bind(7, static_cast<int64_t>(query.limit) + 1);
    int step = SQLITE_ROW;
    while ((step = list.step()) == SQLITE_ROW) {
        if (result.value.flows.size() == query.limit) {
            const StoredFlow& last = result.value.flows.back();
            result.value.next = FlowCursor{last.time_ms, last.message_id, last.index};
            break;
        }
        result.value.flows.push_back(read_flow(list));
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        result.error = (*reader).describe("flows");
    }
    return result;
}

Done SqliteStore::set_enrolment(const std::string& device_id, Enrolment enrolment) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    // A device enrolled (or revoked) before it ever reported gets its row now, never seen, so
    // it is listed at once; its first message fills in the rest and keeps the enrolment.
    VIGIL_STATEMENT(upsert, writer_,
                    "INSERT INTO devices (id, enrolment) VALUES (?1, ?2) "
                    "ON CONFLICT (id) DO UPDATE SET enrolment = excluded.enrolment",
                    result.error, return result);
    upsert.bind(1, device_id);
    upsert.bind(2, static_cast<int64_t>(enrolment));
    run(writer_, upsert, result.error);
    return result;
}

// ---- alerts ----

Fetched<int64_t> SqliteStore::raise_alert(const AlertRaise& alert) {
    Fetched<int64_t> result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    const auto device_key = device_key_of(writer_, alert.device_id, result.error);
    if (!device_key) {
        result.error = result.error.empty() ? "no device '" + alert.device_id + "'" : result.error;
        return result;
    }
    VIGIL_STATEMENT(raise, writer_,
                    "INSERT INTO alerts (device_key, kind, subject, severity, state, "
                    "first_seen_ms, last_seen_ms, count, details_json) "
                    "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5, 1, ?6) "
                    "ON CONFLICT (device_key, kind, subject) WHERE state <> 2 DO UPDATE SET "
                    "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), count = count + 1, "
                    "severity = max(severity, excluded.severity), "
                    "details_json = excluded.details_json RETURNING id",
                    result.error, return result);
    raise.bind(1, *device_key);
    raise.bind(2, alert.kind);
    raise.bind(3, alert.subject);
    raise.bind(4, static_cast<int64_t>(alert.severity));
    raise.bind(5, alert.seen_ms);
    raise.bind(6, alert.details_json);
    if (raise.step() != SQLITE_ROW) {
        result.error = writer_.describe("raise alert");
        return result;
    }
    result.value = raise.integer(0);
    if (raise.step() != SQLITE_DONE) {
        result.error = writer_.describe("raise alert");
    }
    return result;
}

Alert read_alert(const Statement& row) {
    Alert alert;
    alert.id = row.integer(0);
    alert.device_id = row.text(1);
    alert.kind = row.text(2);
    alert.subject = row.text(3);
    alert.severity = static_cast<Severity>(row.integer(4));
    alert.state = static_cast<AlertState>(row.integer(5));
    alert.first_seen_ms = row.integer(6);
    alert.last_seen_ms = row.integer(7);
    alert.count = as_counter(row.integer(8));
    alert.details_json = row.text(9);
    alert.changed_ms = row.integer(10);
    alert.changed_by = row.text(11);
    return alert;
}

Fetched<std::vector<Alert>> SqliteStore::alerts(const AlertFilter& filter) {
    Fetched<std::vector<Alert>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(list, *reader,
                    "SELECT a.id, d.id, a.kind, a.subject, a.severity, a.state, a.first_seen_ms, "
                    "a.last_seen_ms, a.count, a.details_json, a.changed_ms, a.changed_by "
                    "FROM alerts a JOIN devices d ON d.device_key = a.device_key "
                    "WHERE (?1 IS NULL OR d.id = ?1) AND (?2 IS NULL OR a.kind = ?2) "
                    "AND (?3 IS NULL OR a.state = ?3) AND (?4 IS NULL OR a.severity >= ?4) "
                    "AND (?5 IS NULL OR a.last_seen_ms >= ?5) AND (?6 IS NULL OR a.id < ?6) "
                    "ORDER BY a.id DESC LIMIT ?7",
                    result.error, return result);
    if (filter.device_id) {
        list.bind(1, *filter.device_id);
    }
    if (filter.kind) {
        list.bind(2, *filter.kind);
    }
    list.bind(3, filter.state);
    list.bind(4, filter.min_severity);
    list.bind(5, filter.seen_since_ms);
    list.bind(6, filter.before_id);
    list.bind(7, static_cast<int64_t>(filter.limit));
    int step = SQLITE_ROW;
    while ((step = list.step()) == SQLITE_ROW) {
        result.value.push_back(read_alert(list));
    }
    if (step != SQLITE_DONE) {
        result.error = (*reader).describe("alerts");
    }
    return result;
}

Done SqliteStore::acknowledge_alert(int64_t id, const std::string& by, int64_t now_ms) {
    return change_alert(id, AlertState::Acknowledged, by, now_ms);
}

Done SqliteStore::resolve_alert(int64_t id, const std::string& by, int64_t now_ms) {
    return change_alert(id, AlertState::Resolved, by, now_ms);
}

// States only move forward (open, acknowledged, resolved): repeating a change is harmless.
Done SqliteStore::change_alert(int64_t id, AlertState target, const std::string& by,
                               int64_t now_ms) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    VIGIL_STATEMENT(change, writer_,
                    "UPDATE alerts SET state = ?2, changed_ms = ?3, changed_by = ?4 "
                    "WHERE id = ?1 AND state < ?2",
                    result.error, return result);
    change.bind(1, id);
    change.bind(2, static_cast<int64_t>(target));
    change.bind(3, now_ms);
    change.bind(4, by);
    if (!run(writer_, change, result.error) || sqlite3_changes(writer_.handle()) != 0) {
        return result;
    }
    VIGIL_STATEMENT(exists, writer_, "SELECT 1 FROM alerts WHERE id = ?1", result.error,
                    return result);
    exists.bind(1, id);
    if (exists.step() != SQLITE_ROW) {
        result.error = "no alert " + std::to_string(id);
    }
    return result;
}

// ---- recommendations, configuration, detection state ----

Done SqliteStore::put_recommendation(const Recommendation& recommendation) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    const auto device_key = device_key_of(writer_, recommendation.device_id, result.error);
    if (!device_key) {
        result.error =
            result.error.empty() ? "no device '" + recommendation.device_id + "'" : result.error;
        return result;
    }
    VIGIL_STATEMENT(put, writer_,
                    "INSERT INTO recommendations (device_key, kind, state, details_json, "
                    "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                    "ON CONFLICT (device_key, kind) DO UPDATE SET state = excluded.state, "
                    "details_json = excluded.details_json, updated_ms = excluded.updated_ms",
                    result.error, return result);
    put.bind(1, *device_key);
    put.bind(2, recommendation.kind);
    put.bind(3, static_cast<int64_t>(recommendation.state));
    put.bind(4, recommendation.details_json);
    put.bind(5, recommendation.created_ms);
    put.bind(6, recommendation.updated_ms);
    run(writer_, put, result.error);
    return result;
}

Fetched<std::vector<Recommendation>> SqliteStore::recommendations(
    const std::optional<std::string>& device_id, const std::optional<RecommendationState>& state) {
    Fetched<std::vector<Recommendation>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(list, *reader,
                    "SELECT d.id, r.kind, r.state, r.details_json, r.created_ms, r.updated_ms "
                    "FROM recommendations r JOIN devices d ON d.device_key = r.device_key "
                    "WHERE (?1 IS NULL OR d.id = ?1) AND (?2 IS NULL OR r.state = ?2) "
                    "ORDER BY d.id, r.kind",
                    result.error, return result);
    if (device_id) {
        list.bind(1, *device_id);
    }
    list.bind(2, state);
    int step = SQLITE_ROW;
    while ((step = list.step()) == SQLITE_ROW) {
        result.value.push_back({list.text(0), list.text(1),
                                static_cast<RecommendationState>(list.integer(2)), list.text(3),
                                list.integer(4), list.integer(5)});
    }
    if (step != SQLITE_DONE) {
        result.error = (*reader).describe("recommendations");
    }
    return result;
}

// Versions only increase, so two API instances setting a config at once cannot go backwards.
Done SqliteStore::set_desired_config(const DesiredConfig& config) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    Transaction transaction(writer_);
    if (!transaction.begin("BEGIN IMMEDIATE", result.error)) {
        return result;
    }
    VIGIL_STATEMENT(set, writer_,
                    "INSERT INTO desired_configs (scope, target, version, content_type, body, "
                    "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                    "ON CONFLICT (scope, target) DO UPDATE SET version = excluded.version, "
                    "content_type = excluded.content_type, body = excluded.body, "
                    "updated_ms = excluded.updated_ms WHERE excluded.version > version",
                    result.error, return result);
    set.bind(1, static_cast<int64_t>(config.scope));
    set.bind(2, config.target);
    set.bind(3, static_cast<int64_t>(config.version));
    set.bind(4, config.content_type);
    set.bind(5, config.body);
    set.bind(6, config.updated_ms);
    if (!run(writer_, set, result.error)) {
        return result;
    }
    if (sqlite3_changes(writer_.handle()) == 0) {
        result.error = "version " + std::to_string(config.version) +
                       " is not newer than the stored configuration";
        return result;
    }
    if (config.scope == ConfigScope::Device) {
        VIGIL_STATEMENT(device, writer_,
                        "UPDATE devices SET desired_config_version = ?2 WHERE id = ?1",
                        result.error, return result);
        device.bind(1, config.target);
        device.bind(2, static_cast<int64_t>(config.version));
        if (!run(writer_, device, result.error)) {
            return result;
        }
    }
    transaction.commit(result.error);
    return result;
}

Fetched<std::optional<DesiredConfig>> SqliteStore::desired_config(ConfigScope scope,
                                                                  const std::string& target) {
    Fetched<std::optional<DesiredConfig>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(get, *reader,
                    "SELECT version, content_type, body, updated_ms FROM desired_configs "
                    "WHERE scope = ?1 AND target = ?2",
                    result.error, return result);
    get.bind(1, static_cast<int64_t>(scope));
    get.bind(2, target);
    const int step = get.step();
    if (step == SQLITE_ROW) {
        result.value =
            DesiredConfig{scope,       target,      static_cast<uint32_t>(get.integer(0)),
                          get.text(1), get.blob(2), get.integer(3)};
    } else if (step != SQLITE_DONE) {
        result.error = (*reader).describe("desired config");
    }
    return result;
}

Done SqliteStore::save_detection_state(const std::string& device_id,
                                       const std::vector<uint8_t>& state, int64_t now_ms) {
    Done result;
    std::lock_guard<std::mutex> lock(writer_mutex_);
    const auto device_key = device_key_of(writer_, device_id, result.error);
    if (!device_key) {
        result.error = result.error.empty() ? "no device '" + device_id + "'" : result.error;
        return result;
    }
    VIGIL_STATEMENT(save, writer_,
                    "INSERT INTO detection_state (device_key, state, updated_ms) "
                    "VALUES (?1, ?2, ?3) ON CONFLICT (device_key) DO UPDATE SET "
                    "state = excluded.state, updated_ms = excluded.updated_ms",
                    result.error, return result);
    save.bind(1, *device_key);
    save.bind(2, state);
    save.bind(3, now_ms);
    run(writer_, save, result.error);
    return result;
}

Fetched<std::optional<std::vector<uint8_t>>> SqliteStore::load_detection_state(
    const std::string& device_id) {
    Fetched<std::optional<std::vector<uint8_t>>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(load, *reader,
                    "SELECT s.state FROM detection_state s "
                    "JOIN devices d ON d.device_key = s.device_key WHERE d.id = ?1",
                    result.error, return result);
    load.bind(1, device_id);
    const int step = load.step();
    if (step == SQLITE_ROW) {
        result.value = load.blob(0);
    } else if (step != SQLITE_DONE) {
        result.error = (*reader).describe("load detection state");
    }
    return result;
}

// ---- retention and statistics ----

// Messages are appended in receive order, so the oldest are at the start of the rowid order. Each
// chunk looks only at the first rows there: it never scans the young rest of a large table, and
// stops as soon as the start holds nothing old enough. Deleting a message deletes its telemetry
// (foreign keys, ON DELETE CASCADE, found through each table's message_id key); the rows are
// counted first, for row_counts.
#define VIGIL_EXPIRED                                                             \
    "SELECT id FROM (SELECT id, received_ms FROM messages ORDER BY id LIMIT ?2) " \
    "WHERE received_ms < ?1"

bool SqliteStore::count_expired(int64_t cutoff_ms, RowDeltas& deltas, std::string& error) {
    VIGIL_STATEMENT(count, writer_,
                    "WITH expired AS (" VIGIL_EXPIRED
                    ") SELECT "
                    "(SELECT count(*) FROM expired), "
                    "(SELECT coalesce(sum(json_array_length(flows)), 0) FROM window_flows "
                    "WHERE message_id IN expired), "
                    "(SELECT count(*) FROM flow_overflow WHERE message_id IN expired), "
                    "(SELECT count(*) FROM interface_totals WHERE message_id IN expired), "
                    "(SELECT count(*) FROM port_snapshots WHERE message_id IN expired), "
                    "(SELECT count(*) FROM heartbeats WHERE message_id IN expired)",
                    error, return false);
    count.bind(1, cutoff_ms);
    count.bind(2, static_cast<int64_t>(options_.retention_chunk_messages));
    if (count.step() != SQLITE_ROW) {
        error = writer_.describe("retention");
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
        // The lock is taken per chunk, so a waiting write_batch() goes in between.
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
        VIGIL_STATEMENT(chunk, writer_, "DELETE FROM messages WHERE id IN (" VIGIL_EXPIRED ")",
                        result.error, return result);
        chunk.bind(1, cutoff_ms);
        chunk.bind(2, static_cast<int64_t>(options_.retention_chunk_messages));
        if (!run(writer_, chunk, result.error) || !add_row_counts(writer_, deltas, result.error) ||
            !transaction.commit(result.error)) {
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
    Fetched<StoreStats> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(counts, *reader,
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
                    result.error, return result);
    if (counts.step() != SQLITE_ROW) {
        result.error = (*reader).describe("stats");
        return result;
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
    return result;
}

// ---- device counts and groups ----

Fetched<uint64_t> SqliteStore::count_devices(const DeviceFilter& filter) {
    Fetched<uint64_t> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(count, *reader,
                    "SELECT count(*) FROM devices "
                    "WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR format = ?2) "
                    "AND (?3 IS NULL OR enrolment = ?3) AND (?4 IS NULL OR last_seen_ms >= ?4) "
                    "AND (?5 IS NULL OR last_seen_ms < ?5)",
                    result.error, return result);
    if (filter.state) {
        count.bind(1, *filter.state);
    }
    count.bind(2, filter.format);
    count.bind(3, filter.enrolment);
    count.bind(4, filter.seen_since_ms);
    count.bind(5, filter.seen_before_ms);
    if (count.step() != SQLITE_ROW) {
        result.error = (*reader).describe("count devices");
        return result;
    }
    result.value = as_counter(count.integer(0));
    return result;
}

Done SqliteStore::set_device_group(const std::string& device_id, const std::string& group) {
    Done result;
    if (device_id.empty()) {
        result.error = "empty device id";
        return result;
    }
    std::lock_guard<std::mutex> lock(writer_mutex_);
    if (group.empty()) {
        VIGIL_STATEMENT(remove, writer_, "DELETE FROM device_groups WHERE device_id = ?1",
                        result.error, return result);
        remove.bind(1, device_id);
        run(writer_, remove, result.error);
        return result;
    }
    VIGIL_STATEMENT(set, writer_,
                    "INSERT INTO device_groups (device_id, group_name) VALUES (?1, ?2) "
                    "ON CONFLICT (device_id) DO UPDATE SET group_name = excluded.group_name",
                    result.error, return result);
    set.bind(1, device_id);
    set.bind(2, group);
    run(writer_, set, result.error);
    return result;
}

Fetched<std::optional<std::string>> SqliteStore::device_group(const std::string& device_id) {
    Fetched<std::optional<std::string>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(get, *reader, "SELECT group_name FROM device_groups WHERE device_id = ?1",
                    result.error, return result);
    get.bind(1, device_id);
    const int step = get.step();
    if (step == SQLITE_ROW) {
        result.value = get.text(0);
    } else if (step != SQLITE_DONE) {
        result.error = (*reader).describe("device group");
    }
    return result;
}

Fetched<std::vector<std::string>> SqliteStore::group_members(const std::string& group) {
    Fetched<std::vector<std::string>> result;
    Reader reader = borrow(result.error);
    if (!reader) {
        return result;
    }
    VIGIL_STATEMENT(members, *reader,
                    "SELECT device_id FROM device_groups WHERE group_name = ?1 ORDER BY device_id",
                    result.error, return result);
    members.bind(1, group);
    int step = SQLITE_ROW;
    while ((step = members.step()) == SQLITE_ROW) {
        result.value.push_back(members.text(0));
    }
    if (step != SQLITE_DONE) {
        result.error = (*reader).describe("group members");
    }
    return result;
}

}  // namespace

const char* to_string(Enrolment enrolment) {
    switch (enrolment) {
        case Enrolment::Pending:
            return "pending";
        case Enrolment::Enrolled:
            return "enrolled";
        case Enrolment::Blocked:
            return "blocked";
    }
    return "unknown";
}

const char* to_string(AlertState state) {
    switch (state) {
        case AlertState::Open:
            return "open";
        case AlertState::Acknowledged:
            return "acknowledged";
        case AlertState::Resolved:
            return "resolved";
    }
    return "unknown";
}

const char* to_string(Severity severity) {
    switch (severity) {
        case Severity::Info:
            return "info";
        case Severity::Low:
            return "low";
        case Severity::Medium:
            return "medium";
        case Severity::High:
            return "high";
        case Severity::Critical:
            return "critical";
    }
    return "unknown";
}

const char* to_string(RecommendationState state) {
    switch (state) {
        case RecommendationState::Open:
            return "open";
        case RecommendationState::Dismissed:
            return "dismissed";
        case RecommendationState::Done:
            return "done";
    }
    return "unknown";
}

std::unique_ptr<Store> open_sqlite_store(const SqliteOptions& options, std::string& error) {
    auto store = std::make_unique<SqliteStore>(options);
    if (!store->open(error)) {
        return nullptr;
    }
    return store;
}

}  // namespace vigil::hub

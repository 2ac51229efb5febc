#include "vigil/hub/sqlite/connection.hpp"

namespace vigil::hub::sqlite {

namespace {

std::string describe(sqlite3* db, const char* what) {
    if (!db) {
        return std::string(what) + ": out of memory";
    }
    return std::string(what) + ": " + sqlite3_errmsg(db) + " (" +
           sqlite3_errstr(sqlite3_extended_errcode(db)) + ")";
}

}  // namespace

Statement::~Statement() {
    if (statement_) {
        sqlite3_reset(statement_);
        sqlite3_clear_bindings(statement_);
    }
}

void Statement::bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
}

void Statement::bind(int index, const std::string& value) {
    sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                      SQLITE_STATIC);
}

void Statement::bind_text(int index, const char* data, size_t size) {
    sqlite3_bind_text(statement_, index, data, static_cast<int>(size), SQLITE_STATIC);
}

void Statement::bind(int index, const char* literal) {
    sqlite3_bind_text(statement_, index, literal, -1, SQLITE_STATIC);
}

void Statement::bind(int index, const std::vector<uint8_t>& value) {
    // A zero-length blob must still be a blob, not NULL, so it gets a valid pointer.
    static const uint8_t empty = 0;
    sqlite3_bind_blob(statement_, index, value.empty() ? &empty : value.data(),
                      static_cast<int>(value.size()), SQLITE_STATIC);
}

void Statement::bind_null(int index) {
    sqlite3_bind_null(statement_, index);
}

int Statement::step() {
    return sqlite3_step(statement_);
}

void Statement::bind(int index, const std::optional<std::string>& value) {
    if (value) {
        bind(index, *value);
    } else {
        bind_null(index);
    }
}

bool Statement::run(const char* what, std::string& error) {
    if (step() != SQLITE_DONE) {
        error = describe(what);
        return false;
    }
    return true;
}

bool Statement::next_row(const char* what, std::string& error) {
    const int status = step();
    if (status == SQLITE_ROW) {
        return true;
    }
    if (status != SQLITE_DONE) {
        error = describe(what);
    }
    return false;
}

bool Statement::only_row(const char* what, std::string& error) {
    if (step() != SQLITE_ROW) {
        error = describe(what);
        return false;
    }
    return true;
}

std::string Statement::describe(const char* what) const {
    return sqlite::describe(sqlite3_db_handle(statement_), what);
}

void Statement::reset() {
    sqlite3_reset(statement_);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(statement_, column);
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size))
                : std::string();
}

std::vector<uint8_t> Statement::blob(int column) const {
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(statement_, column));
    const int size = sqlite3_column_bytes(statement_, column);
    return data ? std::vector<uint8_t>(data, data + size) : std::vector<uint8_t>();
}

Connection::~Connection() {
    for (auto& entry : statements_) {
        sqlite3_finalize(entry.second);
    }
    sqlite3_close_v2(db_);
}

bool Connection::open(const std::string& path, int flags, std::string& error) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        error = describe("open");
        return false;
    }
    sqlite3_extended_result_codes(db_, 1);
    return true;
}

bool Connection::execute(const char* sql, std::string& error) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        error = message ? message : describe("execute");
        sqlite3_free(message);
        return false;
    }
    return true;
}

sqlite3_stmt* Connection::prepare(const char* sql, std::string& error) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) {
        return found->second;
    }
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) !=
        SQLITE_OK) {
        error = describe("prepare");
        return nullptr;
    }
    statements_.emplace(sql, statement);
    return statement;
}

std::string Connection::describe(const char* what) const {
    return sqlite::describe(db_, what);
}

Transaction::~Transaction() {
    if (open_) {
        std::string ignored;
        connection_.execute("ROLLBACK", ignored);
    }
}

bool Transaction::begin(const char* kind, std::string& error) {
    open_ = connection_.execute(kind, error);
    return open_;
}

bool Transaction::commit(std::string& error) {
    if (!connection_.execute("COMMIT", error)) {
        return false;  // still open: the destructor rolls back
    }
    open_ = false;
    return true;
}

}  // namespace vigil::hub::sqlite

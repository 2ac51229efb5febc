// A thin layer over the SQLite C API: a connection that owns its prepared statements (prepared
// once, reused for every call), a statement handle that binds and reads typed values, and a
// transaction that rolls back unless committed.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vigil::hub::sqlite {

/// One prepared statement in use; resets itself (keeping the preparation) when it goes. Empty
/// (false) when the statement could not be prepared.
class Statement {
  public:
    explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
    ~Statement();
    Statement(Statement&& other) noexcept : statement_(other.statement_) {
        other.statement_ = nullptr;
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement& operator=(Statement&&) = delete;

    explicit operator bool() const { return statement_ != nullptr; }

    void bind(int index, int64_t value);
    /// Text and blobs are bound without a copy: they must outlive the step.
    void bind(int index, const std::string& value);
    void bind(int index, std::string&& value) = delete;
    void bind(int index, const char* literal);  ///< text that outlives the statement
    void bind(int index, const std::vector<uint8_t>& value);
    void bind(int index, std::vector<uint8_t>&& value) = delete;
    /// Text of `size` bytes at `data`, which must outlive the step.
    void bind_text(int index, const char* data, size_t size);
    void bind_null(int index);
    /// Text, or NULL when there is none.
    void bind(int index, const std::optional<std::string>& value);
    void bind(int index, std::optional<std::string>&& value) = delete;
    template <typename T>
    void bind(int index, const std::optional<T>& value) {
        if (value) {
            bind(index, static_cast<int64_t>(*value));
        } else {
            bind_null(index);
        }
    }

    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    /// Steps a statement that returns no rows; false with error set (naming `what`) otherwise.
    bool run(const char* what, std::string& error);
    /// Binds values to ?1, ?2, ... in order; temporary text and blobs do not compile (see bind).
    template <typename... Values>
    void bind_all(Values&&... values) {
        int index = 0;
        (bind(++index, std::forward<Values>(values)), ...);
    }
    /// Steps to the next row: true at a row; false at the end, and with error set (naming
    /// `what`) when the step failed instead.
    bool next_row(const char* what, std::string& error);
    /// Steps to the one row a statement must return; false with error set otherwise.
    bool only_row(const char* what, std::string& error);
    /// Ready to bind and step again; the bindings stay.
    void reset();

    bool is_null(int column) const;
    int64_t integer(int column) const;
    std::string text(int column) const;
    std::vector<uint8_t> blob(int column) const;

  private:
    std::string describe(const char* what) const;

    sqlite3_stmt* statement_;
};

class Connection {
  public:
    Connection() = default;
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Opens path with flags (SQLITE_OPEN_*); false with error set when it cannot.
    bool open(const std::string& path, int flags, std::string& error);
    sqlite3* handle() const { return db_; }

    /// Runs one or more statements that return no rows; false with error set on failure.
    bool execute(const char* sql, std::string& error);
    /// The statement for sql, prepared on first use; nullptr with error set when it does not
    /// compile. sql must outlive the connection (a string literal).
    sqlite3_stmt* prepare(const char* sql, std::string& error);
    /// prepare(), ready to use: empty (false) with error set when sql does not compile.
    Statement statement(const char* sql, std::string& error) {
        return Statement(prepare(sql, error));
    }
    /// statement() with values bound to ?1, ?2, ...: empty (false) with error set when sql does
    /// not compile.
    template <typename... Values>
    Statement query(const char* sql, std::string& error, Values&&... values) {
        Statement statement = this->statement(sql, error);
        if (statement) {
            statement.bind_all(std::forward<Values>(values)...);
        }
        return statement;
    }
    /// Runs a statement that returns no rows with values bound to ?1, ?2, ...; false with error
    /// set (naming `what`) when it does not compile or fails.
    template <typename... Values>
    bool run(const char* what, const char* sql, std::string& error, Values&&... values) {
        Statement statement = query(sql, error, std::forward<Values>(values)...);
        return statement && statement.run(what, error);
    }
    /// Rows the latest INSERT, UPDATE or DELETE changed.
    int changes() const { return sqlite3_changes(db_); }
    int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
    /// The connection's latest error, with the operation that failed.
    std::string describe(const char* what) const;

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

/// A transaction on a connection that rolls back when it goes without a successful commit().
class Transaction {
  public:
    explicit Transaction(Connection& connection) : connection_(connection) {}
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    /// kind: "BEGIN" (a read snapshot) or "BEGIN IMMEDIATE" (takes the write lock at once).
    bool begin(const char* kind, std::string& error);
    bool commit(std::string& error);

  private:
    Connection& connection_;
    bool open_ = false;
};

}  // namespace vigil::hub::sqlite

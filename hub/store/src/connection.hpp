// A thin layer over the SQLite C API: a connection that owns its prepared statements (prepared
// once, reused for every call) and a statement handle that binds and reads typed values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace vigil::hub::sqlite {

/// One prepared statement in use; resets itself (keeping the preparation) when it goes.
class Statement {
  public:
    explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void bind(int index, int64_t value);
    /// Text and blobs are bound without a copy: they must outlive the step.
    void bind(int index, const std::string& value);
    void bind(int index, std::string&& value) = delete;
    void bind(int index, const char* literal);  ///< text that outlives the statement
    void bind(int index, const std::vector<uint8_t>& value);
    void bind(int index, std::vector<uint8_t>&& value) = delete;
    void bind_null(int index);
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

    bool is_null(int column) const;
    int64_t integer(int column) const;
    std::string text(int column) const;
    std::vector<uint8_t> blob(int column) const;

  private:
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
    /// The connection's latest error, with the operation that failed.
    std::string describe(const char* what) const;

  private:
    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace vigil::hub::sqlite

// Reader connections for queries, which WAL lets proceed while a write is in progress. A query
// borrows one for its duration; the pool keeps up to SqliteOptions::readers idle and opens more
// on demand.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/hub/sqlite/connection.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::sqlite {

class ReaderPool {
  public:
    /// A reader connection borrowed for one query, given back when it goes.
    class Lease {
      public:
        Lease(ReaderPool& pool, std::unique_ptr<Connection> connection)
            : pool_(pool), connection_(std::move(connection)) {}
        ~Lease();
        Lease(Lease&& other) noexcept = default;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease& operator=(Lease&&) = delete;

        /// false when no connection could be opened (borrow() set the error).
        explicit operator bool() const { return connection_ != nullptr; }
        Connection& operator*() { return *connection_; }
        Connection* operator->() { return connection_.get(); }

      private:
        ReaderPool& pool_;
        std::unique_ptr<Connection> connection_;
    };

    /// options must outlive the pool.
    explicit ReaderPool(const SqliteOptions& options) : options_(options) {}

    /// Opens the idle readers the options ask for.
    bool fill(std::string& error);
    /// An idle reader, or a new one; an empty lease with error set when none can be opened.
    Lease borrow(std::string& error);

  private:
    std::unique_ptr<Connection> open_reader(std::string& error);
    void give_back(std::unique_ptr<Connection> connection);

    const SqliteOptions& options_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace vigil::hub::sqlite

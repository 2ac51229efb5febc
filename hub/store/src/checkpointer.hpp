// Checkpoints copy the WAL back into the database on their own connection and thread. Left to
// SQLite's default, the connection that commits runs them, inside the commit: under sustained
// ingest one such commit took the hub's receipt-to-commit p99 to about a second.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "vigil/hub/sqlite/connection.hpp"
#include "vigil/hub/sqlite_store.hpp"

namespace vigil::hub::sqlite {

class Checkpointer {
  public:
    Checkpointer() = default;
    /// Runs a last checkpoint and joins the thread.
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    /// Takes the writer's checkpoints over (options.checkpoint_frames > 0): hooks its commits,
    /// opens its own connection and starts the thread. The writer must outlive the checkpointer.
    bool start(Connection& writer, const SqliteOptions& options, std::string& error);

  private:
    static int on_wal_commit(void* self, sqlite3*, const char*, int frames);
    void loop();

    int threshold_frames_ = 0;
    Connection connection_;
    std::thread thread_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool due_ = false;
    bool stopping_ = false;
};

}  // namespace vigil::hub::sqlite

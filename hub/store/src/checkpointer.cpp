#include "checkpointer.hpp"

#include "pragmas.hpp"

namespace vigil::hub::sqlite {

bool Checkpointer::start(Connection& writer, const SqliteOptions& options, std::string& error) {
    threshold_frames_ = static_cast<int>(options.checkpoint_frames);
    // Setting a WAL hook turns off SQLite's own automatic checkpoints on this connection.
    sqlite3_wal_hook(writer.handle(), &Checkpointer::on_wal_commit, this);
    const std::string limit =
        "PRAGMA journal_size_limit = " +
        std::to_string(uint64_t{options.checkpoint_frames} * options.page_size_bytes * 4);
    if (!writer.execute(limit.c_str(), error) ||
        !connection_.open(options.path, SQLITE_OPEN_READWRITE, error) ||
        !apply_pragmas(connection_, options, error)) {
        return false;
    }
    thread_ = std::thread([this] { loop(); });
    return true;
}

Checkpointer::~Checkpointer() {
    if (thread_.joinable()) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
}

// Called by SQLite after each commit on the writer, with the WAL's length in frames.
int Checkpointer::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
    auto& checkpointer = *static_cast<Checkpointer*>(self);
    if (frames >= checkpointer.threshold_frames_) {
        {
            std::lock_guard<std::mutex> lock(checkpointer.mutex_);
            checkpointer.due_ = true;
        }
        checkpointer.wake_.notify_one();
    }
    return SQLITE_OK;
}

// PASSIVE checkpoints never wait for the writer or readers; what they could not copy is copied
// the next time (a WAL below checkpoint_frames is left alone, as SQLite itself does). Once a
// checkpoint has copied the whole WAL, the writer's next transaction starts it again from the
// beginning, so it stops growing. A last one runs when the store closes.
void Checkpointer::loop() {
    for (;;) {
        bool stopping = false;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return due_ || stopping_; });
            due_ = false;
            stopping = stopping_;
        }
        int wal_frames = 0, copied_frames = 0;
        (void)sqlite3_wal_checkpoint_v2(connection_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                        &wal_frames, &copied_frames);
        if (stopping) {
            return;
        }
    }
}

}  // namespace vigil::hub::sqlite

// The lock that keeps a data directory to one owner: a running hub, or `vigil-hub devices …`
// while it runs the directory's broker itself. flock(2) on <data>/hub.lock, held for the owner's
// life; the kernel drops it when the owner exits, however it exits, so a lock file left by a
// killed hub never blocks the next one. The owner writes its pid into the file, so whoever is
// refused can say who holds it.
#pragma once

#include <sys/types.h>

#include <string>

namespace vigil::hub {

class DataDirLock {
  public:
    /// The lock file inside a data directory.
    static std::string path_in(const std::string& data_dir);

    /// Tries once, without waiting. held() says whether it was taken; when not, holder_pid()
    /// names the owner (0 when the file does not say) and error() says why in one line.
    explicit DataDirLock(const std::string& data_dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;

    bool held() const { return fd_ >= 0; }
    pid_t holder_pid() const { return holder_; }
    const std::string& error() const { return error_; }

  private:
    int fd_ = -1;
    pid_t holder_ = 0;
    std::string error_;
};

}  // namespace vigil::hub

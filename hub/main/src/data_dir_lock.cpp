#include "data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace vigil::hub {

namespace {

// The pid the owner wrote; 0 when the file is empty or says nothing readable.
pid_t read_pid(int fd) {
    char text[32] = {};
    const ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0) {
        return 0;
    }
    return static_cast<pid_t>(std::strtol(text, nullptr, 10));
}

}  // namespace

std::string DataDirLock::path_in(const std::string& data_dir) {
    return data_dir + "/hub.lock";
}

DataDirLock::DataDirLock(const std::string& data_dir) {
    const std::string path = path_in(data_dir);
    // O_CLOEXEC: mosquitto and openssl are forked from the owner, and a broker that outlives a
    // killed hub must not keep the lock with an inherited descriptor.
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        error_ = "cannot open the lock file " + path + ": " + std::strerror(errno);
        return;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int why = errno;
        if (why == EWOULDBLOCK) {
            // The owner writes its pid just after locking: give it a moment to do so.
            for (int tries = 0; tries < 20 && (holder_ = read_pid(fd)) == 0; ++tries) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            error_ = "the data directory " + data_dir + " is in use by another vigil-hub (pid " +
                     (holder_ > 0 ? std::to_string(holder_) : std::string("unknown")) + ")";
        } else {
            error_ = "cannot lock " + path + ": " + std::strerror(why);
        }
        close(fd);
        return;
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd, 0) != 0 ||
        pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        error_ = "cannot write the lock file " + path + ": " + std::strerror(errno);
        close(fd);
        return;
    }
    fd_ = fd;
    holder_ = getpid();
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) {
        // The file stays: removing it could let two owners lock two different files.
        close(fd_);
    }
}

}  // namespace vigil::hub

// Which of many devices' sockets have something to read, from one epoll set. A device's socket
// changes when its MQTT client reconnects, and the kernel may hand a closed socket's number to
// another device at once, so registrations follow each device's current descriptor and only the
// device that owns a number may remove it.
#pragma once

#include <cstddef>
#include <vector>

namespace vigil::sim {

class ConnectionWatch {
  public:
    ConnectionWatch();
    ~ConnectionWatch();
    ConnectionWatch(const ConnectionWatch&) = delete;
    ConnectionWatch& operator=(const ConnectionWatch&) = delete;

    bool ok() const { return epoll_ >= 0; }
    /// Says which descriptor device `owner` now holds (-1 for none).
    void follow(size_t owner, int fd);
    /// Waits up to timeout_ms; fills `ready` with the owners whose socket is readable or failed.
    void wait(int timeout_ms, std::vector<size_t>& ready);

  private:
    int epoll_;
    std::vector<int> registered_;    ///< by owner: the descriptor registered for it, or -1
    std::vector<long> owner_of_fd_;  ///< by descriptor: its owner, or -1
};

}  // namespace vigil::sim

// A TCP echo service on lwIP sockets: one thread, lwip_poll over the listener and every
// connection, non-blocking reads and writes, so a peer that sends a lot before reading cannot
// stall the others.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace vigil::examples {

class EchoService {
  public:
    explicit EchoService(uint16_t port) : port_(port) {}
    ~EchoService() { stop(); }
    EchoService(const EchoService&) = delete;
    EchoService& operator=(const EchoService&) = delete;

    /// Listens on [::]:port (dual-stack: IPv4 peers too) and starts the service thread.
    bool start();
    void stop();

    uint64_t connections() const { return connections_.load(); }
    uint64_t bytes_echoed() const { return bytes_.load(); }

  private:
    void run();

    uint16_t port_;
    int listener_ = -1;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> connections_{0};
    std::atomic<uint64_t> bytes_{0};
};

}  // namespace vigil::examples

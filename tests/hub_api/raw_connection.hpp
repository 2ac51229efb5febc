// A client connection to the API on loopback that sends exactly the bytes a test gives it, for
// the tests that play a slow, idle or oversized client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace vigil::hub::testing {

class RawConnection {
  public:
    explicit RawConnection(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~RawConnection() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    bool connected() const { return fd_ >= 0; }
    /// All of `bytes`, or false when the server closed the connection.
    bool send(const std::string& bytes) {
        size_t sent = 0;
        while (fd_ >= 0 && sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            sent += static_cast<size_t>(n);
        }
        return fd_ >= 0;
    }
    /// Reads until the server closes the connection or `timeout` passes; true when it closed.
    bool read_until_closed(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (fd_ < 0 || left.count() <= 0) {
                return false;
            }
            pollfd polled{fd_, POLLIN, 0};
            if (::poll(&polled, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return true;  // closed (or reset)
            }
            received.append(buffer, static_cast<size_t>(n));
        }
    }
    /// Reads until `received` holds `part` or `timeout` passes.
    bool read_until(const std::string& part, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (received.find(part) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd polled{fd_, POLLIN, 0};
            if (fd_ < 0 ||
                ::poll(&polled, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) {
                return false;
            }
            char buffer[4096];
            const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return received.find(part) != std::string::npos;
            }
            received.append(buffer, static_cast<size_t>(n));
        }
        return true;
    }

    std::string received;

  private:
    int fd_ = -1;
};

}  // namespace vigil::hub::testing

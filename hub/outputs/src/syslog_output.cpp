#include "vigil/hub/outputs/syslog_output.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <mutex>

#include "vigil/hub/outputs/syslog_message.hpp"

namespace vigil::hub::outputs {

namespace {

// RFC 5424 §6.1: the size every receiver must accept; longer datagrams may be cut anywhere.
constexpr size_t kUdpMessageMax = 2048;

struct HostPort {
    std::string host, port;
};

bool parse_address(const std::string& address, HostPort& parsed) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    std::string host = address.substr(0, colon);
    if (host.front() == '[') {
        if (host.back() != ']' || host.size() < 3) {
            return false;
        }
        host = host.substr(1, host.size() - 2);
    }
    const std::string port = address.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    const int number = std::stoi(port);
    if (number < 1 || number > 65535) {
        return false;
    }
    parsed = {host, port};
    return true;
}

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string this_host() {
    char name[HOST_NAME_MAX + 1] = {};
    return gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string();
}

class SyslogTransport : public Transport {
  public:
    SyslogTransport(const detect::OutputSettings& settings, HostPort address)
        : address_(std::move(address)),
          tcp_(settings.tcp),
          timeout_ms_(static_cast<int>(
              std::min<uint32_t>(std::max<uint32_t>(settings.timeout_ms, 1), INT_MAX))) {
        origin_.facility = settings.facility;
        origin_.hostname = this_host();
        origin_.app_name = settings.app_name;
        origin_.procid = getpid();
    }
    ~SyslogTransport() override { disconnect(); }

    Attempt attempt(const PendingEvent& pending, std::string& failure) override {
        const std::string message = std::visit(
            [this](const auto& event) {
                const int64_t changed = event_time_ms(event);
                return syslog_message(event, origin_, changed > 0 ? changed : now_ms(),
                                      tcp_ ? 0 : kUdpMessageMax);
            },
            pending.event);
        if (tcp_ && fd_ >= 0 && peer_closed()) {
            disconnect();
        }
        if (fd_ < 0 && !connect_to_receiver(failure)) {
            return Attempt::Retry;
        }
        if (!write_all(tcp_ ? octet_counted(message) : message)) {
            failure = std::string("sending to ") + address_text() + ": " + std::strerror(errno);
            disconnect();
            return Attempt::Retry;
        }
        return Attempt::Sent;
    }

    void interrupt() override {
        std::lock_guard<std::mutex> lock(fd_mutex_);
        interrupted_ = true;
        if (fd_ >= 0) {
            shutdown(fd_, SHUT_RDWR);
        }
    }

  private:
    std::string address_text() const { return address_.host + " port " + address_.port; }

    bool connect_to_receiver(std::string& failure) {
        addrinfo hints{};
        hints.ai_socktype = tcp_ ? SOCK_STREAM : SOCK_DGRAM;
        addrinfo* found = nullptr;
        if (const int rc =
                getaddrinfo(address_.host.c_str(), address_.port.c_str(), &hints, &found);
            rc != 0) {
            failure = "resolving " + address_.host + ": " + gai_strerror(rc);
            return false;
        }
        failure = "connecting to " + address_text() + ": no address";
        bool connected = false;
        for (addrinfo* a = found; a != nullptr && !connected; a = a->ai_next) {
            const int fd =
                socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
            if (fd < 0) {
                continue;
            }
            int error = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
            if (error == EINPROGRESS) {
                error = wait(fd, POLLOUT) ? socket_error(fd) : ETIMEDOUT;
            }
            if (error == 0) {
                std::lock_guard<std::mutex> lock(fd_mutex_);
                if (!interrupted_) {
                    fd_ = fd;
                    connected = true;
                    continue;
                }
            }
            failure = "connecting to " + address_text() + ": " + std::strerror(error);
            close(fd);
        }
        freeaddrinfo(found);
        return connected;
    }

    void disconnect() {
        std::lock_guard<std::mutex> lock(fd_mutex_);
        if (fd_ >= 0) {
            close(fd_);
            fd_ = -1;
        }
    }

    bool wait(int fd, short events) const {
        pollfd p{fd, events, 0};
        int ready = 0;
        do {
            ready = poll(&p, 1, timeout_ms_);
        } while (ready < 0 && errno == EINTR);
        return ready == 1 && (p.revents & events) != 0;
    }

    static int socket_error(int fd) {
        int error = 0;
        socklen_t size = sizeof error;
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 ? error : errno;
    }

    // A syslog receiver never writes: a readable socket is one it closed (or reset). Without this
    // check the first message after the receiver left would vanish into the socket's buffer.
    bool peer_closed() const {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 0) != 1) {
            return false;
        }
        char byte = 0;
        const ssize_t n = recv(fd_, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }

    bool write_all(const std::string& data) {
        size_t done = 0;
        while (done < data.size()) {
            const ssize_t n = send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<size_t>(n);
                if (!tcp_) {
                    return true;  // a datagram goes whole or not at all
                }
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (!wait(fd_, POLLOUT)) {
                    return false;
                }
            } else {
                return false;
            }
        }
        return true;
    }

    const HostPort address_;
    const bool tcp_;
    const int timeout_ms_;
    SyslogOrigin origin_;
    std::mutex fd_mutex_;  ///< fd_ as interrupt() sees it; the sender thread alone changes it
    int fd_ = -1;
    bool interrupted_ = false;
};

}  // namespace

std::unique_ptr<Output> make_syslog_output(const detect::OutputSettings& settings,
                                           std::string& error, OutputLog log) {
    HostPort address;
    if (!parse_address(settings.address, address)) {
        error = "syslog address \"" + settings.address + "\" is not host:port";
        return nullptr;
    }
    if (settings.facility > 23) {
        error = "syslog facility " + std::to_string(settings.facility) + " is above 23";
        return nullptr;
    }
    return std::make_unique<Output>(
        settings, "syslog", std::make_unique<SyslogTransport>(settings, address), std::move(log));
}

}  // namespace vigil::hub::outputs

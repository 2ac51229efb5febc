// The stream httplib reads one request from and writes its answer to, over a connection the gate
// handed to a worker: what the gate already received is read first, and every wait for more has
// a deadline, the request head's (from its first byte) and then the body's (from the end of the
// head), rather than one per read, so a client dripping a byte now and then is still cut. A body
// is refused once more than the limit of its bytes arrived, however it is encoded.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <string>

#include "connection_gate.hpp"

namespace vigil::hub::api {

class ConnectionStream final : public httplib::Stream {
  public:
    enum class Fault { None, Failed, HeadTimeout, BodyTooLarge, BodyTimeout };

    /// Waits end early once `stopping` is set.
    ConnectionStream(Connection& connection, const ConnectionLimits& limits,
                     const std::atomic<bool>& stopping);
    /// Leaves in the connection only what was received and not read (a pipelined request).
    ~ConnectionStream() override;
    ConnectionStream(const ConnectionStream&) = delete;
    ConnectionStream& operator=(const ConnectionStream&) = delete;

    /// The head is read: from now on reads are the body's, under its deadline and size limit.
    void begin_body();
    /// Why a read failed; None while none did (or the client just closed).
    Fault fault() const { return fault_; }
    /// The client closed its side.
    bool peer_closed() const { return peer_closed_; }

    bool is_readable() const override;
    bool is_writable() const override;
    ssize_t read(char* ptr, size_t size) override;
    ssize_t write(const char* ptr, size_t size) override;
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    socket_t socket() const override { return connection_.fd; }

  private:
    /// Waits for more bytes until the deadline: their count, 0 when the client closed, -1 on a
    /// fault.
    ssize_t receive_more();

    Connection& connection_;
    const ConnectionLimits& limits_;
    const std::atomic<bool>& stopping_;
    size_t consumed_ = 0;  // of connection_.received
    bool in_body_ = false;
    size_t body_bytes_ = 0;
    Clock::time_point body_deadline_;
    Fault fault_ = Fault::None;
    bool peer_closed_ = false;
};

}  // namespace vigil::hub::api

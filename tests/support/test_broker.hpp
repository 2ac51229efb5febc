// A mosquitto of the test's own: a temporary directory with its config and log, a free loopback
// port, and the broker process, started and ended by its PID.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace vigil::test {

class TestBroker {
  public:
    static constexpr const char* kMosquitto = "/usr/sbin/mosquitto";

    TestBroker() = default;
    TestBroker(const TestBroker&) = delete;
    TestBroker& operator=(const TestBroker&) = delete;
    /// Kills a broker still running and removes the directory.
    ~TestBroker();

    /// True when the mosquitto program is installed.
    static bool installed();
    /// Makes /tmp/<prefix>XXXXXX and takes a free port; false when the directory cannot be made.
    bool init(const std::string& prefix);

    /// The listener on 127.0.0.1, the log in the directory, persistence in it when asked, then
    /// `extra` (authentication, TLS...). start() writes the default when this was not called.
    void write_config(const std::string& extra = "allow_anonymous true\n",
                      bool persistence = false);
    /// Starts mosquitto; true once its port accepts connections, within timeout_ms.
    bool start(int timeout_ms = 3000);
    /// Sends `signal` and waits for the process; a stopped broker is resumed so that it acts.
    void stop(int signal);

    const std::string& dir() const { return dir_; }
    uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string log() const;

  private:
    std::string dir_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
    bool configured_ = false;
};

}  // namespace vigil::test

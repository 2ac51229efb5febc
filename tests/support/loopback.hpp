// Loopback helpers for the tests that start their own mosquitto: a free port, whether something
// listens on one, and a bounded wait.
#pragma once

#include <cstdint>
#include <functional>

namespace vigil::test {

/// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
uint16_t free_port();
/// True when a TCP connection to 127.0.0.1:port is accepted.
bool port_open(uint16_t port);
/// Polls `done` every few milliseconds; false when it is still false after `timeout_ms`.
bool wait_for(const std::function<bool()>& done, int timeout_ms);

}  // namespace vigil::test

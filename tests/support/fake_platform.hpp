// A simulated platform for agent tests: a clock the test moves, a transport that records what
// the agent publishes and can be disconnected or made to fail, and canned system facts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/agent/agent.hpp"

namespace vigil::test {

struct Published {
    std::string topic;
    std::string property_bag;
    std::vector<uint8_t> payload;
};

class FakePlatform {
  public:
    FakePlatform();

    vigil_port port() const;
    vigil_transport transport() const;

    uint64_t now_ms = 1'000'000;
    uint32_t unix_time = 1'700'000'000;
    uint32_t next_random = 12345;
    bool connected = true;
    int32_t send_result = 1;  ///< what send() returns while connected
    std::vector<Published> published;
    std::vector<vigil_listening_port> listening;
    int attach_calls = 0;
    int detach_calls = 0;
    int critical_depth = 0;
    int critical_entries = 0;
    size_t send_attempts = 0;
};

}  // namespace vigil::test

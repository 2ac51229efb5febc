// Where vigil-agent's messages go when they do not go to a broker: JSON lines on stdout, or the
// first report held for --once. Both are transports the agent core sends through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "vigil/agent/vigil_agent.h"
#include "vigil/linux_agent/mosquitto_link.hpp"

namespace vigil::linux_agent {

/// Prints each message decoded, one JSON object per line: {"topic", "size", "message"}.
class JsonLinesSink {
  public:
    vigil_transport transport() { return vigil_transport{this, &connected, &send}; }
    size_t messages() const { return messages_; }
    size_t decode_failures() const { return failures_; }

  private:
    static bool connected(void*) { return true; }
    static int32_t send(void* context, const char* topic, const char* property_bag,
                        const uint8_t* payload, size_t length);

    size_t messages_ = 0;
    size_t failures_ = 0;
};

/// Holds the messages of the first collection whose network window has activity: the report.
class FirstReport {
  public:
    vigil_transport transport() { return vigil_transport{this, &connected, &send}; }
    bool complete() const { return complete_; }
    /// The report as one JSON document: {"device_id", "messages": [...]}.
    std::string json(const std::string& device_id) const;

  private:
    static bool connected(void*) { return true; }
    static int32_t send(void* context, const char* topic, const char* property_bag,
                        const uint8_t* payload, size_t length);

    std::vector<std::vector<uint8_t>> payloads_;
    bool complete_ = false;
};

/// A replay feeds packets as fast as the agent takes them, so it must not outrun the broker:
/// while the broker is connected but has max_unacked publishes outstanding, send() waits for
/// PUBACKs (a live agent never waits; its backlog holds messages instead).
class ReplayLink {
  public:
    explicit ReplayLink(MosquittoLink& link, size_t max_unacked, int wait_limit_ms = 30000)
        : link_(link),
          inner_(link.transport()),
          max_unacked_(max_unacked),
          wait_limit_ms_(wait_limit_ms) {}
    vigil_transport transport() { return vigil_transport{this, &connected, &send}; }

  private:
    static bool connected(void* context);
    static int32_t send(void* context, const char* topic, const char* property_bag,
                        const uint8_t* payload, size_t length);

    MosquittoLink& link_;
    vigil_transport inner_;
    size_t max_unacked_;
    int wait_limit_ms_;
};

}  // namespace vigil::linux_agent

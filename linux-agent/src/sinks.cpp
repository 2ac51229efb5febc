#include "sinks.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "vigil/protocol/message.h"

namespace vigil::linux_agent {
namespace {

nlohmann::json decoded(const uint8_t* payload, size_t length, bool& ok) {
    protocol::Message message;
    const protocol::DecodeResult result = protocol::decode_message(payload, length, message);
    ok = result.ok();
    if (!ok) {
        return nlohmann::json{{"decode_error", std::string(protocol::to_string(result.error)) +
                                                   " at byte " + std::to_string(result.offset)}};
    }
    return nlohmann::json::parse(protocol::to_json(message, -1));
}

}  // namespace

int32_t JsonLinesSink::send(void* context, const char* topic, const char* property_bag,
                            const uint8_t* payload, size_t length) {
    auto& self = *static_cast<JsonLinesSink*>(context);
    // The core is built without exceptions; none may unwind through it.
    try {
        bool ok = false;
        nlohmann::json line{{"topic", std::string(topic) + property_bag},
                            {"size", length},
                            {"message", decoded(payload, length, ok)}};
        self.failures_ += ok ? 0 : 1;
        std::printf("%s\n", line.dump().c_str());
        std::fflush(stdout);
        ++self.messages_;
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vigil-agent: cannot print a message: %s\n", e.what());
        return -1;
    }
}

int32_t FirstReport::send(void* context, const char*, const char*, const uint8_t* payload,
                          size_t length) {
    auto& self = *static_cast<FirstReport*>(context);
    if (self.complete_) {
        return 1;  // later collections are not part of the report
    }
    try {
        protocol::Message message;
        if (protocol::decode_message(payload, length, message).ok() && message.network) {
            // A collection's messages start with its network window: an empty window starts
            // the report over, one with activity completes it (the rest of that collection
            // follows in the same tick).
            self.payloads_.clear();
            self.complete_ = !message.network->flows.empty() || !message.network->overflow.empty();
        }
        self.payloads_.emplace_back(payload, payload + length);
        return 1;
    } catch (const std::exception&) {
        return -1;
    }
}

std::string FirstReport::json(const std::string& device_id) const {
    nlohmann::json messages = nlohmann::json::array();
    for (const std::vector<uint8_t>& payload : payloads_) {
        bool ok = false;
        messages.push_back(decoded(payload.data(), payload.size(), ok));
    }
    return nlohmann::json{{"device_id", device_id}, {"messages", messages}}.dump(2);
}

bool ReplayLink::connected(void* context) {
    auto& self = *static_cast<ReplayLink*>(context);
    return self.inner_.is_connected(self.inner_.context);
}

int32_t ReplayLink::send(void* context, const char* topic, const char* property_bag,
                         const uint8_t* payload, size_t length) {
    auto& self = *static_cast<ReplayLink*>(context);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(self.wait_limit_ms_);
    while (self.link_.connected() && self.link_.unacked() >= self.max_unacked_ &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return self.inner_.send(self.inner_.context, topic, property_bag, payload, length);
}

}  // namespace vigil::linux_agent

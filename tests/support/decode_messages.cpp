// Reads MQTT messages as mosquitto_sub -F '%t %x' prints them (topic, space, payload in hex; one
// per line) and writes each decoded with Vigil's hosted decoder as one JSON line:
//   {"topic": "...", "bytes": N, "message": {...}}   or   {"topic": "...", "error": "..."}
// so the end-to-end checks in Python compare the agent's own view with the capture.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/protocol/message.h"

namespace {

bool from_hex(const std::string& text, std::vector<uint8_t>& out) {
    if (text.size() % 2 != 0) {
        return false;
    }
    out.clear();
    for (size_t i = 0; i < text.size(); i += 2) {
        const int high = std::stoi(text.substr(i, 1), nullptr, 16);
        const int low = std::stoi(text.substr(i + 1, 1), nullptr, 16);
        out.push_back(static_cast<uint8_t>(high * 16 + low));
    }
    return true;
}

}  // namespace

int main() {
    std::string line;
    int bad = 0;
    while (std::getline(std::cin, line)) {
        const size_t space = line.rfind(' ');
        if (space == std::string::npos) {
            continue;
        }
        nlohmann::json out;
        out["topic"] = line.substr(0, space);
        std::vector<uint8_t> payload;
        vigil::protocol::Message message;
        try {
            if (!from_hex(line.substr(space + 1), payload)) {
                throw std::invalid_argument("odd hex length");
            }
            const vigil::protocol::DecodeResult result =
                vigil::protocol::decode_message(payload.data(), payload.size(), message);
            if (result.ok()) {
                out["bytes"] = payload.size();
                out["message"] = nlohmann::json::parse(vigil::protocol::to_json(message, -1));
            } else {
                out["error"] =
                    std::string(vigil::protocol::to_string(result.error)) + ": " + result.detail;
                ++bad;
            }
        } catch (const std::exception& e) {
            out["error"] = std::string("not hex: ") + e.what();
            ++bad;
        }
        std::cout << out.dump() << '\n';
    }
    return bad == 0 ? 0 : 1;
}

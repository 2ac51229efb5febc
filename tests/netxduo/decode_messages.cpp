// Reads MQTT messages as mosquitto_sub -F '%t %x' prints them (topic, space, payload in hex; one
// per line) and writes each decoded with Vigil's hosted decoder as one JSON line,
//   {"topic": "...", "message": {...}}   or   {"topic": "...", "error": "..."}
// so the end-to-end check compares the agent's view with the capture. Exit 1 if any failed.
#include <iostream>
#include <string>
#include <vector>

#include "vigil/protocol/message.h"

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool from_hex(const std::string& text, std::vector<uint8_t>& out) {
    if (text.size() % 2 != 0) {
        return false;
    }
    out.clear();
    for (size_t i = 0; i < text.size(); i += 2) {
        const int high = hex_digit(text[i]);
        const int low = hex_digit(text[i + 1]);
        if (high < 0 || low < 0) {
            return false;
        }
        out.push_back(static_cast<uint8_t>(high * 16 + low));
    }
    return true;
}

/// Topics and decoder errors are plain ASCII; quotes and backslashes are all JSON needs escaped.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return out + "\"";
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
        const std::string topic = quoted(line.substr(0, space));
        std::vector<uint8_t> payload;
        vigil::protocol::Message message;
        if (!from_hex(line.substr(space + 1), payload)) {
            std::cout << "{\"topic\": " << topic << ", \"error\": \"not hex\"}\n";
            ++bad;
            continue;
        }
        const vigil::protocol::DecodeResult result =
            vigil::protocol::decode_message(payload.data(), payload.size(), message);
        if (!result.ok()) {
            std::cout << "{\"topic\": " << topic << ", \"error\": "
                      << quoted(std::string(vigil::protocol::to_string(result.error)) + ": " +
                                result.detail)
                      << "}\n";
            ++bad;
            continue;
        }
        std::cout << "{\"topic\": " << topic
                  << ", \"message\": " << vigil::protocol::to_json(message, -1) << "}\n";
    }
    return bad == 0 ? 0 : 1;
}

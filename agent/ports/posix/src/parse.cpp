#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "vigil/ports/posix.hpp"

namespace vigil::ports::posix {

namespace {

constexpr unsigned kTcpListen = 0x0A;
// The kernel shows bound, unconnected UDP sockets in the TCP_CLOSE state.
constexpr unsigned kUdpUnconnected = 0x07;

std::string_view trim(std::string_view text) {
    const char* space = " \t\r\n\v\f";
    const size_t begin = text.find_first_not_of(space);
    if (begin == std::string_view::npos) {
        return {};
    }
    const size_t end = text.find_last_not_of(space);
    return text.substr(begin, end - begin + 1);
}

/// One os-release value: double quotes allow \" \\ \$ \` escapes, single quotes are literal.
std::string unquote(std::string_view value) {
    value = trim(value);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
        return std::string(value.substr(1, value.size() - 2));
    }
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
        std::string out;
        for (size_t i = 0; i < value.size(); ++i) {
            if (value[i] == '\\' && i + 1 < value.size() &&
                std::strchr("\"\\$`", value[i + 1]) != nullptr) {
                ++i;
            }
            out.push_back(value[i]);
        }
        return out;
    }
    return std::string(value);
}

bool parse_hex(std::string_view text, uint64_t max, uint64_t& out) {
    if (text.empty() || text.size() > 16) {
        return false;
    }
    out = 0;
    for (char c : text) {
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = static_cast<unsigned>(c - '0');
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<unsigned>(c - 'A' + 10);
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return false;
        }
        out = out << 4 | digit;
    }
    return out <= max;
}

bool host_is_little() {
    const uint16_t probe = 1;
    uint8_t first;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

/// "0100007F:0016" into an address and port. The address is 4 or 16 bytes printed as 32-bit
/// words in the producing machine's byte order; the port is plain hex.
bool parse_endpoint(std::string_view text, bool v6, bool little, vigil_address& address,
                    uint16_t& port) {
    const size_t colon = text.find(':');
    const size_t words = v6 ? 4 : 1;
    if (colon != words * 8 || colon + 1 >= text.size()) {
        return false;
    }
    uint64_t value = 0;
    if (!parse_hex(text.substr(colon + 1), 0xFFFF, value)) {
        return false;
    }
    port = static_cast<uint16_t>(value);
    uint8_t bytes[16] = {};
    for (size_t w = 0; w < words; ++w) {
        uint64_t word = 0;
        if (!parse_hex(text.substr(w * 8, 8), 0xFFFFFFFFu, word)) {
            return false;
        }
        for (size_t b = 0; b < 4; ++b) {
            const size_t shift = little ? 8 * b : 8 * (3 - b);
            bytes[w * 4 + b] = static_cast<uint8_t>(word >> shift);
        }
    }
    address = local_address(bytes, v6);
    return true;
}

}  // namespace

vigil_address local_address(const uint8_t* bytes, bool v6) {
    static constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    vigil_address out{};
    if (v6 && std::memcmp(bytes, kV4MappedPrefix, sizeof(kV4MappedPrefix)) == 0) {
        bytes += sizeof(kV4MappedPrefix);
        v6 = false;
    }
    const size_t size = v6 ? 16 : 4;
    std::memcpy(out.bytes, bytes, size);
    const bool unspecified =
        std::all_of(bytes, bytes + size, [](uint8_t byte) { return byte == 0; });
    out.family = unspecified ? 0 : v6 ? 6 : 4;
    return out;
}

OsRelease parse_os_release(std::string_view text) {
    OsRelease out;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        const std::string_view line = trim(text.substr(0, newline));
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        const size_t equals = line.find('=');
        if (line.empty() || line.front() == '#' || equals == std::string_view::npos) {
            continue;
        }
        const std::string_view key = trim(line.substr(0, equals));
        const std::string value = unquote(line.substr(equals + 1));
        if (key == "NAME") {
            out.name = value;
        } else if (key == "VERSION_ID") {
            out.version_id = value;
        } else if (key == "PRETTY_NAME") {
            out.pretty_name = value;
        }
    }
    return out;
}

std::vector<vigil_listening_port> parse_proc_net(std::string_view text, SocketTable table,
                                                 WordOrder order) {
    const bool v6 = table == SocketTable::Tcp6 || table == SocketTable::Udp6;
    const bool tcp = table == SocketTable::Tcp || table == SocketTable::Tcp6;
    const bool little = order == WordOrder::Host ? host_is_little() : order == WordOrder::Little;
    std::vector<vigil_listening_port> out;
    bool header = true;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        const std::string line(text.substr(0, newline));
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        if (header) {  // the column titles
            header = false;
            continue;
        }
        std::istringstream fields(line);
        std::string slot, local, remote, state;
        if (!(fields >> slot >> local >> remote >> state) || slot.back() != ':') {
            continue;
        }
        vigil_listening_port entry{};
        vigil_address remote_address{};
        uint16_t remote_port = 0;
        uint64_t st = 0;
        if (!parse_endpoint(local, v6, little, entry.address, entry.port) ||
            !parse_endpoint(remote, v6, little, remote_address, remote_port) ||
            !parse_hex(state, 0xFF, st) || entry.port == 0) {
            continue;
        }
        const bool listening =
            tcp ? st == kTcpListen
                : st == kUdpUnconnected && remote_address.family == 0 && remote_port == 0;
        if (listening) {
            entry.protocol = tcp ? VIGIL_TCP : VIGIL_UDP;
            out.push_back(entry);
        }
    }
    return out;
}

void sort_unique(std::vector<vigil_listening_port>& ports) {
    auto key = [](const vigil_listening_port& p) {
        std::string bytes(reinterpret_cast<const char*>(p.address.bytes), p.address.family == 4 ? 4
                                                                          : p.address.family == 6
                                                                              ? 16
                                                                              : 0);
        return std::make_tuple(static_cast<int>(p.protocol), p.port, p.address.family, bytes);
    };
    std::sort(ports.begin(), ports.end(),
              [&](const vigil_listening_port& a, const vigil_listening_port& b) {
                  return key(a) < key(b);
              });
    ports.erase(std::unique(ports.begin(), ports.end(),
                            [&](const vigil_listening_port& a, const vigil_listening_port& b) {
                                return key(a) == key(b);
                            }),
                ports.end());
}

std::optional<std::string> read_first(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
        std::ifstream file(path, std::ios::binary);
        if (!file) {
            continue;
        }
        std::ostringstream text;
        text << file.rdbuf();
        std::string content = text.str();
        // Device-tree strings end in a NUL; sysfs values in a newline.
        while (!content.empty() && (content.back() == '\0' ||
                                    std::isspace(static_cast<unsigned char>(content.back())))) {
            content.pop_back();
        }
        if (!content.empty()) {
            return content;
        }
    }
    return std::nullopt;
}

}  // namespace vigil::ports::posix

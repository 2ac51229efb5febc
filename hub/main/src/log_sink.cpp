#include "log_sink.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace vigil::hub {

namespace {

constexpr size_t kMinLineBytes = 256;

void append_hex_byte(std::string& out, unsigned char byte) {
    static const char digits[] = "0123456789abcdef";
    out += "\\x";
    out += digits[byte >> 4];
    out += digits[byte & 0xf];
}

// Code points that are valid UTF-8 yet change how a line reads: C1 controls (NEL breaks lines in
// some viewers), the line and paragraph separators, and the bidirectional controls that can show
// text in another order than it was written.
bool disguises_text(uint32_t code_point) {
    return (code_point >= 0x80 && code_point <= 0x9f) || code_point == 0x200e ||
           code_point == 0x200f || (code_point >= 0x2028 && code_point <= 0x202e) ||
           (code_point >= 0x2066 && code_point <= 0x2069);
}

// The length of the well-formed UTF-8 sequence at text[i] (2 to 4) and its code point; 0 when
// the bytes there are not one (overlong forms, surrogates and code points past U+10FFFF are not).
size_t utf8_sequence(std::string_view text, size_t i, uint32_t& code_point) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char lead = byte(0);
    size_t length = 0;
    uint32_t min = 0;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2, min = 0x80, code_point = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3, min = 0x800, code_point = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4, min = 0x10000, code_point = lead & 0x07;
    } else {
        return 0;
    }
    if (i + length > text.size()) {
        return 0;
    }
    for (size_t k = 1; k < length; ++k) {
        if ((byte(k) & 0xc0) != 0x80) {
            return 0;
        }
        code_point = (code_point << 6) | (byte(k) & 0x3f);
    }
    if (code_point < min || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
        return 0;
    }
    return length;
}

}  // namespace

std::string escape_log_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7f) {
            out += c == '\\' ? "\\\\" : std::string(1, static_cast<char>(c));
            ++i;
            continue;
        }
        if (c == '\n' || c == '\r' || c == '\t') {
            out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
            ++i;
            continue;
        }
        uint32_t code_point = 0;
        const size_t length = c >= 0x80 ? utf8_sequence(text, i, code_point) : 0;
        if (length == 0) {
            append_hex_byte(out, c);
            ++i;
        } else if (disguises_text(code_point)) {
            char escaped[16];
            std::snprintf(escaped, sizeof escaped, "\\u{%04x}", code_point);
            out += escaped;
            i += length;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    return out;
}

void LogSink::set_max_line_bytes(size_t bytes) {
    max_line_bytes_ = std::max(bytes, kMinLineBytes);
}

void LogSink::write(const std::string& line) {
    std::string text = escape_log_text(line);
    const size_t max = max_line_bytes_.load();
    if (text.size() > max) {
        // Escaped text is ASCII but for whole UTF-8 sequences: never cut inside one.
        size_t keep = max;
        while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xc0) == 0x80) {
            --keep;
        }
        const size_t cut = text.size() - keep;
        text.resize(keep);
        text += " [" + std::to_string(cut) + " bytes cut]";
        ++lines_cut_;
    }
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const long millis = static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
    std::lock_guard<std::mutex> lock(mutex_);
    std::fprintf(stderr, "%s.%03ld vigil-hub: %s\n", stamp, millis, text.c_str());
    std::fflush(stderr);
}

}  // namespace vigil::hub

#include "vigil/hub/outputs/syslog_message.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace vigil::hub::outputs {

namespace {

// RFC 5424 §6.2: the longest header fields it allows.
constexpr size_t kHostnameMax = 255;
constexpr size_t kAppNameMax = 48;
constexpr size_t kMsgIdMax = 32;
// Caps on the free-form parameter values, so that header and structured data stay well inside
// 2048 bytes even when every character of them needs escaping.
constexpr size_t kDeviceMax = 128;
constexpr size_t kSubjectMax = 256;
// The enterprise number Vigil's structured data is registered under.
constexpr const char* kSdId = "vigil@32473";
constexpr const char* kBom = "\xEF\xBB\xBF";
constexpr const char* kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629), 0 when it is not one.
size_t utf8_sequence(const std::string& text, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
        return 1;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
        high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high) {
        return 0;
    }
    for (size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
            return 0;
        }
    }
    return length;
}

// At most max_bytes of valid UTF-8, never ending inside a sequence.
std::string valid_utf8(const std::string& text, size_t max_bytes = std::string::npos) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const size_t length = utf8_sequence(text, i);
        const size_t take = length == 0 ? 3 : length;
        if (out.size() + take > max_bytes) {
            break;
        }
        if (length == 0) {
            out += kReplacement;
            ++i;
        } else {
            out.append(text, i, length);
            i += length;
        }
    }
    return out;
}

// A header field: printable US-ASCII without spaces, at most max characters, "-" when empty.
std::string header_field(const std::string& value, size_t max) {
    std::string out;
    for (char c : value) {
        if (out.size() == max) {
            break;
        }
        out.push_back(c >= 33 && c <= 126 ? c : '_');
    }
    return out.empty() ? "-" : out;
}

// RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash inside a parameter value.
std::string param_value(const std::string& value, size_t max_bytes = 64) {
    std::string out;
    for (char c : valid_utf8(value, max_bytes)) {
        if (c == '"' || c == '\\' || c == ']') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

std::string timestamp(int64_t ms) {
    ms = std::max<int64_t>(ms, 0);
    const time_t seconds = static_cast<time_t>(ms / 1000);
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char buffer[80];  // room for any int the format could print
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms % 1000));
    return buffer;
}

// The header and structured data, then the free text cut to what is left of max_bytes.
std::string with_text(std::string message, const std::string& text, size_t max_bytes) {
    const size_t room = max_bytes == 0               ? std::string::npos
                        : max_bytes > message.size() ? max_bytes - message.size()
                                                     : 0;
    return message + valid_utf8(text, room);
}

// "title: more", or the title alone when there is no more.
std::string joined(const std::string& title, const std::string& more) {
    return more.empty() ? title : title + ": " + more;
}

}  // namespace

uint8_t syslog_severity(Severity severity) {
    switch (severity) {
        case Severity::Critical:
            return 2;
        case Severity::High:
            return 3;
        case Severity::Medium:
            return 4;
        case Severity::Low:
            return 5;
        case Severity::Info:
            break;
    }
    return 6;
}

int64_t event_time_ms(const AlertEvent& event) {
    const Alert& a = event.alert;
    switch (event.change) {
        case AlertChange::Opened:
            return a.raised_ms;
        case AlertChange::Repeated:
            return a.last_raised_ms;
        case AlertChange::Acknowledged:
        case AlertChange::Resolved:
            break;
    }
    return a.changed_ms;
}

std::string syslog_message(const AlertEvent& event, const SyslogOrigin& origin,
                           int64_t timestamp_ms, size_t max_bytes) {
    const Alert& a = event.alert;
    const unsigned pri = static_cast<unsigned>(origin.facility) * 8 + syslog_severity(a.severity);
    std::string message =
        "<" + std::to_string(pri) + ">1 " + timestamp(timestamp_ms) + " " +
        header_field(origin.hostname, kHostnameMax) + " " +
        header_field(origin.app_name, kAppNameMax) + " " + std::to_string(origin.procid) + " " +
        header_field(a.type, kMsgIdMax) + " [" + kSdId + " id=\"" + std::to_string(a.id) +
        "\" device=\"" + param_value(a.device_id, kDeviceMax) + "\" category=\"" +
        param_value(to_string(a.category)) + "\" severity=\"" + param_value(to_string(a.severity)) +
        "\" subject=\"" + param_value(a.subject, kSubjectMax) + "\" change=\"" +
        param_value(to_string(event.change)) + "\"] " + kBom;
    return with_text(std::move(message), joined(a.title, a.description), max_bytes);
}

int64_t event_time_ms(const RecommendationEvent& event) {
    return event.recommendation.updated_ms;
}

std::string syslog_message(const RecommendationEvent& event, const SyslogOrigin& origin,
                           int64_t timestamp_ms, size_t max_bytes) {
    const Recommendation& r = event.recommendation;
    const unsigned pri = static_cast<unsigned>(origin.facility) * 8 + syslog_severity(r.severity);
    std::string message =
        "<" + std::to_string(pri) + ">1 " + timestamp(timestamp_ms) + " " +
        header_field(origin.hostname, kHostnameMax) + " " +
        header_field(origin.app_name, kAppNameMax) + " " + std::to_string(origin.procid) + " " +
        header_field(r.kind, kMsgIdMax) + " [" + kSdId + " recommendation=\"" +
        std::to_string(r.id) + "\" device=\"" + param_value(r.device_id, kDeviceMax) +
        "\" kind=\"" + param_value(r.kind) + "\" severity=\"" + param_value(to_string(r.severity)) +
        "\" subject=\"" + param_value(r.subject, kSubjectMax) + "\" change=\"" +
        param_value(to_string(event.change)) + "\"] " + kBom;
    return with_text(std::move(message), joined(r.title, r.remediation), max_bytes);
}

std::string octet_counted(const std::string& message) {
    return std::to_string(message.size()) + " " + message;
}

}  // namespace vigil::hub::outputs

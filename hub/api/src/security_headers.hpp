// The headers every answer of the hub carries, the API's and the dashboard's files alike: the
// dashboard's pages may load scripts, styles and images only from the hub itself and talk to no
// one else, and no browser guesses a content type or sends the dashboard's address on.
#pragma once

#include <string>
#include <utility>

namespace vigil::hub::api {

constexpr std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
     "frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
};

/// The same as header lines ("Name: value\r\n" each), for answers written without httplib.
inline std::string security_header_lines() {
    std::string lines;
    for (const auto& [name, value] : kSecurityHeaders) {
        lines += std::string(name) + ": " + value + "\r\n";
    }
    return lines;
}

}  // namespace vigil::hub::api

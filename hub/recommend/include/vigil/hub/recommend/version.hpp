// Release versions as the vulnerability catalog compares them: up to six dotted numbers, with an
// optional leading "v". Anything else a device reports (a vendor build suffix such as
// "-13-amd64", a pre-release such as "-rc1", a service-pack name) says nothing certain about
// which fixes are in, so it is read as an unknown version and never rounded to a release.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::hub::recommend {

inline constexpr size_t kMaxVersionParts = 6;
/// Longer version strings are refused unread: no release of any catalogued product needs more.
inline constexpr size_t kMaxVersionBytes = 64;

struct Version {
    std::array<uint32_t, kMaxVersionParts> parts{};
    size_t count = 0;

    /// Missing parts count as 0, so "6.3" equals "6.3.0".
    friend int compare(const Version& a, const Version& b);
    friend bool operator<(const Version& a, const Version& b) { return compare(a, b) < 0; }
    friend bool operator<=(const Version& a, const Version& b) { return compare(a, b) <= 0; }
    friend bool operator>(const Version& a, const Version& b) { return compare(a, b) > 0; }
    friend bool operator==(const Version& a, const Version& b) { return compare(a, b) == 0; }
    std::string text() const;  ///< "6.4.1"
};

/// A version read from what a device reports, or why it cannot be.
struct VersionReading {
    std::optional<Version> version;
    std::string why_unknown;  ///< set when `version` is empty
};

/// "6.4.1", "v2.1.3", "V10.0.1", "2017.02.3". Everything else is unknown, with the reason.
VersionReading read_version(std::string_view text);

}  // namespace vigil::hub::recommend

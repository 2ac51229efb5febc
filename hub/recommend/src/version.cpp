#include "vigil/hub/recommend/version.hpp"

namespace vigil::hub::recommend {

namespace {

constexpr uint32_t kMaxPart = 999'999'999;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

int compare(const Version& a, const Version& b) {
    for (size_t i = 0; i < kMaxVersionParts; ++i) {
        if (a.parts[i] != b.parts[i]) {
            return a.parts[i] < b.parts[i] ? -1 : 1;
        }
    }
    return 0;
}

std::string Version::text() const {
    std::string out;
    for (size_t i = 0; i < count; ++i) {
        if (i > 0) {
            out += '.';
        }
        out += std::to_string(parts[i]);
    }
    return out;
}

VersionReading read_version(std::string_view text) {
    if (text.empty()) {
        return {std::nullopt, "no version reported"};
    }
    if (text.size() > kMaxVersionBytes) {
        return {std::nullopt, "longer than " + std::to_string(kMaxVersionBytes) + " bytes"};
    }
    size_t at = 0;
    if (text[0] == 'v' || text[0] == 'V') {
        at = 1;
    }
    Version version;
    while (true) {
        if (at >= text.size() || !is_digit(text[at])) {
            return {std::nullopt, "not a dotted release number"};
        }
        uint64_t part = 0;
        while (at < text.size() && is_digit(text[at])) {
            part = part * 10 + static_cast<uint64_t>(text[at] - '0');
            if (part > kMaxPart) {
                return {std::nullopt, "a number too large for a release"};
            }
            ++at;
        }
        if (version.count == kMaxVersionParts) {
            return {std::nullopt,
                    "more than " + std::to_string(kMaxVersionParts) + " dotted numbers"};
        }
        version.parts[version.count++] = static_cast<uint32_t>(part);
        if (at == text.size()) {
            return {version, ""};
        }
        if (text[at] != '.') {
            return {std::nullopt,
                    "text after the release number (a vendor build or a pre-release): which "
                    "fixes it holds cannot be told from the number"};
        }
        ++at;
    }
}

}  // namespace vigil::hub::recommend

#include "vigil/hub/detect/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace vigil::hub::detect {
namespace {

unsigned __int128 host_mask(Family family, uint8_t prefix) {
    const int width = IpAddress::bits(family);
    if (prefix >= width) {
        return 0;
    }
    const int host_bits = width - prefix;
    return host_bits == 128 ? ~static_cast<unsigned __int128>(0)
                            : (static_cast<unsigned __int128>(1) << host_bits) - 1;
}

/// A dotted quad as strictly as inet_pton reads one: four decimal octets, none over 255, none
/// with a leading zero, nothing else. By hand because inet_pton showed in the hub's profile:
/// detection reads the addresses of every flow it is given (a property test holds the two equal).
std::optional<uint32_t> parse_ipv4(std::string_view text) {
    uint32_t value = 0;
    size_t at = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet != 0) {
            if (at == text.size() || text[at] != '.') {
                return std::nullopt;
            }
            ++at;
        }
        const size_t start = at;
        unsigned number = 0;
        while (at < text.size() && at - start < 3 && text[at] >= '0' && text[at] <= '9') {
            number = number * 10 + static_cast<unsigned>(text[at] - '0');
            ++at;
        }
        const size_t digits = at - start;
        if (digits == 0 || number > 255 || (digits > 1 && text[start] == '0')) {
            return std::nullopt;
        }
        value = (value << 8) | number;
    }
    if (at != text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
    IpAddress address;
    if (text.find(':') == std::string_view::npos) {
        const std::optional<uint32_t> value = parse_ipv4(text);
        if (!value) {
            return std::nullopt;
        }
        address.family = Family::V4;
        address.value = *value;
        return address;
    }
    // inet_pton needs a terminated string; the longest textual IPv6 address is 45 characters.
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.size() >= sizeof(buffer)) {
        return std::nullopt;
    }
    text.copy(buffer, text.size());
    buffer[text.size()] = '\0';
    unsigned char bytes[16];
    if (inet_pton(AF_INET6, buffer, bytes) != 1) {
        return std::nullopt;
    }
    address.family = Family::V6;
    for (unsigned char byte : bytes) {
        address.value = (address.value << 8) | byte;
    }
    return address;
}

std::string to_string(const IpAddress& address) {
    char text[INET6_ADDRSTRLEN];
    if (address.family == Family::V4) {
        unsigned char bytes[4];
        for (int i = 0; i < 4; ++i) {
            bytes[i] = static_cast<unsigned char>(address.value >> (8 * (3 - i)));
        }
        inet_ntop(AF_INET, bytes, text, sizeof(text));
    } else {
        unsigned char bytes[16];
        for (int i = 0; i < 16; ++i) {
            bytes[i] = static_cast<unsigned char>(address.value >> (8 * (15 - i)));
        }
        inet_ntop(AF_INET6, bytes, text, sizeof(text));
    }
    return text;
}

IpAddress Cidr::last() const {
    IpAddress end = network;
    end.value |= host_mask(network.family, prefix);
    return end;
}

bool Cidr::contains(const IpAddress& address) const {
    return address.family == network.family &&
           (address.value & ~host_mask(network.family, prefix)) == network.value;
}

CidrParse parse_cidr(std::string_view text) {
    CidrParse result;
    const size_t slash = text.find('/');
    const std::optional<IpAddress> address = parse_ip(text.substr(0, slash));
    if (!address) {
        result.error = "not an IPv4 or IPv6 address";
        return result;
    }
    Cidr cidr{*address, static_cast<uint8_t>(IpAddress::bits(address->family))};
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        unsigned prefix = 0;
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
            prefix > static_cast<unsigned>(IpAddress::bits(address->family))) {
            result.error =
                "prefix length is not 0 to " + std::to_string(IpAddress::bits(address->family));
            return result;
        }
        cidr.prefix = static_cast<uint8_t>(prefix);
    }
    if ((cidr.network.value & host_mask(cidr.network.family, cidr.prefix)) != 0) {
        result.error = "host bits set beyond the /" + std::to_string(cidr.prefix) + " prefix";
        return result;
    }
    result.cidr = cidr;
    return result;
}

std::string to_string(const Cidr& cidr) {
    return to_string(cidr.network) + "/" + std::to_string(cidr.prefix);
}

}  // namespace vigil::hub::detect

#include "vigil/ports/replay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "vigil/ports/capture.hpp"

namespace vigil::ports::posix {
namespace {

size_t address_size(uint8_t family) {
    return family == 4 ? 4 : 16;
}

bool same(const vigil_address& a, uint8_t family, const uint8_t* bytes) {
    return a.family == family && std::memcmp(a.bytes, bytes, address_size(family)) == 0;
}

/// Addresses that can never be the device's own: unspecified, multicast, broadcast.
bool could_be_device(uint8_t family, const uint8_t* a) {
    if (family == 4) {
        const bool unspecified = a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0;
        const bool broadcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
        return !unspecified && !broadcast && (a[0] & 0xF0) != 0xE0;
    }
    static const uint8_t kUnspecified[16] = {};
    return a[0] != 0xFF && std::memcmp(a, kUnspecified, 16) != 0;
}

}  // namespace

bool parse_address(const std::string& text, vigil_address& out) {
    out = vigil_address{};
    if (inet_pton(AF_INET, text.c_str(), out.bytes) == 1) {
        out.family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text.c_str(), out.bytes) == 1) {
        out.family = 6;
        return true;
    }
    return false;
}

std::string address_text(const vigil_address& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.family != 4 && address.family != 6) {
        return "*";
    }
    inet_ntop(address.family == 4 ? AF_INET : AF_INET6, address.bytes, text, sizeof(text));
    return text;
}

void LocalAddresses::add(const vigil_address& address) {
    for (const vigil_address& known : addresses_) {
        if (same(known, address.family, address.bytes)) {
            return;
        }
    }
    addresses_.push_back(address);
}

bool LocalAddresses::outbound(const IpSlice& ip) const {
    uint8_t family = 0;
    const uint8_t* source = source_of(ip, family);
    if (source == nullptr) {
        return false;
    }
    for (const vigil_address& known : addresses_) {
        if (same(known, family, source)) {
            return true;
        }
    }
    return false;
}

const uint8_t* LocalAddresses::source_of(const IpSlice& ip, uint8_t& family) {
    const uint8_t version = ip.length > 0 ? ip.data[0] >> 4 : 0;
    if (version == 4 && ip.length >= 20) {
        family = 4;
        return ip.data + 12;
    }
    if (version == 6 && ip.length >= 40) {
        family = 6;
        return ip.data + 8;
    }
    return nullptr;
}

void Survey::infer(LocalAddresses& locals) const {
    for (uint8_t family : {uint8_t{4}, uint8_t{6}}) {
        const std::pair<const AddressKey, Seen>* best = nullptr;
        for (const auto& entry : seen) {
            if (entry.first.first != family) {
                continue;
            }
            const Seen& s = entry.second;
            const Seen* b = best != nullptr ? &best->second : nullptr;
            if (b == nullptr || s.packets > b->packets ||
                (s.packets == b->packets &&
                 (s.sent > b->sent || (s.sent == b->sent && s.first < b->first)))) {
                best = &entry;
            }
        }
        if (best != nullptr) {
            vigil_address address{};
            address.family = family;
            std::memcpy(address.bytes, best->first.second.data(), best->first.second.size());
            locals.add(address);
        }
    }
}

std::vector<Mac> Survey::macs_of(const LocalAddresses& locals) const {
    std::vector<Mac> out;
    for (const vigil_address& a : locals.all()) {
        const auto it =
            macs.find(AddressKey(a.family, std::string(a.bytes, a.bytes + address_size(a.family))));
        if (it != macs.end() && std::find(out.begin(), out.end(), it->second) == out.end()) {
            out.push_back(it->second);
        }
    }
    return out;
}

bool survey_capture(const std::string& path, Survey& survey, std::string& error) {
    std::unique_ptr<Capture> capture = Capture::open_file(path, error);
    if (!capture) {
        return false;
    }
    const int dlt = capture->link_type();
    Capture::Frame frame;
    Capture::Next next;
    while ((next = capture->next(frame)) == Capture::Next::Frame) {
        IpSlice ip;
        uint8_t family = 0;
        const uint8_t* source = nullptr;
        if (!ip_payload(dlt, frame.data, frame.captured, ip) ||
            (source = LocalAddresses::source_of(ip, family)) == nullptr) {
            continue;
        }
        const size_t size = address_size(family);
        const uint8_t* destination = source + size;
        for (const uint8_t* address : {source, destination}) {
            if (!could_be_device(family, address)) {
                continue;
            }
            const Survey::AddressKey key(family, std::string(address, address + size));
            auto [it, inserted] =
                survey.seen.try_emplace(key, Survey::Seen{0, 0, survey.seen.size()});
            ++it->second.packets;
            it->second.sent += address == source ? 1 : 0;
        }
        uint8_t mac[6];
        if (could_be_device(family, source) && source_mac(dlt, frame.data, frame.captured, mac)) {
            Mac& known =
                survey.macs[Survey::AddressKey(family, std::string(source, source + size))];
            std::copy(std::begin(mac), std::end(mac), known.begin());
        }
    }
    if (next == Capture::Next::Error) {
        error = capture->error();
        return false;
    }
    return true;
}

}  // namespace vigil::ports::posix

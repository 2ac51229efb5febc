// The state's bytes: a version, then every field as a LEB128 varint (signed ones zigzagged),
// addresses as family + 4 or 16 bytes, strings length-prefixed. Written by hand rather than with
// a serialisation library: the state is a handful of flat tables, and most devices' state is a
// few dozen bytes that a self-describing format would double.
#include <cstring>

#include "vigil/hub/detect/device_state.hpp"

namespace vigil::hub::detect {

namespace {

/// Version 1 had no hygiene tables; its states are read with empty ones.
constexpr uint8_t kVersionWithoutHygiene = 1;
constexpr uint8_t kVersion = 2;

class Writer {
  public:
    void unsigned_value(uint64_t value) {
        while (value >= 0x80) {
            bytes_.push_back(static_cast<uint8_t>(value | 0x80));
            value >>= 7;
        }
        bytes_.push_back(static_cast<uint8_t>(value));
    }
    void signed_value(int64_t value) {
        unsigned_value((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
    }
    void flag(bool value) { bytes_.push_back(value ? 1 : 0); }
    void real(double value) {
        uint64_t bits = 0;
        std::memcpy(&bits, &value, sizeof bits);
        unsigned_value(bits);
    }
    void address(const IpAddress& address) {
        bytes_.push_back(static_cast<uint8_t>(address.family));
        const int count = address.family == Family::V4 ? 4 : 16;
        for (int i = count - 1; i >= 0; --i) {
            bytes_.push_back(static_cast<uint8_t>(address.value >> (8 * i)));
        }
    }
    void text(const std::string& value) {
        unsigned_value(value.size());
        bytes_.insert(bytes_.end(), value.begin(), value.end());
    }
    std::vector<uint8_t> take() { return std::move(bytes_); }

  private:
    std::vector<uint8_t> bytes_;
};

class Reader {
  public:
    explicit Reader(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}

    bool ok() const { return ok_; }
    bool at_end() const { return at_ == bytes_.size(); }

    uint64_t unsigned_value() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t byte = next();
            value |= static_cast<uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) {
                return value;
            }
        }
        ok_ = false;
        return 0;
    }
    int64_t signed_value() {
        const uint64_t raw = unsigned_value();
        return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
    }
    uint32_t small(uint64_t limit) {
        const uint64_t value = unsigned_value();
        if (value > limit) {
            ok_ = false;
            return 0;
        }
        return static_cast<uint32_t>(value);
    }
    bool flag() { return small(1) == 1; }
    double real() {
        const uint64_t bits = unsigned_value();
        double value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }
    IpAddress address() {
        IpAddress address;
        const uint8_t family = next();
        if (family != 4 && family != 6) {
            ok_ = false;
            return address;
        }
        address.family = static_cast<Family>(family);
        const int count = family == 4 ? 4 : 16;
        for (int i = 0; i < count; ++i) {
            address.value = (address.value << 8) | next();
        }
        return address;
    }
    std::string text() {
        const size_t size = small(bytes_.size() - at_);
        std::string value;
        if (ok_) {
            value.assign(bytes_.begin() + static_cast<std::ptrdiff_t>(at_),
                         bytes_.begin() + static_cast<std::ptrdiff_t>(at_ + size));
            at_ += size;
        }
        return value;
    }
    /// A table's length, refused past its ceiling.
    size_t count(size_t ceiling) { return small(ceiling); }

  private:
    uint8_t next() {
        if (at_ >= bytes_.size()) {
            ok_ = false;
            return 0;
        }
        return bytes_[at_++];
    }

    const std::vector<uint8_t>& bytes_;
    size_t at_ = 0;
    bool ok_ = true;
};

void write_scanner(Writer& out, const InboundScanner& scanner) {
    out.address(scanner.remote);
    out.signed_value(scanner.first_ms);
    out.signed_value(scanner.last_ms);
    out.unsigned_value(scanner.services.size());
    for (const TimedService& service : scanner.services) {
        out.unsigned_value(service.service);
        out.signed_value(service.last_ms);
    }
    for (uint32_t counter : {scanner.attempts, scanner.completed, scanner.refused,
                             scanner.unanswered, scanner.reset}) {
        out.unsigned_value(counter);
    }
    out.flag(scanner.alerted);
}

InboundScanner read_scanner(Reader& in) {
    InboundScanner scanner;
    scanner.remote = in.address();
    scanner.first_ms = in.signed_value();
    scanner.last_ms = in.signed_value();
    const size_t services = in.count(kMaxTrackedPerEntry);
    for (size_t i = 0; i < services && in.ok(); ++i) {
        TimedService service;
        service.service = in.small(UINT32_MAX);
        service.last_ms = in.signed_value();
        scanner.services.push_back(service);
    }
    for (uint32_t* counter : {&scanner.attempts, &scanner.completed, &scanner.refused,
                              &scanner.unanswered, &scanner.reset}) {
        *counter = in.small(UINT32_MAX);
    }
    scanner.alerted = in.flag();
    return scanner;
}

void write_probe(Writer& out, const OutboundProbe& probe) {
    out.unsigned_value(probe.service);
    out.signed_value(probe.first_ms);
    out.signed_value(probe.last_ms);
    out.unsigned_value(probe.hosts.size());
    for (const TimedHost& host : probe.hosts) {
        out.address(host.address);
        out.signed_value(host.last_ms);
    }
    out.unsigned_value(probe.attempts);
    out.unsigned_value(probe.failed);
    out.flag(probe.alerted);
}

OutboundProbe read_probe(Reader& in) {
    OutboundProbe probe;
    probe.service = in.small(UINT32_MAX);
    probe.first_ms = in.signed_value();
    probe.last_ms = in.signed_value();
    const size_t hosts = in.count(kMaxTrackedPerEntry);
    for (size_t i = 0; i < hosts && in.ok(); ++i) {
        TimedHost host;
        host.address = in.address();
        host.last_ms = in.signed_value();
        probe.hosts.push_back(host);
    }
    probe.attempts = in.small(UINT32_MAX);
    probe.failed = in.small(UINT32_MAX);
    probe.alerted = in.flag();
    return probe;
}

void write_rule(Writer& out, const RuleProgress& rule) {
    out.text(rule.name);
    out.signed_value(rule.bucket);
    out.real(rule.value);
    out.flag(rule.bucket_breached);
    out.unsigned_value(rule.breaching);
    out.unsigned_value(rule.clear);
    out.flag(rule.alarmed);
    out.signed_value(rule.first_breach_ms);
}

RuleProgress read_rule(Reader& in) {
    RuleProgress rule;
    rule.name = in.text();
    rule.bucket = in.signed_value();
    rule.value = in.real();
    rule.bucket_breached = in.flag();
    rule.breaching = in.small(UINT32_MAX);
    rule.clear = in.small(UINT32_MAX);
    rule.alarmed = in.flag();
    rule.first_breach_ms = in.signed_value();
    return rule;
}

void write_services(Writer& out, const std::vector<ServiceKey>& services) {
    out.unsigned_value(services.size());
    for (ServiceKey service : services) {
        out.unsigned_value(service);
    }
}

std::vector<ServiceKey> read_services(Reader& in) {
    std::vector<ServiceKey> services(in.count(kMaxListening));
    for (ServiceKey& service : services) {
        service = in.small(UINT32_MAX);
    }
    return services;
}

void write_timed_services(Writer& out, const std::vector<TimedService>& services) {
    out.unsigned_value(services.size());
    for (const TimedService& service : services) {
        out.unsigned_value(service.service);
        out.signed_value(service.last_ms);
    }
}

std::vector<TimedService> read_timed_services(Reader& in) {
    std::vector<TimedService> services(in.count(kMaxHygieneServices));
    for (TimedService& service : services) {
        service.service = in.small(UINT32_MAX);
        service.last_ms = in.signed_value();
    }
    return services;
}

void write_hygiene(Writer& out, const HygieneProgress& hygiene) {
    write_timed_services(out, hygiene.cleartext_accepted);
    write_timed_services(out, hygiene.cleartext_outbound);
    write_timed_services(out, hygiene.exposed);
    out.text(hygiene.boot);
    out.text(hygiene.previous_boot);
    out.unsigned_value(hygiene.boot_sequence);
    out.unsigned_value(hygiene.previous_boot_sequence);
    out.unsigned_value(hygiene.boot_returns);
    out.signed_value(hygiene.last_return_ms);
    out.signed_value(hygiene.day_start_ms);
    out.unsigned_value(hygiene.day_messages);
    out.unsigned_value(hygiene.day_bytes);
    out.unsigned_value(hygiene.last_day_messages);
    out.unsigned_value(hygiene.last_day_bytes);
}

HygieneProgress read_hygiene(Reader& in) {
    HygieneProgress hygiene;
    hygiene.cleartext_accepted = read_timed_services(in);
    hygiene.cleartext_outbound = read_timed_services(in);
    hygiene.exposed = read_timed_services(in);
    hygiene.boot = in.text();
    hygiene.previous_boot = in.text();
    hygiene.boot_sequence = in.unsigned_value();
    hygiene.previous_boot_sequence = in.unsigned_value();
    hygiene.boot_returns = in.small(UINT32_MAX);
    hygiene.last_return_ms = in.signed_value();
    hygiene.day_start_ms = in.signed_value();
    hygiene.day_messages = in.unsigned_value();
    hygiene.day_bytes = in.unsigned_value();
    hygiene.last_day_messages = in.unsigned_value();
    hygiene.last_day_bytes = in.unsigned_value();
    return hygiene;
}

}  // namespace

std::vector<uint8_t> encode_state(const DeviceState& state) {
    Writer out;
    out.unsigned_value(kVersion);
    out.signed_value(state.latest_ms);
    out.signed_value(state.previous_report_ms);
    out.unsigned_value(state.scanners.size());
    for (const InboundScanner& scanner : state.scanners) {
        write_scanner(out, scanner);
    }
    out.unsigned_value(state.probes.size());
    for (const OutboundProbe& probe : state.probes) {
        write_probe(out, probe);
    }
    out.flag(state.listening_known);
    write_services(out, state.listening);
    write_services(out, state.listening_seen);
    out.unsigned_value(state.flood_alarmed);
    out.unsigned_value(state.rules.size());
    for (const RuleProgress& rule : state.rules) {
        write_rule(out, rule);
    }
    const HealthProgress& health = state.health;
    out.text(health.boot);
    out.unsigned_value(health.messages_dropped);
    out.unsigned_value(health.send_failures);
    out.unsigned_value(health.alarmed);
    for (int64_t offset : health.skew_offsets) {
        out.signed_value(offset);
    }
    out.unsigned_value(health.skew_samples);
    write_hygiene(out, state.hygiene);
    return out.take();
}

std::optional<DeviceState> decode_state(const std::vector<uint8_t>& bytes) {
    Reader in(bytes);
    const uint64_t version = in.unsigned_value();
    if (version != kVersion && version != kVersionWithoutHygiene) {
        return std::nullopt;
    }
    DeviceState state;
    state.latest_ms = in.signed_value();
    state.previous_report_ms = in.signed_value();
    const size_t scanners = in.count(kMaxScanners);
    for (size_t i = 0; i < scanners && in.ok(); ++i) {
        state.scanners.push_back(read_scanner(in));
    }
    const size_t probes = in.count(kMaxProbes);
    for (size_t i = 0; i < probes && in.ok(); ++i) {
        state.probes.push_back(read_probe(in));
    }
    state.listening_known = in.flag();
    state.listening = read_services(in);
    state.listening_seen = read_services(in);
    state.flood_alarmed = in.small(UINT32_MAX);
    const size_t rules = in.count(kMaxRules);
    for (size_t i = 0; i < rules && in.ok(); ++i) {
        state.rules.push_back(read_rule(in));
    }
    HealthProgress& health = state.health;
    health.boot = in.text();
    health.messages_dropped = in.unsigned_value();
    health.send_failures = in.unsigned_value();
    health.alarmed = in.small(UINT32_MAX);
    for (int64_t& offset : health.skew_offsets) {
        offset = in.signed_value();
    }
    health.skew_samples = static_cast<uint8_t>(in.small(3));
    if (version == kVersion) {
        state.hygiene = read_hygiene(in);
    }
    if (!in.ok() || !in.at_end()) {
        return std::nullopt;
    }
    return state;
}

}  // namespace vigil::hub::detect

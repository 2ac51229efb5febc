#include "vigil/agent/detail/flow_table.hpp"

namespace vigil::agent::detail {

namespace {

inline uint32_t load32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

inline uint32_t mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    return h;
}

/// Seeded per boot, so nobody can precompute keys that collide on a device.
inline uint32_t hash_key(const FlowKey& key, size_t address_bytes, uint32_t seed) {
    uint32_t h = seed ^ (static_cast<uint32_t>(key.local_port) << 16 | key.remote_port);
    h = (h ^ key.protocol) * 0x9E3779B1u;
    for (size_t i = 0; i < address_bytes; i += 4) {
        h = (h ^ load32(key.local + i)) * 0x9E3779B1u;
        h = (h ^ load32(key.remote + i)) * 0x9E3779B1u;
    }
    return mix(h);
}

inline bool same_address(const uint8_t* a, const uint8_t* b, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) {
        if (a[i] != b[i]) {
            return false;
        }
    }
    return true;
}

inline bool matches(const FlowRecord4& r, const FlowKey& key) {
    uint32_t local;
    uint32_t remote;
    __builtin_memcpy(&local, key.local, 4);
    __builtin_memcpy(&remote, key.remote, 4);
    return r.local == local && r.remote == remote && r.local_port == key.local_port &&
           r.remote_port == key.remote_port && (r.stats.flags & 0x03) == key.protocol;
}

inline bool matches(const FlowRecord6& r, const FlowKey& key) {
    return r.local_port == key.local_port && r.remote_port == key.remote_port &&
           (r.stats.flags & 0x03) == key.protocol && same_address(r.remote, key.remote, 16) &&
           same_address(r.local, key.local, 16);
}

inline void assign(FlowRecord4& r, const FlowKey& key) {
    __builtin_memcpy(&r.local, key.local, 4);
    __builtin_memcpy(&r.remote, key.remote, 4);
}

inline void assign(FlowRecord6& r, const FlowKey& key) {
    __builtin_memcpy(r.local, key.local, 16);
    __builtin_memcpy(r.remote, key.remote, 16);
}

template <typename Record>
constexpr size_t address_bytes() {
    return sizeof(Record::local);
}

}  // namespace

template <typename Record>
Record* FlowTable<Record>::find_or_insert(const FlowKey& key, uint32_t seed, bool& inserted) {
    inserted = false;
    const uint32_t h = hash_key(key, address_bytes<Record>(), seed);
    // Multiply-shift maps the hash onto any capacity without a division.
    size_t index = static_cast<size_t>((static_cast<uint64_t>(h) * capacity_) >> 32);
    const size_t probes = capacity_ < kMaxProbe ? capacity_ : kMaxProbe;
    for (size_t probe = 0; probe < probes; ++probe) {
        Record& record = records_[index];
        if (!record.stats.used) {
            assign(record, key);
            record.local_port = key.local_port;
            record.remote_port = key.remote_port;
            record.stats = FlowStats{};
            record.stats.flags = key.protocol;
            record.stats.used = 1;
            ++size_;
            inserted = true;
            return &record;
        }
        if (matches(record, key)) {
            return &record;
        }
        index = index + 1 == capacity_ ? 0 : index + 1;
    }
    return nullptr;
}

template <typename Record>
void FlowTable<Record>::clear() {
    for (size_t i = 0; i < capacity_; ++i) {
        records_[i].stats.used = 0;
    }
    size_ = 0;
}

template class FlowTable<FlowRecord4>;
template class FlowTable<FlowRecord6>;

}  // namespace vigil::agent::detail

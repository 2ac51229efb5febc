// Fixed-capacity flow tables. Records live in a caller's array and are found by open addressing
// (linear probing, no per-entry links), so a record costs only its fields. The code is shared by
// every capacity: a table is a pointer, a capacity and a count.
#pragma once

#include <stddef.h>  // offsetof
#include <cstddef>
#include <cstdint>

#include "vigil/agent/detail/compiler.hpp"

namespace vigil::agent::detail {

/// Probe at most this many slots, so a full or attacked table costs a bounded time per packet.
/// Flows that find no slot within it go to the overflow records, like flows of a full table.
constexpr size_t kMaxProbe = 64;

struct FlowStats {
    uint32_t bytes_in;
    uint32_t bytes_out;
    uint32_t packets_in;
    uint32_t packets_out;
    uint32_t first_ms;  ///< offset from the window start
    uint32_t last_ms;
    uint8_t flags;  ///< wire::flow_flag bits; protocol in the low bits is part of the key
    uint8_t used;   ///< kFree, kOpen, or kClosed
};

/// Record states. A closed record belongs to a window being encoded: the hook no longer matches
/// it (its packets open a record of the next window), so it can be read without a lock.
constexpr uint8_t kFree = 0;
constexpr uint8_t kOpen = 1;
constexpr uint8_t kClosed = 2;

struct FlowRecord4 {
    uint32_t local;  ///< network byte order, as read from the packet
    uint32_t remote;
    uint16_t local_port;
    uint16_t remote_port;
    FlowStats stats;
};

struct FlowRecord6 {
    uint8_t local[16];
    uint8_t remote[16];
    uint16_t local_port;
    uint16_t remote_port;
    FlowStats stats;
};

/// Both record types hold the local address, the remote address, the two ports and the stats,
/// in that order, so the table's lookup and the window's reading each exist once for both.
template <typename Record>
constexpr bool kLaidOutAlike = offsetof(Record, remote) == sizeof(Record::local) &&
                               offsetof(Record, local_port) == 2 * sizeof(Record::local) &&
                               offsetof(Record, remote_port) == offsetof(Record, local_port) + 2 &&
                               offsetof(Record, stats) == offsetof(Record, local_port) + 4;
static_assert(kLaidOutAlike<FlowRecord4> && kLaidOutAlike<FlowRecord6>, "record layout");

struct FlowKey {
    const uint8_t* local;  ///< 4 or 16 bytes
    const uint8_t* remote;
    uint16_t local_port;
    uint16_t remote_port;
    uint8_t protocol;
};

namespace table {

/// A table's records as bytes: a record's local address at its start, the remote one after it,
/// then the ports and the stats (kLaidOutAlike).
struct Layout {
    uint8_t* records;
    size_t stride;
    size_t address_bytes;
    size_t capacity;

    uint8_t* record(size_t index) const { return records + index * stride; }
    FlowStats& stats(uint8_t* record) const {
        return *reinterpret_cast<FlowStats*>(record + 2 * address_bytes + 4);
    }
};

}  // namespace table

template <typename Record>
class FlowTable {
  public:
    FlowTable(Record* records, size_t capacity) : records_(records), capacity_(capacity) {}
    FlowTable(const FlowTable&) = delete;
    FlowTable& operator=(const FlowTable&) = delete;

    /// Finds the key's record or claims a free one (its stats zeroed) and says which in
    /// `inserted`. Returns null, leaving `inserted` alone, when no slot is free within kMaxProbe.
    /// The capacity must not be 0 (Agent<> asserts it).
    Record* find_or_insert(const FlowKey& key, uint32_t seed, bool& inserted);
    void clear();
    /// Frees one record. Later records of its probe run may then be missed by a lookup and get
    /// a second record: only done to closed records, whose window is being encoded, so the
    /// second record belongs to the next window and nothing is counted twice or lost.
    void release(size_t index) {
        if (records_[index].stats.used != kFree) {
            records_[index].stats.used = kFree;
            --size_;
        }
    }

    /// The records as bytes, for code shared by both record types.
    table::Layout layout() const {
        return {reinterpret_cast<uint8_t*>(records_), sizeof(Record), sizeof(Record::local),
                capacity_};
    }
    size_t size() const { return size_; }
    size_t capacity() const { return capacity_; }
    bool full() const { return size_ == capacity_; }
    Record& slot(size_t index) { return records_[index]; }
    const Record& slot(size_t index) const { return records_[index]; }

  private:
    Record* records_;
    size_t capacity_;
    size_t size_ = 0;
};

namespace table {

inline uint32_t load_native32(const void* p) {
    uint32_t value;
    __builtin_memcpy(&value, p, 4);
    return value;
}

/// Both ports as one word, in memory order: records and keys keep local_port and remote_port
/// next to each other so one compare checks both.
template <typename T>
inline uint32_t ports_word(const T& holder) {
    static_assert(offsetof(T, remote_port) == offsetof(T, local_port) + 2, "ports adjacent");
    return load_native32(reinterpret_cast<const uint8_t*>(&holder) + offsetof(T, local_port));
}

inline uint32_t rotate_left(uint32_t value, unsigned bits) {
    return (value << bits) | (value >> (32 - bits));
}

/// Seeded per boot, so nobody can precompute keys that collide on a device. The rotation after
/// each multiply carries high bits down into the next step's carries, where the seed decides the
/// outcome; without it a change in bit 31 of two words cancels out under every seed. Addresses
/// are read in native byte order: the hash only has to be a function of the key.
VIGIL_ALWAYS_INLINE uint32_t hash_key(const FlowKey& key, uint32_t seed, size_t address_bytes) {
    uint32_t h = rotate_left((seed ^ ports_word(key) ^ key.protocol) * 0x9E3779B1u, 15);
    for (size_t i = 0; i < address_bytes; i += 4) {
        h = rotate_left((h ^ load_native32(key.local + i)) * 0x85EBCA6Bu, 13);
        h = rotate_left((h ^ load_native32(key.remote + i)) * 0xC2B2AE35u, 15);
    }
    return (h ^ seed) * 0x27D4EB2Fu;
}

VIGIL_ALWAYS_INLINE bool matches(const Layout& t, uint8_t* record, const FlowKey& key) {
    const FlowStats& stats = t.stats(record);
    if (stats.used != kOpen || load_native32(record + 2 * t.address_bytes) != ports_word(key) ||
        (stats.flags & 0x03) != key.protocol) {
        return false;
    }
    uint32_t difference = 0;
    for (size_t i = 0; i < t.address_bytes; i += 4) {
        difference |= (load_native32(record + i) ^ load_native32(key.local + i)) |
                      (load_native32(record + t.address_bytes + i) ^ load_native32(key.remote + i));
    }
    return difference == 0;
}

/// The lookup of both record types. Inlined where the packet path is built for speed, so each
/// family gets its own constant-sized copy there; one shared copy where it is built for size.
VIGIL_ALWAYS_INLINE uint8_t* find_or_insert(const Layout& t, size_t& size, const FlowKey& key,
                                            uint32_t seed, bool& inserted) {
    const uint32_t h = hash_key(key, seed, t.address_bytes);
    // Multiply-shift maps the hash onto any capacity without a division.
    size_t index = static_cast<size_t>((static_cast<uint64_t>(h) * t.capacity) >> 32);
    // The probe bound is worked out only past the home slot, off the common packet's path.
    for (size_t probe = 1;; ++probe) {
        uint8_t* record = t.record(index);
        if (VIGIL_LIKELY(matches(t, record, key))) {
            inserted = false;  // most packets belong to a flow sitting in its home slot
            return record;
        }
        FlowStats& stats = t.stats(record);
        if (stats.used == kFree) {
            __builtin_memcpy(record, key.local, t.address_bytes);
            __builtin_memcpy(record + t.address_bytes, key.remote, t.address_bytes);
            __builtin_memcpy(record + 2 * t.address_bytes, &key.local_port, 4);  // both ports
            stats = FlowStats{};
            stats.flags = key.protocol;
            stats.used = kOpen;
            ++size;
            inserted = true;
            return record;
        }
        if (probe == (t.capacity < kMaxProbe ? t.capacity : kMaxProbe)) {
            return nullptr;
        }
        index = index + 1 == t.capacity ? 0 : index + 1;
    }
}

}  // namespace table

template <typename Record>
VIGIL_ALWAYS_INLINE Record* FlowTable<Record>::find_or_insert(const FlowKey& key, uint32_t seed,
                                                              bool& inserted) {
    return reinterpret_cast<Record*>(table::find_or_insert(layout(), size_, key, seed, inserted));
}

template <typename Record>
inline void FlowTable<Record>::clear() {
    for (size_t i = 0; i < capacity_; ++i) {
        records_[i].stats.used = kFree;
    }
    size_ = 0;
}

}  // namespace vigil::agent::detail

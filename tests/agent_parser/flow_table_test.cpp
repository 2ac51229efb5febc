// The open-addressing flow table: lookups and inserts by every key field, capacity limits, clear,
// and the bounded probe that keeps a full or attacked table cheap per packet.
#include "vigil/agent/detail/flow_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <vector>

namespace {

using vigil::agent::detail::FlowKey;
using vigil::agent::detail::FlowRecord4;
using vigil::agent::detail::FlowRecord6;
using vigil::agent::detail::FlowTable;
using vigil::agent::detail::kMaxProbe;

constexpr uint32_t kSeed = 0x5EED1234u;

/// The addresses and ports of a key, owned (FlowKey only points at addresses).
template <size_t N>
struct Key {
    std::array<uint8_t, N> local{};
    std::array<uint8_t, N> remote{};
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
    uint8_t protocol = 0;

    FlowKey key() const {
        return FlowKey{local.data(), remote.data(), local_port, remote_port, protocol};
    }
};
using Key4 = Key<4>;
using Key6 = Key<16>;

Key4 key4(uint32_t local, uint32_t remote, uint16_t local_port, uint16_t remote_port,
          uint8_t protocol) {
    Key4 k;
    for (size_t i = 0; i < 4; ++i) {
        k.local[i] = static_cast<uint8_t>(local >> (24 - 8 * i));
        k.remote[i] = static_cast<uint8_t>(remote >> (24 - 8 * i));
    }
    k.local_port = local_port;
    k.remote_port = remote_port;
    k.protocol = protocol;
    return k;
}

Key6 key6(uint8_t local_last, uint8_t remote_last, uint16_t local_port, uint16_t remote_port,
          uint8_t protocol) {
    Key6 k;
    k.local = {0x20, 0x01, 0x0d, 0xb8};
    k.remote = {0x20, 0x01, 0x0d, 0xb8, 0, 1};
    k.local[15] = local_last;
    k.remote[15] = remote_last;
    k.local_port = local_port;
    k.remote_port = remote_port;
    k.protocol = protocol;
    return k;
}

/// A table over its own zeroed records. When find_or_insert returns null, `inserted` is not
/// looked at: the agent reads it only with a record.
template <typename Record>
struct Table {
    explicit Table(size_t capacity) : records(capacity), table(records.data(), capacity) {
        std::memset(static_cast<void*>(records.data()), 0, sizeof(Record) * capacity);
    }
    template <size_t N>
    Record* insert(const Key<N>& k, bool& inserted, uint32_t seed = kSeed) {
        return table.find_or_insert(k.key(), seed, inserted);
    }
    size_t index_of(const Record* r) const { return static_cast<size_t>(r - records.data()); }

    std::vector<Record> records;
    FlowTable<Record> table;
};

TEST(FlowTable, InsertThenFind) {
    Table<FlowRecord4> t(16);
    const Key4 k = key4(0xC000020A, 0xC6336407, 40000, 443, 0);
    bool inserted = false;
    FlowRecord4* r = t.insert(k, inserted);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(inserted);
    EXPECT_EQ(t.table.size(), 1u);
    EXPECT_EQ(std::memcmp(&r->local, k.local.data(), 4), 0);  // network byte order, as given
    EXPECT_EQ(std::memcmp(&r->remote, k.remote.data(), 4), 0);
    EXPECT_EQ(r->local_port, 40000);
    EXPECT_EQ(r->remote_port, 443);
    EXPECT_EQ(r->stats.used, 1);
    EXPECT_EQ(r->stats.flags & 0x03, 0);
    EXPECT_EQ(r->stats.packets_in + r->stats.packets_out, 0u);

    r->stats.packets_in = 7;
    r->stats.flags |= 0x04 | 0x30;  // flags above the protocol bits do not change the key
    FlowRecord4* again = t.insert(k, inserted);
    EXPECT_EQ(again, r);
    EXPECT_FALSE(inserted);
    EXPECT_EQ(again->stats.packets_in, 7u);
    EXPECT_EQ(t.table.size(), 1u);
}

TEST(FlowTable, InsertZeroesStaleStats) {
    Table<FlowRecord6> t(8);
    for (FlowRecord6& r : t.records) {
        std::memset(static_cast<void*>(&r), 0xAB, sizeof r);
        r.stats.used = 0;
    }
    bool inserted = false;
    const Key6 k = key6(1, 2, 3, 4, 2);
    FlowRecord6* r = t.insert(k, inserted);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(inserted);
    EXPECT_EQ(r->stats.bytes_in, 0u);
    EXPECT_EQ(r->stats.bytes_out, 0u);
    EXPECT_EQ(r->stats.packets_in, 0u);
    EXPECT_EQ(r->stats.packets_out, 0u);
    EXPECT_EQ(r->stats.first_ms, 0u);
    EXPECT_EQ(r->stats.last_ms, 0u);
    EXPECT_EQ(r->stats.flags, 2);
    EXPECT_EQ(std::memcmp(r->local, k.local.data(), 16), 0);
    EXPECT_EQ(std::memcmp(r->remote, k.remote.data(), 16), 0);
}

template <typename Record, typename K>
void expect_distinct_by_each_field(const std::vector<K>& keys) {
    Table<Record> t(64);
    std::set<Record*> records;
    for (const K& k : keys) {
        bool inserted = false;
        Record* r = t.insert(k, inserted);
        ASSERT_NE(r, nullptr);
        EXPECT_TRUE(inserted);
        records.insert(r);
    }
    EXPECT_EQ(records.size(), keys.size());
    EXPECT_EQ(t.table.size(), keys.size());
    // Each is found again, at its own record.
    for (const K& k : keys) {
        bool inserted = true;
        Record* r = t.insert(k, inserted);
        ASSERT_NE(r, nullptr);
        EXPECT_FALSE(inserted);
        EXPECT_EQ(r->local_port, k.local_port);
        EXPECT_EQ(r->remote_port, k.remote_port);
        EXPECT_EQ(r->stats.flags & 0x03, k.protocol);
        EXPECT_EQ(std::memcmp(&r->local, k.local.data(), k.local.size()), 0);
        EXPECT_EQ(std::memcmp(&r->remote, k.remote.data(), k.remote.size()), 0);
    }
    EXPECT_EQ(t.table.size(), keys.size());
    // In a one-record table every key probes the same record, whatever its hash, so each
    // comparison runs: a variant must never be taken for the first key.
    for (size_t i = 1; i < keys.size(); ++i) {
        Table<Record> one(1);
        bool inserted = false;
        Record* first = one.insert(keys[0], inserted);
        ASSERT_NE(first, nullptr);
        EXPECT_EQ(one.insert(keys[i], inserted), nullptr) << "variant " << i;
        EXPECT_EQ(one.insert(keys[0], inserted), first);
    }
}

TEST(FlowTable, KeysDifferingInOneFieldAreDistinct4) {
    const Key4 base = key4(0x0A000001, 0x0A000002, 1000, 2000, 0);
    std::vector<Key4> keys = {base};
    Key4 k = base;
    k.local[3] = 3;  // local address
    keys.push_back(k);
    k = base;
    k.remote[0] = 11;  // remote address
    keys.push_back(k);
    k = base;
    k.local_port = 1001;
    keys.push_back(k);
    k = base;
    k.remote_port = 2001;
    keys.push_back(k);
    k = base;
    k.protocol = 1;  // UDP
    keys.push_back(k);
    k.protocol = 2;  // ICMP
    keys.push_back(k);
    // Local and remote swapped, ports swapped: other flows.
    keys.push_back(key4(0x0A000002, 0x0A000001, 1000, 2000, 0));
    keys.push_back(key4(0x0A000001, 0x0A000002, 2000, 1000, 0));
    expect_distinct_by_each_field<FlowRecord4>(keys);
}

TEST(FlowTable, KeysDifferingInOneFieldAreDistinct6) {
    const Key6 base = key6(1, 2, 1000, 2000, 0);
    std::vector<Key6> keys = {base};
    for (size_t byte : {size_t{0}, size_t{7}, size_t{8}, size_t{15}}) {
        Key6 k = base;
        k.local[byte] ^= 0x80;
        keys.push_back(k);
        k = base;
        k.remote[byte] ^= 0x01;
        keys.push_back(k);
    }
    Key6 k = base;
    k.local_port = 1001;
    keys.push_back(k);
    k = base;
    k.remote_port = 2001;
    keys.push_back(k);
    k = base;
    k.protocol = 1;
    keys.push_back(k);
    k.protocol = 2;
    keys.push_back(k);
    keys.push_back(key6(2, 1, 1000, 2000, 0));
    expect_distinct_by_each_field<FlowRecord6>(keys);
}

template <typename Record, typename MakeKey>
void fill_to_capacity(size_t capacity, MakeKey make_key) {
    SCOPED_TRACE(capacity);
    ASSERT_LE(capacity, kMaxProbe);  // below the probe bound every free slot is reachable
    Table<Record> t(capacity);
    for (size_t i = 0; i < capacity; ++i) {
        bool inserted = false;
        Record* r = t.insert(make_key(i), inserted);
        ASSERT_NE(r, nullptr) << i;
        EXPECT_TRUE(inserted);
        EXPECT_LT(t.index_of(r), capacity);
    }
    EXPECT_TRUE(t.table.full());
    EXPECT_EQ(t.table.size(), capacity);
    bool inserted = true;
    EXPECT_EQ(t.insert(make_key(capacity), inserted), nullptr);
    EXPECT_EQ(t.insert(make_key(capacity + 1000), inserted), nullptr);
    EXPECT_EQ(t.table.size(), capacity);
    // A full table still finds what it holds.
    for (size_t i = 0; i < capacity; ++i) {
        Record* r = t.insert(make_key(i), inserted);
        ASSERT_NE(r, nullptr) << i;
        EXPECT_FALSE(inserted);
    }
}

TEST(FlowTable, FillToCapacityThenNull) {
    auto make4 = [](size_t i) {
        return key4(0x0A000001, 0x0A000002 + static_cast<uint32_t>(i), 5000,
                    static_cast<uint16_t>(i), 1);
    };
    auto make6 = [](size_t i) {
        return key6(1, static_cast<uint8_t>(i), static_cast<uint16_t>(i * 7), 53, 1);
    };
    // Capacities that are not powers of two, and the edges.
    for (size_t capacity : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{16},
                            size_t{37}, size_t{63}, size_t{64}}) {
        fill_to_capacity<FlowRecord4>(capacity, make4);
        fill_to_capacity<FlowRecord6>(capacity, make6);
    }
}

TEST(FlowTable, LargeTableFillsUntilTheProbeBoundThenFindsEverything) {
    // Above kMaxProbe a table may refuse a key before it is completely full; every key it took
    // is still found, and whatever it refuses leaves the table unchanged.
    for (size_t capacity : {size_t{65}, size_t{100}, size_t{1000}}) {
        Table<FlowRecord4> t(capacity);
        std::vector<Key4> taken;
        size_t refused = 0;
        for (uint32_t i = 0; i < capacity * 2; ++i) {
            const Key4 k = key4(0xC0A80001, i, static_cast<uint16_t>(i), 80, 0);
            bool inserted = false;
            FlowRecord4* r = t.insert(k, inserted);
            if (r == nullptr) {
                ++refused;
                continue;
            }
            EXPECT_TRUE(inserted);
            taken.push_back(k);
        }
        EXPECT_EQ(t.table.size(), taken.size());
        EXPECT_LE(taken.size(), capacity);
        EXPECT_GE(refused, capacity);
        // The multiply-shift spread fills a random-keyed table almost to the last slot.
        EXPECT_GE(taken.size() * 100, capacity * 90) << capacity;
        for (const Key4& k : taken) {
            bool inserted = true;
            ASSERT_NE(t.insert(k, inserted), nullptr);
            EXPECT_FALSE(inserted);
        }
    }
}

TEST(FlowTable, ClearEmptiesTheTable) {
    Table<FlowRecord4> t(10);
    bool inserted = false;
    for (uint16_t i = 0; i < 10; ++i) {
        FlowRecord4* r = t.insert(key4(1, 2, i, 3, 0), inserted);
        ASSERT_NE(r, nullptr);
        r->stats.packets_out = 5;
    }
    ASSERT_TRUE(t.table.full());
    t.table.clear();
    EXPECT_EQ(t.table.size(), 0u);
    EXPECT_FALSE(t.table.full());
    for (const FlowRecord4& r : t.records) {
        EXPECT_EQ(r.stats.used, 0);
    }
    // Everything inserts anew, with fresh stats.
    for (uint16_t i = 0; i < 10; ++i) {
        FlowRecord4* r = t.insert(key4(1, 2, i, 3, 0), inserted);
        ASSERT_NE(r, nullptr);
        EXPECT_TRUE(inserted);
        EXPECT_EQ(r->stats.packets_out, 0u);
    }
    EXPECT_TRUE(t.table.full());
}

TEST(FlowTable, SeedChangesPlacementNotMeaning) {
    Table<FlowRecord4> a(4096);
    Table<FlowRecord4> b(4096);
    size_t moved = 0;
    for (uint16_t i = 0; i < 200; ++i) {
        const Key4 k = key4(0x0A000001, 0x08080808, i, 53, 1);
        bool inserted = false;
        FlowRecord4* ra = a.insert(k, inserted, 1);
        FlowRecord4* rb = b.insert(k, inserted, 2);
        ASSERT_NE(ra, nullptr);
        ASSERT_NE(rb, nullptr);
        moved += a.index_of(ra) != b.index_of(rb) ? 1 : 0;
        EXPECT_EQ(a.insert(k, inserted, 1), ra);
        EXPECT_EQ(b.insert(k, inserted, 2), rb);
    }
    EXPECT_GT(moved, 150u);
}

// ---------------------------------------------------------------------------------------------
// Bounded probing, with keys chosen to collide against the seed.

/// Finds the home slot of keys by inserting each into an empty table and freeing it again, and
/// collects keys whose home is `home`.
class CollisionFinder {
  public:
    CollisionFinder(size_t capacity, uint32_t seed) : scratch_(capacity), seed_(seed) {}

    size_t home_of(const Key4& k) {
        bool inserted = false;
        FlowRecord4* r = scratch_.insert(k, inserted, seed_);
        EXPECT_NE(r, nullptr);
        EXPECT_TRUE(inserted);
        r->stats.used = 0;
        return scratch_.index_of(r);
    }

    /// `count` keys whose home slot is `home`, skipping any already handed out.
    std::vector<Key4> keys_homed_at(size_t home, size_t count) {
        std::vector<Key4> out;
        while (out.size() < count) {
            const uint32_t n = next_++;
            const Key4 k = key4(0xC0A80002, 0xCB007100 | (n >> 24), static_cast<uint16_t>(n),
                                static_cast<uint16_t>(n >> 16), 0);
            if (home_of(k) == home) {
                out.push_back(k);
            }
        }
        return out;
    }

  private:
    Table<FlowRecord4> scratch_;
    uint32_t seed_;
    uint32_t next_ = 0;
};

void expect_bounded_probe(size_t capacity, size_t home) {
    SCOPED_TRACE(::testing::Message() << "capacity " << capacity << " home " << home);
    CollisionFinder finder(capacity, kSeed);
    const std::vector<Key4> colliding = finder.keys_homed_at(home, kMaxProbe + 1);

    Table<FlowRecord4> t(capacity);
    auto slot = [&](size_t probe) { return (home + probe) % capacity; };
    // kMaxProbe keys with one home fill the probe window from the home slot on, wrapping.
    for (size_t i = 0; i < kMaxProbe; ++i) {
        bool inserted = false;
        FlowRecord4* r = t.insert(colliding[i], inserted);
        ASSERT_NE(r, nullptr) << i;
        EXPECT_TRUE(inserted);
        EXPECT_EQ(t.index_of(r), slot(i));
    }
    // One more with the same home is refused although the table is nearly empty: the slot just
    // past the window is free, and the table must not scan on to it.
    ASSERT_EQ(t.records[slot(kMaxProbe)].stats.used, 0);
    bool inserted = true;
    EXPECT_EQ(t.insert(colliding[kMaxProbe], inserted), nullptr);
    EXPECT_EQ(t.records[slot(kMaxProbe)].stats.used, 0);
    EXPECT_EQ(t.table.size(), kMaxProbe);
    // Every key in the window is still found, the last one at the window's far end.
    for (size_t i = 0; i < kMaxProbe; ++i) {
        FlowRecord4* r = t.insert(colliding[i], inserted);
        ASSERT_NE(r, nullptr) << i;
        EXPECT_FALSE(inserted);
        EXPECT_EQ(t.index_of(r), slot(i));
    }
    // A key whose home is the window's last slot probes one step past it, to the free slot.
    const Key4 neighbour = finder.keys_homed_at(slot(kMaxProbe - 1), 1)[0];
    FlowRecord4* r = t.insert(neighbour, inserted);
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(inserted);
    EXPECT_EQ(t.index_of(r), slot(kMaxProbe));
}

TEST(FlowTable, BoundedProbeInALargeTable) {
    expect_bounded_probe(4096, 1000);
}

TEST(FlowTable, BoundedProbeWrapsAroundTheEnd) {
    expect_bounded_probe(4096, 4090);
}

TEST(FlowTable, BoundedProbeWhenCapacityIsNotAPowerOfTwo) {
    expect_bounded_probe(1000, 500);
}

/// A bug this test found (see the report): the test stays, skipped, until the hash is fixed.
/// Of `seeds` per-boot seeds, how many put `b` right after `a` in a 4096-record table.
template <typename Record, typename K>
size_t adjacent_under_seeds(const K& a, const K& b, size_t seeds) {
    size_t adjacent = 0;
    for (uint32_t seed = 0; seed < seeds; ++seed) {
        Table<Record> t(4096);
        bool inserted = false;
        Record* ra = t.insert(a, inserted, seed * 2654435761u + 1);
        Record* rb = t.insert(b, inserted, seed * 2654435761u + 1);
        EXPECT_TRUE(ra != nullptr && rb != nullptr);
        if (ra != nullptr && rb != nullptr) {
            adjacent += t.index_of(rb) == (t.index_of(ra) + 1) % 4096 ? 1 : 0;
        }
    }
    return adjacent;
}

TEST(FlowTable, SeedPreventsPrecomputedCollisions) {
    // A hash that mixed the seed in only once, before (h ^ word) * odd steps, let a change in bit
    // 31 of two key words cancel out under every seed.
    // Keys that differ in one bit of a port and one bit of the remote address. With a per-boot
    // seed, two keys should share a home slot about once in 4096 seeds. Which bits are bit 31 of
    // the words the hash reads depends on its byte order (the top bit of an address's first or
    // last byte, of the local or the remote port): every combination is tried.
    const size_t seeds = 32;
    for (const bool remote_port : {false, true}) {
        for (const size_t byte : {size_t{0}, size_t{3}}) {
            SCOPED_TRACE(::testing::Message()
                         << (remote_port ? "remote" : "local") << " port, address byte " << byte);
            const Key4 a = key4(0xC000020A, 0x4633640A, 0x01BB, 40000, 0);
            Key4 b = a;
            b.remote[byte] ^= 0x80;
            (remote_port ? b.remote_port : b.local_port) ^= 0x8000;
            EXPECT_LE((adjacent_under_seeds<FlowRecord4>(a, b, seeds)), 2u) << "of " << seeds;
            // IPv6: an even number of such flips among the four remote words.
            const Key6 c = key6(1, 2, 0x01BB, 40000, 0);
            Key6 d = c;
            d.remote[byte] ^= 0x80;
            d.remote[12 + byte] ^= 0x80;
            EXPECT_LE((adjacent_under_seeds<FlowRecord6>(c, d, seeds)), 2u) << "of " << seeds;
        }
    }
}

}  // namespace

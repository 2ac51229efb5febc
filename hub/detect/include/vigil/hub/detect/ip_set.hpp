// A set of address blocks, each with an id, answering "which most specific block holds this
// address" for IPv4 and IPv6. Built once, then read only, so any number of threads may look up
// while a new set is being built elsewhere.
//
// The blocks are flattened into disjoint ranges (a /32 inside a /16 splits the /16 around it),
// sorted by first address, with an index on the top bits (up to 16) that leaves a lookup one
// table read and a binary search over the few ranges that start in the same slice of the space
// (the D16R layout of DXR).
// Written here rather than taken from a library: none of the chosen dependencies does
// longest-prefix lookup, and the structure is small.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "vigil/hub/detect/ip_address.hpp"

namespace vigil::hub::detect {

class IpSet {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;

    IpSet();
    /// Blocks with the same network and prefix keep the first id given.
    explicit IpSet(std::vector<std::pair<Cidr, uint32_t>> blocks);

    /// The id of the most specific block holding the address; kNone when none does.
    uint32_t find(const IpAddress& address) const {
        return address.family == Family::V4 ? v4_.find(static_cast<uint32_t>(address.value))
                                            : v6_.find(address.value);
    }
    size_t blocks() const { return blocks_; }  ///< distinct blocks
    /// Bytes of the lookup structure.
    size_t memory_bytes() const { return v4_.memory_bytes() + v6_.memory_bytes(); }

  private:
    template <typename Key>
    struct Ranges {
        static constexpr int kKeyBits = static_cast<int>(sizeof(Key) * 8);
        std::vector<Key> starts;  ///< starts[0] == 0: the ranges cover the whole space
        std::vector<uint32_t> ids;
        /// 2^index_bits + 1 entries: entry k is the range holding (k << shift). As many bits as
        /// it takes for about one range per entry, 16 at most (65,537 entries), so a small set
        /// costs little to build and a large one is still found in a step or two.
        std::vector<uint32_t> index;
        int shift = kKeyBits - 1;

        uint32_t find(Key address) const {
            const size_t top = static_cast<size_t>(address >> shift);
            size_t low = index[top];
            size_t high = index[top + 1];
            while (low < high) {  // the last range in [low, high] that starts at or before
                const size_t middle = (low + high + 1) / 2;
                if (starts[middle] <= address) {
                    low = middle;
                } else {
                    high = middle - 1;
                }
            }
            return ids[low];
        }
        size_t memory_bytes() const {
            return starts.size() * sizeof(Key) + (ids.size() + index.size()) * sizeof(uint32_t);
        }
        void build(std::vector<std::pair<Cidr, uint32_t>>& blocks);
    };

    Ranges<uint32_t> v4_;
    Ranges<unsigned __int128> v6_;
    size_t blocks_ = 0;
};

}  // namespace vigil::hub::detect

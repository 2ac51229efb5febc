// A set of address blocks, each with an id, answering "which most specific block holds this
// address" for IPv4 and IPv6. Built once, then read only, so any number of threads may look up
// while a new set is being built elsewhere.
//
// The blocks are flattened into disjoint ranges (a /32 inside a /16 splits the /16 around it),
// sorted by first address, with an index on the top 16 bits that leaves a lookup one table read
// and a binary search over the few ranges that start in the same /16 (the D16R layout of DXR).
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
        static constexpr int kShift = static_cast<int>(sizeof(Key) * 8) - 16;
        std::vector<Key> starts;  ///< starts[0] == 0: the ranges cover the whole space
        std::vector<uint32_t> ids;
        std::vector<uint32_t> index;  ///< 65,537 entries: the range holding (k << kShift)

        uint32_t find(Key address) const {
            const size_t top = static_cast<size_t>(address >> kShift);
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

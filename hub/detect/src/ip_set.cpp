#include "vigil/hub/detect/ip_set.hpp"

#include <algorithm>

namespace vigil::hub::detect {
namespace {

template <typename Key>
struct Segments {
    std::vector<Key> starts{0};
    std::vector<uint32_t> ids{IpSet::kNone};

    /// From `start` on, the addresses belong to `id` (until the next call).
    void begin(Key start, uint32_t id) {
        if (starts.back() == start) {
            ids.back() = id;
            if (ids.size() >= 2 && ids[ids.size() - 2] == id) {
                starts.pop_back();
                ids.pop_back();
            }
        } else if (ids.back() != id) {
            starts.push_back(start);
            ids.push_back(id);
        }
    }
};

}  // namespace

IpSet::IpSet() {
    std::vector<std::pair<Cidr, uint32_t>> none;
    v4_.build(none);
    v6_.build(none);
}

IpSet::IpSet(std::vector<std::pair<Cidr, uint32_t>> blocks) {
    std::vector<std::pair<Cidr, uint32_t>> v4, v6;
    for (auto& block : blocks) {
        (block.first.network.family == Family::V4 ? v4 : v6).push_back(block);
    }
    v4_.build(v4);
    v6_.build(v6);
    blocks_ = v4.size() + v6.size();
}

template <typename Key>
void IpSet::Ranges<Key>::build(std::vector<std::pair<Cidr, uint32_t>>& blocks) {
    // Wider blocks first among those that start together, so a stack of open blocks holds them
    // outermost to innermost: blocks nest or are disjoint, never overlap in part.
    std::stable_sort(blocks.begin(), blocks.end(), [](const auto& a, const auto& b) {
        if (a.first.network.value != b.first.network.value) {
            return a.first.network.value < b.first.network.value;
        }
        return a.first.prefix < b.first.prefix;
    });
    blocks.erase(std::unique(blocks.begin(), blocks.end(),
                             [](const auto& a, const auto& b) {
                                 return a.first.network == b.first.network &&
                                        a.first.prefix == b.first.prefix;
                             }),
                 blocks.end());

    struct Open {
        Key last;
        uint32_t id;
    };
    Segments<Key> segments;
    std::vector<Open> open;
    // Closes the innermost open block; the addresses after it return to the block around it.
    // The block that ends at the very last address leaves nothing after it.
    auto close_innermost = [&] {
        const Key last = open.back().last;
        open.pop_back();
        if (last != static_cast<Key>(~Key{0})) {
            segments.begin(last + 1, open.empty() ? kNone : open.back().id);
        }
    };
    for (const auto& [cidr, id] : blocks) {
        const Key start = static_cast<Key>(cidr.network.value);
        while (!open.empty() && open.back().last < start) {
            close_innermost();
        }
        segments.begin(start, id);
        open.push_back({static_cast<Key>(cidr.last().value), id});
    }
    while (!open.empty()) {
        close_innermost();
    }

    starts = std::move(segments.starts);
    ids = std::move(segments.ids);
    int index_bits = 1;
    while (index_bits < 16 && (size_t{1} << index_bits) < starts.size()) {
        ++index_bits;
    }
    shift = kKeyBits - index_bits;
    const size_t slices = size_t{1} << index_bits;
    index.assign(slices + 1, 0);
    size_t range = 0;
    for (size_t top = 0; top < slices; ++top) {
        const Key first = static_cast<Key>(static_cast<Key>(top) << shift);
        while (range + 1 < starts.size() && starts[range + 1] <= first) {
            ++range;
        }
        index[top] = static_cast<uint32_t>(range);
    }
    index[slices] = static_cast<uint32_t>(starts.size() - 1);
}

}  // namespace vigil::hub::detect

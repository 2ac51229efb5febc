// The bounded, time-windowed tables of the scan detections: keep what was seen within the
// window (device time), give way to the entry seen longest ago when full.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil::hub::detect {

/// Drops the items last seen before `oldest_ms`.
template <typename Item>
void drop_before(std::vector<Item>& items, int64_t oldest_ms) {
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const Item& item) { return item.last_ms < oldest_ms; }),
                items.end());
}

/// The item `matches` finds, seen at `time_ms`; a new one when there is none, in place of the
/// item seen longest ago when `items` already holds `ceiling`. Returns whether it was new.
template <typename Item, typename Matches>
Item& touch(std::vector<Item>& items, size_t ceiling, int64_t time_ms, Matches matches,
            bool& added) {
    auto found = std::find_if(items.begin(), items.end(), matches);
    added = found == items.end();
    if (added) {
        if (items.size() >= ceiling && !items.empty()) {
            found = std::min_element(items.begin(), items.end(), [](const Item& a, const Item& b) {
                return a.last_ms < b.last_ms;
            });
            *found = Item{};
        } else {
            found = items.insert(items.end(), Item{});
        }
    }
    found->last_ms = std::max(found->last_ms, time_ms);
    return *found;
}

}  // namespace vigil::hub::detect

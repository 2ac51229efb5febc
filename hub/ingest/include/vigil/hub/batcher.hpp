// When ingest commits and when it retries, apart from any broker, socket or store, so that the
// rules can be tested with a clock in hand:
//
// - items are held until the batch is full or its oldest has waited max_age_ms (or the pipeline
//   is stopping); one batch commits at a time, and what arrives meanwhile waits for the next;
// - a batch whose commit failed goes back in front of what arrived meanwhile, and the next commit
//   waits out a backoff that starts at retry_min_ms and doubles per failure up to retry_max_ms;
//   a successful commit resets it.
//
// The batch's vectors are reused (swapped, never freed): under load a batch holds tens of
// thousands of items, and growing its vectors afresh each time cost a fifth of the hub's CPU.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace vigil::hub {

struct BatchPolicy {
    size_t max_items = 500;      ///< a commit starts when this many are held...
    uint32_t max_age_ms = 20;    ///< ...or when the oldest has waited this long
    uint32_t retry_min_ms = 50;  ///< after a failed commit; doubled per failure
    uint32_t retry_max_ms = 5000;
};

template <typename Item>
class Batcher {
  public:
    explicit Batcher(BatchPolicy policy) : policy_(policy) {}

    /// Holds an item that arrived at now_ms (any monotonic millisecond clock).
    void add(Item item, int64_t now_ms) {
        if (held_.empty()) {
            oldest_ms_ = now_ms;
        }
        held_.push_back(std::move(item));
    }

    size_t held() const { return held_.size(); }
    bool committing() const { return committing_; }
    /// Nothing held and no commit running.
    bool idle() const { return held_.empty() && !committing_; }

    /// Whether a commit should start now.
    bool due(int64_t now_ms, bool stopping) const {
        if (held_.empty() || committing_ || now_ms < retry_at_ms_) {
            return false;
        }
        return stopping || held_.size() >= policy_.max_items ||
               now_ms - oldest_ms_ >= policy_.max_age_ms;
    }

    /// Hands every held item over for a commit; until committed() or failed(), nothing else is.
    std::vector<Item> take() {
        std::vector<Item> batch;
        batch.swap(held_);
        held_.swap(spare_);
        taken_oldest_ms_ = oldest_ms_;
        committing_ = true;
        return batch;
    }

    /// The commit succeeded; the batch's vector comes back for its capacity.
    void committed(std::vector<Item> batch) {
        committing_ = false;
        retry_ms_ = 0;
        batch.clear();
        spare_ = std::move(batch);
    }

    /// The commit failed: the batch is held again, before what arrived meanwhile, and no commit
    /// starts before now_ms plus the returned backoff.
    uint32_t failed(std::vector<Item> batch, int64_t now_ms) {
        committing_ = false;
        batch.insert(batch.end(), std::make_move_iterator(held_.begin()),
                     std::make_move_iterator(held_.end()));
        held_.clear();
        spare_ = std::move(held_);
        held_ = std::move(batch);
        oldest_ms_ = taken_oldest_ms_;
        retry_ms_ =
            retry_ms_ == 0 ? policy_.retry_min_ms : std::min(policy_.retry_max_ms, retry_ms_ * 2);
        retry_at_ms_ = now_ms + retry_ms_;
        return retry_ms_;
    }

    /// How long a loop may sleep before due() can turn true by time alone, at most cap_ms.
    int64_t wait_ms(int64_t now_ms, bool stopping, int64_t cap_ms) const {
        if (held_.empty() || stopping || committing_) {
            return cap_ms;
        }
        const int64_t until =
            std::max(retry_at_ms_, oldest_ms_ + static_cast<int64_t>(policy_.max_age_ms)) - now_ms;
        return std::clamp<int64_t>(until, 0, cap_ms);
    }

    /// The held items, oldest first (for a look; the batcher still owns them).
    const std::vector<Item>& items() const { return held_; }

  private:
    BatchPolicy policy_;
    std::vector<Item> held_;
    std::vector<Item> spare_;  // an emptied vector of an earlier batch, kept for its capacity
    int64_t oldest_ms_ = 0;
    int64_t taken_oldest_ms_ = 0;
    int64_t retry_at_ms_ = 0;
    uint32_t retry_ms_ = 0;
    bool committing_ = false;
};

}  // namespace vigil::hub

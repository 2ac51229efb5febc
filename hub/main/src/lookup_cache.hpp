// Values the hub reads from its store about a device (its group, its config's interval), each
// kept for a while so that a batch of thousands of reports costs no thousands of lookups.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace vigil::hub {

template <typename Value>
class LookupCache {
  public:
    explicit LookupCache(int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

    /// The value held for `key` when it was fetched less than the TTL before `now_ms`, else
    /// fetch()'s, which is then held. fetch runs without the lock held.
    template <typename Fetch>
    Value get(const std::string& key, int64_t now_ms, Fetch&& fetch) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (const auto held = held_.find(key);
                held != held_.end() && now_ms - held->second.second < ttl_ms_) {
                return held->second.first;
            }
        }
        Value value = fetch();
        std::lock_guard<std::mutex> lock(mutex_);
        held_[key] = {value, now_ms};
        return value;
    }

  private:
    const int64_t ttl_ms_;
    std::mutex mutex_;
    std::map<std::string, std::pair<Value, int64_t>> held_;
};

}  // namespace vigil::hub

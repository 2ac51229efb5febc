// Threat intelligence: every indicator of a feeds directory in one lookup, and the directory
// watched for changes. A reload builds a new snapshot beside the one in use and swaps it in, so
// lookups never wait for a reload and a reader keeps the snapshot it holds for as long as it
// needs it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vigil/hub/detect/directory_stamps.hpp"
#include "vigil/hub/detect/feed.hpp"
#include "vigil/hub/detect/ip_set.hpp"

namespace vigil::hub::detect {

class ThreatIntel {
  public:
    ThreatIntel() = default;
    /// Indicators of several feeds; for a block listed twice, the first feed's entry wins.
    explicit ThreatIntel(std::vector<Feed> feeds);

    /// The most specific indicator whose block holds the address; nullptr when none does.
    const Indicator* find(const IpAddress& address) const {
        const uint32_t id = set_.find(address);
        return id == IpSet::kNone ? nullptr : &indicators_[id];
    }
    size_t indicators() const { return indicators_.size(); }
    const std::vector<std::string>& feed_names() const { return feed_names_; }
    /// Every line skipped, with its feed and line; and whole feeds that could not be read.
    const std::vector<FeedError>& errors() const { return errors_; }
    size_t memory_bytes() const { return set_.memory_bytes(); }

  private:
    std::vector<Indicator> indicators_;
    std::vector<std::string> feed_names_;
    std::vector<FeedError> errors_;
    IpSet set_;
};

/// Reads every feed file of a directory (feed_format_for decides which files are feeds); a
/// directory that is missing gives an empty snapshot with that error.
ThreatIntel load_feed_directory(const std::filesystem::path& directory);

/// reload_if_changed() is for one thread (the watcher); snapshot() for any number.
class FeedDirectory {
  public:
    explicit FeedDirectory(std::filesystem::path directory);

    /// Reloads when a feed file was added, removed or changed (name, size, modification time)
    /// since the last load; returns true when it did.
    bool reload_if_changed();
    std::shared_ptr<const ThreatIntel> snapshot() const;

  private:
    std::vector<FileStamp> stamps() const;

    std::filesystem::path directory_;
    std::vector<FileStamp> loaded_;
    bool ever_loaded_ = false;
    std::shared_ptr<const ThreatIntel> snapshot_;
};

}  // namespace vigil::hub::detect

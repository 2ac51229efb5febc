#include "vigil/hub/detect/threat_intel.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

namespace vigil::hub::detect {

namespace fs = std::filesystem;

ThreatIntel::ThreatIntel(std::vector<Feed> feeds) {
    std::vector<std::pair<Cidr, uint32_t>> blocks;
    for (Feed& feed : feeds) {
        feed_names_.push_back(feed.name);
        errors_.insert(errors_.end(), feed.errors.begin(), feed.errors.end());
        for (Indicator& indicator : feed.indicators) {
            blocks.emplace_back(indicator.block, static_cast<uint32_t>(indicators_.size()));
            indicators_.push_back(std::move(indicator));
        }
    }
    set_ = IpSet(std::move(blocks));
}

ThreatIntel load_feed_directory(const fs::path& directory) {
    std::vector<Feed> feeds;
    std::error_code error;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        files.push_back(it->path());
    }
    if (error) {
        Feed unreadable;
        unreadable.name = directory.string();
        unreadable.errors.push_back(
            {directory.string(), 0, "cannot read the feeds directory: " + error.message()});
        feeds.push_back(std::move(unreadable));
        return ThreatIntel(std::move(feeds));
    }
    // Sorted, so which feed's entry wins for a block listed twice does not depend on the order
    // the file system lists them in.
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        FeedFormat format;
        if (!feed_format_for(file.filename().string(), format) || !fs::is_regular_file(file)) {
            continue;
        }
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            Feed unreadable;
            unreadable.name = file.filename().string();
            unreadable.errors.push_back({unreadable.name, 0, "cannot read the file"});
            feeds.push_back(std::move(unreadable));
            continue;
        }
        feeds.push_back(parse_feed(text.str(), format, file.filename().string()));
    }
    return ThreatIntel(std::move(feeds));
}

FeedDirectory::FeedDirectory(fs::path directory)
    : directory_(std::move(directory)), snapshot_(std::make_shared<const ThreatIntel>()) {}

std::vector<FileStamp> FeedDirectory::stamps() const {
    return stamp_directory(directory_, [](const std::string& name) {
        FeedFormat format;
        return feed_format_for(name, format);
    });
}

bool FeedDirectory::reload_if_changed() {
    std::vector<FileStamp> now = stamps();
    if (ever_loaded_ && now == loaded_) {
        return false;
    }
    auto fresh = std::make_shared<const ThreatIntel>(load_feed_directory(directory_));
    std::atomic_store(&snapshot_, std::shared_ptr<const ThreatIntel>(std::move(fresh)));
    loaded_ = std::move(now);
    ever_loaded_ = true;
    return true;
}

std::shared_ptr<const ThreatIntel> FeedDirectory::snapshot() const {
    return std::atomic_load(&snapshot_);
}

}  // namespace vigil::hub::detect

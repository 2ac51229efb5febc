// Lines about rejected messages, at most a few per reason in each interval: a device that sends
// junk on purpose must not write the hub's log at its own pace (40,000 junk messages once wrote
// 8.9 MB of log in 2 s). What is held back is counted, and said in one line once its interval is
// over.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vigil::hub::ingest_detail {

class RejectionLog {
  public:
    /// At most `lines` lines per reason in each `interval_ms` (0 lines: none at all).
    RejectionLog(uint32_t lines, uint32_t interval_ms) : lines_(lines), interval_ms_(interval_ms) {}

    /// Whether a line about one more rejection for `reason` may be written at `now_ms`; when
    /// not, the rejection is counted for the summary.
    bool admit(const std::string& reason, int64_t now_ms);
    /// One line for each reason whose interval is over with rejections held back, saying how
    /// many; those counts start again. `now_ms` INT64_MAX ends every interval (at stop).
    std::vector<std::string> due_summaries(int64_t now_ms);

  private:
    struct Window {
        int64_t start_ms = 0;
        uint32_t written = 0;
        uint64_t held_back = 0;
    };
    bool over(const Window& window, int64_t now_ms) const {
        return now_ms - window.start_ms >= static_cast<int64_t>(interval_ms_);
    }

    uint32_t lines_;
    uint32_t interval_ms_;
    std::map<std::string, Window> windows_;  // one per reason: a fixed, small set
};

}  // namespace vigil::hub::ingest_detail

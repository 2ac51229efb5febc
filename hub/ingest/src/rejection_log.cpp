#include "rejection_log.hpp"

#include <cstdint>

namespace vigil::hub::ingest_detail {

bool RejectionLog::admit(const std::string& reason, int64_t now_ms) {
    auto [it, added] = windows_.try_emplace(reason);
    Window& window = it->second;
    if (added || (over(window, now_ms) && window.held_back == 0)) {
        window.start_ms = now_ms;
        window.written = 0;
    }
    if (window.written < lines_ && !over(window, now_ms)) {
        ++window.written;
        return true;
    }
    ++window.held_back;
    return false;
}

std::vector<std::string> RejectionLog::due_summaries(int64_t now_ms) {
    std::vector<std::string> lines;
    for (auto& [reason, window] : windows_) {
        if (window.held_back == 0 || (now_ms != INT64_MAX && !over(window, now_ms))) {
            continue;
        }
        lines.push_back("rejected " + std::to_string(window.held_back) + " more messages (" +
                        reason + ") without a line each, at most " + std::to_string(lines_) +
                        " lines per reason every " + std::to_string(interval_ms_) + " ms");
        window.held_back = 0;
        window.start_ms = now_ms;
        window.written = 0;
    }
    return lines;
}

}  // namespace vigil::hub::ingest_detail

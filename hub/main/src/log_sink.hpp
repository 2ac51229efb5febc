// Where every line of the hub's log goes: stderr, one line per event, time-stamped. Devices
// choose much of what the log quotes (topics, ids, what a decoder found in a payload), so the
// sink escapes every line itself, whoever wrote it: a rule applied where each piece of device
// text enters a line would be forgotten by the next line someone adds. A line is also cut at a
// length, so no single event can write more than that.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace vigil::hub {

/// The text with everything that could forge or hide part of a log line escaped: "\\" for a
/// backslash, "\\n", "\\r", "\\t", "\\xNN" for other control bytes, DEL and bytes that are not
/// UTF-8, "\\u{XXXX}" for C1 controls, line and paragraph separators and bidirectional
/// overrides. Printable ASCII and other well-formed UTF-8 stay as they are.
std::string escape_log_text(std::string_view text);

class LogSink {
  public:
    static constexpr size_t kDefaultMaxLineBytes = 4096;

    /// Escapes, cuts at the maximum (saying how much was cut), stamps and writes the line.
    void write(const std::string& line);
    /// Escaped lines longer than this are cut (at least 256).
    void set_max_line_bytes(size_t bytes);
    uint64_t lines_cut() const { return lines_cut_.load(); }

  private:
    std::mutex mutex_;
    std::atomic<size_t> max_line_bytes_{kDefaultMaxLineBytes};
    std::atomic<uint64_t> lines_cut_{0};
};

}  // namespace vigil::hub

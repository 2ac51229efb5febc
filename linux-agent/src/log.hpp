// vigil-agent's log: one line per event on stderr (the journal under systemd), below a level.
// Written here rather than taken from spdlog: spdlog and fmt add about half a megabyte of
// resident memory to a daemon whose whole budget is 8 MB, for a feature this small.
#pragma once

#include <sstream>
#include <string>

namespace vigil::linux_agent::logging {

enum class Level { Error = 0, Warning = 1, Info = 2, Debug = 3 };

/// "error", "warning", "info" or "debug"; anything else leaves the level unchanged.
bool set_level(const std::string& name);
bool enabled(Level level);
/// Writes "vigil-agent: <level>: <text>" with one write, so lines from threads do not mix.
void write(Level level, const std::string& text);

namespace detail {
inline void substitute(std::ostringstream& out, const char* pattern) {
    out << pattern;
}
template <typename First, typename... Rest>
void substitute(std::ostringstream& out, const char* pattern, const First& first,
                const Rest&... rest) {
    for (; *pattern != '\0'; ++pattern) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            out << first;
            substitute(out, pattern + 2, rest...);
            return;
        }
        out << *pattern;
    }
}
}  // namespace detail

/// Each "{}" in `pattern` takes the next argument, as written by operator<<.
template <typename... Args>
std::string format(const char* pattern, const Args&... args) {
    std::ostringstream out;
    detail::substitute(out, pattern, args...);
    return out.str();
}

template <typename... Args>
void log(Level level, const char* pattern, const Args&... args) {
    if (enabled(level)) {
        write(level, format(pattern, args...));
    }
}
template <typename... Args>
void error(const char* pattern, const Args&... args) {
    log(Level::Error, pattern, args...);
}
template <typename... Args>
void warn(const char* pattern, const Args&... args) {
    log(Level::Warning, pattern, args...);
}
template <typename... Args>
void info(const char* pattern, const Args&... args) {
    log(Level::Info, pattern, args...);
}
template <typename... Args>
void debug(const char* pattern, const Args&... args) {
    log(Level::Debug, pattern, args...);
}

}  // namespace vigil::linux_agent::logging

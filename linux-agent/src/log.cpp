#include "log.hpp"

#include <unistd.h>

#include <atomic>

namespace vigil::linux_agent::logging {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};

const char* name_of(Level level) {
    switch (level) {
        case Level::Error:
            return "error";
        case Level::Warning:
            return "warning";
        case Level::Info:
            return "info";
        case Level::Debug:
            return "debug";
    }
    return "?";
}

}  // namespace

bool set_level(const std::string& name) {
    for (Level level : {Level::Error, Level::Warning, Level::Info, Level::Debug}) {
        if (name == name_of(level)) {
            g_level = static_cast<int>(level);
            return true;
        }
    }
    return false;
}

bool enabled(Level level) {
    return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

void write(Level level, const std::string& text) {
    const std::string line = std::string("vigil-agent: ") + name_of(level) + ": " + text + "\n";
    // One write(2) per line: stderr is unbuffered and shared by the capture, main and MQTT
    // threads.
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n <= 0) {
            return;
        }
        done += static_cast<size_t>(n);
    }
}

}  // namespace vigil::linux_agent::logging

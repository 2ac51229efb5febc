// The wall clock and randomness of a hosted system, as the hosted ports give them to the agent.
#pragma once

#include <sys/random.h>
#include <time.h>

#include <cstdint>
#include <random>

namespace vigil::ports {

/// Boards without a real-time clock boot in 1970 until NTP sets the time; a clock that reads
/// earlier than this (2020-01-01) is taken as "time unknown" rather than reported as a date.
constexpr uint64_t kEarliestPlausibleUnixTime = 1577836800;

/// `seconds` since 1970 when it is a plausible date that fits the wire's 32 bits; 0 (unknown)
/// otherwise.
inline uint32_t plausible_unix_time_s(uint64_t seconds) {
    return seconds >= kEarliestPlausibleUnixTime && seconds <= UINT32_MAX
               ? static_cast<uint32_t>(seconds)
               : 0;
}

/// The system's wall clock, through plausible_unix_time_s().
inline uint32_t unix_time_now_s() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec < 0 ? 0 : plausible_unix_time_s(static_cast<uint64_t>(now.tv_sec));
}

/// From the kernel's pool; early in boot, when that is not ready yet, from std::random_device:
/// the values seed ids and splay, not keys.
inline uint32_t host_random32() {
    uint32_t value = 0;
    if (getrandom(&value, sizeof(value), GRND_NONBLOCK) == static_cast<ssize_t>(sizeof(value))) {
        return value;
    }
    std::random_device fallback;
    return static_cast<uint32_t>(fallback());
}

}  // namespace vigil::ports

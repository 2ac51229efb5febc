// Threat-intelligence lookups and reloads.
//
//   vigil_bench_ti [--entries N] [--lookups N] [--reload-entries N]
//
// Lookups: a feed of N entries (default 100,000; half IPv4, half IPv6, a tenth of them blocks,
// the rest hosts) and random addresses of both families, one in eight of them listed, looked up
// on one thread. Reload: a feed file of --reload-entries lines (default 1,000,000) written to a
// temporary directory, then read, parsed and built into a new snapshot as the hub's watcher does,
// while the old snapshot keeps serving.
//
// Prints "BENCH ti_lookups_per_second", "BENCH ti_reload_ms", "BENCH ti_memory_bytes" (of the
// 100k-entry lookup structure). Budgets: 20 million lookups/s, a 1M-entry reload within 2 s.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "vigil/hub/detect/threat_intel.hpp"

namespace {

using namespace vigil::hub::detect;
using Clock = std::chrono::steady_clock;

struct Settings {
    size_t entries = 100000;
    size_t lookups = 20000000;
    size_t reload_entries = 1000000;
};

/// A feed line: hosts and small blocks scattered over the whole space of their family.
std::string feed_line(std::mt19937_64& random, size_t index) {
    const bool v6 = index % 2 == 1;
    const bool block = index % 10 == 0;
    IpAddress address;
    address.family = v6 ? Family::V6 : Family::V4;
    address.value = v6 ? (static_cast<unsigned __int128>(random()) << 64) | random()
                       : static_cast<uint32_t>(random());
    int prefix = IpAddress::bits(address.family);
    if (block) {
        prefix = v6 ? 48 : 24;
        const int host_bits = IpAddress::bits(address.family) - prefix;
        address.value &= ~((static_cast<unsigned __int128>(1) << host_bits) - 1);
    }
    return to_string(address) + "/" + std::to_string(prefix);
}

std::string make_feed(size_t entries, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::string text = "# generated feed\n";
    for (size_t i = 0; i < entries; ++i) {
        text += feed_line(random, i);
        text += '\n';
    }
    return text;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

bool parse_size(const char* text, size_t& out) {
    char* end = nullptr;
    const unsigned long long value = strtoull(text, &end, 10);
    if (end == text || *end != '\0' || value == 0) {
        return false;
    }
    out = static_cast<size_t>(value);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        bool ok = has_value;
        if (has_value && std::strcmp(argv[i], "--entries") == 0) {
            ok = parse_size(argv[++i], settings.entries);
        } else if (has_value && std::strcmp(argv[i], "--lookups") == 0) {
            ok = parse_size(argv[++i], settings.lookups);
        } else if (has_value && std::strcmp(argv[i], "--reload-entries") == 0) {
            ok = parse_size(argv[++i], settings.reload_entries);
        } else {
            ok = false;
        }
        if (!ok) {
            std::fprintf(
                stderr, "usage: vigil_bench_ti [--entries N] [--lookups N] [--reload-entries N]\n");
            return 2;
        }
    }

    // Lookups.
    const Feed feed = parse_feed(make_feed(settings.entries, 1), FeedFormat::PlainList, "bench");
    if (!feed.errors.empty() || feed.indicators.size() != settings.entries) {
        std::fprintf(stderr, "generated feed did not parse: %zu errors\n", feed.errors.size());
        return 1;
    }
    const ThreatIntel intel({feed});
    std::mt19937_64 random(2);
    std::vector<IpAddress> probes(1 << 16);
    for (size_t i = 0; i < probes.size(); ++i) {
        if (i % 8 == 0) {
            probes[i] = feed.indicators[random() % feed.indicators.size()].block.network;
            continue;
        }
        const bool v6 = random() % 2 == 1;
        probes[i].family = v6 ? Family::V6 : Family::V4;
        probes[i].value = v6 ? (static_cast<unsigned __int128>(random()) << 64) | random()
                             : static_cast<uint32_t>(random());
    }
    size_t found = 0;
    const auto lookup_start = Clock::now();
    for (size_t i = 0; i < settings.lookups; ++i) {
        found += intel.find(probes[i & (probes.size() - 1)]) != nullptr;
    }
    const double lookup_seconds = seconds_since(lookup_start);
    // Every listed probe must be found; random ones rarely are.
    if (found < settings.lookups / 8) {
        std::fprintf(stderr, "only %zu of %zu lookups found an entry\n", found, settings.lookups);
        return 1;
    }

    // Reload from a file, as the watcher does.
    std::string pattern = (std::filesystem::temp_directory_path() / "vigil-ti-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::filesystem::path directory(pattern);
    {
        std::ofstream out(directory / "big.txt", std::ios::binary);
        out << make_feed(settings.reload_entries, 3);
    }
    FeedDirectory feeds(directory);
    const auto reload_start = Clock::now();
    const bool reloaded = feeds.reload_if_changed();
    const double reload_seconds = seconds_since(reload_start);
    const size_t reloaded_entries = feeds.snapshot()->indicators();
    std::filesystem::remove_all(directory);
    if (!reloaded || reloaded_entries != settings.reload_entries) {
        std::fprintf(stderr, "reload read %zu of %zu entries\n", reloaded_entries,
                     settings.reload_entries);
        return 1;
    }

    std::printf("%zu-entry feed: %zu lookups in %.3f s (%zu found), structure %zu bytes\n",
                settings.entries, settings.lookups, lookup_seconds, found, intel.memory_bytes());
    std::printf("%zu-entry feed reloaded from a file in %.0f ms\n", settings.reload_entries,
                reload_seconds * 1000);
    std::printf("BENCH ti_lookups_per_second %.0f lookups/s\n",
                static_cast<double>(settings.lookups) / lookup_seconds);
    std::printf("BENCH ti_reload_ms %.0f ms\n", reload_seconds * 1000);
    std::printf("BENCH ti_memory_bytes %zu B\n", intel.memory_bytes());
    return 0;
}

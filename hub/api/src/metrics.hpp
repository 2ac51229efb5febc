// The API's own request counters and the Prometheus text format (0.0.4) they are written in.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "vigil/hub/store_maintenance.hpp"

namespace vigil::hub::api {

/// Escapes a label value: backslash, double quote and line feed, as the text format asks.
std::string escape_label(const std::string& value);

/// Writes metric families in the text format; each family gets its HELP and TYPE lines once.
class PrometheusWriter {
  public:
    void family(const std::string& name, const char* type, const std::string& help);
    /// One sample; labels as (name, value) pairs, values escaped here.
    void sample(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& labels, double value);
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

/// Counts answered requests by (route, method, status) and their durations by route.
class RequestMetrics {
  public:
    /// Upper bounds of the duration histogram's buckets, in seconds.
    static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,  0.1,    0.25,  1.0,  5.0};

    void record(const std::string& route, const std::string& method, int status, double seconds);
    void write(PrometheusWriter& out) const;

  private:
    struct Histogram {
        std::array<uint64_t, kBuckets.size()> buckets{};  ///< per bucket, not cumulative
        uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram> durations_;
};

/// The store's figures: devices (all and active), rows per table, open alerts, file size.
void write_store_metrics(PrometheusWriter& out, const Fetched<StoreStats>& stats,
                         const Fetched<uint64_t>& active, int64_t active_window_ms);

}  // namespace vigil::hub::api

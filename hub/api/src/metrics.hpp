// The API's own request counters, and the store's figures, in the hub's Prometheus writer.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "vigil/hub/histogram.hpp"
#include "vigil/hub/prometheus.hpp"
#include "vigil/hub/store_maintenance.hpp"

namespace vigil::hub::api {

/// Counts answered requests by (route, method, status) and their durations by route. Every label
/// comes from a fixed set, whatever clients send: `route` is a route's label or "unmatched", a
/// method HTTP does not define is "other", and `status` is one the server answers.
class RequestMetrics {
  public:
    /// Upper bounds of the duration histogram's buckets, in seconds.
    static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,  0.1,    0.25,  1.0,  5.0};

    void record(const std::string& route, const std::string& method, int status, double seconds);
    void write(PrometheusWriter& out) const;

  private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
    std::map<std::string, Histogram> durations_;
};

/// The store's figures: devices (all and active), rows per table, open alerts, file size.
void write_store_metrics(PrometheusWriter& out, const Fetched<StoreStats>& stats,
                         const Fetched<uint64_t>& active, int64_t active_window_ms);

}  // namespace vigil::hub::api

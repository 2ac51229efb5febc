// The hub's one histogram type: fixed upper bounds chosen by its owner, a count per bucket plus
// an overflow bucket, the sum and the count; written in the Prometheus format and read back as
// quantiles the way Prometheus's histogram_quantile reads them. Not thread-safe: its owner locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vigil/hub/prometheus.hpp"

namespace vigil::hub {

class Histogram {
  public:
    /// `bounds`: ascending upper bounds ("le") of the buckets; a last bucket takes the rest.
    explicit Histogram(std::vector<double> bounds);

    /// Counted in the first bucket whose bound is at least `value`.
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    /// Observations in bucket i alone (not cumulative); i == bounds().size() is the overflow.
    uint64_t in_bucket(size_t i) const { return counts_[i]; }
    uint64_t count() const { return count_; }
    double sum() const { return sum_; }

    /// The q-quantile (0..1), linear within the bucket the rank falls in; 0 when empty, and the
    /// last bound when the rank falls in the overflow bucket.
    double quantile(double q) const;

    /// The samples <name>_bucket (cumulative, "le" after `labels`, "+Inf" last), <name>_sum and
    /// <name>_count; the caller writes the family line once for all its label sets.
    void write(PrometheusWriter& out, const std::string& name,
               const MetricLabels& labels = {}) const;

  private:
    std::vector<double> bounds_;
    std::vector<uint64_t> counts_;
    uint64_t count_ = 0;
    double sum_ = 0;
};

}  // namespace vigil::hub

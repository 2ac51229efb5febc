#include "vigil/hub/histogram.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace vigil::hub {

namespace {

std::string format_bound(double bound) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", bound);
    return buffer;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    ++counts_[bucket];
    ++count_;
    sum_ += value;
}

double Histogram::quantile(double q) const {
    if (count_ == 0) {
        return 0;
    }
    const double rank = q * static_cast<double>(count_);
    double below = 0, lower = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        const double here = static_cast<double>(counts_[i]);
        if (below + here >= rank && here > 0) {
            return lower + (bounds_[i] - lower) * (rank - below) / here;
        }
        below += here;
        lower = bounds_[i];
    }
    return bounds_.empty() ? 0 : bounds_.back();
}

void Histogram::write(PrometheusWriter& out, const std::string& name,
                      const MetricLabels& labels) const {
    MetricLabels with_le = labels;
    with_le.emplace_back("le", "");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
        cumulative += counts_[i];
        with_le.back().second = format_bound(bounds_[i]);
        out.sample(name + "_bucket", with_le, static_cast<double>(cumulative));
    }
    with_le.back().second = "+Inf";
    out.sample(name + "_bucket", with_le, static_cast<double>(count_));
    out.sample(name + "_sum", labels, sum_);
    out.sample(name + "_count", labels, static_cast<double>(count_));
}

}  // namespace vigil::hub

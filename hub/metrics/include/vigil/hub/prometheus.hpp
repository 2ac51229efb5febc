// The Prometheus text exposition format (version 0.0.4), written in one place for the whole hub:
// ingest's counters, the store's figures and the API's own all go through PrometheusWriter.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vigil::hub {

/// A sample's labels as (name, value) pairs, in the order they are written.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// Escapes a label value: backslash, double quote and line feed, as the text format asks.
std::string escape_label(const std::string& value);

/// Writes metric families in the text format; each family gets its HELP and TYPE lines once.
class PrometheusWriter {
  public:
    void family(const std::string& name, const char* type, const std::string& help);
    /// One sample; label values are escaped here. Integers are written without a fraction.
    void sample(const std::string& name, const MetricLabels& labels, double value);
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

}  // namespace vigil::hub

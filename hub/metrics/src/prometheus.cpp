#include "vigil/hub/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace vigil::hub {

std::string escape_label(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

namespace {

// Shortest text that reads back as the same double; integers without a fraction.
std::string format_value(double value) {
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    if (std::isnan(value)) {
        return "NaN";
    }
    char buffer[64];
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
    } else {
        std::snprintf(buffer, sizeof buffer, "%.17g", value);
    }
    return buffer;
}

}  // namespace

void PrometheusWriter::family(const std::string& name, const char* type, const std::string& help) {
    // HELP text escapes only backslash and line feed.
    std::string escaped;
    for (char c : help) {
        escaped += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
    }
    text_ += "# HELP " + name + " " + escaped + "\n# TYPE " + name + " " + type + "\n";
}

void PrometheusWriter::sample(const std::string& name, const MetricLabels& labels, double value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += "{";
        for (size_t i = 0; i < labels.size(); ++i) {
            text_ +=
                (i ? "," : "") + labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
        }
        text_ += "}";
    }
    text_ += " " + format_value(value) + "\n";
}

}  // namespace vigil::hub

#include "metrics.hpp"

#include <cmath>
#include <cstdio>

namespace vigil::hub::api {

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

std::string format_bound(double bound) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", bound);
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

void PrometheusWriter::sample(const std::string& name,
                              const std::vector<std::pair<std::string, std::string>>& labels,
                              double value) {
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

void RequestMetrics::record(const std::string& route, const std::string& method, int status,
                            double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{route, method, status}];
    Histogram& histogram = durations_[route];
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        if (seconds <= kBuckets[i]) {
            ++histogram.buckets[i];
            break;
        }
    }
    ++histogram.count;
    histogram.sum += seconds;
}

void RequestMetrics::write(PrometheusWriter& out) const {
    std::lock_guard<std::mutex> lock(mutex_);
    out.family("vigil_api_requests_total", "counter",
               "HTTP requests the API answered, by route, method and status.");
    for (const auto& [key, count] : requests_) {
        const auto& [route, method, status] = key;
        out.sample("vigil_api_requests_total",
                   {{"route", route}, {"method", method}, {"status", std::to_string(status)}},
                   static_cast<double>(count));
    }
    const std::string name = "vigil_api_request_duration_seconds";
    out.family(name, "histogram", "Time the API took to answer a request, by route.");
    for (const auto& [route, histogram] : durations_) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
            cumulative += histogram.buckets[i];
            out.sample(name + "_bucket", {{"route", route}, {"le", format_bound(kBuckets[i])}},
                       static_cast<double>(cumulative));
        }
        out.sample(name + "_bucket", {{"route", route}, {"le", "+Inf"}},
                   static_cast<double>(histogram.count));
        out.sample(name + "_sum", {{"route", route}}, histogram.sum);
        out.sample(name + "_count", {{"route", route}}, static_cast<double>(histogram.count));
    }
}

void write_store_metrics(PrometheusWriter& out, const Fetched<StoreStats>& stats,
                         const Fetched<uint64_t>& active, int64_t active_window_ms) {
    out.family("vigil_store_up", "gauge", "1 when the store answered the statistics query.");
    out.sample("vigil_store_up", {}, stats.ok() ? 1 : 0);
    if (!stats.ok()) {
        return;
    }
    const StoreStats& s = stats.value;
    out.family("vigil_store_devices", "gauge", "Devices the store knows.");
    out.sample("vigil_store_devices", {}, static_cast<double>(s.devices));
    if (active.ok()) {
        out.family("vigil_store_devices_active", "gauge",
                   "Devices whose latest message arrived within the window.");
        out.sample("vigil_store_devices_active",
                   {{"window_seconds", std::to_string(active_window_ms / 1000)}},
                   static_cast<double>(active.value));
    }
    out.family("vigil_store_rows", "gauge", "Rows per table of the store.");
    const std::pair<const char*, uint64_t> tables[] = {{"messages", s.messages},
                                                       {"flows", s.flows},
                                                       {"flow_overflow", s.overflow},
                                                       {"interface_totals", s.interface_totals},
                                                       {"port_snapshots", s.port_snapshots},
                                                       {"heartbeats", s.heartbeats},
                                                       {"alerts", s.alerts},
                                                       {"recommendations", s.recommendations}};
    for (const auto& [table, rows] : tables) {
        out.sample("vigil_store_rows", {{"table", table}}, static_cast<double>(rows));
    }
    out.family("vigil_store_open_alerts", "gauge", "Alerts not yet resolved.");
    out.sample("vigil_store_open_alerts", {}, static_cast<double>(s.open_alerts));
    out.family("vigil_store_size_bytes", "gauge",
               "Size of the store on disk, write-ahead log included.");
    out.sample("vigil_store_size_bytes", {}, static_cast<double>(s.file_bytes));
}

}  // namespace vigil::hub::api

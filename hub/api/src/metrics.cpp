#include "metrics.hpp"

namespace vigil::hub::api {

namespace {

// The request line's method is whatever the client wrote: as a label it would let anyone add a
// series per request, so the methods HTTP defines keep their name and the rest count as one.
const char* method_label(const std::string& method) {
    static constexpr const char* kKnown[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                             "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (const char* known : kKnown) {
        if (method == known) {
            return known;
        }
    }
    return "other";
}

}  // namespace

void RequestMetrics::record(const std::string& route, const std::string& method, int status,
                            double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{route, method_label(method), status}];
    durations_.try_emplace(route, std::vector<double>(kBuckets.begin(), kBuckets.end()))
        .first->second.observe(seconds);
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
        histogram.write(out, name, {{"route", route}});
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

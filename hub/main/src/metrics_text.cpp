// The ingest side's metrics in the Prometheus text exposition format (version 0.0.4).
#include <cstdio>
#include <sstream>

#include "hub.hpp"

namespace vigil::hub {

namespace {

std::string number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

void histogram(std::ostringstream& out, const IngestMetrics& m) {
    out << "# HELP vigil_hub_ingest_latency_ms Broker receipt to store commit, per message.\n"
        << "# TYPE vigil_hub_ingest_latency_ms histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < IngestMetrics::kLatencyBucketsMs.size(); ++i) {
        cumulative += m.latency_counts[i];
        out << "vigil_hub_ingest_latency_ms_bucket{le=\""
            << number(IngestMetrics::kLatencyBucketsMs[i]) << "\"} " << cumulative << "\n";
    }
    cumulative += m.latency_counts.back();
    out << "vigil_hub_ingest_latency_ms_bucket{le=\"+Inf\"} " << cumulative << "\n"
        << "vigil_hub_ingest_latency_ms_sum " << number(m.latency_sum_ms) << "\n"
        << "vigil_hub_ingest_latency_ms_count " << m.latency_count << "\n";
}

void counter(std::ostringstream& out, const char* name, const char* help, uint64_t value) {
    out << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
        << name << " " << value << "\n";
}

}  // namespace

std::string prometheus_text(const IngestMetrics& m, bool connected, uint32_t broker_restarts) {
    std::ostringstream out;
    out << "# HELP vigil_hub_ingest_messages_total Messages committed to the store, by format.\n"
        << "# TYPE vigil_hub_ingest_messages_total counter\n";
    for (const auto& [format, count] : m.ingested) {
        out << "vigil_hub_ingest_messages_total{format=\"" << format << "\"} " << count << "\n";
    }
    out << "# HELP vigil_hub_ingest_rejected_total Messages the decoders refused.\n"
        << "# TYPE vigil_hub_ingest_rejected_total counter\n";
    for (const auto& [key, count] : m.rejected) {
        out << "vigil_hub_ingest_rejected_total{reason=\"" << key.first << "\",format=\""
            << key.second << "\"} " << count << "\n";
    }
    counter(out, "vigil_hub_ingest_decode_errors_total", "Messages whose decoder failed.",
            m.decode_errors);
    counter(out, "vigil_hub_ingest_duplicates_total", "Reports the store already held.",
            m.duplicates);
    counter(out, "vigil_hub_ingest_store_failures_total", "Failed store commits (retried).",
            m.store_failures);
    counter(out, "vigil_hub_ingest_batches_total", "Committed batches.", m.batches);
    counter(out, "vigil_hub_ingest_redelivered_total", "Messages the broker sent again.",
            m.redelivered);
    counter(out, "vigil_hub_ingest_responses_dropped_total", "AWS responses not sent.",
            m.responses_dropped);
    counter(out, "vigil_hub_broker_restarts_total", "Restarts of the embedded broker.",
            broker_restarts);
    out << "# HELP vigil_hub_ingest_connected Whether ingest is connected to the broker.\n"
        << "# TYPE vigil_hub_ingest_connected gauge\n"
        << "vigil_hub_ingest_connected " << (connected ? 1 : 0) << "\n";
    histogram(out, m);
    return out.str();
}

}  // namespace vigil::hub

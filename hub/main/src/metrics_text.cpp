// The ingest side's and the log's metrics, in the hub's Prometheus writer.
#include "hub.hpp"
#include "log_sink.hpp"
#include "vigil/hub/prometheus.hpp"

namespace vigil::hub {

namespace {

void counter(PrometheusWriter& out, const char* name, const char* help, uint64_t value) {
    out.family(name, "counter", help);
    out.sample(name, {}, static_cast<double>(value));
}

}  // namespace

std::string prometheus_text(const IngestMetrics& m, bool connected, uint32_t broker_restarts) {
    PrometheusWriter out;
    out.family("vigil_hub_ingest_messages_total", "counter",
               "Messages committed to the store, by format.");
    for (const auto& [format, count] : m.ingested) {
        out.sample("vigil_hub_ingest_messages_total", {{"format", format}},
                   static_cast<double>(count));
    }
    out.family("vigil_hub_ingest_rejected_total", "counter", "Messages the decoders refused.");
    for (const auto& [key, count] : m.rejected) {
        out.sample("vigil_hub_ingest_rejected_total",
                   {{"reason", key.first}, {"format", key.second}}, static_cast<double>(count));
    }
    counter(out, "vigil_hub_ingest_decode_errors_total", "Messages whose decoder failed.",
            m.decode_errors);
    out.family("vigil_hub_ingest_rejections_unlogged_total", "counter",
               "Rejected messages beyond the log's lines per reason and interval, not logged one "
               "by one.");
    for (const auto& [reason, count] : m.rejections_unlogged) {
        out.sample("vigil_hub_ingest_rejections_unlogged_total", {{"reason", reason}},
                   static_cast<double>(count));
    }
    counter(out, "vigil_hub_ingest_duplicates_total", "Reports the store already held.",
            m.duplicates);
    counter(out, "vigil_hub_ingest_store_failures_total", "Failed store commits (retried).",
            m.store_failures);
    counter(out, "vigil_hub_ingest_batches_total", "Committed batches.", m.batches);
    counter(out, "vigil_hub_ingest_redelivered_total", "Messages the broker sent again.",
            m.redelivered);
    counter(out, "vigil_hub_ingest_responses_dropped_total", "AWS responses not sent.",
            m.responses_dropped);
    counter(out, "vigil_hub_ingest_sessions_lost_total",
            "Reconnections on which the broker had dropped the hub's session.", m.sessions_lost);
    counter(out, "vigil_hub_broker_restarts_total", "Restarts of the embedded broker.",
            broker_restarts);
    out.family("vigil_hub_ingest_connected", "gauge", "Whether ingest is connected to the broker.");
    out.sample("vigil_hub_ingest_connected", {}, connected ? 1 : 0);
    out.family("vigil_hub_ingest_latency_ms", "histogram",
               "Broker receipt to store commit, per message.");
    m.latency_ms.write(out, "vigil_hub_ingest_latency_ms");
    return out.text();
}

std::string log_metrics_text(const LogSink& sink) {
    PrometheusWriter out;
    counter(out, "vigil_hub_log_lines_cut_total",
            "Log lines cut at the longest line the log writes.", sink.lines_cut());
    return out.text();
}

}  // namespace vigil::hub

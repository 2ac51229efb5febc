#include "broker_watch.hpp"

#include <mosquitto.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <utility>

#include "vigil/hub/broker.hpp"
#include "vigil/hub/prometheus.hpp"

namespace vigil::hub {

namespace {

// mosquitto's $SYS figures the metrics export: (topic, metric, type, help).
struct SysFigure {
    const char* topic;
    const char* metric;
    const char* type;
    const char* help;
};

constexpr SysFigure kSysFigures[] = {
    {"$SYS/broker/publish/messages/dropped", "vigil_hub_broker_dropped_messages_total", "counter",
     "Messages the broker dropped since it started: a client's queue was at "
     "max_queued_messages or max_queued_bytes (the publisher had its PUBACK)."},
    {"$SYS/broker/store/messages/count", "vigil_hub_broker_stored_messages", "gauge",
     "Messages the broker holds (queued, in flight, retained)."},
    {"$SYS/broker/store/messages/bytes", "vigil_hub_broker_stored_bytes", "gauge",
     "Payload bytes of the messages the broker holds."},
    {"$SYS/broker/retained messages/count", "vigil_hub_broker_retained_messages", "gauge",
     "Retained messages the broker holds (the hub's configs; devices can leave none)."},
};

}  // namespace

BrokerWatch::BrokerWatch(std::string host, uint16_t port, std::string username,
                         std::string password,
                         std::function<void(const std::string&)> take_connections)
    : account_{std::move(host), port, std::move(username), std::move(password)},
      take_connections_(std::move(take_connections)) {}

BrokerWatch::~BrokerWatch() {
    stop();
}

bool BrokerWatch::start(std::string& error) {
    // A clean session: every report is retained or repeated, nothing needs queueing.
    client_ = new_hub_client("watch", account_, this, error);
    if (!client_) {
        return false;
    }
    mosquitto_connect_callback_set(client_, &BrokerWatch::on_connect);
    mosquitto_message_callback_set(client_, &BrokerWatch::on_message);
    return connect_hub_client(client_, account_, "broker watch", error);
}

void BrokerWatch::stop() {
    end_hub_client(client_);
}

void BrokerWatch::on_connect(mosquitto* client, void*, int rc) {
    if (rc != 0) {
        return;
    }
    mosquitto_subscribe(client, nullptr, kGuardReportTopic, 0);
    mosquitto_subscribe(client, nullptr, kGuardConnectionsTopic, 0);
    for (const SysFigure& figure : kSysFigures) {
        mosquitto_subscribe(client, nullptr, figure.topic, 0);
    }
}

void BrokerWatch::on_message(mosquitto*, void* self, const mosquitto_message* message) {
    auto* watch = static_cast<BrokerWatch*>(self);
    const std::string topic = message->topic;
    const std::string payload(static_cast<const char*>(message->payload),
                              static_cast<size_t>(message->payloadlen));
    if (topic == kGuardReportTopic) {
        (void)watch->take_guard_report(payload);
        return;
    }
    if (topic == kGuardConnectionsTopic) {
        if (watch->take_connections_) {
            watch->take_connections_(payload);
        }
        return;
    }
    char* end = nullptr;
    const double value = std::strtod(payload.c_str(), &end);
    if (end != payload.c_str()) {
        std::lock_guard<std::mutex> lock(watch->mutex_);
        watch->sys_[topic] = value;
    }
}

bool BrokerWatch::take_guard_report(const std::string& payload) {
    const nlohmann::json report = nlohmann::json::parse(payload, nullptr, false);
    if (!report.is_object() || !report.contains("epoch") || !report["epoch"].is_string() ||
        !report.contains("devices") || !report["devices"].is_object()) {
        return false;
    }
    std::map<std::pair<std::string, std::string>, uint64_t> counts;
    for (const auto& [device, reasons] : report["devices"].items()) {
        if (!reasons.is_object()) {
            return false;
        }
        for (const auto& [reason, count] : reasons.items()) {
            // Only the guard's fixed reasons become label values.
            bool known = reason == kGuardRetainCleared;
            for (const char* refusal : kGuardRefusalReasons) {
                known = known || reason == refusal;
            }
            if (known && count.is_number_unsigned()) {
                counts[{device, reason}] = count.get<uint64_t>();
            }
        }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    guard_[report["epoch"].get<std::string>()] = std::move(counts);
    return true;
}

std::string BrokerWatch::metrics_text() const {
    std::map<std::pair<std::string, std::string>, uint64_t> totals;
    std::map<std::string, double> sys;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [epoch, counts] : guard_) {
            for (const auto& [key, count] : counts) {
                totals[key] += count;
            }
        }
        sys = sys_;
    }
    PrometheusWriter out;
    out.family("vigil_hub_broker_refused_total", "counter",
               "Publishes the broker refused, by device and reason (other_device, "
               "not_a_format_topic, not_a_device_topic).");
    for (const auto& [key, count] : totals) {
        if (key.second != kGuardRetainCleared) {
            out.sample("vigil_hub_broker_refused_total",
                       {{"device", key.first}, {"reason", key.second}}, static_cast<double>(count));
        }
    }
    out.family("vigil_hub_broker_retain_cleared_total", "counter",
               "Retained publishes of a device delivered without their retain flag.");
    for (const auto& [key, count] : totals) {
        if (key.second == kGuardRetainCleared) {
            out.sample("vigil_hub_broker_retain_cleared_total", {{"device", key.first}},
                       static_cast<double>(count));
        }
    }
    for (const SysFigure& figure : kSysFigures) {
        const auto it = sys.find(figure.topic);
        if (it != sys.end()) {
            out.family(figure.metric, figure.type, figure.help);
            out.sample(figure.metric, {}, it->second);
        }
    }
    return out.text();
}

}  // namespace vigil::hub

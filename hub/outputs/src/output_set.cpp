#include "vigil/hub/outputs/output_set.hpp"

#include <set>

#include "vigil/hub/outputs/syslog_output.hpp"
#include "vigil/hub/outputs/webhook_output.hpp"

namespace vigil::hub::outputs {

OutputSet::OutputSet(const std::vector<detect::OutputSettings>& settings,
                     const MqttConnection& connection, const OutputLog& log) {
    std::set<std::string> names;
    for (const detect::OutputSettings& s : settings) {
        std::string error;
        std::unique_ptr<Output> output;
        if (s.name.empty() || !names.insert(s.name).second) {
            error = "the name is empty or another output's";
        } else if (s.kind == detect::OutputKind::Webhook) {
            output = make_webhook_output(s, error, log);
        } else if (s.kind == detect::OutputKind::Syslog) {
            output = make_syslog_output(s, error, log);
        } else if (s.kind == detect::OutputKind::Mqtt) {
            output = make_mqtt_output(s, connection, error, log);
        } else {
            error = "unknown kind";
        }
        if (output) {
            outputs_.push_back(std::move(output));
        } else {
            errors_.push_back("output \"" + s.name + "\" (line " + std::to_string(s.line) +
                              "): " + error);
        }
    }
}

OutputSet::~OutputSet() {
    unsubscribe();
    // The outputs' own destructors stop them without waiting for their queues.
}

void OutputSet::subscribe(AlertEvents& events) {
    unsubscribe();
    events_ = &events;
    for (const auto& output : outputs_) {
        events.subscribe(output);
    }
}

void OutputSet::unsubscribe() {
    if (events_ == nullptr) {
        return;
    }
    for (const auto& output : outputs_) {
        events_->unsubscribe(output.get());
    }
    events_ = nullptr;
}

void OutputSet::replace(OutputSet& next, std::chrono::milliseconds drain) {
    if (events_ != nullptr) {
        next.subscribe(*events_);
    }
    unsubscribe();
    const auto deadline = std::chrono::steady_clock::now() + drain;
    for (const auto& output : outputs_) {
        output->begin_stop(deadline);
    }
    for (const auto& output : outputs_) {
        output->finish_stop();
    }
}

std::vector<OutputMetrics> OutputSet::metrics() const {
    std::vector<OutputMetrics> all;
    all.reserve(outputs_.size());
    for (const auto& output : outputs_) {
        all.push_back(output->metrics());
    }
    return all;
}

void OutputSet::write_metrics(PrometheusWriter& out) const {
    write_output_metrics(out, metrics());
}

}  // namespace vigil::hub::outputs

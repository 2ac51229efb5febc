// Custom threshold rules, as AWS Device Defender's behaviours have them: one datapoint per window
// of the rule (device time); the alert opens after alarm_after consecutive breaching datapoints
// and clears after clear_after consecutive ones that do not breach, so one spike pages no one.
// A window that ends with no report at all counts as a datapoint of 0. An "above" rule counts a
// window as breaching as soon as its running value crosses the line, so the alert does not wait
// for the window to end.
#include <algorithm>
#include <cmath>
#include <set>

#include "detections.hpp"

namespace vigil::hub::detect {

namespace {

bool is_sum(RuleMetric metric) {
    return metric == RuleMetric::BytesIn || metric == RuleMetric::BytesOut ||
           metric == RuleMetric::PacketsIn || metric == RuleMetric::PacketsOut;
}

/// The report's value of the metric; nullopt when the report does not carry it.
std::optional<double> measure(const DetectionContext& context, RuleMetric metric) {
    const Report& report = context.report;
    switch (metric) {
        case RuleMetric::BytesIn:
        case RuleMetric::BytesOut:
        case RuleMetric::PacketsIn:
        case RuleMetric::PacketsOut: {
            const bool in = metric == RuleMetric::BytesIn || metric == RuleMetric::PacketsIn;
            const bool bytes = metric == RuleMetric::BytesIn || metric == RuleMetric::BytesOut;
            // AWS reports count the device's traffic in interface totals, not per connection.
            if (const auto& totals = report.interface_totals) {
                return static_cast<double>(bytes ? (in ? totals->bytes_in : totals->bytes_out)
                                                 : (in ? totals->packets_in : totals->packets_out));
            }
            if (!report.has_network) {
                return std::nullopt;
            }
            double total = 0;
            bool counted = bytes || report.flows.empty();  // legacy flows count no packets
            for (const Flow& flow : report.flows) {
                const std::optional<uint64_t> packets = in ? flow.packets_in : flow.packets_out;
                counted |= packets.has_value();
                total += static_cast<double>(bytes ? (in ? flow.bytes_in : flow.bytes_out)
                                                   : packets.value_or(0));
            }
            for (const Overflow& overflow : report.overflow) {
                total +=
                    static_cast<double>(bytes ? (in ? overflow.bytes_in : overflow.bytes_out)
                                              : (in ? overflow.packets_in : overflow.packets_out));
            }
            return counted ? std::optional<double>(total) : std::nullopt;
        }
        case RuleMetric::EstablishedConnections: {
            if (!report.has_network) {
                return std::nullopt;
            }
            return static_cast<double>(
                std::count_if(report.flows.begin(), report.flows.end(), [](const Flow& flow) {
                    return flow.protocol == Protocol::Tcp && flow.handshake == "completed";
                }));
        }
        case RuleMetric::ListeningTcpPorts:
        case RuleMetric::ListeningUdpPorts: {
            if (!report.listening_ports) {
                return std::nullopt;
            }
            const Protocol wanted =
                metric == RuleMetric::ListeningTcpPorts ? Protocol::Tcp : Protocol::Udp;
            std::set<uint16_t> ports;
            for (const ListeningPort& port : *report.listening_ports) {
                if (port.protocol == wanted) {
                    ports.insert(port.port);
                }
            }
            return static_cast<double>(ports.size());
        }
        case RuleMetric::RemoteAddresses: {
            if (!report.has_network) {
                return std::nullopt;
            }
            std::set<std::string> remotes;
            for (const Flow& flow : report.flows) {
                remotes.insert(flow.remote);
            }
            return static_cast<double>(remotes.size());
        }
    }
    return std::nullopt;
}

bool breaches(const CustomRule& rule, double value) {
    return (rule.above && value > *rule.above) || (rule.below && value < *rule.below);
}

std::string format_value(double value) {
    if (std::floor(value) == value && std::fabs(value) < 1e15) {
        return std::to_string(static_cast<int64_t>(value));
    }
    return std::to_string(value);
}

class RuleRun {
  public:
    RuleRun(DetectionContext& context, const CustomRule& rule, RuleProgress& progress)
        : context_(context), rule_(rule), progress_(progress) {}

    void add(double value) {
        const int64_t window_ms = static_cast<int64_t>(rule_.window_s) * 1000;
        const int64_t bucket = context_.end_ms / window_ms;
        if (progress_.bucket < 0) {
            progress_.bucket = bucket;
        }
        if (bucket < progress_.bucket) {
            return;  // late: its window has been judged already
        }
        if (bucket > progress_.bucket) {
            close(progress_.value);
            // Windows with no report at all: at most enough of them to clear or break a run.
            const int64_t empty = std::min<int64_t>(bucket - progress_.bucket - 1,
                                                    std::max(rule_.alarm_after, rule_.clear_after));
            for (int64_t i = 0; i < empty; ++i) {
                close(0);
            }
            progress_.bucket = bucket;
            progress_.value = 0;
            progress_.bucket_breached = false;
        }
        progress_.value =
            is_sum(rule_.metric) ? progress_.value + value : std::max(progress_.value, value);
        if (rule_.above && progress_.value > *rule_.above && !progress_.bucket_breached) {
            progress_.bucket_breached = true;
            datapoint(true, progress_.value);
        }
    }

  private:
    void close(double value) {
        if (progress_.bucket_breached) {
            return;  // counted when it crossed
        }
        datapoint(breaches(rule_, value), value);
    }

    void datapoint(bool breaching, double value) {
        if (breaching) {
            progress_.clear = 0;
            if (progress_.breaching++ == 0) {
                progress_.first_breach_ms = context_.start_ms;
            }
            if (progress_.breaching >= rule_.alarm_after) {
                progress_.alarmed = true;
                raise(value);
            }
            return;
        }
        progress_.breaching = 0;
        ++progress_.clear;
        if (progress_.alarmed && progress_.clear >= rule_.clear_after) {
            progress_.alarmed = false;
            context_.clear("rule." + rule_.name, "");
        }
    }

    void raise(double value) {
        AlertRaise& alert =
            context_.raise("rule." + rule_.name, rule_.category, "", rule_.severity);
        alert.first_observed_ms = progress_.first_breach_ms;
        const std::string metric = to_string(rule_.metric);
        const std::string limit = rule_.above ? "above " + format_value(*rule_.above)
                                              : "below " + format_value(*rule_.below);
        alert.title = "Rule '" + rule_.name + "': " + metric + " " + format_value(value) + " in " +
                      std::to_string(rule_.window_s) + " s";
        alert.description = (rule_.description.empty() ? std::string() : rule_.description + " ") +
                            "The " + metric + " of the device was " + format_value(value) +
                            " per " + std::to_string(rule_.window_s) + " s window, " + limit +
                            ", for " + std::to_string(progress_.breaching) +
                            " consecutive window(s) (the rule alerts after " +
                            std::to_string(rule_.alarm_after) + ").";
        alert.remediation =
            "Compare the device's traffic with what its function needs; if the change is "
            "expected (a new feature, a larger update), adjust the rule in the policy.";
        alert.technique = rule_.category == AlertCategory::Exfiltration
                              ? "T0882 Theft of Operational Information"
                              : "";
        nlohmann::json threshold;
        if (rule_.above) {
            threshold["above"] = *rule_.above;
        }
        if (rule_.below) {
            threshold["below"] = *rule_.below;
        }
        alert.evidence_json = nlohmann::json{
            {"rule",
             {{"name", rule_.name},
              {"group", context_.settings.group},
              {"metric", metric},
              {"window_s", rule_.window_s},
              {"alarm_after", rule_.alarm_after},
              {"clear_after", rule_.clear_after},
              {"threshold", threshold}}},
            {"value", value},
            {"consecutive_datapoints", progress_.breaching},
            {"window_start_ms",
             progress_.bucket * rule_.window_s *
                 1000}}.dump();
    }

    DetectionContext& context_;
    const CustomRule& rule_;
    RuleProgress& progress_;
};

}  // namespace

void detect_custom_rules(DetectionContext& context) {
    std::vector<RuleProgress>& progress = context.state.rules;
    const std::vector<CustomRule>& rules = context.settings.rules;
    // Progress of rules the policy no longer has is forgotten.
    progress.erase(std::remove_if(progress.begin(), progress.end(),
                                  [&](const RuleProgress& held) {
                                      return std::none_of(rules.begin(), rules.end(),
                                                          [&](const CustomRule& rule) {
                                                              return rule.name == held.name;
                                                          });
                                  }),
                   progress.end());
    for (const CustomRule& rule : rules) {
        if (rule.window_s == 0) {
            continue;
        }
        const std::optional<double> value = measure(context, rule.metric);
        if (!value) {
            continue;
        }
        auto held = std::find_if(progress.begin(), progress.end(), [&](const RuleProgress& entry) {
            return entry.name == rule.name;
        });
        if (held == progress.end()) {
            if (progress.size() >= kMaxRules) {
                continue;
            }
            progress.push_back(RuleProgress{});
            held = progress.end() - 1;
            held->name = rule.name;
        }
        RuleRun(context, rule, *held).add(*value);
    }
}

}  // namespace vigil::hub::detect

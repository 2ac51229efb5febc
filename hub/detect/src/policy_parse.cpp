#include "vigil/hub/detect/policy_parse.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <type_traits>
#include <utility>

#include <toml++/toml.h>

#include "policy_names.hpp"
#include "vigil/hub/detect/toml_reading.hpp"
#include "vigil/hub/enum_names.hpp"

namespace vigil::hub::detect {

namespace {

namespace fs = std::filesystem;
using namespace toml_reading;

// Settings layers: each value read becomes a setter of the field it names.

template <typename Field>
using FieldType = std::remove_reference_t<std::invoke_result_t<Field, DeviceSettings&>>;

/// `read(node, path)` answers an optional value; `field(settings)` the member it sets.
template <typename Read, typename Field>
Handler setting(SettingsLayer& layer, Read read, Field field) {
    return [&layer, read, field](const toml::node& node, const std::string& path) {
        auto value = read(node, path);
        if (!value) {
            return;
        }
        layer.setters.push_back([value = FieldType<Field>(std::move(*value)),
                                 field](DeviceSettings& settings) { field(settings) = value; });
    };
}

struct Readers {
    Errors& errors;

    auto flag() const {
        return [this](const toml::node& node, const std::string& path) {
            return read_flag(errors, node, path);
        };
    }
    auto integer(int64_t minimum, int64_t maximum) const {
        return [this, minimum, maximum](const toml::node& node, const std::string& path) {
            return read_integer(errors, node, path, minimum, maximum);
        };
    }
    auto severity() const {
        return [this](const toml::node& node, const std::string& path) {
            return read_severity(errors, node, path);
        };
    }
    auto window() const {
        return [this](const toml::node& node, const std::string& path) {
            return read_window_s(errors, node, path);
        };
    }
    auto cidrs() const {
        return [this](const toml::node& node, const std::string& path) {
            return read_cidrs(errors, node, path);
        };
    }
    auto ports() const {
        return [this](const toml::node& node, const std::string& path) {
            return read_ports(errors, node, path);
        };
    }
};

constexpr int64_t kMaxCount = 1'000'000;
constexpr int64_t kMaxPacketsPerSecond = 1'000'000'000;

void read_rule(Errors& errors, const toml::table& table, const std::string& path,
               std::map<std::string, int>& names, SettingsLayer& layer) {
    CustomRule rule;
    rule.line = static_cast<int>(table.source().begin.line);
    bool complete = true;
    bool named = false, measured = false;
    const auto check = [&complete](const auto& value) {
        complete = complete && value.has_value();
        return value.has_value();
    };
    Section section(table, path, errors);
    section
        .on("name",
            [&](const toml::node& node, const std::string& p) {
                auto name = read_name(errors, node, p);
                named = true;
                if (check(name)) {
                    rule.name = *name;
                }
            })
        .on("metric",
            [&](const toml::node& node, const std::string& p) {
                const auto metric = read_named<RuleMetric>(errors, node, p, kRuleMetrics, "metric");
                measured = true;
                if (check(metric)) {
                    rule.metric = *metric;
                }
            })
        .on("above",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_threshold(errors, node, p);
                if (check(value)) {
                    rule.above = value;
                }
            })
        .on("below",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_threshold(errors, node, p);
                if (check(value)) {
                    rule.below = value;
                }
            })
        .on("window",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_window_s(errors, node, p);
                if (check(value)) {
                    rule.window_s = *value;
                }
            })
        .on("alarm_after",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_integer(errors, node, p, 1, 10);
                if (check(value)) {
                    rule.alarm_after = static_cast<uint32_t>(*value);
                }
            })
        .on("clear_after",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_integer(errors, node, p, 1, 10);
                if (check(value)) {
                    rule.clear_after = static_cast<uint32_t>(*value);
                }
            })
        .on("severity",
            [&](const toml::node& node, const std::string& p) {
                const auto value = read_severity(errors, node, p);
                if (check(value)) {
                    rule.severity = *value;
                }
            })
        .on("category",
            [&](const toml::node& node, const std::string& p) {
                const auto value =
                    read_named<AlertCategory>(errors, node, p, kCategoryNames, "category");
                if (check(value)) {
                    rule.category = *value;
                }
            })
        .on("description", [&](const toml::node& node, const std::string& p) {
            const auto value = read_text(errors, node, p, kMaxText);
            if (check(value)) {
                rule.description = *value;
            }
        });
    section.run();
    if (!named) {
        errors.add(table.source(), path + ": a rule needs a name");
        complete = false;
    }
    if (!measured) {
        errors.add(table.source(), path + ": rule " + shown(rule.name) + " needs a metric (" +
                                       join({kRuleMetrics.begin(), kRuleMetrics.end()}, ", ") +
                                       ")");
        complete = false;
    }
    if (!rule.above && !rule.below && complete) {
        errors.add(table.source(), path + ": rule " + shown(rule.name) +
                                       " needs a threshold: above, below or both");
        complete = false;
    }
    if (rule.above && rule.below && *rule.below >= *rule.above) {
        errors.add(table.source(), path + ": rule " + shown(rule.name) +
                                       ": below must be less than above, or every value breaches");
        complete = false;
    }
    if (!rule.name.empty()) {
        const auto [earlier, inserted] = names.emplace(rule.name, rule.line);
        if (!inserted) {
            errors.add(table.source(), path + ": rule " + shown(rule.name) +
                                           " is already defined at line " +
                                           std::to_string(earlier->second) + " of this section");
            complete = false;
        }
    }
    if (!complete) {
        return;
    }
    layer.setters.push_back([rule = std::move(rule)](DeviceSettings& settings) {
        for (CustomRule& inherited : settings.rules) {
            if (inherited.name == rule.name) {
                inherited = rule;
                return;
            }
        }
        settings.rules.push_back(rule);
    });
}

/// Reads one settings section ([defaults], [groups.NAME], [devices."ID"]) into its layer.
class LayerReader {
  public:
    LayerReader(Errors& errors, SettingsLayer& layer) : errors_(errors), layer_(layer) {}

    void read(const toml::table& table, const std::string& path) {
        layer_.line = static_cast<int>(table.source().begin.line);
        using Self = LayerReader;
        Section(table, path, errors_)
            .on("port_scan_inbound", nested(&Self::port_scan_inbound))
            .on("scan_outbound", nested(&Self::scan_outbound))
            .on("flood", nested(&Self::flood))
            .on("malicious_ip", nested(&Self::malicious_ip))
            .on("silence", nested(&Self::silence))
            .on("agent_health", nested(&Self::agent_health))
            .on("allow", nested(&Self::allow))
            .on("trusted",
                setting(
                    layer_, read_.cidrs(), [](DeviceSettings & s) -> auto& { return s.trusted; }))
            .on("rules", tables_of(errors_,
                                   [this](const toml::table& t, const std::string& p) {
                                       read_rule(errors_, t, p, rule_names_, layer_);
                                   }))
            .run();
    }

  private:
    using Part = void (LayerReader::*)(const toml::table&, const std::string&);
    Handler nested(Part part) {
        return table_of(errors_, [this, part](const toml::table& t, const std::string& p) {
            (this->*part)(t, p);
        });
    }

    /// The setter of one field of one detection's settings: settings.*part.*field.
    template <typename PartSettings, typename Value, typename Read>
    Handler field(PartSettings DeviceSettings::*part, Value PartSettings::*member, Read read) {
        return setting(layer_, read,
                       [part, member](DeviceSettings& s) -> Value& { return (s.*part).*member; });
    }

    void port_scan_inbound(const toml::table& table, const std::string& path) {
        using S = InboundScanSettings;
        const auto part = &DeviceSettings::inbound_scan;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("ports", field(part, &S::ports, read_.integer(1, 65536)))
            .on("window", field(part, &S::window_s, read_.window()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void scan_outbound(const toml::table& table, const std::string& path) {
        using S = OutboundScanSettings;
        const auto part = &DeviceSettings::outbound_scan;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("hosts", field(part, &S::hosts, read_.integer(1, kMaxCount)))
            .on("window", field(part, &S::window_s, read_.window()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void flood(const toml::table& table, const std::string& path) {
        using S = FloodSettings;
        const auto part = &DeviceSettings::flood;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("packets_per_second",
                field(part, &S::packets_per_second, read_.integer(1, kMaxPacketsPerSecond)))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void malicious_ip(const toml::table& table, const std::string& path) {
        using S = MaliciousIpSettings;
        const auto part = &DeviceSettings::malicious_ip;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void silence(const toml::table& table, const std::string& path) {
        using S = SilenceSettings;
        const auto part = &DeviceSettings::silence;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("intervals", field(part, &S::intervals, read_.integer(1, 1000)))
            .on("default_interval", field(part, &S::default_interval_s, read_.window()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void agent_health(const toml::table& table, const std::string& path) {
        using S = AgentHealthSettings;
        const auto part = &DeviceSettings::agent_health;
        Section(table, path, errors_)
            .on("enabled", field(part, &S::enabled, read_.flag()))
            .on("backlog_messages", field(part, &S::backlog_messages, read_.integer(1, kMaxCount)))
            .on("clock_skew", field(part, &S::clock_skew_s, read_.window()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    void allow(const toml::table& table, const std::string& path) {
        using S = AllowList;
        const auto part = &DeviceSettings::allow;
        Section(table, path, errors_)
            .on("outbound", field(part, &S::outbound, read_.cidrs()))
            .on("inbound", field(part, &S::inbound, read_.cidrs()))
            .on("tcp_ports", field(part, &S::tcp_ports, read_.ports()))
            .on("udp_ports", field(part, &S::udp_ports, read_.ports()))
            .on("severity", field(part, &S::severity, read_.severity()))
            .run();
    }

    Errors& errors_;
    SettingsLayer& layer_;
    Readers read_{errors_};
    std::map<std::string, int> rule_names_;  ///< rule names are unique within one section
};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2 ? 1 : 0;
    const int64_t era = (year >= 0 ? year : year - 399) / 400;
    const int64_t year_of_era = year - era * 400;
    const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

std::optional<int64_t> epoch_ms(const toml::date_time& when) {
    if (!when.offset) {
        return std::nullopt;
    }
    const int64_t days = days_from_civil(when.date.year, when.date.month, when.date.day);
    const int64_t seconds = days * 86400 + when.time.hour * 3600 + when.time.minute * 60 +
                            when.time.second - when.offset->minutes * 60;
    return seconds * kSecond + when.time.nanosecond / 1'000'000;
}

/// A TOML offset date-time (until = 2027-01-31T00:00:00Z), or the same in a string.
std::optional<int64_t> read_instant_ms(Errors& errors, const toml::node& node,
                                       const std::string& path) {
    const char* expected = "must be a date and time with its offset, e.g. 2027-01-31T00:00:00Z";
    std::optional<toml::date_time> when;
    if (const auto* value = node.as_date_time()) {
        when = value->get();
    } else if (const auto* text = node.as_string()) {
        const std::string& written = text->get();
        constexpr size_t kLongest = 40;
        bool plausible = !written.empty() && written.size() <= kLongest;
        for (const char c : written) {
            plausible = plausible && (std::isdigit(static_cast<unsigned char>(c)) || c == '-' ||
                                      c == ':' || c == 'T' || c == 'Z' || c == '+' || c == '.');
        }
        if (plausible) {
            try {
                const toml::table parsed = toml::parse("when = " + written);
                if (const auto* instant = parsed["when"].as_date_time()) {
                    when = instant->get();
                }
            } catch (const toml::parse_error&) {
            }
        }
    }
    if (!when || !when->offset) {
        errors.add(node.source(), path + ": " + expected);
        return std::nullopt;
    }
    return epoch_ms(*when);
}

void read_suppression(Errors& errors, const toml::table& table, const std::string& path,
                      std::map<std::string, int>& names, Policy& policy) {
    Suppression suppression;
    suppression.source = SuppressionSource::Policy;
    suppression.created_by = "policy";
    const int line = static_cast<int>(table.source().begin.line);
    bool complete = true;
    bool named = false;
    const auto text = [&](std::string& out, size_t maximum) {
        return [&errors, &out, &complete, maximum](const toml::node& node, const std::string& p) {
            auto value = read_text(errors, node, p, maximum);
            if (value) {
                out = std::move(*value);
            } else {
                complete = false;
            }
        };
    };
    Section(table, path, errors)
        .on("name",
            [&](const toml::node& node, const std::string& p) {
                auto name = read_name(errors, node, p);
                named = true;
                if (name) {
                    suppression.name = *name;
                } else {
                    complete = false;
                }
            })
        .on("device", text(suppression.device_id, kMaxName))
        .on("group", text(suppression.group, kMaxName))
        .on("type", text(suppression.type, kMaxName))
        .on("subject", text(suppression.subject_pattern, kMaxName))
        .on("reason", text(suppression.reason, kMaxText))
        .on("until",
            [&](const toml::node& node, const std::string& p) {
                suppression.expires_ms = read_instant_ms(errors, node, p);
                complete = complete && suppression.expires_ms.has_value();
            })
        .run();
    if (!named) {
        errors.add(table.source(), path + ": a suppression needs a name");
        complete = false;
    }
    if (!suppression.device_id.empty() && !suppression.group.empty()) {
        errors.add(table.source(), path + ": suppression " + shown(suppression.name) +
                                       " names both a device and a group; give one, or neither "
                                       "for every device");
        complete = false;
    }
    if (suppression.subject_pattern.empty()) {
        suppression.subject_pattern = "*";
    }
    if (!suppression.name.empty()) {
        const auto [earlier, inserted] = names.emplace(suppression.name, line);
        if (!inserted) {
            errors.add(table.source(), path + ": suppression " + shown(suppression.name) +
                                           " is already defined at line " +
                                           std::to_string(earlier->second));
            complete = false;
        }
    }
    if (complete) {
        policy.suppressions.push_back(std::move(suppression));
    }
}

bool host_name(const std::string& host) {
    if (host.empty() || host.size() > 253) {
        return false;
    }
    for (const char c : host) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

/// "host:port", "192.0.2.1:514", "[2001:db8::1]:514"; the port must be 1..65535.
bool host_and_port(const std::string& text) {
    std::string host, port;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return false;
        }
        const auto address = parse_ip(text.substr(1, close - 1));
        if (!address || address->family != Family::V6) {
            return false;
        }
        port = text.substr(close + 2);
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string::npos) {
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (!host_name(host)) {
            return false;
        }
    }
    constexpr size_t kPortDigits = 5;
    if (port.empty() || port.size() > kPortDigits) {
        return false;
    }
    for (const char c : port) {
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    const long number = std::stol(port);
    return number >= 1 && number <= 65535;
}

/// http://host[:port][/path] or https://...; no user info, no spaces.
bool web_url(const std::string& url) {
    std::string rest;
    for (const char* scheme : {"http://", "https://"}) {
        if (url.rfind(scheme, 0) == 0) {
            rest = url.substr(std::string(scheme).size());
        }
    }
    if (rest.empty()) {
        return false;
    }
    for (const char c : url) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
            return false;
        }
    }
    const size_t slash = rest.find_first_of("/?#");
    const std::string authority = rest.substr(0, slash);
    if (authority.find('@') != std::string::npos) {
        return false;
    }
    if (host_and_port(authority)) {
        return true;
    }
    if (!authority.empty() && authority.front() == '[') {
        const auto address = parse_ip(authority.substr(1, authority.size() - 2));
        return authority.back() == ']' && address && address->family == Family::V6;
    }
    return host_name(authority);
}

std::optional<std::string> read_secret_file(Errors& errors, const toml::node& node,
                                            const std::string& path, const fs::path& directory) {
    const auto name = read_text(errors, node, path, kMaxText, false);
    if (!name) {
        return std::nullopt;
    }
    const fs::path file = fs::path(*name).is_absolute() ? fs::path(*name) : directory / *name;
    std::error_code error;
    if (!fs::is_regular_file(file, error)) {
        errors.add(node.source(), path + ": " + file.string() + " is not a readable file");
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::string secret;
    if (!in || !std::getline(in, secret)) {
        errors.add(node.source(), path + ": cannot read " + file.string());
        return std::nullopt;
    }
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) {
        secret.pop_back();
    }
    if (secret.empty() || secret.size() > kMaxSecret) {
        errors.add(node.source(), path + ": the first line of " + file.string() +
                                      " must hold the secret (1 to " + std::to_string(kMaxSecret) +
                                      " bytes)");
        return std::nullopt;
    }
    return secret;
}

struct OutputRead {
    OutputSettings output;
    bool complete = false;
    toml::source_region where;
};

struct OutputContext {
    Errors& errors;
    const fs::path& directory;
    std::vector<OutputRead> read;
};

/// Names are unique across kinds, checked in the file's order (TOML keeps a table's keys
/// sorted, so the webhooks are read before the syslogs whatever their lines).
void keep_outputs(Errors& errors, std::vector<OutputRead> read, Policy& policy) {
    std::stable_sort(read.begin(), read.end(), [](const OutputRead& a, const OutputRead& b) {
        return a.output.line < b.output.line;
    });
    std::map<std::string, int> names;
    for (OutputRead& entry : read) {
        OutputSettings& output = entry.output;
        if (!output.name.empty()) {
            const auto [earlier, inserted] = names.emplace(output.name, output.line);
            if (!inserted) {
                errors.add(entry.where, std::string("outputs.") + to_string(output.kind) +
                                            ": output " + shown(output.name) +
                                            " is already defined at line " +
                                            std::to_string(earlier->second) +
                                            " (output names are unique across all kinds)");
                entry.complete = false;
            }
        }
        if (entry.complete) {
            policy.outputs.push_back(std::move(output));
        }
    }
}

void read_output(OutputContext& context, OutputKind kind, const toml::table& table,
                 const std::string& path) {
    Errors& errors = context.errors;
    OutputSettings output;
    output.kind = kind;
    output.line = static_cast<int>(table.source().begin.line);
    bool complete = true;
    bool named = false, has_secret = false, has_secret_file = false, has_target = false;
    const auto keep = [&complete](auto value, auto& out) {
        if (value) {
            out = static_cast<std::remove_reference_t<decltype(out)>>(*value);
        } else {
            complete = false;
        }
    };
    Section section(table, path, errors);
    section
        .on("name",
            [&](const toml::node& node, const std::string& p) {
                named = true;
                keep(read_name(errors, node, p), output.name);
            })
        .on("min_severity",
            [&](const toml::node& node, const std::string& p) {
                keep(read_severity(errors, node, p), output.min_severity);
            })
        .on("changes",
            [&](const toml::node& node, const std::string& p) {
                keep(read_list<AlertChange>(errors, node, p, "alert changes",
                                            [&](const toml::node& element) {
                                                return read_named<AlertChange>(
                                                    errors, element, p, kChangeNames, "change");
                                            }),
                     output.changes);
            })
        .on("queue", [&](const toml::node& node, const std::string& p) {
            keep(read_integer(errors, node, p, 1, kMaxCount), output.queue);
        });
    switch (kind) {
        case OutputKind::Webhook:
            section
                .on("url",
                    [&](const toml::node& node, const std::string& p) {
                        has_target = true;
                        auto url = read_text(errors, node, p, kMaxText, false);
                        if (url && !web_url(*url)) {
                            errors.add(node.source(),
                                       p + ": " + shown(*url) +
                                           " is not an http:// or https:// URL with a host "
                                           "(https://alerts.example.com/vigil)");
                            url.reset();
                        }
                        keep(url, output.url);
                    })
                .on("secret",
                    [&](const toml::node& node, const std::string& p) {
                        has_secret = true;
                        keep(read_text(errors, node, p, kMaxSecret), output.secret);
                    })
                .on("secret_file",
                    [&](const toml::node& node, const std::string& p) {
                        has_secret_file = true;
                        keep(read_secret_file(errors, node, p, context.directory), output.secret);
                    })
                .on("timeout",
                    [&](const toml::node& node, const std::string& p) {
                        keep(read_duration_ms(errors, node, p, 100, 300 * kSecond),
                             output.timeout_ms);
                    })
                .on("retries", [&](const toml::node& node, const std::string& p) {
                    keep(read_integer(errors, node, p, 0, 100), output.retries);
                });
            break;
        case OutputKind::Syslog:
            section
                .on("address",
                    [&](const toml::node& node, const std::string& p) {
                        has_target = true;
                        auto address = read_text(errors, node, p, kMaxName, false);
                        if (address && !host_and_port(*address)) {
                            errors.add(node.source(),
                                       p + ": " + shown(*address) +
                                           " is not host:port (\"127.0.0.1:514\", "
                                           "\"[2001:db8::1]:514\", \"logs.example.com:6514\")");
                            address.reset();
                        }
                        keep(address, output.address);
                    })
                .on("transport",
                    [&](const toml::node& node, const std::string& p) {
                        const auto transport = read_text(errors, node, p, kMaxName);
                        if (transport && (*transport == "udp" || *transport == "tcp")) {
                            output.tcp = *transport == "tcp";
                            return;
                        }
                        if (transport) {
                            errors.add(node.source(), p + ": must be \"udp\" or \"tcp\", not " +
                                                          shown(*transport));
                        }
                        complete = false;
                    })
                .on("facility",
                    [&](const toml::node& node, const std::string& p) {
                        keep(read_integer(errors, node, p, 0, 23), output.facility);
                    })
                .on("app_name", [&](const toml::node& node, const std::string& p) {
                    // RFC 5424's APP-NAME: 1 to 48 printable characters, no spaces.
                    auto name = read_name(errors, node, p);
                    constexpr size_t kAppName = 48;
                    if (name && name->size() > kAppName) {
                        errors.add(node.source(), p + ": at most 48 characters");
                        name.reset();
                    }
                    keep(name, output.app_name);
                });
            break;
        case OutputKind::Mqtt:
            has_target = true;
            section
                .on("topic",
                    [&](const toml::node& node, const std::string& p) {
                        auto topic = read_text(errors, node, p, kMaxName, false);
                        if (topic && topic->find_first_of("+#") != std::string::npos) {
                            errors.add(node.source(),
                                       p + ": a topic to publish on holds no wildcard (+ or #)");
                            topic.reset();
                        }
                        keep(topic, output.topic);
                    })
                .on("qos", [&](const toml::node& node, const std::string& p) {
                    keep(read_integer(errors, node, p, 0, 2), output.qos);
                });
            break;
    }
    section.run();
    if (!named) {
        errors.add(table.source(), path + ": an output needs a name");
        complete = false;
    }
    if (!has_target) {
        errors.add(table.source(), path + ": output " + shown(output.name) + " needs " +
                                       (kind == OutputKind::Webhook ? "a url" : "an address"));
        complete = false;
    }
    if (has_secret && has_secret_file) {
        errors.add(table.source(), path + ": output " + shown(output.name) +
                                       " gives both secret and secret_file; keep one");
        complete = false;
    }
    context.read.push_back({std::move(output), complete, table.source()});
}

void read_layers(Errors& errors, const toml::table& table, const std::string& path,
                 std::map<std::string, SettingsLayer>& layers, const char* what) {
    for (auto&& [key, node] : table) {
        const std::string name(key.str());
        const std::string child = child_path(path, name);
        if (name.empty() || name.size() > kMaxName) {
            errors.add(key.source(),
                       child + ": a " + std::string(what) + " name is 1 to 128 characters long");
            continue;
        }
        if (const auto* section = node.as_table()) {
            LayerReader(errors, layers[name]).read(*section, child);
        } else {
            errors.add(node.source(),
                       child + ": must be a table ([" + child + "]), not " + described(node));
        }
    }
}

void read_policy(Errors& errors, const toml::table& root, const fs::path& directory,
                 Policy& policy) {
    std::map<std::string, int> suppression_names;
    OutputContext outputs{errors, directory, {}};
    Section(root, "", errors)
        .on("defaults", table_of(errors,
                                 [&](const toml::table& t, const std::string& p) {
                                     LayerReader(errors, policy.defaults).read(t, p);
                                 }))
        .on("groups", table_of(errors,
                               [&](const toml::table& t, const std::string& p) {
                                   read_layers(errors, t, p, policy.groups, "group");
                               }))
        .on("devices", table_of(errors,
                                [&](const toml::table& t, const std::string& p) {
                                    read_layers(errors, t, p, policy.devices, "device");
                                }))
        .on("suppress", tables_of(errors,
                                  [&](const toml::table& t, const std::string& p) {
                                      read_suppression(errors, t, p, suppression_names, policy);
                                  }))
        .on("outputs",
            table_of(errors,
                     [&](const toml::table& t, const std::string& p) {
                         Section(t, p, errors)
                             .on("webhook",
                                 tables_of(errors,
                                           [&](const toml::table& o, const std::string& q) {
                                               read_output(outputs, OutputKind::Webhook, o, q);
                                           }))
                             .on("syslog",
                                 tables_of(errors,
                                           [&](const toml::table& o, const std::string& q) {
                                               read_output(outputs, OutputKind::Syslog, o, q);
                                           }))
                             .on("mqtt", tables_of(errors,
                                                   [&](const toml::table& o, const std::string& q) {
                                                       read_output(outputs, OutputKind::Mqtt, o, q);
                                                   }))
                             .run();
                     }))
        .run();
    keep_outputs(errors, std::move(outputs.read), policy);
}

}  // namespace

std::string format_error(const std::string& source, const PolicyError& error) {
    std::ostringstream out;
    out << source << ":" << error.line << ":" << error.column << ": " << error.message;
    return out.str();
}

PolicyParse parse_policy(std::string_view text, std::string source_name) {
    PolicyParse result;
    if (text.size() > kMaxPolicyBytes) {
        result.errors.push_back({1, 1,
                                 "the file is " + std::to_string(text.size()) +
                                     " bytes; a policy is at most " +
                                     std::to_string(kMaxPolicyBytes) + " bytes"});
        return result;
    }
    toml::table root;
    try {
        root = toml::parse(text, source_name);
    } catch (const toml::parse_error& error) {
        result.errors.push_back({static_cast<int>(error.source().begin.line),
                                 static_cast<int>(error.source().begin.column),
                                 "TOML syntax: " + std::string(error.description())});
        return result;
    }
    Errors errors;
    Policy policy;
    policy.source = source_name;
    read_policy(errors, root, fs::path(source_name).parent_path(), policy);
    if (!errors.empty()) {
        result.errors = errors.take();
        return result;
    }
    result.policy = std::move(policy);
    return result;
}

}  // namespace vigil::hub::detect

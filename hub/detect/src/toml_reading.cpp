#include "vigil/hub/detect/toml_reading.hpp"

#include "policy_names.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::hub::detect::toml_reading {

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : separator) + item;
    }
    return out;
}

bool bare_key(const std::string& key) {
    if (key.empty()) {
        return false;
    }
    for (const char c : key) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

/// A key as it would be written in a table header: devices."cam.7".flood
std::string child_path(const std::string& parent, const std::string& key) {
    std::string written = key;
    if (!bare_key(key)) {
        written = "\"";
        for (const char c : key) {
            if (c == '"' || c == '\\') {
                written += '\\';
            }
            written += c;
        }
        written += "\"";
    }
    return parent.empty() ? written : parent + "." + written;
}

const char* described(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "true/false";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string shown(const std::string& text) {
    constexpr size_t kShown = 60;
    return "\"" + (text.size() > kShown ? text.substr(0, kShown) + "..." : text) + "\"";
}

Handler table_of(Errors& errors, Nested nested) {
    return [&errors, nested = std::move(nested)](const toml::node& node, const std::string& path) {
        if (const auto* table = node.as_table()) {
            nested(*table, path);
        } else {
            errors.add(node.source(), path + ": must be a table, not " + described(node));
        }
    };
}

/// [[path]] entries: each element must be a table.
Handler tables_of(Errors& errors, Nested nested) {
    return [&errors, nested = std::move(nested)](const toml::node& node, const std::string& path) {
        const auto* array = node.as_array();
        if (array == nullptr) {
            errors.add(node.source(), path + ": must be an array of tables ([[" + path +
                                          "]] sections), not " + described(node));
            return;
        }
        for (const toml::node& item : *array) {
            if (const auto* table = item.as_table()) {
                nested(*table, path);
            } else {
                errors.add(item.source(),
                           path + ": every entry must be a table, not " + described(item));
            }
        }
    };
}

// Readers: each checks one value and answers it, or reports why not and answers nothing.

std::optional<int64_t> read_integer(Errors& errors, const toml::node& node, const std::string& path,
                                    int64_t minimum, int64_t maximum) {
    const auto* value = node.as_integer();
    const std::string range = std::to_string(minimum) + " to " + std::to_string(maximum);
    if (value == nullptr) {
        errors.add(node.source(),
                   path + ": must be an integer from " + range + ", not " + described(node));
        return std::nullopt;
    }
    if (value->get() < minimum || value->get() > maximum) {
        errors.add(node.source(),
                   path + ": " + std::to_string(value->get()) + " is out of range (" + range + ")");
        return std::nullopt;
    }
    return value->get();
}

std::optional<bool> read_flag(Errors& errors, const toml::node& node, const std::string& path) {
    if (const auto* value = node.as_boolean()) {
        return value->get();
    }
    errors.add(node.source(), path + ": must be true or false, not " + described(node));
    return std::nullopt;
}

std::optional<std::string> read_text(Errors& errors, const toml::node& node,
                                     const std::string& path, size_t maximum, bool may_be_empty) {
    const auto* value = node.as_string();
    if (value == nullptr) {
        errors.add(node.source(), path + ": must be a string, not " + described(node));
        return std::nullopt;
    }
    const std::string& text = value->get();
    if (text.size() > maximum) {
        errors.add(node.source(), path + ": is " + std::to_string(text.size()) +
                                      " bytes long; at most " + std::to_string(maximum));
        return std::nullopt;
    }
    if (!may_be_empty && text.empty()) {
        errors.add(node.source(), path + ": must not be empty");
        return std::nullopt;
    }
    return text;
}

/// Names of rules, outputs and suppressions end up in alert types and metric labels.
std::optional<std::string> read_name(Errors& errors, const toml::node& node,
                                     const std::string& path) {
    auto text = read_text(errors, node, path, kMaxName, false);
    if (!text) {
        return std::nullopt;
    }
    for (const char c : *text) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
            errors.add(node.source(), path + ": " + shown(*text) +
                                          " may hold only letters, digits, '_', '-' and '.'");
            return std::nullopt;
        }
    }
    return text;
}

std::optional<Severity> read_severity(Errors& errors, const toml::node& node,
                                      const std::string& path) {
    return read_named<Severity>(errors, node, path, kSeverityNames, "severity");
}

std::string duration_text(int64_t ms) {
    if (ms % kDay == 0) {
        return std::to_string(ms / kDay) + "d";
    }
    if (ms % (3600 * kSecond) == 0) {
        return std::to_string(ms / (3600 * kSecond)) + "h";
    }
    if (ms % (60 * kSecond) == 0) {
        return std::to_string(ms / (60 * kSecond)) + "m";
    }
    if (ms % kSecond == 0) {
        return std::to_string(ms / kSecond) + "s";
    }
    return std::to_string(ms) + "ms";
}

/// "30s", "5m", "1h", "1d", "250ms", or an integer number of seconds; answers milliseconds.
std::optional<int64_t> parse_duration_ms(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    constexpr size_t kMaxDigits = 9;  // no overflow below, whatever the unit
    if (digits == 0 || digits > kMaxDigits) {
        return std::nullopt;
    }
    const int64_t count = std::stoll(text.substr(0, digits));
    const std::string unit = text.substr(digits);
    static const std::map<std::string, int64_t> kUnits = {
        {"ms", 1}, {"s", kSecond}, {"m", 60 * kSecond}, {"h", 3600 * kSecond}, {"d", kDay}};
    const auto found = kUnits.find(unit);
    if (found == kUnits.end()) {
        return std::nullopt;
    }
    return count * found->second;
}

std::optional<int64_t> read_duration_ms(Errors& errors, const toml::node& node,
                                        const std::string& path, int64_t minimum, int64_t maximum) {
    const std::string range = duration_text(minimum) + " to " + duration_text(maximum);
    std::optional<int64_t> ms;
    if (const auto* seconds = node.as_integer()) {
        if (seconds->get() >= 0 && seconds->get() <= maximum / kSecond + 1) {
            ms = seconds->get() * kSecond;
        } else {
            errors.add(node.source(), path + ": " + std::to_string(seconds->get()) +
                                          " seconds is out of range (" + range + ")");
            return std::nullopt;
        }
    } else if (const auto* text = node.as_string()) {
        ms = parse_duration_ms(text->get());
        if (!ms) {
            errors.add(node.source(), path + ": " + shown(text->get()) +
                                          " is not a duration (\"30s\", \"5m\", \"1h\", \"1d\", "
                                          "\"500ms\" or a number of seconds)");
            return std::nullopt;
        }
    } else {
        errors.add(node.source(), path +
                                      ": must be a duration (\"30s\", \"5m\", \"1h\", \"1d\" "
                                      "or a number of seconds), not " +
                                      described(node));
        return std::nullopt;
    }
    if (*ms < minimum || *ms > maximum) {
        errors.add(node.source(),
                   path + ": " + duration_text(*ms) + " is out of range (" + range + ")");
        return std::nullopt;
    }
    return ms;
}

/// Windows and intervals: whole seconds from 1 s to 1 day.
std::optional<uint32_t> read_window_s(Errors& errors, const toml::node& node,
                                      const std::string& path) {
    const auto ms = read_duration_ms(errors, node, path, kSecond, kDay);
    if (!ms) {
        return std::nullopt;
    }
    if (*ms % kSecond != 0) {
        errors.add(node.source(), path + ": must be whole seconds");
        return std::nullopt;
    }
    return static_cast<uint32_t>(*ms / kSecond);
}

std::optional<double> read_threshold(Errors& errors, const toml::node& node,
                                     const std::string& path) {
    std::optional<double> value;
    if (const auto* integer = node.as_integer()) {
        value = static_cast<double>(integer->get());
    } else if (const auto* floating = node.as_floating_point()) {
        value = floating->get();
    } else {
        errors.add(node.source(), path + ": must be a number, not " + described(node));
        return std::nullopt;
    }
    if (!std::isfinite(*value) || *value < 0) {
        errors.add(node.source(), path + ": must be a finite number of at least 0");
        return std::nullopt;
    }
    return value;
}

std::optional<std::vector<Cidr>> read_cidrs(Errors& errors, const toml::node& node,
                                            const std::string& path) {
    return read_list<Cidr>(errors, node, path, "address blocks (\"10.0.0.0/8\")",
                           [&](const toml::node& element) -> std::optional<Cidr> {
                               const auto text = read_text(errors, element, path, kMaxName);
                               if (!text) {
                                   return std::nullopt;
                               }
                               CidrParse parsed = parse_cidr(*text);
                               if (!parsed.cidr) {
                                   errors.add(element.source(),
                                              path + ": " + shown(*text) + ": " + parsed.error);
                               }
                               return parsed.cidr;
                           });
}

std::optional<std::vector<uint16_t>> read_ports(Errors& errors, const toml::node& node,
                                                const std::string& path) {
    return read_list<uint16_t>(errors, node, path, "port numbers",
                               [&](const toml::node& element) -> std::optional<uint16_t> {
                                   const auto port = read_integer(errors, element, path, 0, 65535);
                                   if (!port) {
                                       return std::nullopt;
                                   }
                                   return static_cast<uint16_t>(*port);
                               });
}

}  // namespace vigil::hub::detect::toml_reading

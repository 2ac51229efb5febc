// Reading a TOML document section by section: every key must be one the section knows, every
// value is checked for its type and range, and each problem is kept with its place, so that one
// pass reports every error of the file.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "vigil/hub/detect/ip_address.hpp"
#include "vigil/hub/detect/policy_parse.hpp"
#include "vigil/hub/enum_names.hpp"

namespace vigil::hub::detect::toml_reading {

inline constexpr int64_t kSecond = 1000;
inline constexpr int64_t kDay = 86400 * kSecond;
inline constexpr size_t kMaxName = 128;
inline constexpr size_t kMaxText = 4096;
inline constexpr size_t kMaxSecret = 1024;

class Errors {
  public:
    void add(const toml::source_region& where, std::string message) {
        errors_.push_back({static_cast<int>(where.begin.line), static_cast<int>(where.begin.column),
                           std::move(message)});
    }
    bool empty() const { return errors_.empty(); }
    /// In the file's order, whatever order the checks ran in.
    std::vector<PolicyError> take() {
        std::stable_sort(errors_.begin(), errors_.end(),
                         [](const PolicyError& a, const PolicyError& b) {
                             return a.line != b.line ? a.line < b.line : a.column < b.column;
                         });
        return std::move(errors_);
    }

  private:
    std::vector<PolicyError> errors_;
};

std::string join(const std::vector<std::string>& items, const char* separator);

bool bare_key(const std::string& key);

/// A key as it would be written in a table header: devices."cam.7".flood
std::string child_path(const std::string& parent, const std::string& key);

const char* described(const toml::node& node);

std::string shown(const std::string& text);

using Handler = std::function<void(const toml::node& value, const std::string& path)>;

/// One table of the file: every key must be one it knows; each handler checks its value.
class Section {
  public:
    Section(const toml::table& table, std::string path, Errors& errors)
        : table_(table), path_(std::move(path)), errors_(errors) {}

    Section& on(const std::string& key, Handler handler) {
        names_.push_back(key);
        handlers_[key] = std::move(handler);
        return *this;
    }

    void run() {
        for (auto&& [key, node] : table_) {
            const std::string name(key.str());
            const auto handler = handlers_.find(name);
            if (handler == handlers_.end()) {
                const std::string where = path_.empty() ? "at the top level" : "in [" + path_ + "]";
                errors_.add(key.source(), "unknown key " + shown(name) + " " + where +
                                              " (known: " + join(names_, ", ") + ")");
                continue;
            }
            handler->second(node, child_path(path_, name));
        }
    }

  private:
    const toml::table& table_;
    std::string path_;
    Errors& errors_;
    std::vector<std::string> names_;
    std::map<std::string, Handler> handlers_;
};

using Nested = std::function<void(const toml::table& table, const std::string& path)>;

Handler table_of(Errors& errors, Nested nested);

/// [[path]] entries: each element must be a table.
Handler tables_of(Errors& errors, Nested nested);

std::optional<int64_t> read_integer(Errors& errors, const toml::node& node, const std::string& path,
                                    int64_t minimum, int64_t maximum);

std::optional<bool> read_flag(Errors& errors, const toml::node& node, const std::string& path);

std::optional<std::string> read_text(Errors& errors, const toml::node& node,
                                     const std::string& path, size_t maximum,
                                     bool may_be_empty = true);

/// Names of rules, outputs and suppressions end up in alert types and metric labels.
std::optional<std::string> read_name(Errors& errors, const toml::node& node,
                                     const std::string& path);

std::optional<Severity> read_severity(Errors& errors, const toml::node& node,
                                      const std::string& path);

std::string duration_text(int64_t ms);

/// "30s", "5m", "1h", "1d", "250ms", or an integer number of seconds; answers milliseconds.
std::optional<int64_t> parse_duration_ms(const std::string& text);

std::optional<int64_t> read_duration_ms(Errors& errors, const toml::node& node,
                                        const std::string& path, int64_t minimum, int64_t maximum);

/// Windows and intervals: whole seconds from 1 s to 1 day.
std::optional<uint32_t> read_window_s(Errors& errors, const toml::node& node,
                                      const std::string& path);

std::optional<double> read_threshold(Errors& errors, const toml::node& node,
                                     const std::string& path);

std::optional<std::vector<Cidr>> read_cidrs(Errors& errors, const toml::node& node,
                                            const std::string& path);

std::optional<std::vector<uint16_t>> read_ports(Errors& errors, const toml::node& node,
                                                const std::string& path);

template <typename Enum, size_t N>
std::optional<Enum> read_named(Errors& errors, const toml::node& node, const std::string& path,
                               const std::array<const char*, N>& names, const char* what) {
    const auto text = read_text(errors, node, path, kMaxName);
    if (!text) {
        return std::nullopt;
    }
    if (auto value = value_named<Enum>(*text, names)) {
        return value;
    }
    std::vector<std::string> known(names.begin(), names.end());
    errors.add(node.source(), path + ": unknown " + what + " " + shown(*text) +
                                  " (known: " + join(known, ", ") + ")");
    return std::nullopt;
}

template <typename Item, typename ReadItem>
std::optional<std::vector<Item>> read_list(Errors& errors, const toml::node& node,
                                           const std::string& path, const char* of,
                                           ReadItem read_item) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        errors.add(node.source(),
                   path + ": must be an array of " + of + ", not " + described(node));
        return std::nullopt;
    }
    std::vector<Item> items;
    bool complete = true;
    for (const toml::node& element : *array) {
        if (auto item = read_item(element)) {
            items.push_back(std::move(*item));
        } else {
            complete = false;
        }
    }
    if (!complete) {
        return std::nullopt;
    }
    return items;
}

}  // namespace vigil::hub::detect::toml_reading

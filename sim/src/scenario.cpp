#include "scenario.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "packet_writer.hpp"
#include "profiles.hpp"

namespace vigil::sim {
namespace {

std::string where(const toml::node& node, const std::string& source) {
    const toml::source_region& at = node.source();
    return source + ":" + std::to_string(at.begin.line) + ": ";
}

class Reader {
  public:
    Reader(const std::string& source, std::vector<std::string>& errors)
        : source_(source), errors_(errors) {}

    void error(const toml::node& node, const std::string& text) {
        errors_.push_back(where(node, source_) + text);
    }

    /// A non-negative number (integer or float) at key, or nothing when absent.
    std::optional<double> number(const toml::table& table, const char* key) {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        std::optional<double> value;
        if (const auto i = node->value<int64_t>(); i && node->is_integer()) {
            value = static_cast<double>(*i);
        } else if (const auto f = node->value<double>(); f && node->is_floating_point()) {
            value = *f;
        }
        if (!value || *value < 0) {
            error(*node, std::string(key) + " must be a number >= 0");
            return std::nullopt;
        }
        return value;
    }

    std::optional<std::string> text(const toml::table& table, const char* key) {
        const toml::node* node = table.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_string()) {
            error(*node, std::string(key) + " must be a string");
            return std::nullopt;
        }
        return *node->value<std::string>();
    }

    void unknown_keys(const toml::table& table, const std::set<std::string>& known,
                      const std::string& section) {
        for (const auto& [key, node] : table) {
            if (known.count(std::string(key.str())) == 0) {
                error(node, "unknown key " + std::string(key.str()) + " in " + section);
            }
        }
    }

  private:
    const std::string& source_;
    std::vector<std::string>& errors_;
};

std::optional<AttackKind> attack_kind(const std::string& name) {
    for (AttackKind kind :
         {AttackKind::PortScanInbound, AttackKind::TelnetScan, AttackKind::VulnerableFirmware,
          AttackKind::BackdoorListener, AttackKind::Flood, AttackKind::Beaconing,
          AttackKind::Exfiltration, AttackKind::Silence, AttackKind::SharedIdentity}) {
        if (name == to_string(kind)) {
            return kind;
        }
    }
    return std::nullopt;
}

void read_simulation(Reader& r, const toml::table& table, Scenario& s) {
    r.unknown_keys(table, {"speed", "duration_s", "seed", "prefix"}, "[simulation]");
    if (const auto speed = r.number(table, "speed")) {
        if (*speed <= 0) {
            r.error(*table.get("speed"), "speed must be above 0");
        } else {
            s.speed = *speed;
        }
    }
    if (const auto duration = r.number(table, "duration_s")) {
        s.duration_ms = static_cast<uint64_t>(*duration * 1000);
    }
    if (const auto seed = r.number(table, "seed")) {
        s.seed = static_cast<uint32_t>(*seed);
    }
    if (const auto prefix = r.text(table, "prefix")) {
        s.prefix = *prefix;
    }
}

void read_fleet(Reader& r, const toml::table& table, Scenario& s) {
    for (const Profile& profile : profiles()) {
        if (const auto count = r.number(table, profile.name.c_str())) {
            s.fleet.emplace_back(profile.name, static_cast<uint32_t>(*count));
        }
    }
    std::set<std::string> names;
    for (const Profile& profile : profiles()) {
        names.insert(profile.name);
    }
    r.unknown_keys(table, names, "[fleet] (profiles: sensor, camera, gateway, plc)");
}

void read_attack(Reader& r, const toml::table& table, const std::set<std::string>& ids,
                 Scenario& s) {
    r.unknown_keys(table,
                   {"kind", "at_s", "device", "devices", "source", "ports", "targets", "rate_per_s",
                    "os_name", "os_version", "stack_name", "stack_version", "port", "packets_per_s",
                    "duration_s", "destination", "interval_s", "bytes"},
                   "[[attack]]");
    AttackSpec a;
    const auto kind_name = r.text(table, "kind");
    const auto kind = kind_name ? attack_kind(*kind_name) : std::nullopt;
    if (!kind) {
        r.error(table,
                "[[attack]] needs kind = \"port_scan_inbound\", \"telnet_scan\", "
                "\"vulnerable_firmware\", \"backdoor_listener\", \"flood\", \"beaconing\", "
                "\"exfiltration\", \"silence\" or \"shared_identity\"");
        return;
    }
    a.kind = *kind;
    if (const auto at = r.number(table, "at_s")) {
        a.at_ms = static_cast<uint64_t>(*at * 1000);
    }
    if (const auto device = r.text(table, "device")) {
        a.devices.push_back(*device);
    }
    if (const toml::node* list = table.get("devices")) {
        const toml::array* array = list->as_array();
        if (array == nullptr) {
            r.error(*list, "devices must be a list of device ids");
        } else {
            for (const toml::node& item : *array) {
                if (const auto id = item.value<std::string>(); id && item.is_string()) {
                    a.devices.push_back(*id);
                } else {
                    r.error(item, "devices must be a list of device ids");
                }
            }
        }
    }
    if (a.devices.empty()) {
        r.error(table, "[[attack]] names no device (device = \"...\" or devices = [...])");
    }
    for (const std::string& id : a.devices) {
        if (ids.count(id) == 0) {
            r.error(table, "[[attack]] names " + id + ", which the fleet does not hold");
        }
    }
    if (const auto ports = r.number(table, "ports")) {
        a.ports = static_cast<uint32_t>(*ports);
    }
    if (a.kind == AttackKind::BackdoorListener) {
        a.source = "198.51.100.77";
        a.rate_per_s = 1.0 / 30;
    } else if (a.kind == AttackKind::Flood) {
        a.source = "198.51.100.99";
        a.port = 80;
    } else if (a.kind == AttackKind::Beaconing) {
        a.port = 443;
    } else if (a.kind == AttackKind::Exfiltration) {
        a.destination = "198.51.100.200";
        a.port = 443;
        a.duration_ms = 60000;
    } else if (a.kind == AttackKind::Silence) {
        a.duration_ms = 0;
    } else if (a.kind == AttackKind::SharedIdentity) {
        a.duration_ms = 120000;
    }
    if (table.get("destination") != nullptr) {
        a.destination = r.text(table, "destination").value_or(a.destination);
    }
    if (IpAddress::parse(a.destination).family != 4) {
        r.error(table, "destination must be a numeric IPv4 address");
    }
    if (const auto interval = r.number(table, "interval_s")) {
        if (*interval < 1) {
            r.error(*table.get("interval_s"), "interval_s must be at least 1");
        } else {
            a.interval_ms = static_cast<uint64_t>(*interval * 1000);
        }
    }
    if (const auto bytes = r.number(table, "bytes")) {
        a.bytes = static_cast<uint64_t>(*bytes);
    }
    if (table.get("source") != nullptr) {
        a.source = r.text(table, "source").value_or(a.source);
    }
    if (IpAddress::parse(a.source).family != 4) {
        r.error(table, "source must be a numeric IPv4 address");
    }
    if (const auto port = r.number(table, "port")) {
        if (*port < 1 || *port > 65535) {
            r.error(*table.get("port"), "port must be 1 to 65535");
        } else {
            a.port = static_cast<uint16_t>(*port);
        }
    }
    if (const auto rate = r.number(table, "packets_per_s")) {
        a.packets_per_s = static_cast<uint32_t>(*rate);
    }
    if (const auto duration = r.number(table, "duration_s")) {
        a.duration_ms = static_cast<uint64_t>(*duration * 1000);
    }
    if (const auto targets = r.number(table, "targets")) {
        a.targets = static_cast<uint32_t>(*targets);
    }
    if (const auto rate = r.number(table, "rate_per_s")) {
        if (*rate <= 0) {
            r.error(*table.get("rate_per_s"), "rate_per_s must be above 0");
        } else {
            a.rate_per_s = *rate;
        }
    }
    for (auto [key, field] : {std::pair{"os_name", &a.os_name},
                              {"os_version", &a.os_version},
                              {"stack_name", &a.stack_name},
                              {"stack_version", &a.stack_version}}) {
        if (const auto value = r.text(table, key)) {
            *field = *value;
        }
    }
    s.attacks.push_back(std::move(a));
}

}  // namespace

const char* to_string(AttackKind kind) {
    switch (kind) {
        case AttackKind::PortScanInbound:
            return "port_scan_inbound";
        case AttackKind::TelnetScan:
            return "telnet_scan";
        case AttackKind::VulnerableFirmware:
            return "vulnerable_firmware";
        case AttackKind::BackdoorListener:
            return "backdoor_listener";
        case AttackKind::Flood:
            return "flood";
        case AttackKind::Beaconing:
            return "beaconing";
        case AttackKind::Exfiltration:
            return "exfiltration";
        case AttackKind::Silence:
            return "silence";
        case AttackKind::SharedIdentity:
            return "shared_identity";
    }
    return "?";
}

std::string device_id(const Scenario& scenario, const std::string& profile, uint32_t n) {
    return scenario.prefix + profile + "-" + std::to_string(n);
}

std::optional<Scenario> parse_scenario(const std::string& text, const std::string& source,
                                       std::vector<std::string>& errors) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        errors.push_back(source + ":" + std::to_string(e.source().begin.line) + ": " +
                         std::string(e.description()));
        return std::nullopt;
    }
    Reader r(source, errors);
    r.unknown_keys(root, {"simulation", "fleet", "attack"}, "the scenario");
    Scenario s;
    if (const toml::table* simulation = root["simulation"].as_table()) {
        read_simulation(r, *simulation, s);
    }
    if (const toml::table* fleet = root["fleet"].as_table()) {
        read_fleet(r, *fleet, s);
    } else {
        errors.push_back(source + ": no [fleet] table (e.g. sensor = 10)");
    }
    std::set<std::string> ids;
    for (const auto& [profile, count] : s.fleet) {
        for (uint32_t n = 0; n < count; ++n) {
            ids.insert(device_id(s, profile, n));
        }
    }
    if (const toml::node* attacks = root.get("attack")) {
        const toml::array* array = attacks->as_array();
        if (array == nullptr) {
            r.error(*attacks, "attacks are written [[attack]]");
        } else {
            for (const toml::node& item : *array) {
                if (const toml::table* table = item.as_table()) {
                    read_attack(r, *table, ids, s);
                } else {
                    r.error(item, "attacks are written [[attack]]");
                }
            }
        }
    }
    if (!errors.empty()) {
        return std::nullopt;
    }
    return s;
}

std::optional<Scenario> load_scenario(const std::string& path, std::vector<std::string>& errors) {
    std::ifstream in(path);
    if (!in) {
        errors.push_back(path + ": cannot be read");
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_scenario(text.str(), path, errors);
}

}  // namespace vigil::sim

#include "vigil/hub/recommend/broker_connections.hpp"

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace vigil::hub::recommend {

namespace {

// What one report entry says: [number, "address", tls 0|1, unix seconds].
struct Entry {
    uint64_t number = 0;
    std::string address;
    bool tls = false;
    int64_t since_s = 0;
};

std::optional<Entry> read_entry(const nlohmann::json& entry) {
    if (!entry.is_array() || entry.size() != 4 || !entry[0].is_number_unsigned() ||
        !entry[1].is_string() || !entry[2].is_number_unsigned() || !entry[3].is_number_integer()) {
        return std::nullopt;
    }
    Entry out{entry[0].get<uint64_t>(), entry[1].get<std::string>(), entry[2].get<uint64_t>() != 0,
              entry[3].get<int64_t>()};
    // The guard writes at most 63 bytes of mosquitto's address text.
    if (out.address.empty() || out.address.size() > 63) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

bool note_turn(std::string& current, std::string& previous, uint32_t& returns,
               int64_t& last_return_ms, const std::string& value, int64_t when_ms,
               int64_t forget_after_ms) {
    if (returns > 0 && when_ms - last_return_ms > forget_after_ms) {
        returns = 0;
    }
    if (current.empty() || value == current) {
        current = value;
        return false;
    }
    if (value == previous) {
        ++returns;
        last_return_ms = when_ms;
    }
    previous = std::move(current);
    current = value;
    return true;
}

bool BrokerConnections::take_report(const std::string& payload) {
    const nlohmann::json report = nlohmann::json::parse(payload, nullptr, false);
    if (!report.is_object() || !report.contains("epoch") || !report["epoch"].is_string() ||
        !report.contains("devices") || !report["devices"].is_object()) {
        return false;
    }
    const std::string epoch = report["epoch"].get<std::string>();
    std::vector<std::pair<std::string, std::vector<Entry>>> taken;
    for (const auto& [device, connections] : report["devices"].items()) {
        if (!connections.is_object() || !connections.contains("recent") ||
            !connections["recent"].is_array()) {
            return false;
        }
        std::vector<Entry> entries;
        for (const nlohmann::json& entry : connections["recent"]) {
            std::optional<Entry> read = read_entry(entry);
            if (!read) {
                return false;
            }
            entries.push_back(std::move(*read));
        }
        taken.emplace_back(device, std::move(entries));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [device, entries] : taken) {
        Known& known = devices_[device];
        if (known.epoch != epoch) {
            known.epoch = epoch;
            known.connection.number = 0;
        }
        DeviceConnection& c = known.connection;
        for (Entry& entry : entries) {
            if (entry.number <= c.number) {
                continue;
            }
            const int64_t since_ms = entry.since_s * 1000;
            note_turn(c.address, c.other_address, c.address_returns, c.last_return_ms,
                      entry.address, since_ms, forget_after_ms_);
            c.tls = entry.tls;
            c.since_ms = since_ms;
            c.number = entry.number;
        }
    }
    return true;
}

std::optional<DeviceConnection> BrokerConnections::find(const std::string& device_id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = devices_.find(device_id);
    if (found == devices_.end() || found->second.connection.number == 0) {
        return std::nullopt;
    }
    return found->second.connection;
}

}  // namespace vigil::hub::recommend

#include "report_json.hpp"

#include "vigil/hub/report_json.hpp"

namespace vigil::hub::json {

namespace {

using nlohmann::json;

// Parses without exceptions escaping: a malformed document is reported as nullopt.
template <typename T>
std::optional<T> parse(const std::string& text) {
    const json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) {
        return std::nullopt;
    }
    try {
        return document.get<T>();
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

// Strings from devices are not checked for UTF-8 on the way in; replace what is not.
std::string dump(const json& document) {
    return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string encode(const SystemInfo& system) {
    return dump(system);
}

std::string encode(const std::vector<ListeningPort>& ports) {
    return dump(ports);
}

std::string encode(const AgentStatus& status) {
    return dump(status);
}

std::optional<SystemInfo> decode_system(const std::string& text) {
    return parse<SystemInfo>(text);
}

std::optional<std::vector<ListeningPort>> decode_ports(const std::string& text) {
    return parse<std::vector<ListeningPort>>(text);
}

std::optional<AgentStatus> decode_status(const std::string& text) {
    return parse<AgentStatus>(text);
}

}  // namespace vigil::hub::json

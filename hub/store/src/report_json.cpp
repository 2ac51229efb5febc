#include "report_json.hpp"

#include <nlohmann/json.hpp>

namespace vigil::hub::json {

namespace {

using nlohmann::json;

std::optional<Protocol> protocol_from(const std::string& name) {
    for (Protocol protocol : {Protocol::Tcp, Protocol::Udp, Protocol::Icmp}) {
        if (name == to_string(protocol)) {
            return protocol;
        }
    }
    return std::nullopt;
}

// Parses without exceptions escaping: a malformed document is reported as nullopt.
template <typename T, typename Convert>
std::optional<T> parse(const std::string& text, Convert convert) {
    const json document = json::parse(text, nullptr, false);
    if (document.is_discarded()) {
        return std::nullopt;
    }
    try {
        return convert(document);
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::string encode(const SystemInfo& system) {
    return json{{"agent_version", system.agent_version},
                {"os_name", system.os_name},
                {"os_version", system.os_version},
                {"stack_name", system.stack_name},
                {"stack_version", system.stack_version},
                {"firmware_version", system.firmware_version},
                {"board", system.board},
                {"addresses", system.addresses},
                {"macs", system.macs}}
        .dump();
}

std::string encode(const std::vector<ListeningPort>& ports) {
    json list = json::array();
    for (const ListeningPort& port : ports) {
        list.push_back({{"protocol", to_string(port.protocol)},
                        {"port", port.port},
                        {"address", port.address},
                        {"interface", port.interface_name}});
    }
    return list.dump();
}

std::string encode(const AgentStatus& status) {
    json document{{"state", status.state},
                  {"config_version", status.config_version},
                  {"packets_seen", status.packets_seen},
                  {"packets_unparsed", status.packets_unparsed},
                  {"packets_ignored", status.packets_ignored},
                  {"overflow_packets", status.overflow_packets},
                  {"messages_sent", status.messages_sent},
                  {"send_failures", status.send_failures},
                  {"messages_dropped", status.messages_dropped},
                  {"backlog_messages", status.backlog_messages},
                  {"backlog_bytes", status.backlog_bytes},
                  {"rejected_config_reason", status.rejected_config_reason}};
    if (status.rejected_config_version) {
        document["rejected_config_version"] = *status.rejected_config_version;
    }
    return document.dump();
}

std::optional<SystemInfo> decode_system(const std::string& text) {
    return parse<SystemInfo>(text, [](const json& document) {
        SystemInfo system;
        document.at("agent_version").get_to(system.agent_version);
        document.at("os_name").get_to(system.os_name);
        document.at("os_version").get_to(system.os_version);
        document.at("stack_name").get_to(system.stack_name);
        document.at("stack_version").get_to(system.stack_version);
        document.at("firmware_version").get_to(system.firmware_version);
        document.at("board").get_to(system.board);
        document.at("addresses").get_to(system.addresses);
        document.at("macs").get_to(system.macs);
        return system;
    });
}

std::optional<std::vector<ListeningPort>> decode_ports(const std::string& text) {
    return parse<std::vector<ListeningPort>>(
        text, [](const json& document) -> std::optional<std::vector<ListeningPort>> {
            std::vector<ListeningPort> ports;
            for (const json& entry : document) {
                ListeningPort port;
                const auto protocol = protocol_from(entry.at("protocol").get<std::string>());
                if (!protocol) {
                    return std::nullopt;
                }
                port.protocol = *protocol;
                entry.at("port").get_to(port.port);
                entry.at("address").get_to(port.address);
                entry.at("interface").get_to(port.interface_name);
                ports.push_back(std::move(port));
            }
            return ports;
        });
}

std::optional<AgentStatus> decode_status(const std::string& text) {
    return parse<AgentStatus>(text, [](const json& document) {
        AgentStatus status;
        document.at("state").get_to(status.state);
        document.at("config_version").get_to(status.config_version);
        document.at("packets_seen").get_to(status.packets_seen);
        document.at("packets_unparsed").get_to(status.packets_unparsed);
        document.at("packets_ignored").get_to(status.packets_ignored);
        document.at("overflow_packets").get_to(status.overflow_packets);
        document.at("messages_sent").get_to(status.messages_sent);
        document.at("send_failures").get_to(status.send_failures);
        document.at("messages_dropped").get_to(status.messages_dropped);
        document.at("backlog_messages").get_to(status.backlog_messages);
        document.at("backlog_bytes").get_to(status.backlog_bytes);
        document.at("rejected_config_reason").get_to(status.rejected_config_reason);
        if (document.contains("rejected_config_version")) {
            status.rejected_config_version = document.at("rejected_config_version").get<uint32_t>();
        }
        return status;
    });
}

}  // namespace vigil::hub::json

// The parts of a report the store keeps as JSON documents (latest system info, listening ports
// and agent status): small, read whole, and queryable with SQLite's JSON functions or PostgreSQL's
// jsonb.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub::json {

std::string encode(const SystemInfo& system);
std::string encode(const std::vector<ListeningPort>& ports);
std::string encode(const AgentStatus& status);

/// nullopt when the text is not what encode() writes.
std::optional<SystemInfo> decode_system(const std::string& text);
std::optional<std::vector<ListeningPort>> decode_ports(const std::string& text);
std::optional<AgentStatus> decode_status(const std::string& text);

}  // namespace vigil::hub::json

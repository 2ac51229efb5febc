// The JSON form of a report and of its parts, in one place for every reader and writer: the
// API and `vigil decode` print reports with to_json(report), and the store keeps the latest
// system information, listening ports and agent status as JSON documents (to_json_text and
// parse_json_text). nlohmann::json finds the part functions by argument-dependent lookup:
// json(system), document.get<AgentStatus>() (include <nlohmann/json.hpp> to use them).
//
// Optional fields are left out when absent, so a reader can tell "not reported" from zero.
// from_json throws nlohmann::json::exception for a document of another shape.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub {

void to_json(nlohmann::json& out, const Flow& flow);
void to_json(nlohmann::json& out, const Overflow& overflow);
void to_json(nlohmann::json& out, const ListeningPort& port);
void to_json(nlohmann::json& out, const SystemInfo& system);
void to_json(nlohmann::json& out, const AgentStatus& status);
void to_json(nlohmann::json& out, const InterfaceTotals& totals);

void from_json(const nlohmann::json& in, ListeningPort& port);
void from_json(const nlohmann::json& in, SystemInfo& system);
void from_json(const nlohmann::json& in, AgentStatus& status);

/// The JSON form of a whole report, field names as in report.hpp; indent -1 writes one line.
/// Strings that are not UTF-8 (devices' payloads are not checked) are replaced, never thrown on.
std::string to_json(const Report& report, int indent = 2);

/// A part as one line of JSON, with the same replacement of what is not UTF-8.
std::string to_json_text(const SystemInfo& system);
std::string to_json_text(const std::vector<ListeningPort>& ports);
std::string to_json_text(const AgentStatus& status);

/// The inverse of to_json_text; nullopt when the text is not a document of that shape.
std::optional<SystemInfo> parse_system_json(const std::string& text);
std::optional<std::vector<ListeningPort>> parse_ports_json(const std::string& text);
std::optional<AgentStatus> parse_status_json(const std::string& text);

}  // namespace vigil::hub

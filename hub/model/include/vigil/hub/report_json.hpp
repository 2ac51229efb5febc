// The JSON form of the parts of a report, in one place for every reader and writer: the
// decoders' to_json (the API, `vigil decode`), and the store, which keeps the latest system
// information, listening ports and agent status as JSON documents. nlohmann::json finds these
// by argument-dependent lookup: json(system), document.get<AgentStatus>().
//
// Optional fields are left out when absent, so a reader can tell "not reported" from zero.
// from_json throws nlohmann::json::exception for a document of another shape.
#pragma once

#include <nlohmann/json.hpp>

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

}  // namespace vigil::hub

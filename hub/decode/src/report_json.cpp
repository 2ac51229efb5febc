// The JSON form of a Report; the parts' forms are in vigil/hub/report_json.hpp.
#include "vigil/hub/report_json.hpp"

#include "vigil/hub/decode.hpp"

namespace vigil::hub {

std::string to_json(const Report& report, int indent) {
    using nlohmann::json;
    json out = {{"format", to_string(report.format)},
                {"device_id", report.device_id},
                {"message_key", report.message_key},
                {"agent_version", report.agent_version},
                {"device_time_ms", report.device_time_ms},
                {"received_ms", report.received_ms},
                {"window_duration_ms", report.window_duration_ms},
                {"has_network", report.has_network},
                {"payload_bytes", report.payload_bytes},
                {"flows", report.flows},
                {"overflow", report.overflow}};
    if (report.listening_ports) {
        out["listening_ports"] = *report.listening_ports;
    }
    if (report.system) {
        out["system"] = *report.system;
    }
    if (report.status) {
        out["status"] = *report.status;
    }
    if (report.interface_totals) {
        out["interface_totals"] = *report.interface_totals;
    }
    // Strings from CBOR payloads are not checked for UTF-8; replace what is not, never throw.
    return out.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::hub

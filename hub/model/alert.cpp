#include "vigil/hub/alert.hpp"

namespace vigil::hub {

const char* to_string(AlertState state) {
    switch (state) {
        case AlertState::Open:
            return "open";
        case AlertState::Acknowledged:
            return "acknowledged";
        case AlertState::Resolved:
            return "resolved";
    }
    return "unknown";
}

const char* to_string(Severity severity) {
    switch (severity) {
        case Severity::Info:
            return "info";
        case Severity::Low:
            return "low";
        case Severity::Medium:
            return "medium";
        case Severity::High:
            return "high";
        case Severity::Critical:
            return "critical";
    }
    return "unknown";
}

}  // namespace vigil::hub

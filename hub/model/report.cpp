#include "vigil/hub/report.hpp"

namespace vigil::hub {

const char* to_string(Format format) {
    switch (format) {
        case Format::Vigil:
            return "vigil";
        case Format::LegacyDefender:
            return "legacy-defender";
        case Format::AwsDefender:
            return "aws-defender";
    }
    return "unknown";
}

const char* to_string(Protocol protocol) {
    switch (protocol) {
        case Protocol::Tcp:
            return "tcp";
        case Protocol::Udp:
            return "udp";
        case Protocol::Icmp:
            return "icmp";
    }
    return "unknown";
}

}  // namespace vigil::hub

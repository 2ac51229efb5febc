// The syslog output: RFC 5424 messages over UDP (one datagram each, at most 2048 bytes) or TCP
// with octet-counting framing (RFC 6587 §3.4.1). A TCP receiver that went away is found before
// the next message is written, and reconnected to with the output's backoff.
#pragma once

#include <memory>
#include <string>

#include "vigil/hub/outputs/output.hpp"

namespace vigil::hub::outputs {

/// nullptr and `error` set when the address is not "host:port" ("[v6]:port") or the facility is
/// above 23.
std::unique_ptr<Output> make_syslog_output(const detect::OutputSettings& settings,
                                           std::string& error, OutputLog log = nullptr);

}  // namespace vigil::hub::outputs

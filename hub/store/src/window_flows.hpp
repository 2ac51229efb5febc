// A window's flows as the window_flows table holds them (schema.cpp, version 4): one JSON array
// of arrays [local, remote, protocol, local_port, remote_port, bytes_in, bytes_out, packets_in,
// packets_out, remote_opened, handshake, local_interface], integers as SQLite holds them
// (unsigned counters as their int64 bit pattern), unknowns as null. The schema's "flows" view
// reads them back.
#pragma once

#include <cstddef>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub::sqlite {

/// Writes the flows' JSON into out and returns its length. out only grows, so one buffer serves
/// every report without being cleared.
size_t encode_window_flows(const std::vector<Flow>& flows, std::vector<char>& out);

}  // namespace vigil::hub::sqlite

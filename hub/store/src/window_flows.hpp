// A window's flows as the window_flows table holds them (schema.cpp, versions 4 and 9). Since
// version 9 a row has two JSON texts: `locals`, the window's local ends once each, as
// [address, interface] pairs; `flows`, an array of arrays [local_index, remote, protocol,
// local_port, remote_port, bytes_in, bytes_out, packets_in, packets_out, remote_opened,
// handshake], local_index pointing into `locals`, a handshake the decoders name as its code.
// Integers are as SQLite holds them (unsigned counters as their int64 bit pattern), unknowns
// null. The schema's "flows" view reads both forms.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/hub/report.hpp"

namespace vigil::hub::sqlite {

/// The distinct local ends (address and interface) of one window, in order of first use, and
/// which one each flow has. Kept by the writer between windows for its capacity.
class WindowLocals {
  public:
    void assign(const std::vector<Flow>& flows);
    const std::vector<std::pair<const std::string*, const std::string*>>& ends() const {
        return ends_;
    }
    size_t end_of_flow(size_t flow) const { return flow_ends_[flow]; }

  private:
    std::vector<std::pair<const std::string*, const std::string*>> ends_;
    std::vector<size_t> flow_ends_;
    // A map, not a search: a hostile window may give every flow a local end of its own.
    std::map<std::pair<std::string_view, std::string_view>, size_t> index_;
};

/// Where encode_window_flows() put the two texts in its buffer: the locals' JSON from its
/// start, the flows' JSON after it.
struct WindowFlowsText {
    size_t locals_end = 0;
    size_t flows_end = 0;
};

/// Writes the window's locals' JSON, then its flows' JSON, into out. out only grows, so one
/// buffer serves every report without being cleared.
WindowFlowsText encode_window_flows(const std::vector<Flow>& flows, std::vector<char>& out,
                                    WindowLocals& locals);

}  // namespace vigil::hub::sqlite

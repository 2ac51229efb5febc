// Upgrading a data directory whose broker still holds the ingest session under the client id
// earlier hubs used ("vigil-hub-ingest", before the hub's clients moved to the "vigil-hub/"
// namespace): what the broker queued there for the hub is read, committed and acknowledged like
// any message, and then the old session is ended so that the broker stops filling it.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "vigil/hub/ingest.hpp"

namespace vigil::hub {

/// The ingest session's client id before the "vigil-hub/" namespace.
constexpr const char* kLegacyIngestClientId = "vigil-hub-ingest";

/// Connects an ingest pipeline (`settings`, with the legacy client id) to the old session. No
/// session there: it ends the one the connection made, and returns at once. Otherwise it takes
/// messages until the broker has sent none for a second, commits them through `write`, and ends
/// the session. The current session must already be subscribed: messages that reach both are
/// stored once. Returns early when `stop` turns true (the old session then stays for next time).
void drain_legacy_session(IngestSettings settings, DecodeFunction decode, WriteFunction write,
                          const std::atomic<bool>& stop,
                          const std::function<void(const std::string&)>& log);

}  // namespace vigil::hub

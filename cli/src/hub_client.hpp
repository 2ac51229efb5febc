// The command line's side of the hub's HTTP API: one request, its JSON answer, and errors turned
// into sentences a person can act on.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vigil::cli {

struct HubOptions {
    std::string url;           ///< "http://127.0.0.1:8080"
    std::string token;         ///< "" sends none
    std::string token_source;  ///< where the token came from, for error messages
    int timeout_s = 10;
};

struct Answer {
    bool ok = false;
    int status = 0;       ///< 0 when the hub was not reached
    nlohmann::json body;  ///< parsed JSON, null when there was none
    std::string message;  ///< when !ok: what went wrong, for people
};

/// Sends one request; body is JSON text or empty.
Answer call_hub(const HubOptions& hub, const std::string& method, const std::string& path,
                const std::string& body = "");

/// One server-sent event: its name ("message" when the event gave none) and its data lines
/// joined by newlines.
struct StreamEvent {
    std::string name;
    std::string data;
};

/// Opens a server-sent event stream and hands each event to on_event until the stream ends, the
/// hub cannot be reached, or on_event returns false. `ok` is true when the stream was open (its
/// end is then the hub's doing); otherwise status and message say why it was not.
Answer stream_hub(const HubOptions& hub, const std::string& path,
                  const std::function<bool(const StreamEvent&)>& on_event);

/// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

/// A URL query built a parameter at a time ("?device=...&state=..."); empty values are left out.
class QueryString {
  public:
    void add(const char* name, const std::string& value);
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

}  // namespace vigil::cli

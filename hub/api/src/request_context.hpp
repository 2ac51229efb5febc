// What the server knows about the request a worker thread is answering: httplib runs the token
// check, the handler and the logger of one request on the same thread, one request at a time, so
// they share it through a thread-local rather than through httplib's const Request.
#pragma once

#include <chrono>
#include <string>

namespace vigil::hub::api {

struct RequestContext {
    std::string route = "unmatched";  ///< the route's label, once a handler was chosen
    std::string principal;            ///< "token:<name>" of the caller; "" without a token
    bool admin = false;               ///< the caller's token has the admin role
    std::chrono::steady_clock::time_point start;
    bool started = false;  ///< false for requests refused before routing (413)
};

RequestContext& current_request();

class ConnectionStream;

/// What the connection a worker answers on and the server's handlers tell each other about the
/// request in hand.
struct Exchange {
    ConnectionStream* stream = nullptr;
    /// The answer ends the connection: a body was not read (refused before it) or could not be.
    bool close_after_answer = false;
};

Exchange& current_exchange();

}  // namespace vigil::hub::api

// The server's side of what one connection may hold: bodies refused before they are read, one
// request answered on a gate's worker (connection_gate.hpp) over a ConnectionStream, and what the
// limits cut, for /metrics.
#include <strings.h>

#include "connection_stream.hpp"
#include "http_util.hpp"
#include "request_context.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

// The methods whose body httplib reads before the handler runs.
bool body_is_read(const std::string& method) {
    return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE" ||
           method == "PRI";
}

bool declares_body(const HttpRequest& req) {
    return req.has_header("Transfer-Encoding") ||
           (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

bool is_chunked(const HttpRequest& req) {
    return strcasecmp(req.get_header_value("Transfer-Encoding").c_str(), "chunked") == 0;
}

// Digits only, without overflow.
bool parse_length(const std::string& text, uint64_t& length) {
    if (text.empty() || text.size() > 19) {
        return false;
    }
    length = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        length = length * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
}

}  // namespace

void ApiServer::Impl::close_if_body_unread(const HttpRequest& req) {
    if (declares_body(req)) {
        // Refused before its body was read: what follows on the connection is that body.
        api::current_exchange().close_after_answer = true;
    }
}

bool ApiServer::Impl::refuse_body(const HttpRequest& req, HttpResponse& res) {
    api::Exchange& exchange = api::current_exchange();
    if (!body_is_read(req.method)) {
        // httplib leaves such a body unread, where it would be taken for the next request.
        exchange.close_after_answer = exchange.close_after_answer || declares_body(req);
        return false;
    }
    // Open to anyone, so they read no body.
    if (req.path == "/healthz" || req.path == "/metrics") {
        res.set_header("Allow", "GET, HEAD");
        api::send_error(res, 405, "method_not_allowed", req.path + " answers GET only");
        return true;
    }
    if (req.has_header("Content-Length")) {
        uint64_t length = 0;
        if (!parse_length(req.get_header_value("Content-Length"), length)) {
            exchange.close_after_answer = true;
            api::send_error(res, 400, "bad_request", "the Content-Length is not a number");
            return true;
        }
        if (length > settings_.max_body_bytes) {
            ++connection_counters_.bodies_too_large;
            api::send_error(
                res, 413, "payload_too_large",
                "the request body is over " + std::to_string(settings_.max_body_bytes) + " bytes");
            return true;
        }
        return false;
    }
    if (is_chunked(req)) {
        // httplib reads no body of a DELETE without a Content-Length.
        exchange.close_after_answer = exchange.close_after_answer || req.method == "DELETE";
        return false;  // read as it arrives, under the size limit (ConnectionStream)
    }
    if (req.method == "DELETE" && !req.has_header("Transfer-Encoding")) {
        return false;  // no body
    }
    ++connection_counters_.lengths_required;
    exchange.close_after_answer = true;  // whatever follows may be its body
    api::send_error(res, 411, "length_required",
                    "a request body needs a Content-Length or chunked Transfer-Encoding");
    return true;
}

api::AfterAnswer ApiServer::Impl::serve(api::Connection& connection) {
    api::ConnectionStream stream(connection, limits_, gate_->stopping());
    api::Exchange& exchange = api::current_exchange();
    exchange = api::Exchange{};
    exchange.stream = &stream;
    // Until the head parses, where this request ends (and the next begins) is unknown: a
    // refusal of the head closes the connection.
    exchange.close_after_answer = true;
    const bool last =
        connection.requests + 1 >= limits_.max_requests_per_connection || gate_->stopping().load();
    bool client_closes = false;
    const bool answered =
        server_.answer(stream, last, client_closes, [&stream, &exchange](httplib::Request&) {
            exchange.close_after_answer = false;
            stream.begin_body();
        });
    ++connection.requests;
    using Fault = api::ConnectionStream::Fault;
    const bool lingers = exchange.close_after_answer;
    exchange = api::Exchange{};
    if (!answered || stream.peer_closed() || stream.fault() == Fault::Failed) {
        return api::AfterAnswer::Close;
    }
    if (lingers || stream.fault() != Fault::None) {
        return api::AfterAnswer::Linger;  // what the client still sends is not a request
    }
    return last || client_closes ? api::AfterAnswer::Close : api::AfterAnswer::KeepAlive;
}

bool ApiServer::Impl::answer_stream_fault(HttpResponse& res) {
    api::Exchange& exchange = api::current_exchange();
    if (exchange.stream == nullptr) {
        return false;
    }
    using Fault = api::ConnectionStream::Fault;
    const Fault fault = exchange.stream->fault();
    if (fault == Fault::None) {
        return false;
    }
    exchange.close_after_answer = true;
    if (fault == Fault::BodyTooLarge) {
        ++connection_counters_.bodies_too_large;
        api::send_error(
            res, 413, "payload_too_large",
            "the request body is over " + std::to_string(settings_.max_body_bytes) + " bytes");
    } else if (fault == Fault::BodyTimeout) {
        ++connection_counters_.body_timeouts;
        api::send_error(res, 408, "request_timeout", "the request body did not arrive in time");
    } else if (fault == Fault::HeadTimeout) {
        ++connection_counters_.head_timeouts;
        api::send_error(res, 408, "request_timeout", "the request head did not arrive in time");
    } else {
        return false;
    }
    return true;
}

void ApiServer::Impl::write_connection_metrics(PrometheusWriter& out) const {
    const api::ConnectionCounters& c = connection_counters_;
    const auto value = [](const auto& counter) { return static_cast<double>(counter.load()); };
    out.family("vigil_api_connections", "gauge", "Connections open to the API.");
    out.sample("vigil_api_connections", {}, value(c.open));
    out.family("vigil_api_connections_waiting", "gauge",
               "Open connections that have not sent a whole request head.");
    out.sample("vigil_api_connections_waiting", {}, value(c.waiting));
    out.family("vigil_api_connections_refused_total", "counter",
               "Connections answered 503 at the connection cap: every connection was busy.");
    out.sample("vigil_api_connections_refused_total", {}, value(c.refused_at_capacity));
    out.family("vigil_api_connections_evicted_total", "counter",
               "Connections closed at the cap to make room, having sent no whole request.");
    out.sample("vigil_api_connections_evicted_total", {}, value(c.evicted));
    out.family("vigil_api_connections_idle_closed_total", "counter",
               "Connections closed after the idle timeout without a request begun.");
    out.sample("vigil_api_connections_idle_closed_total", {}, value(c.idle_closed));
    out.family("vigil_api_request_heads_refused_total", "counter",
               "Request heads cut by their deadline or refused for their size.");
    out.sample("vigil_api_request_heads_refused_total", {{"reason", "timeout"}},
               value(c.head_timeouts));
    out.sample("vigil_api_request_heads_refused_total", {{"reason", "too_large"}},
               value(c.heads_too_large));
    out.family("vigil_api_request_bodies_refused_total", "counter",
               "Request bodies refused: over the size limit, late, or of no stated length.");
    out.sample("vigil_api_request_bodies_refused_total", {{"reason", "too_large"}},
               value(c.bodies_too_large));
    out.sample("vigil_api_request_bodies_refused_total", {{"reason", "timeout"}},
               value(c.body_timeouts));
    out.sample("vigil_api_request_bodies_refused_total", {{"reason", "no_length"}},
               value(c.lengths_required));
}

}  // namespace vigil::hub

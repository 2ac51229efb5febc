// ApiServer's inside: the httplib server, the token check in front of every route, and the
// handlers, which live in one file per resource (routes_*.cpp).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "alert_stream.hpp"
#include "connection_gate.hpp"
#include "metrics.hpp"
#include "tokens.hpp"
#include "vigil/hub/api_server.hpp"

namespace vigil::hub {

// vigil::hub already has a Response (decode.hpp: a message to publish in answer).
using HttpRequest = httplib::Request;
using HttpResponse = httplib::Response;

/// httplib's server with its connections handed to the gate (connection_gate.hpp) as they are
/// accepted, rather than read on its pool's threads, and its request answering open to the
/// gate's workers.
class GatedServer final : public httplib::Server {
  public:
    std::function<void(socket_t)> on_accept;

    /// Reads one request from `stream` and answers it; see httplib's process_request.
    bool answer(httplib::Stream& stream, bool last, bool& client_closes,
                const std::function<void(httplib::Request&)>& on_head) {
        return process_request(stream, last, client_closes, on_head);
    }

    /// httplib listens with a backlog of 5: a burst of connections (an attack, or many honest
    /// clients at once) would drop the SYNs of everyone else, who then wait a second or more to
    /// retry. The gate takes connections as fast as they come, so the kernel may queue many.
    bool widen_backlog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }

  private:
    bool process_and_close_socket(socket_t sock) override {
        on_accept(sock);
        return true;
    }
};

/// Why `web_dir` cannot serve the dashboard (its index.html or the uPlot files npm installs are
/// missing), for people; empty when it can.
std::string dashboard_missing(const std::string& web_dir);

class ApiServer::Impl {
  public:
    Impl(ApiSettings settings, ApiStores store, HubControl& control);

    ApiResult start();
    void stop();
    uint16_t port() const { return port_; }

  private:
    using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;

    /// Registers `handler` for method and path pattern; `label` names the route in metrics.
    void route(const char* method, const char* pattern, const char* label, Handler handler);
    /// The same, for a handler that is one of ours taking the request and the response.
    void route(const char* method, const char* pattern, const char* label,
               void (Impl::*handler)(const HttpRequest&, HttpResponse&));
    void add_routes();
    void add_token_routes();
    void add_device_routes();
    void add_alert_routes();
    void add_suppression_routes();
    void add_policy_routes();
    void add_config_routes();
    void add_recommendation_routes();
    void add_vulnerability_routes();
    void add_web_routes();
    void add_overview_routes();
    httplib::Server::HandlerResponse authorize(const HttpRequest& req, HttpResponse& res);
    /// True, with the refusal answered, when the request's body may not be read: over the
    /// limit by its Content-Length, of no known length, or sent to a route that takes none.
    bool refuse_body(const HttpRequest& req, HttpResponse& res);
    /// After a refusal: a body the request declared was not read, so the connection ends.
    void close_if_body_unread(const HttpRequest& req);
    /// Answers one request on a worker (ConnectionGate::Serve).
    api::AfterAnswer serve(api::Connection& connection);
    void write_connection_metrics(PrometheusWriter& out) const;
    /// True, with the answer written, when the request failed because its connection's stream
    /// did (a body over the limit or late, a head late).
    bool answer_stream_fault(HttpResponse& res);
    int64_t now_ms() const;

    // Routes (routes_*.cpp).
    void healthz(HttpResponse& res);
    void metrics(HttpResponse& res);
    void list_tokens(HttpResponse& res);
    void create_token(const HttpRequest& req, HttpResponse& res);
    void revoke_token(const HttpRequest& req, HttpResponse& res);
    /// False, with a 403 answered, when the caller's token is not an admin token.
    bool require_admin(HttpResponse& res);
    void list_devices(const HttpRequest& req, HttpResponse& res);
    void device_detail(const HttpRequest& req, HttpResponse& res);
    void enrol_device(const HttpRequest& req, HttpResponse& res);
    void revoke_device(const HttpRequest& req, HttpResponse& res);
    void device_flows(const HttpRequest& req, HttpResponse& res);
    void list_alerts(const HttpRequest& req, HttpResponse& res);
    void get_alert(const HttpRequest& req, HttpResponse& res);
    void change_alert(const HttpRequest& req, HttpResponse& res, bool resolve);
    void suppress_alert(const HttpRequest& req, HttpResponse& res);
    void stream_alerts(const HttpRequest& req, HttpResponse& res);
    void list_suppressions(const HttpRequest& req, HttpResponse& res);
    void create_suppression(const HttpRequest& req, HttpResponse& res);
    void remove_suppression(const HttpRequest& req, HttpResponse& res);
    /// Adds it and answers 201 with it, or the store's refusal (409 for a taken name).
    void add_suppression_answer(Suppression suppression, HttpResponse& res);
    /// The positive id in the path's first group, or an answer of 400 and nullopt.
    std::optional<int64_t> path_id(const HttpRequest& req, HttpResponse& res, const char* what);
    /// The alert, or an answer of 404 (500 when the store failed) and nullopt.
    std::optional<Alert> find_alert(int64_t id, HttpResponse& res);

    // The dashboard's files (routes_web.cpp).
    /// The file at `path` with the content type of `name`'s extension, or 404 saying what is
    /// missing.
    void serve_web_file(const std::string& path, const std::string& name, HttpResponse& res);

    // The fleet overview and a device's traffic over time (routes_overview.cpp).
    void overview(const HttpRequest& req, HttpResponse& res);
    void device_traffic(const HttpRequest& req, HttpResponse& res);

    // Alert streams (routes_alert_stream.cpp).
    void end_stream(const api::AlertStreamQueue* queue);
    /// Ends every open stream at its next wake-up, so stop() does not wait for their clients.
    void close_streams();
    size_t open_streams();
    // Recommendations (routes_recommendations.cpp).
    void list_recommendations(const HttpRequest& req, HttpResponse& res);
    void recommendation_summary(const HttpRequest& req, HttpResponse& res);
    void get_recommendation(const HttpRequest& req, HttpResponse& res);
    void dismiss_recommendation(const HttpRequest& req, HttpResponse& res);
    /// The recommendation, or an answer of 404 (500 when the store failed) and nullopt.
    std::optional<Recommendation> find_recommendation(int64_t id, HttpResponse& res);
    void get_device_config(const HttpRequest& req, HttpResponse& res);
    void put_device_config(const HttpRequest& req, HttpResponse& res);
    void put_group_config(const HttpRequest& req, HttpResponse& res);
    void get_group_config(const HttpRequest& req, HttpResponse& res);
    void put_device_group(const HttpRequest& req, HttpResponse& res);

    // Config pushes (routes_config.cpp).
    struct Push {
        std::string device_id;
        std::string error;  ///< empty when stored and published
    };
    /// The device's next config version: above anything it was sent or reported applying.
    bool next_device_version(const std::string& device_id, uint32_t& version, std::string& error);
    Push push_to_device(const std::string& device_id, uint32_t version,
                        const std::vector<uint8_t>& body);
    /// The device id from the path, or an answer of 400 and nullopt.
    std::optional<std::string> path_device(const HttpRequest& req, HttpResponse& res);

    ApiSettings settings_;
    ApiStores store_;
    HubControl& control_;
    EnrolmentService enrolment_{control_, &store_.devices};
    api::TokenStore tokens_;
    api::RequestMetrics request_metrics_;
    api::ConnectionLimits limits_;
    api::ConnectionCounters connection_counters_;
    GatedServer server_;
    std::unique_ptr<api::ConnectionGate> gate_;
    std::thread listener_;
    uint16_t port_ = 0;
    std::mutex config_mutex_;  // one config push at a time, so versions are handed out in order
    std::mutex streams_mutex_;
    std::vector<std::shared_ptr<api::AlertStreamQueue>> streams_;
    std::atomic<uint64_t> dropped_stream_events_{0};
};

}  // namespace vigil::hub

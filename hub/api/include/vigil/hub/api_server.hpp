// The hub's HTTP API: JSON over REST for devices, flows, alerts (and their live stream),
// suppressions, recommendations, desired configs and API tokens, plus /healthz and Prometheus
// /metrics. docs/hub-api.md lists the
// routes, their parameters and answers.
//
// Every /api route needs a bearer token (Authorization: Bearer <token>). A read token may only
// GET; an admin token may do everything. On first start the server creates an admin token,
// announces it once (stderr by default) and writes it to <data_dir>/admin.token (mode 0600); the
// hub keeps only SHA-256 hashes of tokens, in <data_dir>/api-tokens.json (mode 0600).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vigil/hub/alert_store.hpp"
#include "vigil/hub/config_store.hpp"
#include "vigil/hub/control.hpp"
#include "vigil/hub/device_directory.hpp"
#include "vigil/hub/fleet_overview.hpp"
#include "vigil/hub/outputs/alert_events.hpp"
#include "vigil/hub/recommendation_store.hpp"
#include "vigil/hub/store_maintenance.hpp"

namespace vigil::hub {

class Store;

struct ApiSettings {
    /// Where to listen. Loopback by default: put a TLS-terminating proxy in front to serve others.
    std::string bind_address = "127.0.0.1";
    uint16_t port = 8080;  ///< 0 picks a free port (see ApiServer::port())
    /// Holds admin.token and api-tokens.json; must exist.
    std::string data_dir;
    /// Request bodies above this are refused with 413: before they are read when their
    /// Content-Length says so, else (chunked) as soon as more than this has arrived.
    size_t max_body_bytes = 1024 * 1024;
    /// Worker threads answering requests. Each open alert stream has one more of its own, and no
    /// worker waits for a request still arriving (see max_connections).
    uint32_t threads = 8;
    /// Connections held at once. Those that have not sent a whole request wait on one thread of
    /// their own, not on a worker; past the cap the one that has waited longest for its request
    /// is closed to make room, and when every connection is being answered a new one is
    /// answered 503 with Retry-After at once.
    size_t max_connections = 256;
    /// A connection with no request begun is closed after this (fresh or kept alive).
    int64_t idle_timeout_ms = 5000;
    /// A request head (request line and headers) must arrive whole within this of its first
    /// byte, however it is dripped; else 408 and the connection closes.
    int64_t request_head_timeout_ms = 5000;
    /// A request head over this is answered 431 and the connection closes.
    size_t max_request_head_bytes = 16 * 1024;
    /// A request body (only read for a caller with a token) must arrive within this of the end
    /// of its head; else 408 and the connection closes.
    int64_t request_body_timeout_ms = 10'000;
    /// Requests one connection may carry before the server closes it.
    uint32_t max_requests_per_connection = 100;
    /// /metrics answers without a token by default, as Prometheus scrapers expect; with this set
    /// it asks for one (either role) like the /api routes.
    bool metrics_need_token = false;
    /// /metrics counts devices seen within this window as active.
    int64_t active_window_ms = 5 * 60 * 1000;
    /// Where alert events are published (acknowledged and resolved through the API) and followed
    /// (GET /api/alerts/stream); none: the stream answers 503 and nothing is published. It must
    /// outlive the server.
    AlertEvents* alert_events = nullptr;
    /// Open alert streams at most; each holds one of `threads` while it lasts.
    size_t max_alert_streams = 4;
    /// Events a stream holds for its client; past that they are dropped (and counted).
    size_t alert_stream_queue = 256;
    /// A stream with nothing to say sends a comment this often, so proxies keep it open and a
    /// client that left is noticed.
    int64_t alert_stream_keepalive_ms = 15'000;
    /// Buckets one answer of /api/overview's timeline or /api/devices/{id}/traffic holds at
    /// most; a range and step that make more are refused (400).
    uint32_t max_buckets = 1000;
    /// The dashboard's directory: GET / serves its index.html, GET /web/<name> its other files
    /// and GET /web/vendor/ the uPlot files under its node_modules (docs/hub-api.md). Empty, or
    /// without index.html: those answer 404 saying so, and the API works all the same.
    std::string web_dir;
    /// Where the server's notices go (the first admin token, a dashboard that cannot be served);
    /// stderr when unset.
    std::function<void(const std::string&)> announce;
    /// Milliseconds since the epoch; the system clock when unset (tests pin it).
    std::function<int64_t()> clock;
};

/// The parts of the store the API serves (it never writes telemetry or detection state).
struct ApiStores {
    DeviceDirectory& devices;
    AlertStore& alerts;
    RecommendationStore& recommendations;
    ConfigStore& configs;
    StoreMaintenance& maintenance;  ///< its figures, for /metrics
    FleetOverview& overview;        ///< the dashboard's aggregates
};

/// The outcome of start(): empty error when the server listens.
struct [[nodiscard]] ApiResult {
    std::string error;
    bool ok() const { return error.empty(); }
};

class ApiServer {
  public:
    ApiServer(ApiSettings settings, ApiStores stores, HubControl& control);
    /// Serves the parts of one whole store.
    ApiServer(ApiSettings settings, Store& store, HubControl& control);
    ~ApiServer();  ///< stops the server
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    /// Loads (or creates) the tokens, binds and starts answering on a thread of its own. Fails
    /// when the data directory is unusable or the address is taken.
    ApiResult start();
    /// Stops accepting, finishes the requests in progress and joins the threads. Idempotent.
    void stop();
    /// The port listened on (the chosen one when ApiSettings::port was 0); 0 before start().
    uint16_t port() const;

    class Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::hub

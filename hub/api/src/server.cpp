#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "http_util.hpp"
#include "request_context.hpp"
#include "security_headers.hpp"
#include "server_impl.hpp"

#include "vigil/hub/store.hpp"

namespace vigil::hub {

namespace api {

RequestContext& current_request() {
    static thread_local RequestContext context;
    return context;
}

Exchange& current_exchange() {
    static thread_local Exchange exchange;
    return exchange;
}

}  // namespace api

namespace {

std::optional<std::string> bearer_token(const HttpRequest& req) {
    const std::string header = req.get_header_value("Authorization");
    constexpr char kScheme[] = "Bearer ";
    if (header.size() <= sizeof kScheme - 1 ||
        header.compare(0, sizeof kScheme - 1, kScheme) != 0) {
        return std::nullopt;
    }
    return header.substr(sizeof kScheme - 1);
}

bool is_read_only(const std::string& method) {
    return method == "GET" || method == "HEAD";
}

// httplib hands each accepted connection to its task queue; this one passes it on at once, on
// the accept thread, to the gate.
class HandOver final : public httplib::TaskQueue {
  public:
    void enqueue(std::function<void()> task) override { task(); }
    void shutdown() override {}
};

std::chrono::milliseconds at_least_1ms(int64_t ms) {
    return std::chrono::milliseconds(std::max<int64_t>(ms, 1));
}

}  // namespace

ApiServer::Impl::Impl(ApiSettings settings, ApiStores store, HubControl& control)
    : settings_(std::move(settings)),
      store_(store),
      control_(control),
      tokens_(settings_.data_dir) {
    limits_.max_connections = std::max<size_t>(settings_.max_connections, 1);
    limits_.max_head_bytes = settings_.max_request_head_bytes;
    limits_.idle_timeout = at_least_1ms(settings_.idle_timeout_ms);
    limits_.head_timeout = at_least_1ms(settings_.request_head_timeout_ms);
    limits_.body_timeout = at_least_1ms(settings_.request_body_timeout_ms);
    limits_.max_body_bytes = settings_.max_body_bytes;
    limits_.max_requests_per_connection =
        std::max<uint32_t>(settings_.max_requests_per_connection, 1);
    // Alert streams last as long as their clients stay: they get workers of their own, so
    // ordinary requests always have `threads`.
    limits_.workers = std::max<uint32_t>(settings_.threads, 1) + settings_.max_alert_streams;
    if (!settings_.clock) {
        settings_.clock = [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
        };
    }
    if (!settings_.announce) {
        settings_.announce = [](const std::string& text) {
            std::fprintf(stderr, "%s\n", text.c_str());
        };
    }
}

int64_t ApiServer::Impl::now_ms() const {
    return settings_.clock();
}

void ApiServer::Impl::route(const char* method, const char* pattern, const char* label,
                            void (Impl::*handler)(const HttpRequest&, HttpResponse&)) {
    route(method, pattern, label, [this, handler](const HttpRequest& req, HttpResponse& res) {
        (this->*handler)(req, res);
    });
}

void ApiServer::Impl::route(const char* method, const char* pattern, const char* label,
                            Handler handler) {
    Handler labelled = [label, handler = std::move(handler)](const HttpRequest& req,
                                                             HttpResponse& res) {
        api::current_request().route = label;
        handler(req, res);
    };
    const std::string verb = method;
    if (verb == "GET") {
        server_.Get(pattern, labelled);
    } else if (verb == "POST") {
        server_.Post(pattern, labelled);
    } else if (verb == "PUT") {
        server_.Put(pattern, labelled);
    } else {
        server_.Delete(pattern, labelled);
    }
}

// /healthz is open (load balancers and supervisors probe it); /metrics is open unless the
// settings ask for a token; everything else needs one, and a read token may only GET.
httplib::Server::HandlerResponse ApiServer::Impl::authorize(const HttpRequest& req,
                                                            HttpResponse& res) {
    api::RequestContext& context = api::current_request();
    context = api::RequestContext{};
    context.start = std::chrono::steady_clock::now();
    context.started = true;
    if (refuse_body(req, res)) {
        return httplib::Server::HandlerResponse::Handled;
    }
    // The dashboard's files hold no data: a browser loads them before anyone has given a token.
    const bool dashboard_file = req.path == "/" || req.path.rfind("/web/", 0) == 0;
    if (req.path == "/healthz" || (req.path == "/metrics" && !settings_.metrics_need_token) ||
        (dashboard_file && is_read_only(req.method))) {
        return httplib::Server::HandlerResponse::Unhandled;
    }
    const auto secret = bearer_token(req);
    const auto token = secret ? tokens_.authenticate(*secret, now_ms()) : std::nullopt;
    if (!token) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"vigil\"");
        api::send_error(res, 401, "unauthorized",
                        secret ? "the token is not valid"
                               : "this route needs a token: Authorization: Bearer <token>");
        return httplib::Server::HandlerResponse::Handled;
    }
    if (token->role == api::Role::Read && !is_read_only(req.method)) {
        api::send_error(
            res, 403, "forbidden",
            "token " + token->name + " may only read; " + req.method + " needs an admin token");
        return httplib::Server::HandlerResponse::Handled;
    }
    context.principal = "token:" + token->name;
    context.admin = token->role == api::Role::Admin;
    return httplib::Server::HandlerResponse::Unhandled;
}

void ApiServer::Impl::add_routes() {
    route("GET", "/healthz", "/healthz",
          [this](const HttpRequest&, HttpResponse& res) { healthz(res); });
    route("GET", "/metrics", "/metrics",
          [this](const HttpRequest&, HttpResponse& res) { metrics(res); });
    add_token_routes();
    add_device_routes();
    add_alert_routes();
    add_suppression_routes();
    add_policy_routes();
    add_config_routes();
    add_recommendation_routes();
    add_vulnerability_routes();
    add_overview_routes();
    add_web_routes();
}

ApiResult ApiServer::Impl::start() {
    if (listener_.joinable()) {
        return {"the API server is already running"};
    }
    if (settings_.data_dir.empty() || !std::filesystem::is_directory(settings_.data_dir)) {
        return {"the API's data directory '" + settings_.data_dir + "' does not exist"};
    }
    std::string first_admin, error;
    if (!tokens_.load_or_create(now_ms(), first_admin, error)) {
        return {error};
    }
    if (!first_admin.empty()) {
        settings_.announce("vigil-hub: the first admin API token (shown once, also in " +
                           settings_.data_dir + "/admin.token): " + first_admin);
    }
    // An empty directory is a hub set up without a dashboard: nothing to warn about.
    if (const std::string missing = dashboard_missing(settings_.web_dir);
        !settings_.web_dir.empty() && !missing.empty()) {
        settings_.announce("vigil-hub: warning: " + missing + " GET / answers 404 until then.");
    }
    server_.new_task_queue = [] { return new HandOver; };
    server_.on_accept = [this](socket_t sock) { gate_->admit(sock); };
    server_.set_payload_max_length(settings_.max_body_bytes);
    // What the Keep-Alive header tells clients.
    server_.set_keep_alive_max_count(limits_.max_requests_per_connection);
    server_.set_keep_alive_timeout(std::max<time_t>(settings_.idle_timeout_ms / 1000, 1));
    server_.set_pre_routing_handler([this](const HttpRequest& req, HttpResponse& res) {
        const auto handled = authorize(req, res);
        if (handled == httplib::Server::HandlerResponse::Handled) {
            close_if_body_unread(req);
        }
        return handled;
    });
    // Errors httplib itself answers (no route, body too large) get the same JSON shape; answers a
    // handler already wrote are left alone.
    server_.set_error_handler(
        httplib::Server::HandlerWithResponse([this](const HttpRequest&, HttpResponse& res) {
            if (answer_stream_fault(res)) {
                return httplib::Server::HandlerResponse::Handled;
            }
            if (!res.body.empty()) {
                return httplib::Server::HandlerResponse::Unhandled;
            }
            if (res.status == 413) {
                api::send_error(res, 413, "payload_too_large", "the request body is too large");
            } else if (res.status == 404) {
                api::send_error(res, 404, "not_found", "no such route");
            } else {
                api::send_error(res, res.status, "bad_request", "the request could not be read");
            }
            return httplib::Server::HandlerResponse::Handled;
        }));
    server_.set_exception_handler([](const HttpRequest&, HttpResponse& res, std::exception_ptr) {
        api::send_error(res, 500, "internal_error", "the request failed inside the hub");
    });
    // Recorded just before the reply is written (httplib calls this after the error handler,
    // for every request): a client that reads /metrics right after a reply then sees it counted.
    server_.set_post_routing_handler([this](const HttpRequest& req, HttpResponse& res) {
        api::RequestContext& context = api::current_request();
        const double seconds =
            context.started
                ? std::chrono::duration<double>(std::chrono::steady_clock::now() - context.start)
                      .count()
                : 0.0;
        request_metrics_.record(context.route, req.method, res.status, seconds);
        for (const auto& [name, value] : api::kSecurityHeaders) {
            res.set_header(name, value);
        }
        context = api::RequestContext{};
        if (api::current_exchange().close_after_answer) {
            res.headers.erase("Keep-Alive");
            if (res.get_header_value("Connection") != "close") {
                res.set_header("Connection", "close");
            }
        }
    });
    // httplib's default adds SO_REUSEPORT, with which a second hub on the same port would share
    // the requests silently; SO_REUSEADDR alone still allows a quick restart.
    server_.set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    add_routes();
    if (settings_.port == 0) {
        const int chosen = server_.bind_to_any_port(settings_.bind_address);
        if (chosen <= 0) {
            return {"cannot listen on " + settings_.bind_address};
        }
        port_ = static_cast<uint16_t>(chosen);
    } else {
        if (!server_.bind_to_port(settings_.bind_address, settings_.port)) {
            return {"cannot listen on " + settings_.bind_address + ":" +
                    std::to_string(settings_.port) + " (taken, or not an address of this host)"};
        }
        port_ = settings_.port;
    }
    if (!server_.widen_backlog()) {
        return {"cannot listen on " + settings_.bind_address + ": " + std::strerror(errno)};
    }
    gate_ = std::make_unique<api::ConnectionGate>(
        limits_, connection_counters_,
        [this](api::Connection& connection) { return serve(connection); });
    gate_->start();
    auto returned = std::make_shared<std::atomic<bool>>(false);
    listener_ = std::thread([this, returned] {
        server_.listen_after_bind();
        returned->store(true);
    });
    // httplib's stop() does nothing until the accept loop runs, so a stop() right after start()
    // would leave the listener in accept() for ever: start() returns once it runs.
    while (!server_.is_running() && !returned->load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (returned->load()) {
        listener_.join();
        gate_->stop();
        return {"the API server stopped as it started"};
    }
    return {};
}

void ApiServer::Impl::stop() {
    if (listener_.joinable()) {
        close_streams();
        server_.stop();
        listener_.join();
        gate_->stop();
        std::string error;
        if (!tokens_.save_usage(error)) {
            settings_.announce("vigil-hub: the tokens' last-use times were not saved: " + error);
        }
    }
}

void ApiServer::Impl::healthz(HttpResponse& res) {
    nlohmann::json reasons = nlohmann::json::array();
    const Fetched<StoreStats> stats = store_.maintenance.stats();
    if (!stats.ok()) {
        reasons.push_back("store: " + stats.error);
    }
    for (const std::string& problem : control_.health_problems()) {
        reasons.push_back(problem);
    }
    if (reasons.empty()) {
        api::send_json(res, 200, {{"status", "ok"}});
        return;
    }
    api::send_json(res, 503,
                   {{"error", "unavailable"}, {"detail", reasons[0]}, {"reasons", reasons}});
}

void ApiServer::Impl::metrics(HttpResponse& res) {
    std::string text = control_.ingest_metrics_text();
    if (!text.empty() && text.back() != '\n') {
        text += '\n';
    }
    PrometheusWriter out;
    DeviceFilter active;
    active.seen_since_ms = now_ms() - settings_.active_window_ms;
    api::write_store_metrics(out, store_.maintenance.stats(), store_.devices.count_devices(active),
                             settings_.active_window_ms);
    request_metrics_.write(out);
    write_connection_metrics(out);
    out.family("vigil_api_alert_streams", "gauge", "Clients following the alert stream.");
    out.sample("vigil_api_alert_streams", {}, static_cast<double>(open_streams()));
    out.family("vigil_api_alert_stream_dropped_events_total", "counter",
               "Alert events dropped because a stream's client fell behind.");
    out.sample("vigil_api_alert_stream_dropped_events_total", {},
               static_cast<double>(dropped_stream_events_.load()));
    res.status = 200;
    res.set_content(text + out.text(), "text/plain; version=0.0.4; charset=utf-8");
}

ApiServer::ApiServer(ApiSettings settings, ApiStores stores, HubControl& control)
    : impl_(std::make_unique<Impl>(std::move(settings), stores, control)) {}

ApiServer::ApiServer(ApiSettings settings, Store& store, HubControl& control)
    : ApiServer(std::move(settings), ApiStores{store, store, store, store, store, store}, control) {
}

ApiServer::~ApiServer() {
    impl_->stop();
}

ApiResult ApiServer::start() {
    return impl_->start();
}

void ApiServer::stop() {
    impl_->stop();
}

uint16_t ApiServer::port() const {
    return impl_->port();
}

}  // namespace vigil::hub

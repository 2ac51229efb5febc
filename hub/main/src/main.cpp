// vigil-hub: runs with no arguments. See docs/hub.md.
//
//   vigil-hub [--data DIR] [--broker-port N] [--tls-port N] [--broker mqtt://host:port ...]
//             [--api-port N] [--retention-days N] [--web-dir DIR]
//   vigil-hub devices add|revoke ID... [--data DIR]
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <CLI/CLI.hpp>

#include "detection.hpp"
#include "hub.hpp"
#include "log_sink.hpp"
#ifdef VIGIL_HUB_WITH_API
#include "vigil/hub/api_server.hpp"
#endif

namespace {

using vigil::hub::Durability;
using vigil::hub::HubOptions;

int g_signal_pipe[2] = {-1, -1};

// Only write(2) here: the handler may interrupt any thread.
void on_signal(int signal_number) {
    const unsigned char byte = static_cast<unsigned char>(signal_number);
    const int saved = errno;
    (void)!write(g_signal_pipe[1], &byte, 1);
    errno = saved;
}

// Handlers rather than a blocked mask and sigwait(): mosquitto is forked from this process and
// would inherit a blocked SIGTERM, and then ignore the hub's request to save and stop.
bool install_signal_handlers() {
    if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
        return false;
    }
    struct sigaction action {};
    action.sa_handler = &on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    signal(SIGPIPE, SIG_IGN);
    return sigaction(SIGTERM, &action, nullptr) == 0 && sigaction(SIGINT, &action, nullptr) == 0;
}

int wait_for_signal() {
    unsigned char byte = 0;
    while (read(g_signal_pipe[0], &byte, 1) != 1) {
        if (errno != EINTR) {
            return 0;
        }
    }
    return byte;
}

vigil::hub::LogSink g_log;

void log_line(const std::string& line) {
    g_log.write(line);
}

void add_options(CLI::App& app, HubOptions& o) {
    app.add_option("--data", o.data_dir, "Data directory (created 0700)")->capture_default_str();
    app.add_option("--broker-port", o.broker_port,
                   "The embedded broker's plain listener, on 127.0.0.1")
        ->capture_default_str();
    app.add_option("--tls-port", o.tls_port, "Also a TLS listener for devices on this port");
    app.add_option("--tls-address", o.tls_address, "Address of the TLS listener (default: all)");
    app.add_option("--tls-name", o.tls_names,
                   "subjectAltName of the broker's certificate (IP:... or DNS:...), repeatable");
    app.add_option("--broker", o.broker_url, "mqtt://host:port of a broker to use instead");
    app.add_option("--ingest-username", o.ingest_username, "External broker: the hub's account");
    app.add_option("--ingest-password", o.ingest_password, "External broker: its password");
    app.add_option("--admin-username", o.admin_username,
                   "External broker: its dynamic-security administrator (for enrolment)");
    app.add_option("--admin-password", o.admin_password, "External broker: its password");
    app.add_option("--broker-max-queued-messages", o.broker_max_queued_messages,
                   "Embedded broker: messages queued per client beyond those in flight; more are "
                   "dropped")
        ->capture_default_str()
        ->check(CLI::Range(1u, 100000000u));
    app.add_option("--broker-max-queued-bytes", o.broker_max_queued_bytes,
                   "Embedded broker: bytes queued per client beyond those in flight; more are "
                   "dropped")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 40));
    app.add_option("--broker-max-inflight-bytes", o.broker_max_inflight_bytes,
                   "Embedded broker: bytes sent to one client and not yet acknowledged (the hub "
                   "acknowledges after its commits); more wait in the queue")
        ->capture_default_str()
        ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 40));
    app.add_option("--broker-guard-plugin", o.broker_guard_plugin,
                   "Embedded broker: the guard plugin (vigil_broker_guard.so)")
        ->capture_default_str();
}

void add_run_options(CLI::App& app, HubOptions& o, std::string& durability) {
    app.add_option("--policy", o.policy_path,
                   "Detection policy file (TOML; default DATA/policy.toml, reloaded on change)");
    app.add_option("--feeds", o.feeds_dir,
                   "Threat-intelligence feeds directory (default DATA/feeds, reloaded on change)");
    app.add_option("--vulnerabilities", o.vulnerabilities_dir,
                   "Directory of vulnerability catalogs added to the built-in one (default "
                   "DATA/vulnerabilities.d, reloaded on change)");
    app.add_option("--shared-address-window-s", o.shared_address_window_s,
                   "Seconds within which a device's broker connections from two addresses taking "
                   "turns count as two devices sharing its identity")
        ->capture_default_str()
        ->check(CLI::Range(1, 7 * 24 * 3600));
    app.add_flag("!--no-detection", o.detection, "Store reports without running detection");
    app.add_option("--api-port", o.api_port, "HTTP API port")->capture_default_str();
    app.add_option("--api-address", o.api_address, "HTTP API address")->capture_default_str();
    app.add_option("--retention-days", o.retention_days, "Days raw telemetry is kept")
        ->capture_default_str()
        ->check(CLI::Range(1, 36500));
    app.add_option("--retention-interval", o.retention_interval_s, "Seconds between retention runs")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    app.add_option("--durability", durability,
                   "full: every commit is fsynced; normal: survives a crash of the hub, not a "
                   "power loss")
        ->capture_default_str()
        ->check(CLI::IsMember({"full", "normal"}));
    app.add_option("--store-check-ms", o.store_check_ms,
                   "Longest the quick check of an existing store may take at start (0: none)")
        ->capture_default_str();
    app.add_option("--rejection-log-lines", o.rejection_log_lines,
                   "Lines about rejected messages, at most, per reason and interval")
        ->capture_default_str();
    app.add_option("--rejection-log-interval-ms", o.rejection_log_interval_ms,
                   "The interval of --rejection-log-lines")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600000));
    app.add_option("--log-line-bytes", o.log_line_bytes,
                   "Longest line the log writes (escaped); longer ones are cut")
        ->capture_default_str()
        ->check(CLI::Range(256, 1048576));
    app.add_option("--batch-messages", o.batch_messages, "Messages held that start a store commit")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--batch-age-ms", o.batch_age_ms,
                   "Longest a message waits before a commit starts")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000));
}

#ifdef VIGIL_HUB_WITH_API
using ApiOptions = vigil::hub::ApiSettings;
#else
struct ApiOptions {};
#endif

// What one connection may hold of the HTTP API (docs/hub.md, "Limits").
void add_api_options(CLI::App& app, ApiOptions& api) {
#ifdef VIGIL_HUB_WITH_API
    app.add_option("--api-threads", api.threads,
                   "Threads answering API requests (alert streams have their own)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--api-max-connections", api.max_connections,
                   "API connections held at once; past it idle ones give way, else 503")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--api-idle-timeout-ms", api.idle_timeout_ms,
                   "An API connection with no request begun is closed after this")
        ->capture_default_str()
        ->check(CLI::Range(100, 3'600'000));
    app.add_option("--api-head-timeout-ms", api.request_head_timeout_ms,
                   "A request head must arrive whole within this of its first byte")
        ->capture_default_str()
        ->check(CLI::Range(100, 600'000));
    app.add_option("--api-max-head-bytes", api.max_request_head_bytes,
                   "Largest request head (request line and headers)")
        ->capture_default_str()
        ->check(CLI::Range(1024, 1024 * 1024));
    app.add_option("--api-body-timeout-ms", api.request_body_timeout_ms,
                   "A request body must arrive within this of its head")
        ->capture_default_str()
        ->check(CLI::Range(100, 600'000));
    app.add_option("--api-max-body-bytes", api.max_body_bytes, "Largest request body")
        ->capture_default_str()
        ->check(CLI::Range(1024, 256 * 1024 * 1024));
    app.add_option("--api-max-requests-per-connection", api.max_requests_per_connection,
                   "Requests one API connection may carry")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--api-max-buckets", api.max_buckets,
                   "Buckets one answer of the overview's timeline or a device's traffic holds")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    api.web_dir = VIGIL_WEB_DIR;
    app.add_option("--web-dir", api.web_dir,
                   "The dashboard's directory (its pages, and uPlot under node_modules from "
                   "`npm ci --prefix hub/web`)")
        ->capture_default_str();
#else
    (void)app;
    (void)api;
#endif
}

int run_hub(const HubOptions& options, ApiOptions api) {
    if (!install_signal_handlers()) {
        log_line("cannot install signal handlers");
        return 1;
    }
    g_log.set_max_line_bytes(options.log_line_bytes);
    vigil::hub::Hub hub(options, &log_line, &g_log);
    std::string error;
    if (!hub.start(error)) {
        log_line("cannot start: " + error);
        return 1;
    }
#ifdef VIGIL_HUB_WITH_API
    api.bind_address = options.api_address;
    api.port = options.api_port;
    api.data_dir = options.data_dir;
    api.announce = [](const std::string& line) { log_line("api: " + line); };
    api.alert_events = &hub.detection().events();
    vigil::hub::ApiServer server(api, hub.store(), hub);
    const vigil::hub::ApiResult listening = server.start();
    if (!listening.ok()) {
        log_line("api: cannot start: " + listening.error);
        hub.stop();
        return 1;
    }
    log_line("api: http://" + options.api_address + ":" + std::to_string(server.port()));
#else
    // Built without the HTTP API: the hub ingests and stores all the same.
    log_line("api: not built into this vigil-hub; use `vigil-hub devices add|revoke`");
#endif
    log_line("running; SIGTERM or SIGINT stops");
    const int signal_number = wait_for_signal();
    log_line(std::string("stopping on ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM"));
#ifdef VIGIL_HUB_WITH_API
    server.stop();  // no request reaches the hub while it stops
#endif
    hub.stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"vigil-hub: ingests, stores and serves what Vigil devices report"};
    HubOptions options;
    std::string durability = "full";
    add_options(app, options);
    add_run_options(app, options, durability);
    ApiOptions api;
    add_api_options(app, api);
    CLI::App* devices = app.add_subcommand("devices", "Enrol or revoke devices at the broker");
    std::string action;
    std::vector<std::string> device_ids;
    devices->add_option("action", action, "add or revoke")
        ->required()
        ->check(CLI::IsMember({"add", "revoke"}));
    devices->add_option("ids", device_ids, "The device ids (add: several print one JSON object)")
        ->required();
    devices->fallthrough();  // --data and the broker's flags may follow the subcommand
    CLI11_PARSE(app, argc, argv);
    // The store, the broker's accounts and the CA's key: nobody else may read what we create.
    umask(0077);
    options.durability = durability == "normal" ? Durability::Normal : Durability::Full;
    if (*devices) {
        return vigil::hub::admin_devices(options, action, device_ids);
    }
    // Decoding and committing run on threads of their own, whose malloc arenas glibc grows and
    // trims with an mprotect call each time (thousands a second under load), and a batch's large
    // vectors were mapped and unmapped each time: keep memory once taken, up to 32 MiB blocks
    // (glibc's largest mmap threshold) from the heap.
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    return run_hub(options, api);
}

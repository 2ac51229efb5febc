// `vigil-hub devices add|revoke ID...`: enrolment at the data directory's broker from the command
// line, for sites without the HTTP API.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker_accounts.hpp"
#include "data_dir_lock.hpp"
#include "hub.hpp"
#include "log_sink.hpp"
#include "vigil/hub/enrolment_service.hpp"
#include "vigil/hub/runtime_file.hpp"

namespace vigil::hub {

namespace {

using json = nlohmann::json;

void print_log(const std::string& line) {
    std::fprintf(stderr, "vigil-hub: %s\n", escape_log_text(line).c_str());
}

// The broker of the hub that holds the data directory's lock, as an external one: its
// administrator's password is in the data directory. Empty url unless that hub (`holder`) has
// said in hub.json where its broker listens.
BrokerSettings running_broker(const HubOptions& options, pid_t holder) {
    BrokerSettings s;
    s.data_dir = options.data_dir;
    s.log = &print_log;
    const std::optional<HubRuntime> runtime = read_hub_runtime(options.data_dir);
    if (holder > 0 && runtime && runtime->pid == holder) {
        // Leaves the url empty when the directory has no administrator account.
        (void)use_hub_administrator(s, runtime->broker_host, runtime->broker_port);
    }
    return s;
}

json credentials_json(const EnrolmentCredentials& c) {
    json out{{"device_id", c.device_id},     {"username", c.username},
             {"password", c.password},       {"client_id", c.client_id},
             {"broker_host", c.broker_host}, {"broker_port", c.broker_port}};
    if (!c.client_certificate_pem.empty()) {
        out["client_certificate_pem"] = c.client_certificate_pem;
        out["client_key_pem"] = c.client_key_pem;
        out["ca_certificate_pem"] = c.ca_certificate_pem;
    }
    return out;
}

// Several devices: one object of every enrolled device's credentials by id, each failure on
// stderr; exit status 1 when any failed (those enrolled are printed all the same, since their
// passwords exist only here).
int enrol_many(EnrolmentService& enrolment, const std::vector<std::string>& device_ids) {
    const std::vector<EnrolOutcome> outcomes = enrolment.enrol_many(device_ids);
    json out = json::object();
    int status = 0;
    for (size_t i = 0; i < outcomes.size(); ++i) {
        const EnrolOutcome& e = outcomes[i];
        if (!e.ok()) {
            std::fprintf(stderr, "vigil-hub: %s\n", e.error.c_str());
            status = 1;
            continue;
        }
        if (!e.store_error.empty()) {
            std::fprintf(stderr, "vigil-hub: %s enrolled, but not recorded in the store: %s\n",
                         device_ids[i].c_str(), e.store_error.c_str());
        }
        out[device_ids[i]] = credentials_json(e.credentials);
    }
    std::printf("%s\n", out.dump(1).c_str());
    return status;
}

// The change itself, under EnrolmentService's policy (enrolment.hpp).
int change(EnrolmentService& enrolment, const std::string& action,
           const std::vector<std::string>& device_ids) {
    if (action == "add" && device_ids.size() > 1) {
        return enrol_many(enrolment, device_ids);
    }
    if (action == "revoke" && device_ids.size() > 1) {
        int status = 0;
        for (const std::string& id : device_ids) {
            status = std::max(status, change(enrolment, action, {id}));
        }
        return status;
    }
    const std::string& device_id = device_ids.at(0);
    if (action == "add") {
        // As a batch of one: a broker that does not run gets the account in its file.
        const EnrolOutcome e = enrolment.enrol_many(device_ids).at(0);
        if (!e.ok()) {
            std::fprintf(stderr, "vigil-hub: %s\n", e.error.c_str());
            return 1;
        }
        if (!e.store_error.empty()) {
            std::fprintf(stderr, "vigil-hub: enrolled, but not recorded in the store: %s\n",
                         e.store_error.c_str());
        }
        std::printf("%s\n", credentials_json(e.credentials).dump(2).c_str());
        return 0;
    }
    const RevokeOutcome r = enrolment.revoke(device_id);
    if (!r.ok()) {
        std::fprintf(stderr, "vigil-hub: %s\n", r.error.c_str());
        return 1;
    }
    std::fprintf(stderr, "vigil-hub: revoked %s%s\n", device_id.c_str(),
                 r.result == Revocation::AlreadyBlocked ? " (it was already)" : "");
    return 0;
}

}  // namespace

int admin_devices(const HubOptions& options, const std::string& action,
                  const std::vector<std::string>& device_ids) {
    const bool have_data_dir = std::filesystem::is_directory(options.data_dir);
    // Held while this command runs the directory's broker itself; when a hub holds it instead,
    // the command goes through that hub's broker.
    std::unique_ptr<DataDirLock> lock;
    BrokerSettings settings;
    settings.data_dir = options.data_dir;
    settings.log = &print_log;
    settings.guard_plugin = options.broker_guard_plugin;
    if (have_data_dir) {
        lock = std::make_unique<DataDirLock>(options.data_dir);
        if (!lock->held()) {
            settings = running_broker(options, lock->holder_pid());
        }
    }
    if (settings.url.empty() && !options.broker_url.empty()) {
        settings.url = options.broker_url;
        settings.admin_username = options.admin_username;
        settings.admin_password = options.admin_password;
    }
    if (settings.url.empty()) {
        // No hub runs on this data directory: its broker is started just for this change.
        if (!have_data_dir) {
            std::fprintf(stderr, "vigil-hub: no data directory %s (start vigil-hub once)\n",
                         options.data_dir.c_str());
            return 1;
        }
        if (!lock->held()) {
            // A hub still starting, or another `vigil-hub devices`: starting the directory's
            // broker now would stop or duplicate theirs.
            std::fprintf(stderr,
                         "vigil-hub: %s, whose broker cannot be reached yet; try again once it "
                         "runs or has stopped\n",
                         lock->error().c_str());
            return 1;
        }
        settings.port = options.broker_port;
        settings.tls = options.tls_port != 0;
        settings.tls_port = options.tls_port;
    }
    // The store is opened before the broker changes anything, so that a store that cannot be
    // opened leaves everything as it was. It may be the running hub's: SQLite lets both write.
    // Without a data directory (an external broker) there is no store to record into.
    std::unique_ptr<Store> store;
    if (have_data_dir) {
        SqliteOptions store_options;
        store_options.path = store_path(options.data_dir);
        store_options.durability = options.durability;
        std::string error;
        store = open_sqlite_store(store_options, error);
        if (!store) {
            std::fprintf(stderr, "vigil-hub: store: %s\n", error.c_str());
            return 1;
        }
    } else {
        std::fprintf(stderr,
                     "vigil-hub: no data directory %s: the device is listed only once it "
                     "reports to a hub\n",
                     options.data_dir.c_str());
    }
    Broker broker(settings);
    // This command holds the lock: a broker on the directory's files belongs to a hub that died.
    broker.stop_leftovers();
    // Accounts are added to the files of a broker that does not run in one write, however many;
    // revoking a device goes through the broker's plugin.
    if (action != "add" || !broker.embedded()) {
        BrokerResult started = broker.start();
        if (!started.ok()) {
            std::fprintf(stderr, "vigil-hub: broker: %s\n", started.error.c_str());
            return 1;
        }
    }
    BrokerAccounts accounts(broker, options.tls_port);
    EnrolmentService enrolment(accounts, store.get());
    return change(enrolment, action, device_ids);
}

}  // namespace vigil::hub

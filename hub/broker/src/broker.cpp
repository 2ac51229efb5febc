#include "vigil/hub/broker.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "user_access.hpp"
#include "vigil/protocol/topic.h"

namespace vigil::hub {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kAdminUser = "vigil-admin";
constexpr const char* kIngestUser = "vigil-ingest";
// Where the MQTT alert output publishes; devices' roles never reach it.
constexpr const char* kAlertTopics = "vigil/#";
constexpr const char* kControlTopic = "$CONTROL/dynamic-security/v1";
constexpr const char* kResponseTopic = "$CONTROL/dynamic-security/v1/response";
// What the broker says of itself ($SYS, every sys_interval) and the guard plugin's counts: read by
// the hub's broker watch.
constexpr const char* kBrokerStatusTopics = "$SYS/broker/#";

int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string base64(const unsigned char* data, size_t length) {
    std::string out(4 * ((length + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                  static_cast<int>(length));
    out.resize(static_cast<size_t>(n));
    return out;
}

// 256 random bits as URL-safe text: a password nobody types.
std::string random_secret() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return "";
    }
    std::string s = base64(bytes, sizeof bytes);
    for (char& c : s) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    while (!s.empty() && s.back() == '=') {
        s.pop_back();
    }
    return s;
}

// A client entry of the dynamic-security file: PBKDF2-HMAC-SHA512 over a 12-byte salt, the
// scheme and the 101 iterations `mosquitto_ctrl dynsec init` writes (the secrets are random, so
// stretching adds nothing).
json dynsec_client(const std::string& username, const std::string& password,
                   const std::string& role) {
    unsigned char salt[12];
    unsigned char hash[64];
    const int iterations = 101;
    if (RAND_bytes(salt, sizeof salt) != 1 ||
        PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt,
                          iterations, EVP_sha512(), sizeof hash, hash) != 1) {
        return json();
    }
    return json{{"username", username},
                {"password", base64(hash, sizeof hash)},
                {"salt", base64(salt, sizeof salt)},
                {"iterations", iterations},
                {"roles", json::array({json{{"rolename", role}}})}};
}

json acl(const char* type, const std::string& topic, bool allow = true, int priority = 0) {
    return json{{"acltype", type}, {"topic", topic}, {"allow", allow}, {"priority", priority}};
}

// The hub's two accounts: the administrator of the plugin, and ingest, which reads every
// device's messages and writes configs and AWS responses. Shared subscriptions ($share/...)
// let several hub workers split the ingest.
json initial_dynsec(const std::string& admin_password, const std::string& ingest_password) {
    json admin_acls = json::array({acl("publishClientSend", "$CONTROL/dynamic-security/#"),
                                   acl("publishClientReceive", "$CONTROL/dynamic-security/#"),
                                   acl("subscribePattern", "$CONTROL/dynamic-security/#")});
    json ingest_acls = json::array();
    for (const char* filter : {wire::kEventsFilter, wire::kAwsMetricsFilter}) {
        ingest_acls.push_back(acl("subscribePattern", filter));
        ingest_acls.push_back(acl("subscribePattern", std::string("$share/+/") + filter));
        ingest_acls.push_back(acl("unsubscribePattern", filter));
        ingest_acls.push_back(acl("unsubscribePattern", std::string("$share/+/") + filter));
    }
    ingest_acls.push_back(acl("publishClientSend", "devices/+/config/#"));
    ingest_acls.push_back(acl("publishClientSend", "$aws/things/+/defender/metrics/+/accepted"));
    ingest_acls.push_back(acl("publishClientSend", "$aws/things/+/defender/metrics/+/rejected"));
    ingest_acls.push_back(acl("publishClientSend", kAlertTopics));
    ingest_acls.push_back(acl("subscribePattern", kAlertTopics));
    ingest_acls.push_back(acl("subscribePattern", kBrokerStatusTopics));
    ingest_acls.push_back(acl("subscribePattern", kGuardReportTopic));
    ingest_acls.push_back(acl("subscribePattern", kGuardConnectionsTopic));
    return json{
        {"defaultACLAccess",
         {{"publishClientSend", false},
          {"publishClientReceive", true},
          {"subscribe", false},
          {"unsubscribe", true}}},
        {"clients", json::array({dynsec_client(kAdminUser, admin_password, kAdminUser),
                                 dynsec_client(kIngestUser, ingest_password, kIngestUser)})},
        {"groups", json::array()},
        {"roles", json::array({json{{"rolename", kAdminUser}, {"acls", admin_acls}},
                               json{{"rolename", kIngestUser}, {"acls", ingest_acls}}})}};
}

std::string device_role(const std::string& id) {
    return "vigil-device:" + id;
}

// The topics a device publishes on, one per format's convention, with %u for its id: telemetry
// with its property bag (Vigil and legacy Defender), and AWS Device Defender's two encodings.
std::vector<std::string> device_publish_patterns() {
    const std::string aws = std::string(wire::kAwsThingPrefix) + "%u" + wire::kAwsMetricsSegment;
    return {std::string(wire::kTopicPrefix) + "%u" + wire::kTopicSuffix + "+",
            aws + wire::kAwsMetricsJson, aws + wire::kAwsMetricsCbor};
}

std::string with_device(std::string pattern, const std::string& id) {
    pattern.replace(pattern.find("%u"), 2, id);
    return pattern;
}

// The device's own topics. mosquitto 2.0.11's plugin does not substitute %u or %c in ACL topics
// (checked: a pattern role denied the device its own topic), so each device gets a role naming
// its id. The guard plugin refuses any other topic before these rules are read; they say the
// same, for a broker that runs without it.
std::vector<json> device_acls(const std::string& id) {
    const std::string aws = "$aws/things/" + id + "/defender/metrics/";
    std::vector<json> acls;
    for (const std::string& pattern : device_publish_patterns()) {
        acls.push_back(acl("publishClientSend", with_device(pattern, id)));
    }
    acls.push_back(acl("subscribePattern", "devices/" + id + "/config/#"));
    acls.push_back(acl("subscribePattern", aws + "+/accepted"));
    acls.push_back(acl("subscribePattern", aws + "+/rejected"));
    return acls;
}

// The same rules as dynamic-security commands, for a running broker.
json device_acl_commands(const std::string& id) {
    const std::string role = device_role(id);
    json commands = json::array({json{{"command", "createRole"}, {"rolename", role}}});
    for (json a : device_acls(id)) {
        a["command"] = "addRoleACL";
        a["rolename"] = role;
        commands.push_back(a);
    }
    commands.push_back(json{{"command", "addClientRole"}, {"username", id}, {"rolename", role}});
    return commands;
}

// Runs a program by absolute path (never a shell) and waits; true when it exits 0. execv, not
// execvp: between fork and exec in a threaded process only async-signal-safe calls are allowed.
bool run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        const int null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool write_private(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    const bool ok =
        write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
        fsync(fd) == 0;
    close(fd);
    return ok && rename(tmp.c_str(), path.c_str()) == 0;
}

// `openssl req -x509`: a new P-256 key, unencrypted, in `key` and its certificate in `cert`,
// signed by the CA in `ca_dir` (OpenSSL 3's `-CA` signs in one step) or, with `ca_dir` empty, by
// itself. Each of `extensions` is one -addext.
bool create_certificate(const std::string& ca_dir, const std::string& key, const std::string& cert,
                        const char* days, const std::string& subject_cn,
                        const std::vector<std::string>& extensions) {
    std::vector<std::string> args = {kOpenssl, "req", "-x509"};
    if (!ca_dir.empty()) {
        args.insert(args.end(), {"-CA", ca_dir + "/ca.crt", "-CAkey", ca_dir + "/ca.key"});
    }
    args.insert(args.end(),
                {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 key, "-out", cert, "-days", days, "-subj", "/CN=" + subject_cn});
    for (const std::string& extension : extensions) {
        args.push_back("-addext");
        args.push_back(extension);
    }
    return run(args);
}

// A key and a certificate signed by the hub's CA, for the broker (`server`) or a device.
bool issue_certificate(const std::string& pki, const std::string& subject_cn,
                       const std::string& extensions_san, bool server, const std::string& key,
                       const std::string& cert) {
    std::vector<std::string> extensions = {
        "basicConstraints=critical,CA:FALSE",
        server ? "extendedKeyUsage=serverAuth" : "extendedKeyUsage=clientAuth"};
    if (!extensions_san.empty()) {
        extensions.push_back("subjectAltName=" + extensions_san);
    }
    return create_certificate(pki, key, cert, "825", subject_cn, extensions);
}

bool gone_within(pid_t pid, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (kill(pid, 0) != 0 && errno == ESRCH) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// A process's arguments, from /proc/<pid>/cmdline.
std::vector<std::string> command_line(const fs::path& process) {
    std::ifstream in(process / "cmdline", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    for (size_t begin = 0; begin < text.size();) {
        const size_t end = text.find('\0', begin);
        args.push_back(text.substr(begin, end - begin));
        begin = end == std::string::npos ? text.size() : end + 1;
    }
    return args;
}

bool port_listening(const std::string& host, uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

}  // namespace

std::string default_guard_plugin() {
    return VIGIL_BROKER_GUARD_PLUGIN;
}

Broker::Broker(BrokerSettings settings) : settings_(std::move(settings)) {
    broker_dir_ = settings_.data_dir + "/broker";
    pki_dir_ = settings_.data_dir + "/pki";
}

Broker::~Broker() {
    stop();
}

void Broker::log(const std::string& line) const {
    if (settings_.log) {
        settings_.log(line);
    } else {
        std::fprintf(stderr, "vigil-hub broker: %s\n", line.c_str());
    }
}

BrokerResult Broker::start() {
    if (!embedded()) {
        const std::string prefix = "mqtt://";
        const size_t colon = settings_.url.rfind(':');
        if (settings_.url.rfind(prefix, 0) != 0 || colon == std::string::npos ||
            colon < prefix.size()) {
            return {"broker url must be mqtt://<IPv4 address>:<port>: " + settings_.url};
        }
        host_ = settings_.url.substr(prefix.size(), colon - prefix.size());
        const int port = std::atoi(settings_.url.c_str() + colon + 1);
        in_addr probe{};
        if (port <= 0 || port > 65535 || inet_pton(AF_INET, host_.c_str(), &probe) != 1) {
            return {"broker url must be mqtt://<IPv4 address>:<port>: " + settings_.url};
        }
        port_ = static_cast<uint16_t>(port);
        ingest_password_ = settings_.ingest_password;
        admin_password_ = settings_.admin_password;
        return {};
    }
    port_ = settings_.port;
    // Otherwise the wait below would take another program's listener for our broker's.
    if (port_listening(host_, port_)) {
        return {"127.0.0.1:" + std::to_string(port_) + " is already in use"};
    }
    BrokerResult r = prepare_files();
    if (!r.ok()) {
        return r;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = false;
    }
    // The supervisor thread starts mosquitto itself: the child's PR_SET_PDEATHSIG is tied to the
    // thread that forked it, and this one lives exactly as long as the supervision.
    std::promise<BrokerResult> first;
    std::future<BrokerResult> started = first.get_future();
    supervisor_ = std::thread([this, first = std::move(first)]() mutable {
        BrokerResult s = spawn();
        if (s.ok() && !wait_listening(10000)) {
            s.error = "mosquitto did not listen on 127.0.0.1:" + std::to_string(port_) + " (see " +
                      broker_dir_ + "/mosquitto.log)";
            if (pid_ > 0) {
                kill(pid_, SIGKILL);
                waitpid(pid_, nullptr, 0);
                pid_ = -1;
            }
        }
        const bool ok = s.ok();
        first.set_value(std::move(s));
        if (ok) {
            supervise();
        }
    });
    r = started.get();
    if (!r.ok()) {
        stop();
    }
    return r;
}

BrokerResult Broker::prepare_files() {
    std::error_code ec;
    fs::create_directories(broker_dir_ + "/persist", ec);
    fs::create_directories(pki_dir_, ec);
    if (ec) {
        return {"cannot create " + broker_dir_ + ": " + ec.message()};
    }
    chmod(pki_dir_.c_str(), 0700);
    BrokerResult r = load_or_create_accounts();
    if (!r.ok()) {
        return r;
    }
    if (settings_.tls) {
        const std::string ca_key = pki_dir_ + "/ca.key", ca_crt = pki_dir_ + "/ca.crt";
        if (!fs::exists(ca_crt) && !create_certificate("", ca_key, ca_crt, "3650", "Vigil hub CA",
                                                       {"basicConstraints=critical,CA:TRUE",
                                                        "keyUsage=critical,keyCertSign,cRLSign"})) {
            return {"openssl could not create the hub's CA in " + pki_dir_};
        }
        std::string san;
        for (const std::string& name : settings_.tls_names) {
            san += (san.empty() ? "" : ",") + name;
        }
        // Re-issued at every start, so a change of tls_names takes effect.
        if (!issue_certificate(pki_dir_, "vigil-hub", san, true, broker_dir_ + "/server.key",
                               broker_dir_ + "/server.crt")) {
            return {"openssl could not issue the broker's server certificate"};
        }
        fs::copy_file(ca_crt, broker_dir_ + "/ca.crt", fs::copy_options::overwrite_existing, ec);
    }
    r = write_config();
    if (!r.ok()) {
        return r;
    }
    // Started as root, mosquitto switches to its own user, which must own its files.
    if (geteuid() == 0) {
        if (const passwd* pw = getpwnam("mosquitto")) {
            mosquitto_user_ = "mosquitto";
            for (const auto& entry : fs::recursive_directory_iterator(broker_dir_)) {
                (void)chown(entry.path().c_str(), pw->pw_uid, pw->pw_gid);
            }
            (void)chown(broker_dir_.c_str(), pw->pw_uid, pw->pw_gid);
            // The broker must pass through the data directory to reach <data>/broker, and needs
            // nothing more of it: its group may traverse it (0710), other users may not.
            if (chown(settings_.data_dir.c_str(), static_cast<uid_t>(-1), pw->pw_gid) != 0 ||
                chmod(settings_.data_dir.c_str(), 0710) != 0) {
                return {"cannot let the mosquitto user through " + settings_.data_dir + ": " +
                        std::strerror(errno)};
            }
            // Otherwise mosquitto starts without its accounts and refuses every client.
            if (std::string problem = broker_detail::broker_files_problem("mosquitto", broker_dir_);
                !problem.empty()) {
                return {problem};
            }
        } else {
            mosquitto_user_ = "root";
        }
        return write_config();
    }
    return {};
}

BrokerResult Broker::load_or_create_accounts() {
    const std::string accounts = settings_.data_dir + "/broker-credentials.json";
    const std::string dynsec = broker_dir_ + "/dynamic-security.json";
    if (fs::exists(accounts)) {
        const json j = json::parse(read_file(accounts), nullptr, false);
        if (j.is_discarded() || !j.contains("admin") || !j.contains("ingest")) {
            return {accounts + " is damaged"};
        }
        admin_password_ = j["admin"].get<std::string>();
        ingest_password_ = j["ingest"].get<std::string>();
    } else {
        if (fs::exists(dynsec)) {
            return {accounts + " is missing while " + dynsec +
                    " exists: the hub cannot administer its broker (remove the broker directory "
                    "to start over and enrol every device again)"};
        }
        admin_password_ = random_secret();
        ingest_password_ = random_secret();
        if (admin_password_.empty() || ingest_password_.empty() ||
            !write_private(accounts,
                           json{{"admin", admin_password_}, {"ingest", ingest_password_}}.dump())) {
            return {"cannot write " + accounts};
        }
    }
    if (!fs::exists(dynsec) &&
        !write_private(dynsec, initial_dynsec(admin_password_, ingest_password_).dump(1, '\t'))) {
        return {"cannot write " + dynsec};
    }
    return {};
}

BrokerResult Broker::write_config() const {
    if (!settings_.guard_plugin.empty() && access(settings_.guard_plugin.c_str(), R_OK) != 0) {
        return {"the broker's guard plugin " + settings_.guard_plugin +
                " is missing (built as vigil_broker_guard.so; --broker-guard-plugin names it)"};
    }
    std::ostringstream c;
    c << "# Written by vigil-hub at every start of its broker; edits here are lost.\n"
      << "per_listener_settings false\n"
      << "allow_anonymous false\n";
    // The guard first: mosquitto asks plugins in the order they are loaded, and the guard's
    // deferral hands every decision it does not make to dynamic security.
    if (!settings_.guard_plugin.empty()) {
        std::string topics;
        for (const std::string& pattern : device_publish_patterns()) {
            topics += (topics.empty() ? "" : " ") + pattern;
        }
        c << "plugin " << settings_.guard_plugin << "\n"
          << "plugin_opt_hub_accounts " << kAdminUser << " " << kIngestUser << "\n"
          << "plugin_opt_hub_client_prefix " << wire::kReservedDeviceIdPrefix << "\n"
          << "plugin_opt_device_topics " << topics << "\n"
          << "plugin_opt_report_topic " << kGuardReportTopic << "\n"
          << "plugin_opt_connections_topic " << kGuardConnectionsTopic << "\n";
    }
    c << "plugin " << settings_.dynsec_plugin << "\n"
      << "plugin_opt_config_file " << broker_dir_ << "/dynamic-security.json\n"
      << "persistence true\n"
      << "persistence_location " << broker_dir_ << "/persist/\n"
      << "autosave_interval " << settings_.autosave_interval_s << "\n"
      << "max_inflight_messages " << settings_.max_inflight_messages << "\n"
      << "max_inflight_bytes " << settings_.max_inflight_bytes << "\n"
      << "max_queued_messages " << settings_.max_queued_messages << "\n"
      << "max_queued_bytes " << settings_.max_queued_bytes << "\n"
      << "sys_interval " << settings_.sys_interval_s << "\n"
      << "max_packet_size " << settings_.max_packet_bytes << "\n"
      << "set_tcp_nodelay false\n"
      << "log_dest file " << broker_dir_ << "/mosquitto.log\n"
      << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
    if (!mosquitto_user_.empty()) {
        c << "user " << mosquitto_user_ << "\n";
    }
    c << "listener " << port_ << " 127.0.0.1\n";
    if (settings_.tls) {
        c << "listener " << settings_.tls_port;
        if (!settings_.tls_address.empty()) {
            c << " " << settings_.tls_address;
        }
        c << "\ncafile " << broker_dir_ << "/ca.crt\n"
          << "certfile " << broker_dir_ << "/server.crt\n"
          << "keyfile " << broker_dir_ << "/server.key\n"
          << "require_certificate true\n";
    }
    std::ofstream out(broker_dir_ + "/mosquitto.conf", std::ios::trunc);
    out << c.str();
    out.close();
    if (!out) {
        return {"cannot write " + broker_dir_ + "/mosquitto.conf"};
    }
    return {};
}

BrokerResult Broker::spawn() {
    const std::string conf = broker_dir_ + "/mosquitto.conf";
    const std::string logfile = broker_dir_ + "/mosquitto.out";
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        return {"fork failed"};
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: the hub has other threads.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            _exit(1);  // the hub died before prctl took effect
        }
        const int out = open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(out, 1);
        dup2(out, 2);
        // Every connected device holds one of the broker's descriptors: the usual soft limit of
        // 1,024 would refuse a large fleet's connections.
        rlimit files{};
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &files);
        }
        execl(settings_.mosquitto.c_str(), settings_.mosquitto.c_str(), "-c", conf.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    pid_ = pid;
    rlimit files{};
    const bool known = getrlimit(RLIMIT_NOFILE, &files) == 0;
    log("mosquitto started, pid " + std::to_string(pid) +
        (known && files.rlim_max != RLIM_INFINITY
             ? ", at most " + std::to_string(files.rlim_max) +
                   " open files (each connected device takes one; ulimit -Hn raises it)"
             : ""));
    return {};
}

// mosquitto processes whose command line is exactly the one spawn() runs for this data directory.
std::vector<pid_t> Broker::leftover_pids() const {
    const std::string conf = broker_dir_ + "/mosquitto.conf";
    const fs::path program = fs::path(settings_.mosquitto).filename();
    std::vector<pid_t> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        const std::vector<std::string> args = command_line(entry.path());
        if (args.size() == 3 && fs::path(args[0]).filename() == program && args[1] == "-c" &&
            args[2] == conf) {
            found.push_back(static_cast<pid_t>(std::stol(name)));
        }
    }
    return found;
}

void Broker::stop_leftovers() {
    if (!embedded()) {
        return;
    }
    for (const pid_t pid : leftover_pids()) {
        log("mosquitto pid " + std::to_string(pid) +
            " of a previous run still serves this data directory; stopping it with SIGTERM");
        kill(pid, SIGTERM);
        if (!gone_within(pid, 15000)) {
            log("mosquitto pid " + std::to_string(pid) + " ignored SIGTERM; killing it");
            kill(pid, SIGKILL);
            (void)gone_within(pid, 5000);
        }
    }
}

bool Broker::wait_listening(uint32_t timeout_ms) {
    const int64_t deadline = steady_ms() + timeout_ms;
    while (steady_ms() < deadline) {
        if (port_listening(host_, port_)) {
            return true;
        }
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        if (wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; })) {
            return false;
        }
    }
    return false;
}

void Broker::supervise() {
    uint32_t backoff = settings_.restart_backoff_min_ms;
    int64_t started_ms = steady_ms();
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (wake_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; })) {
                break;
            }
        }
        const pid_t pid = pid_;
        int status = 0;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) != pid) {
            continue;  // still running
        }
        pid_ = -1;
        if (pid > 0) {
            log(WIFSIGNALED(status)
                    ? "mosquitto killed by signal " + std::to_string(WTERMSIG(status))
                    : "mosquitto exited with status " + std::to_string(WEXITSTATUS(status)));
        }
        // A broker that ran for a minute had a good start: the next failure starts afresh.
        if (steady_ms() - started_ms > 60000) {
            backoff = settings_.restart_backoff_min_ms;
        }
        log("restarting mosquitto in " + std::to_string(backoff) + " ms");
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (wake_.wait_for(lock, std::chrono::milliseconds(backoff),
                               [this] { return stopping_; })) {
                break;
            }
        }
        backoff = std::min(settings_.restart_backoff_max_ms, backoff * 2);
        started_ms = steady_ms();
        if (spawn().ok()) {
            if (!wait_listening(10000)) {
                log("restarted mosquitto does not listen");
            }
            ++restarts_;  // counted once it listens (or gave up), so a waiter can connect
        }
    }
    const pid_t pid = pid_;
    if (pid > 0) {
        // SIGTERM: mosquitto saves its sessions and queues on the way out.
        kill(pid, SIGTERM);
        int status = 0;
        const int64_t deadline = steady_ms() + 10000;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            if (steady_ms() > deadline) {
                log("mosquitto ignored SIGTERM; killing it");
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
        log("mosquitto stopped");
    }
}

void Broker::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (supervisor_.joinable()) {
        supervisor_.join();
    }
}

BrokerEndpoint Broker::ingest_endpoint() const {
    return BrokerEndpoint{host_, port_, embedded() ? kIngestUser : settings_.ingest_username,
                          ingest_password_};
}

std::string Broker::ca_pem() const {
    return settings_.tls ? read_file(pki_dir_ + "/ca.crt") : std::string();
}

namespace {

struct AdminExchange {
    std::string correlation;
    bool subscribed = false;
    bool answered = false;
    std::string response;
};

void admin_on_subscribe(mosquitto*, void* context, int, int, const int*) {
    static_cast<AdminExchange*>(context)->subscribed = true;
}

void admin_on_message(mosquitto*, void* context, const mosquitto_message* message) {
    auto* x = static_cast<AdminExchange*>(context);
    const std::string payload(static_cast<const char*>(message->payload),
                              static_cast<size_t>(message->payloadlen));
    // Other administrators may share the response topic: keep only our own answer.
    if (payload.find(x->correlation) != std::string::npos) {
        x->response = payload;
        x->answered = true;
    }
}

}  // namespace

// One request to the dynamic-security plugin over a short-lived libmosquitto connection;
// enrolment is rare, and a fresh connection survives broker restarts without any state.
BrokerResult Broker::admin(const std::string& commands_json, std::vector<std::string>* errors) {
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    const std::string user = embedded() ? kAdminUser : settings_.admin_username;
    if (user.empty()) {
        return {"no broker administrator is configured"};
    }
    json request = json::parse(commands_json);
    AdminExchange x;
    x.correlation = random_secret();
    for (size_t i = 0; i < request["commands"].size(); ++i) {
        request["commands"][i]["correlationData"] = x.correlation + "-" + std::to_string(i);
    }
    const std::string client_id = std::string(wire::kHubClientIdPrefix) + "admin-" + x.correlation;
    mosquitto* m = mosquitto_new(client_id.c_str(), true, &x);
    if (m == nullptr) {
        return {"mosquitto_new failed"};
    }
    mosquitto_subscribe_callback_set(m, admin_on_subscribe);
    mosquitto_message_callback_set(m, admin_on_message);
    mosquitto_username_pw_set(m, user.c_str(), admin_password_.c_str());
    BrokerResult result;
    const int64_t deadline = steady_ms() + 5000;
    auto pump_until = [&](const bool& flag) {
        while (!flag && steady_ms() < deadline) {
            if (mosquitto_loop(m, 20, 1) != MOSQ_ERR_SUCCESS) {
                return false;
            }
        }
        return flag;
    };
    const std::string body = request.dump();
    if (mosquitto_connect(m, host_.c_str(), port_, 30) != MOSQ_ERR_SUCCESS) {
        result.error = "cannot connect to the broker's administration";
    } else if (mosquitto_subscribe(m, nullptr, kResponseTopic, 1) != MOSQ_ERR_SUCCESS ||
               !pump_until(x.subscribed)) {
        result.error = "broker refused the administration subscription";
    } else if (mosquitto_publish(m, nullptr, kControlTopic, static_cast<int>(body.size()),
                                 body.data(), 1, false) != MOSQ_ERR_SUCCESS ||
               !pump_until(x.answered)) {
        result.error = "no answer from the broker's dynamic-security plugin";
    }
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    if (!result.ok()) {
        return result;
    }
    const json answer = json::parse(x.response, nullptr, false);
    if (answer.is_discarded() || !answer.contains("responses")) {
        return {"malformed answer from the dynamic-security plugin"};
    }
    for (const json& r : answer["responses"]) {
        errors->push_back(r.contains("error") ? r["error"].get<std::string>() : std::string());
    }
    return {};
}

namespace {

// Why a device id cannot be enrolled; empty when it can.
std::string device_id_refusal(const std::string& device_id) {
    if (!wire::valid_device_id(device_id.data(), device_id.size())) {
        return "invalid device id (1-127 of A-Z a-z 0-9 - . _ :)";
    }
    if (wire::is_reserved_device_id(device_id.data(), device_id.size())) {
        return "device id " + device_id + " is reserved: ids starting with \"" +
               wire::kReservedDeviceIdPrefix + "\" name the hub's own MQTT clients";
    }
    return "";
}

}  // namespace

Enrolled Broker::add_device(const std::string& device_id) {
    Enrolled out;
    out.error = device_id_refusal(device_id);
    if (!out.ok()) {
        return out;
    }
    std::lock_guard<std::mutex> lock(admin_mutex_);
    DeviceCredentials& c = out.credentials;
    c.device_id = c.username = c.client_id = device_id;
    c.password = random_secret();
    json create{{"command", "createClient"},
                {"username", device_id},
                {"password", c.password},
                {"textName", "Vigil device"}};
    if (settings_.bind_client_id) {
        create["clientid"] = device_id;
    }
    std::vector<std::string> errors;
    BrokerResult r = admin(json{{"commands", json::array({create})}}.dump(), &errors);
    if (!r.ok() || errors.empty() || !errors[0].empty()) {
        out.error =
            r.ok() ? "cannot enrol " + device_id + ": " + (errors.empty() ? "no answer" : errors[0])
                   : r.error;
        return out;
    }
    // A role left over from an interrupted revocation goes first, so the new one starts clean.
    json commands =
        json::array({json{{"command", "deleteRole"}, {"rolename", device_role(device_id)}}});
    for (const json& command : device_acl_commands(device_id)) {
        commands.push_back(command);
    }
    errors.clear();
    r = admin(json{{"commands", commands}}.dump(), &errors);
    for (size_t i = 1; r.ok() && i < errors.size(); ++i) {
        if (!errors[i].empty()) {
            r.error = errors[i];
        }
    }
    if (!r.ok()) {
        std::vector<std::string> ignored;
        (void)admin(
            json{{"commands",
                  json::array({json{{"command", "deleteClient"}, {"username", device_id}}})}}
                .dump(),
            &ignored);
        out.error = "cannot set the access rules of " + device_id + ": " + r.error;
        return out;
    }
    if (settings_.tls && !issue_device_certificate(c)) {
        (void)revoke_locked(device_id);
        out.error = "openssl could not issue the certificate of " + device_id;
    }
    return out;
}

bool Broker::issue_device_certificate(DeviceCredentials& c) const {
    const std::string key = pki_dir_ + "/" + c.device_id + ".key.tmp";
    const std::string cert = pki_dir_ + "/" + c.device_id + ".crt.tmp";
    const bool issued = issue_certificate(pki_dir_, c.device_id, "", false, key, cert);
    c.key_pem = read_file(key);
    c.cert_pem = read_file(cert);
    c.ca_pem = ca_pem();
    std::error_code ec;
    fs::remove(key, ec);
    fs::remove(cert, ec);
    return issued;
}

std::vector<Enrolled> Broker::add_devices(const std::vector<std::string>& device_ids) {
    std::vector<Enrolled> out(device_ids.size());
    if (!embedded() || pid_ > 0) {
        for (size_t i = 0; i < device_ids.size(); ++i) {
            out[i] = add_device(device_ids[i]);
        }
        return out;
    }
    std::lock_guard<std::mutex> lock(admin_mutex_);
    port_ = settings_.port;  // where the devices will find the broker once it starts
    auto fail_all = [&out](const std::string& error) {
        for (Enrolled& e : out) {
            e.error = error;
        }
        return out;
    };
    if (BrokerResult prepared = prepare_files(); !prepared.ok()) {
        return fail_all(prepared.error);
    }
    const std::string dynsec = broker_dir_ + "/dynamic-security.json";
    json config = json::parse(read_file(dynsec), nullptr, false);
    if (!config.is_object() || !config["clients"].is_array() || !config["roles"].is_array()) {
        return fail_all(dynsec + " is damaged");
    }
    std::set<std::string> taken;
    for (const json& client : config["clients"]) {
        taken.insert(client.value("username", std::string()));
    }
    std::map<std::string, size_t> role_at;
    for (size_t i = 0; i < config["roles"].size(); ++i) {
        role_at[config["roles"][i].value("rolename", std::string())] = i;
    }
    for (size_t i = 0; i < device_ids.size(); ++i) {
        const std::string& id = device_ids[i];
        Enrolled& e = out[i];
        e.error = device_id_refusal(id);
        if (e.ok() && !taken.insert(id).second) {
            e.error = "cannot enrol " + id + ": Client already exists";
        }
        if (!e.ok()) {
            continue;
        }
        DeviceCredentials& c = e.credentials;
        c.device_id = c.username = c.client_id = id;
        c.password = random_secret();
        json client = dynsec_client(id, c.password, device_role(id));
        if (c.password.empty() || client.is_null()) {
            e.error = "cannot make a password for " + id;
            continue;
        }
        client["textname"] = "Vigil device";
        if (settings_.bind_client_id) {
            client["clientid"] = id;
        }
        config["clients"].push_back(std::move(client));
        // A role left over from an interrupted revocation is replaced, so the new one starts
        // clean.
        json role{{"rolename", device_role(id)}, {"acls", device_acls(id)}};
        if (const auto at = role_at.find(device_role(id)); at != role_at.end()) {
            config["roles"][at->second] = std::move(role);
        } else {
            role_at[device_role(id)] = config["roles"].size();
            config["roles"].push_back(std::move(role));
        }
    }
    if (!write_private(dynsec, config.dump(1, '\t'))) {
        return fail_all("cannot write " + dynsec);
    }
    if (const passwd* pw = mosquitto_user_ == "mosquitto" ? getpwnam("mosquitto") : nullptr) {
        (void)chown(dynsec.c_str(), pw->pw_uid, pw->pw_gid);
    }
    for (Enrolled& e : out) {
        if (e.ok() && settings_.tls && !issue_device_certificate(e.credentials)) {
            // The account stays, unusable without a certificate: revoking it needs the broker.
            e.error = "openssl could not issue the certificate of " + e.credentials.device_id +
                      " (revoke it and enrol it again)";
        }
    }
    return out;
}

BrokerResult Broker::grant_hub_topics() {
    json commands = json::array();
    const std::pair<const char*, const char*> grants[] = {
        {"publishClientSend", kAlertTopics},
        {"subscribePattern", kAlertTopics},
        {"subscribePattern", kBrokerStatusTopics},
        {"subscribePattern", kGuardReportTopic},
        {"subscribePattern", kGuardConnectionsTopic}};
    for (const auto& [type, topic] : grants) {
        commands.push_back(json{{"command", "addRoleACL"},
                                {"rolename", kIngestUser},
                                {"acltype", type},
                                {"topic", topic},
                                {"allow", true}});
    }
    std::lock_guard<std::mutex> lock(admin_mutex_);
    std::vector<std::string> errors;
    BrokerResult r = admin(json{{"commands", commands}}.dump(), &errors);
    // A directory made with them already answers "ACL with this topic already exists".
    for (const std::string& error : errors) {
        if (r.ok() && !error.empty() && error.find("already exists") == std::string::npos) {
            r.error = error;
        }
    }
    return r;
}

bool use_hub_administrator(BrokerSettings& settings, const std::string& host, int port) {
    const json accounts =
        json::parse(read_file(settings.data_dir + "/broker-credentials.json"), nullptr, false);
    if (!accounts.is_object() || !accounts.contains("admin") || !accounts["admin"].is_string()) {
        return false;
    }
    settings.url = "mqtt://" + host + ":" + std::to_string(port);
    settings.admin_username = kAdminUser;
    settings.admin_password = accounts["admin"].get<std::string>();
    return true;
}

BrokerResult Broker::check_administration() {
    std::lock_guard<std::mutex> lock(admin_mutex_);
    std::vector<std::string> errors;
    BrokerResult r =
        admin(json{{"commands", json::array({json{{"command", "getDefaultACLAccess"}}})}}.dump(),
              &errors);
    if (r.ok() && (errors.size() != 1 || !errors[0].empty())) {
        r.error = "the dynamic-security plugin answered: " +
                  (errors.empty() ? std::string("nothing") : errors[0]);
    }
    return r;
}

BrokerResult Broker::revoke_device(const std::string& device_id) {
    if (!wire::valid_device_id(device_id.data(), device_id.size())) {
        return {"invalid device id"};
    }
    std::lock_guard<std::mutex> lock(admin_mutex_);
    return revoke_locked(device_id);
}

BrokerResult Broker::revoke_locked(const std::string& device_id) {
    std::vector<std::string> errors;
    // deleteClient disconnects the device if it is connected.
    BrokerResult r = admin(
        json{{"commands",
              json::array({json{{"command", "deleteClient"}, {"username", device_id}},
                           json{{"command", "deleteRole"}, {"rolename", device_role(device_id)}}})}}
            .dump(),
        &errors);
    if (!r.ok()) {
        return r;
    }
    if (errors.empty() || !errors[0].empty()) {
        return {"cannot revoke " + device_id + ": " + (errors.empty() ? "no answer" : errors[0])};
    }
    return {};
}

}  // namespace vigil::hub

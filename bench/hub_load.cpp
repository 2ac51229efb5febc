// Many simulated devices publishing Vigil messages of 20 flows through a running vigil-hub's
// broker, each at QoS 1 with several publishes in flight, and the hub's store watched until it
// holds every message the broker acknowledged.
//
//   vigil_bench_hub_load --data DIR [--devices N] [--seconds S | --messages M] [--inflight K]
//                        [--prefix P] [--boot B] [--credentials FILE] [--timeout S] [--quiet]
//
// Devices are enrolled at the hub's broker with the administrator account of DIR (or their
// credentials are read back from FILE, so a second run reuses them). Each device publishes
// sequences 1, 2, ... under boot id B, so (boot, sequence) is unique and a message stored twice
// would show. libmosquitto resends what the broker has not acknowledged after a reconnect, so a
// broker or hub restart loses nothing the devices consider sent.
//
// Prints BENCH hub_ingest_messages_per_second (messages committed by the hub per second, from the
// first publish to the commit of the last acknowledged message) and a final line
// "RESULT acked=<n> stored=<n> devices=<n>".
#include <mosquitto.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/hub/broker.hpp"
#include "vigil/protocol/message.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Settings {
    std::string data_dir;
    std::string credentials;  // "" -> <data>/load-credentials-<prefix>.json
    std::string prefix = "load-";
    int devices = 20;
    double seconds = 5;
    long messages = 0;  // per device; 0: publish for `seconds`
    int inflight = 20;
    uint32_t boot = 1;
    double timeout_s = 120;
    bool quiet = false;
};

struct Device {
    std::string id, password;
    struct mosquitto* client = nullptr;
    std::atomic<long> published{0};  // sequences handed to libmosquitto
    std::atomic<long> acked{0};
    // Message ids handed to libmosquitto and not yet acknowledged. Its publish callback can come
    // twice for one message across a broker restart, so only the first one for an id counts.
    std::mutex outstanding_lock;
    std::unordered_set<int> outstanding;
    std::atomic<bool> connected{false};
    std::atomic<bool> refused{false};
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<uint8_t> make_message(const Settings& s, int device, uint32_t sequence) {
    vigil::protocol::Message m;
    m.boot_id = s.boot;
    m.sequence = sequence;
    m.unix_time = static_cast<uint32_t>(std::time(nullptr));
    m.uptime = sequence;
    vigil::protocol::NetworkActivity n;
    n.window_duration_ms = 10000;
    vigil::wire::Address local;
    local.family = 4;
    const uint8_t here[4] = {10, 0, static_cast<uint8_t>(device / 250),
                             static_cast<uint8_t>(device % 250 + 1)};
    std::copy(here, here + 4, local.bytes);
    n.local_addresses.push_back(local);
    for (uint32_t i = 0; i < 20; ++i) {
        vigil::protocol::Flow f;
        f.remote.family = 4;
        const uint8_t there[4] = {203, 0, 113, static_cast<uint8_t>((sequence * 7 + i) % 250)};
        std::copy(there, there + 4, f.remote.bytes);
        f.fields.flags = static_cast<uint8_t>(i % 4 == 0 ? vigil::wire::Protocol::Udp
                                                         : vigil::wire::Protocol::Tcp);
        f.fields.local_port = static_cast<uint16_t>(40000 + i);
        f.fields.remote_port = i % 4 == 0 ? 53 : 443;
        f.fields.bytes_in = 1200 + i * 37;
        f.fields.bytes_out = 400 + i * 11;
        f.fields.packets_in = 12;
        f.fields.packets_out = 9;
        n.flows.push_back(f);
    }
    m.network = n;
    return vigil::protocol::encode_message(m);
}

bool enrol(const Settings& s, std::vector<std::unique_ptr<Device>>& devices, std::string& host,
           int& port) {
    const json runtime = json::parse(read_text(s.data_dir + "/hub.json"), nullptr, false);
    const json accounts =
        json::parse(read_text(s.data_dir + "/broker-credentials.json"), nullptr, false);
    if (!runtime.is_object() || !accounts.is_object()) {
        std::fprintf(stderr, "hub_load: no running hub in %s\n", s.data_dir.c_str());
        return false;
    }
    host = runtime.value("broker_host", std::string("127.0.0.1"));
    port = runtime.value("broker_port", 0);
    const std::string file = s.credentials.empty()
                                 ? s.data_dir + "/load-credentials-" + s.prefix + ".json"
                                 : s.credentials;
    json known = json::parse(read_text(file), nullptr, false);
    if (!known.is_object()) {
        known = json::object();
    }
    vigil::hub::BrokerSettings b;
    b.data_dir = s.data_dir;
    b.url = "mqtt://" + host + ":" + std::to_string(port);
    b.admin_username = "vigil-admin";
    b.admin_password = accounts.value("admin", std::string());
    vigil::hub::Broker broker(b);
    if (!broker.start().ok()) {
        return false;
    }
    for (int i = 0; i < s.devices; ++i) {
        auto d = std::make_unique<Device>();
        d->id = s.prefix + std::to_string(i);
        if (known.contains(d->id)) {
            d->password = known[d->id].get<std::string>();
        } else {
            vigil::hub::Enrolled e = broker.add_device(d->id);
            if (!e.ok()) {
                std::fprintf(stderr, "hub_load: enrolling %s: %s\n", d->id.c_str(),
                             e.error.c_str());
                return false;
            }
            d->password = e.credentials.password;
            known[d->id] = d->password;
        }
        devices.push_back(std::move(d));
    }
    std::ofstream(file, std::ios::trunc) << known.dump() << "\n";
    return true;
}

void on_connect(struct mosquitto*, void* self, int rc) {
    auto* d = static_cast<Device*>(self);
    d->connected = rc == 0;
    d->refused = rc != 0;
}

void on_disconnect(struct mosquitto*, void* self, int) {
    static_cast<Device*>(self)->connected = false;
}

void on_publish(struct mosquitto*, void* self, int mid) {
    Device& d = *static_cast<Device*>(self);
    std::lock_guard<std::mutex> hold(d.outstanding_lock);
    if (d.outstanding.erase(mid) > 0) {
        ++d.acked;
    }
}

uint64_t stored_messages(sqlite3* db) {
    sqlite3_stmt* s = nullptr;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(db, "SELECT rows FROM row_counts WHERE name = 'messages'", -1, &s,
                           nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        n = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    }
    sqlite3_finalize(s);
    return n;
}

bool parse(int argc, char** argv, Settings& s) {
    for (int i = 1; i < argc; ++i) {
        const std::string o = argv[i];
        const bool v = i + 1 < argc;
        if (o == "--data" && v) {
            s.data_dir = argv[++i];
        } else if (o == "--devices" && v) {
            s.devices = std::atoi(argv[++i]);
        } else if (o == "--seconds" && v) {
            s.seconds = std::atof(argv[++i]);
        } else if (o == "--messages" && v) {
            s.messages = std::atol(argv[++i]);
        } else if (o == "--inflight" && v) {
            s.inflight = std::atoi(argv[++i]);
        } else if (o == "--prefix" && v) {
            s.prefix = argv[++i];
        } else if (o == "--boot" && v) {
            s.boot = static_cast<uint32_t>(std::atol(argv[++i]));
        } else if (o == "--credentials" && v) {
            s.credentials = argv[++i];
        } else if (o == "--timeout" && v) {
            s.timeout_s = std::atof(argv[++i]);
        } else if (o == "--quiet") {
            s.quiet = true;
        } else {
            return false;
        }
    }
    return !s.data_dir.empty() && s.devices > 0 && s.inflight > 0;
}

// Keeps every device's window of unacknowledged publishes full until its quota or the time is
// up. One thread drives all devices; libmosquitto's own thread per device does the network.
void publish_all(const Settings& s, std::vector<std::unique_ptr<Device>>& devices,
                 Clock::time_point stop_publishing) {
    const std::string suffix = "/messages/events/mti=vigil.1&%24.ct=application%2Fcbor";
    for (;;) {
        bool more = false;
        bool progressed = false;
        const bool in_time = s.messages > 0 || Clock::now() < stop_publishing;
        for (size_t i = 0; i < devices.size(); ++i) {
            Device& d = *devices[i];
            const bool quota_left = s.messages == 0 || d.published < s.messages;
            if (!in_time || !quota_left) {
                continue;
            }
            more = true;
            // While disconnected, libmosquitto queues; keep the window bounded all the same.
            while (d.published - d.acked < s.inflight &&
                   (s.messages == 0 || d.published < s.messages)) {
                const long sequence = d.published + 1;
                const std::vector<uint8_t> payload =
                    make_message(s, static_cast<int>(i), static_cast<uint32_t>(sequence));
                const std::string topic = "devices/" + d.id + suffix;
                int mid = 0;
                {
                    // Held across the publish so its callback cannot run before the id is known.
                    std::lock_guard<std::mutex> hold(d.outstanding_lock);
                    if (mosquitto_publish(d.client, &mid, topic.c_str(),
                                          static_cast<int>(payload.size()), payload.data(), 1,
                                          false) != MOSQ_ERR_SUCCESS) {
                        break;
                    }
                    d.outstanding.insert(mid);
                }
                d.published = sequence;
                progressed = true;
            }
        }
        if (!more) {
            return;
        }
        if (!progressed) {
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    if (!parse(argc, argv, s)) {
        std::fprintf(stderr,
                     "usage: %s --data DIR [--devices N] [--seconds S | --messages M] "
                     "[--inflight K] [--prefix P] [--boot B] [--credentials FILE] "
                     "[--timeout S] [--quiet]\n",
                     argv[0]);
        return 2;
    }
    mosquitto_lib_init();
    std::vector<std::unique_ptr<Device>> devices;
    std::string host;
    int port = 0;
    if (!enrol(s, devices, host, port)) {
        return 1;
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((s.data_dir + "/vigil.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
        std::fprintf(stderr, "hub_load: cannot open the hub's store\n");
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    const uint64_t stored_before = stored_messages(db);
    for (auto& d : devices) {
        d->client = mosquitto_new(d->id.c_str(), true, d.get());
        mosquitto_username_pw_set(d->client, d->id.c_str(), d->password.c_str());
        mosquitto_connect_callback_set(d->client, &on_connect);
        mosquitto_disconnect_callback_set(d->client, &on_disconnect);
        mosquitto_publish_callback_set(d->client, &on_publish);
        mosquitto_reconnect_delay_set(d->client, 1, 2, false);
        mosquitto_max_inflight_messages_set(d->client, static_cast<unsigned>(s.inflight));
        mosquitto_connect_async(d->client, host.c_str(), port, 30);
        mosquitto_loop_start(d->client);
    }
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<long>(s.timeout_s * 1000));
    while (Clock::now() < deadline && !std::all_of(devices.begin(), devices.end(),
                                                   [](auto& d) { return d->connected.load(); })) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const Clock::time_point start = Clock::now();
    publish_all(s, devices, start + std::chrono::milliseconds(static_cast<long>(s.seconds * 1000)));
    const auto publishing_s = std::chrono::duration<double>(Clock::now() - start).count();
    auto sum = [&](auto field) {
        long n = 0;
        for (auto& d : devices) {
            n += field(*d);
        }
        return n;
    };
    auto published = [&] { return sum([](Device& d) { return d.published.load(); }); };
    auto acked = [&] { return sum([](Device& d) { return d.acked.load(); }); };
    // Every publish acknowledged by the broker, then every one committed by the hub.
    while (Clock::now() < deadline && acked() < published()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    uint64_t stored = stored_messages(db) - stored_before;
    while (Clock::now() < deadline && stored < static_cast<uint64_t>(acked())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        stored = stored_messages(db) - stored_before;
    }
    const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& d : devices) {
        mosquitto_disconnect(d->client);
        mosquitto_loop_stop(d->client, true);
        mosquitto_destroy(d->client);
    }
    sqlite3_close(db);
    mosquitto_lib_cleanup();
    const double rate = static_cast<double>(stored) / elapsed_s;
    if (!s.quiet) {
        std::printf(
            "%d devices published %ld messages of 20 flows in %.1f s; the hub committed "
            "%llu in %.1f s\n",
            s.devices, published(), publishing_s, static_cast<unsigned long long>(stored),
            elapsed_s);
    }
    std::printf("BENCH hub_ingest_messages_per_second %.0f msg/s\n", rate);
    std::printf("RESULT acked=%ld stored=%llu devices=%d\n", acked(),
                static_cast<unsigned long long>(stored), s.devices);
    return stored == static_cast<uint64_t>(acked()) && acked() == published() ? 0 : 1;
}

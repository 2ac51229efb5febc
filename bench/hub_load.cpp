// Many simulated devices publishing Vigil messages of 20 flows through a running vigil-hub's
// broker, each at QoS 1 with several publishes in flight, and the hub's store watched until it
// holds every message the broker acknowledged.
//
//   vigil_bench_hub_load --data DIR [--devices N] [--seconds S | --messages M] [--inflight K]
//                        [--prefix P] [--boot B] [--credentials FILE] [--timeout S] [--quiet]
//                        [--cpu-of NAME=PID ...] [--steady-peers] [--system-every N]
//
// Devices are enrolled at the hub's broker with the administrator account of DIR (or their
// credentials are read back from FILE, so a second run reuses them). Each device publishes
// sequences 1, 2, ... under boot id B, so (boot, sequence) is unique and a message stored twice
// would show. A device whose connection drops reconnects and sends again, with DUP set, whatever
// the broker had not acknowledged, so a broker or hub restart loses nothing the devices consider
// sent.
//
// All devices run on one thread over non-blocking sockets and the project's MQTT packet codec: a
// thread per device (libmosquitto's loop) cost more CPU than the broker it was meant to load, on a
// machine the broker and the hub share. Each round writes a device's whole window of publishes
// with one call.
//
// With --system-every N, every Nth message of a device also carries system information, as an
// agent's low-priority collector adds it: half the devices report a NetX Duo release with
// published vulnerabilities and half a fixed one, so the hub's firmware check matches every one.
//
// Latency: one message in 16 is followed from the moment its PUBLISH is written until the hub's
// store holds it (looked up every 20 ms), which bounds from above the time from the broker's
// receipt to the commit.
//
// Prints BENCH hub_ingest_messages_per_second (messages committed by the hub per second, from the
// first publish to the commit of the last acknowledged message), BENCH hub_ingest_p99_ms and a
// final line "RESULT acked=<n> stored=<n> devices=<n>".
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vigil/hub/broker.hpp"
#include "vigil/hub/runtime_file.hpp"
#include "vigil/mqtt/packet.h"
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
    // Each device talks to the same 20 peers in every message, as a device at rest does, instead
    // of moving on to new ones (which to detection looks like a device scanning port 443).
    bool steady_peers = false;
    // Every Nth message carries system information (0: none).
    long system_every = 0;
    std::vector<std::pair<std::string, int>> cpu_of;  // --cpu-of NAME=PID, repeatable
};

constexpr int kLatencySampleEvery = 16;

struct Device {
    std::string id, password, topic;
    int number = 0;  // its place in the fleet, which also sets its address
    int fd = -1;
    bool socket_open = false;  // the TCP connect completed
    bool connected = false;    // CONNACK accepted
    bool refused = false;
    Clock::time_point retry_at{};
    std::vector<uint8_t> out;
    size_t out_sent = 0;
    std::vector<uint8_t> in;
    long published = 0;  // sequences written at least once
    long acked = 0;
    uint16_t next_packet_id = 1;
    std::map<uint16_t, long> outstanding;  // packet id -> sequence, not yet acknowledged
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
        const uint32_t peer = s.steady_peers ? static_cast<uint32_t>(device) + i : sequence * 7 + i;
        const uint8_t there[4] = {203, 0, 113, static_cast<uint8_t>(peer % 250)};
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
    if (s.system_every > 0 && sequence % s.system_every == 0) {
        vigil::protocol::SystemInformation system;
        system.agent_version = "0.3.0";
        system.os_name = "Eclipse ThreadX";
        system.os_version = device % 2 == 0 ? "6.1.7" : "6.4.4";
        system.stack_name = "NetX Duo";
        system.stack_version = device % 2 == 0 ? "6.1.7" : "6.4.4";
        m.system = system;
    }
    return vigil::protocol::encode_message(m);
}

bool enrol(const Settings& s, std::vector<std::unique_ptr<Device>>& devices, std::string& host,
           int& port) {
    const std::optional<vigil::hub::HubRuntime> runtime = vigil::hub::read_hub_runtime(s.data_dir);
    vigil::hub::BrokerSettings b;
    b.data_dir = s.data_dir;
    if (runtime) {
        host = runtime->broker_host;
        port = runtime->broker_port;
    }
    if (!runtime || !vigil::hub::use_hub_administrator(b, host, port)) {
        std::fprintf(stderr, "hub_load: no running hub in %s\n", s.data_dir.c_str());
        return false;
    }
    const std::string file = s.credentials.empty()
                                 ? s.data_dir + "/load-credentials-" + s.prefix + ".json"
                                 : s.credentials;
    json known = json::parse(read_text(file), nullptr, false);
    if (!known.is_object()) {
        known = json::object();
    }
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
        } else if (o == "--cpu-of" && v) {
            const std::string named = argv[++i];
            const size_t eq = named.find('=');
            if (eq == std::string::npos) {
                return false;
            }
            s.cpu_of.emplace_back(named.substr(0, eq), std::atoi(named.c_str() + eq + 1));
        } else if (o == "--system-every" && v) {
            s.system_every = std::atol(argv[++i]);
        } else if (o == "--steady-peers") {
            s.steady_peers = true;
        } else if (o == "--quiet") {
            s.quiet = true;
        } else {
            return false;
        }
    }
    return !s.data_dir.empty() && s.devices > 0 && s.inflight > 0;
}

// One thread, every device: connects, keeps each window of unacknowledged publishes full, reads
// acknowledgements, reconnects after a drop.
class Fleet {
  public:
    Fleet(const Settings& s, std::vector<std::unique_ptr<Device>>& devices, sockaddr_in broker,
          sqlite3* db)
        : s_(s), devices_(devices), broker_(broker), db_(db) {}

    ~Fleet() {
        for (auto& d : devices_) {
            close_socket(*d);
        }
        if (epoll_ >= 0) {
            ::close(epoll_);
        }
        sqlite3_finalize(lookup_);
    }

    bool start() {
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0 ||
            sqlite3_prepare_v2(db_,
                               "SELECT 1 FROM messages m JOIN devices d USING (device_key) "
                               "WHERE d.id = ?1 AND m.message_key = ?2",
                               -1, &lookup_, nullptr) != SQLITE_OK) {
            std::fprintf(stderr, "hub_load: cannot set up (%s)\n", std::strerror(errno));
            return false;
        }
        for (auto& d : devices_) {
            open_socket(*d);
        }
        return true;
    }

    // Runs the network until every device connected (true) or the deadline passed.
    bool wait_connected(Clock::time_point deadline) {
        while (Clock::now() < deadline) {
            poll(10);
            if (std::all_of(devices_.begin(), devices_.end(),
                            [](auto& d) { return d->connected; })) {
                return true;
            }
            if (std::any_of(devices_.begin(), devices_.end(), [](auto& d) { return d->refused; })) {
                std::fprintf(stderr, "hub_load: the broker refused a device's credentials\n");
                return false;
            }
        }
        return false;
    }

    // Publishes until the quota or publishing time is used up, then until everything published
    // is acknowledged, or the deadline.
    void run(Clock::time_point stop_publishing, Clock::time_point deadline) {
        while (Clock::now() < deadline) {
            const bool in_time = s_.messages > 0 || Clock::now() < stop_publishing;
            bool more = false;
            for (auto& d : devices_) {
                if (in_time && (s_.messages == 0 || d->published < s_.messages)) {
                    more = true;
                    fill_window(*d);
                } else if (d->acked < d->published) {
                    more = true;
                }
                flush(*d);
            }
            if (!more) {
                return;
            }
            poll(2);
        }
    }

    // Follows the sampled messages until the store holds them all, or the deadline.
    void wait_committed(Clock::time_point deadline) {
        while (!pending_.empty() && Clock::now() < deadline) {
            check_committed();
            poll(5);
        }
    }

    long published() const {
        return sum([](const Device& d) { return d.published; });
    }
    long acked() const {
        return sum([](const Device& d) { return d.acked; });
    }
    std::vector<double>& latencies_ms() { return latencies_ms_; }

  private:
    struct Sample {
        size_t device;
        long sequence;
        Clock::time_point sent;
    };

    template <typename F>
    long sum(F field) const {
        long n = 0;
        for (auto& d : devices_) {
            n += field(*d);
        }
        return n;
    }

    void open_socket(Device& d) {
        d.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d.fd < 0) {
            d.retry_at = Clock::now() + std::chrono::milliseconds(200);
            return;
        }
        const int yes = 1;
        setsockopt(d.fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        if (::connect(d.fd, reinterpret_cast<const sockaddr*>(&broker_), sizeof broker_) != 0 &&
            errno != EINPROGRESS) {
            close_socket(d);
            return;
        }
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.ptr = &d;
        epoll_ctl(epoll_, EPOLL_CTL_ADD, d.fd, &e);
    }

    void close_socket(Device& d) {
        if (d.fd >= 0) {
            ::close(d.fd);
        }
        d.fd = -1;
        d.socket_open = d.connected = false;
        d.out.clear();
        d.out_sent = 0;
        d.in.clear();
        d.retry_at = Clock::now() + std::chrono::milliseconds(200);
    }

    void append(Device& d, const vigil::mqtt::PublishFields& fields) {
        const size_t at = d.out.size();
        d.out.resize(at + fields.payload_length + fields.payload_length / 8 + 512);
        size_t written = 0;
        if (vigil::mqtt::encode_publish(fields, d.out.data() + at, d.out.size() - at, &written) !=
            vigil::mqtt::Status::Ok) {
            written = 0;
        }
        d.out.resize(at + written);
    }

    void publish(Device& d, long sequence, uint16_t packet_id, bool dup) {
        const std::vector<uint8_t> payload =
            make_message(s_, d.number, static_cast<uint32_t>(sequence));
        vigil::mqtt::PublishFields fields{};
        fields.topic = d.topic.c_str();
        fields.payload = payload.data();
        fields.payload_length = payload.size();
        fields.qos = 1;
        fields.dup = dup;
        fields.packet_id = packet_id;
        append(d, fields);
    }

    // Refills a window once half of it is acknowledged, so that one send carries several
    // publishes: each send is a system call and a trip through the loopback TCP stack, on the
    // cores the broker and the hub need.
    void fill_window(Device& d) {
        if (!d.connected || static_cast<long>(d.outstanding.size()) > s_.inflight / 2) {
            return;
        }
        while (static_cast<long>(d.outstanding.size()) < s_.inflight &&
               (s_.messages == 0 || d.published < s_.messages)) {
            const long sequence = d.published + 1;
            while (d.next_packet_id == 0 || d.outstanding.count(d.next_packet_id) > 0) {
                ++d.next_packet_id;
            }
            const uint16_t packet_id = d.next_packet_id++;
            d.outstanding[packet_id] = sequence;
            publish(d, sequence, packet_id, false);
            d.published = sequence;
            if (sequence % kLatencySampleEvery == 0) {
                pending_.push_back({static_cast<size_t>(d.number), sequence, Clock::now()});
            }
        }
    }

    void flush(Device& d) {
        while (d.fd >= 0 && d.socket_open && d.out_sent < d.out.size()) {
            const ssize_t n =
                ::send(d.fd, d.out.data() + d.out_sent, d.out.size() - d.out_sent, MSG_NOSIGNAL);
            if (n > 0) {
                d.out_sent += static_cast<size_t>(n);
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                return;
            } else {
                close_socket(d);
                return;
            }
        }
        if (d.out_sent == d.out.size()) {
            d.out.clear();
            d.out_sent = 0;
        }
    }

    void on_connack(Device& d, uint8_t code) {
        if (code != 0) {
            d.refused = true;
            close_socket(d);
            return;
        }
        d.connected = true;
        // What the broker never acknowledged goes again, oldest first, as a redelivery.
        std::vector<std::pair<long, uint16_t>> again;
        for (const auto& [packet_id, sequence] : d.outstanding) {
            again.emplace_back(sequence, packet_id);
        }
        std::sort(again.begin(), again.end());
        for (const auto& [sequence, packet_id] : again) {
            publish(d, sequence, packet_id, true);
        }
    }

    void readable(Device& d) {
        uint8_t buffer[16384];
        for (;;) {
            const ssize_t n = ::recv(d.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                d.in.insert(d.in.end(), buffer, buffer + n);
                if (static_cast<size_t>(n) < sizeof buffer) {
                    break;
                }
            } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            } else {
                close_socket(d);
                return;
            }
        }
        size_t used = 0;
        for (;;) {
            vigil::mqtt::Packet packet{};
            const vigil::mqtt::Status status =
                vigil::mqtt::decode_packet(d.in.data() + used, d.in.size() - used, 1024, &packet);
            if (status == vigil::mqtt::Status::NeedMore) {
                break;
            }
            if (status != vigil::mqtt::Status::Ok) {
                std::fprintf(stderr, "hub_load: %s: %s from the broker\n", d.id.c_str(),
                             vigil::mqtt::to_string(status));
                close_socket(d);
                return;
            }
            used += packet.size;
            if (packet.type == vigil::mqtt::PacketType::Connack) {
                on_connack(d, packet.return_code);
                if (d.fd < 0) {
                    return;
                }
            } else if (packet.type == vigil::mqtt::PacketType::Puback) {
                if (d.outstanding.erase(packet.packet_id) > 0) {
                    ++d.acked;
                }
            }
        }
        d.in.erase(d.in.begin(), d.in.begin() + static_cast<long>(used));
    }

    void poll(int timeout_ms) {
        const Clock::time_point now = Clock::now();
        for (auto& d : devices_) {
            if (d->fd < 0 && now >= d->retry_at && !d->refused) {
                open_socket(*d);
            }
        }
        if (now - last_check_ >= std::chrono::milliseconds(20)) {
            check_committed();
        }
        epoll_event events[256];
        const int n = epoll_wait(epoll_, events, 256, timeout_ms);
        for (int i = 0; i < n; ++i) {
            Device& d = *static_cast<Device*>(events[i].data.ptr);
            if (d.fd < 0) {
                continue;
            }
            if (!d.socket_open && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int error = 0;
                socklen_t size = sizeof error;
                getsockopt(d.fd, SOL_SOCKET, SO_ERROR, &error, &size);
                if (error != 0) {
                    close_socket(d);
                    continue;
                }
                d.socket_open = true;
                // Only readiness to read from here on; a full send buffer is retried each round.
                epoll_event e{};
                e.events = EPOLLIN;
                e.data.ptr = &d;
                epoll_ctl(epoll_, EPOLL_CTL_MOD, d.fd, &e);
                connect_packet(d);
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                readable(d);
            }
            flush(d);
        }
    }

    void connect_packet(Device& d) {
        vigil::mqtt::ConnectOptions options;
        options.client_id = d.id.c_str();
        options.username = d.id.c_str();
        options.password = d.password.c_str();
        options.keep_alive_s = 60;
        options.clean_session = true;
        uint8_t packet[512];
        size_t written = 0;
        if (vigil::mqtt::encode_connect(options, packet, sizeof packet, &written) ==
            vigil::mqtt::Status::Ok) {
            d.out.insert(d.out.begin(), packet, packet + written);
        }
    }

    void check_committed() {
        last_check_ = Clock::now();
        while (!pending_.empty()) {
            const Sample& sample = pending_.front();
            const Device& d = *devices_[sample.device];
            const std::string key = std::to_string(s_.boot) + ":" + std::to_string(sample.sequence);
            sqlite3_bind_text(lookup_, 1, d.id.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(lookup_, 2, key.c_str(), -1, SQLITE_TRANSIENT);
            const bool found = sqlite3_step(lookup_) == SQLITE_ROW;
            // Reset at once: a statement left on its row keeps its read transaction, and every
            // later query on this connection would see the store as it was then.
            sqlite3_reset(lookup_);
            if (!found) {
                // Samples are in publishing order; a batch commits the older ones first, so
                // the first one missing ends this look.
                return;
            }
            latencies_ms_.push_back(
                std::chrono::duration<double, std::milli>(last_check_ - sample.sent).count());
            pending_.pop_front();
        }
    }

    const Settings& s_;
    std::vector<std::unique_ptr<Device>>& devices_;
    sockaddr_in broker_;
    sqlite3* db_;
    sqlite3_stmt* lookup_ = nullptr;
    int epoll_ = -1;
    std::deque<Sample> pending_;
    std::vector<double> latencies_ms_;
    Clock::time_point last_check_{};
};

// CPU time (user + system) a process has used so far, from /proc/PID/stat; -1 when unreadable.
double cpu_seconds(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t after_name = text.rfind(')');
    if (after_name == std::string::npos) {
        return -1;
    }
    std::istringstream fields(text.substr(after_name + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14 || i == 15) {  // utime, stime
            ticks += std::atof(field.c_str());
        }
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return std::nan("");
    }
    std::sort(values.begin(), values.end());
    const size_t at = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
    return values[std::min(at, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    if (!parse(argc, argv, s)) {
        std::fprintf(stderr,
                     "usage: %s --data DIR [--devices N] [--seconds S | --messages M] "
                     "[--inflight K] [--prefix P] [--boot B] [--credentials FILE] "
                     "[--timeout S] [--quiet] [--cpu-of NAME=PID ...] [--steady-peers] "
                     "[--system-every N]\n",
                     argv[0]);
        return 2;
    }
    std::vector<std::unique_ptr<Device>> devices;
    std::string host;
    int port = 0;
    if (!enrol(s, devices, host, port)) {
        return 1;
    }
    sockaddr_in broker{};
    broker.sin_family = AF_INET;
    broker.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &broker.sin_addr) != 1) {
        std::fprintf(stderr, "hub_load: the broker host %s is not an IPv4 address\n", host.c_str());
        return 1;
    }
    const std::string suffix = "/messages/events/mti=vigil.1&%24.ct=application%2Fcbor";
    for (size_t i = 0; i < devices.size(); ++i) {
        devices[i]->topic = "devices/" + devices[i]->id + suffix;
        devices[i]->number = static_cast<int>(i);
    }
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((s.data_dir + "/vigil.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
        std::fprintf(stderr, "hub_load: cannot open the hub's store\n");
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    const uint64_t stored_before = stored_messages(db);
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<long>(s.timeout_s * 1000));
    long published = 0, acked = 0;
    uint64_t stored = 0;
    double publishing_s = 0, elapsed_s = 0;
    std::vector<double> latencies;
    std::vector<double> cpu_before, cpu_after;  // of the --cpu-of processes, then of this one
    {
        Fleet fleet(s, devices, broker, db);
        if (!fleet.start() || !fleet.wait_connected(deadline)) {
            std::fprintf(stderr, "hub_load: not every device could connect to %s:%d\n",
                         host.c_str(), port);
            sqlite3_close(db);
            return 1;
        }
        for (auto& [name, pid] : s.cpu_of) {
            cpu_before.push_back(cpu_seconds(pid));
        }
        cpu_before.push_back(cpu_seconds(getpid()));
        const Clock::time_point start = Clock::now();
        fleet.run(start + std::chrono::milliseconds(static_cast<long>(s.seconds * 1000)), deadline);
        publishing_s = std::chrono::duration<double>(Clock::now() - start).count();
        published = fleet.published();
        acked = fleet.acked();
        // Every acknowledged publish committed by the hub.
        stored = stored_messages(db) - stored_before;
        while (Clock::now() < deadline && stored < static_cast<uint64_t>(acked)) {
            fleet.wait_committed(std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
            stored = stored_messages(db) - stored_before;
        }
        elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
        for (auto& [name, pid] : s.cpu_of) {
            cpu_after.push_back(cpu_seconds(pid));
        }
        cpu_after.push_back(cpu_seconds(getpid()));
        fleet.wait_committed(deadline);
        latencies = fleet.latencies_ms();
    }
    sqlite3_close(db);
    const double rate = static_cast<double>(stored) / elapsed_s;
    if (!s.quiet) {
        std::printf(
            "%d devices published %ld messages of 20 flows in %.1f s; the hub committed "
            "%llu in %.1f s; publish to commit p50 %.1f ms, p99 %.1f ms (%zu samples)\n",
            s.devices, published, publishing_s, static_cast<unsigned long long>(stored), elapsed_s,
            percentile(latencies, 0.50), percentile(latencies, 0.99), latencies.size());
    }
    std::printf("BENCH hub_ingest_messages_per_second %.0f msg/s\n", rate);
    std::printf("BENCH hub_ingest_p99_ms %.1f ms\n", percentile(latencies, 0.99));
    // CPU per committed message, of the processes named and of the load program itself: unlike
    // the rate, these hardly move when something else shares the machine.
    std::vector<std::string> names;
    for (auto& named : s.cpu_of) {
        names.push_back(named.first);
    }
    names.push_back("load");
    for (size_t i = 0; i < names.size() && stored > 0; ++i) {
        if (cpu_before[i] >= 0 && cpu_after[i] >= 0) {
            std::printf("BENCH hub_ingest_cpu_us_per_message_%s %.1f us\n", names[i].c_str(),
                        (cpu_after[i] - cpu_before[i]) * 1e6 / static_cast<double>(stored));
        }
    }
    std::printf("RESULT acked=%ld stored=%llu devices=%d\n", acked,
                static_cast<unsigned long long>(stored), s.devices);
    return stored == static_cast<uint64_t>(acked) && acked == published ? 0 : 1;
}

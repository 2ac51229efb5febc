// PacketRing on real interfaces: two veth pairs between a "device" and a "peer" network
// namespace made by the test (offloads off, so every datagram is one frame). The test thread
// enters a namespace with setns() only while it opens the ring or a socket there: sockets stay
// in the namespace they were made in, so the rest of the test runs from anywhere.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "vigil/ports/packet_ring.hpp"

namespace {

using vigil::ports::posix::PacketRing;

bool run(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

/// The calling thread inside a named network namespace until destroyed.
class InNamespace {
  public:
    explicit InNamespace(const std::string& name) {
        original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        const int target = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
        entered_ = original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0;
        if (target >= 0) {
            close(target);
        }
    }
    ~InNamespace() {
        if (entered_) {
            setns(original_, CLONE_NEWNET);
        }
        if (original_ >= 0) {
            close(original_);
        }
    }
    InNamespace(const InNamespace&) = delete;
    InNamespace& operator=(const InNamespace&) = delete;
    bool entered() const { return entered_; }

  private:
    int original_ = -1;
    bool entered_ = false;
};

struct Link {
    const char* device;
    const char* peer;
    const char* device4;
    const char* peer4;
    const char* device6;
    const char* peer6;
};

// Documentation ranges; each pair has its own subnet so routing picks the interface.
constexpr Link kLinks[] = {
    {"vd0", "vp0", "203.0.113.1", "203.0.113.2", "2001:db8:9::1", "2001:db8:9::2"},
    {"vd1", "vp1", "203.0.113.129", "203.0.113.130", "2001:db8:9:1::1", "2001:db8:9:1::2"},
};

/// The two namespaces and their veth pairs, removed (with everything in them) at the end.
class TestNetwork {
  public:
    TestNetwork()
        : device_("vigil-ring-d" + std::to_string(getpid())),
          peer_("vigil-ring-p" + std::to_string(getpid())) {}
    ~TestNetwork() {
        run("ip netns del " + device_);
        run("ip netns del " + peer_);
    }
    TestNetwork(const TestNetwork&) = delete;
    TestNetwork& operator=(const TestNetwork&) = delete;

    /// False when namespaces cannot be made here (no rights): the test is skipped.
    bool create() {
        if (!run("ip netns add " + device_)) {
            return false;
        }
        made_ = run("ip netns add " + peer_);
        for (const Link& link : kLinks) {
            made_ = made_ &&
                    run("ip link add " + std::string(link.device) + " netns " + device_ +
                        " type veth peer name " + link.peer + " netns " + peer_) &&
                    configure(device_, link.device, link.device4, link.device6) &&
                    configure(peer_, link.peer, link.peer4, link.peer6);
        }
        made_ = made_ && run("ip -n " + device_ + " link set lo up") &&
                run("ip -n " + peer_ + " link set lo up");
        return true;
    }
    bool made() const { return made_; }
    const std::string& device() const { return device_; }
    const std::string& peer() const { return peer_; }

  private:
    static bool configure(const std::string& ns, const std::string& dev, const char* v4,
                          const char* v6) {
        const std::string in = "ip -n " + ns + " ";
        return run(in + "addr add " + v4 + "/25 dev " + dev) &&
               run(in + "addr add " + v6 + "/64 dev " + dev + " nodad") &&
               run("ip netns exec " + ns + " ethtool -K " + dev + " tso off gso off gro off") &&
               run(in + "link set " + dev + " up");
    }

    std::string device_;
    std::string peer_;
    bool made_ = false;
};

/// A UDP socket bound to an ephemeral port of `address`, in the current namespace.
struct Udp {
    int fd = -1;
    uint16_t port = 0;
    bool v6 = false;
    std::string address;
    Udp() = default;
    explicit Udp(const std::string& text) : v6(text.find(':') != std::string::npos), address(text) {
        fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_storage storage = endpoint(text, 0);
        socklen_t length = v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
            return;
        }
        port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                        : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
    }
    Udp(Udp&& other) noexcept { *this = std::move(other); }
    Udp& operator=(Udp&& other) noexcept {
        std::swap(fd, other.fd);
        port = other.port;
        v6 = other.v6;
        address = other.address;
        return *this;
    }
    ~Udp() {
        if (fd >= 0) {
            close(fd);
        }
    }
    static sockaddr_storage endpoint(const std::string& text, uint16_t port) {
        sockaddr_storage storage{};
        if (text.find(':') != std::string::npos) {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(port);
            inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr);
        } else {
            auto* in = reinterpret_cast<sockaddr_in*>(&storage);
            in->sin_family = AF_INET;
            in->sin_port = htons(port);
            inet_pton(AF_INET, text.c_str(), &in->sin_addr);
        }
        return storage;
    }
    bool send_to(const Udp& to, size_t payload) const {
        const std::vector<uint8_t> bytes(payload, 0x5A);
        const sockaddr_storage target = endpoint(to.address, to.port);
        return sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                      v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)) ==
               static_cast<ssize_t>(payload);
    }
};

/// What the test reads from one frame.
struct Seen {
    uint8_t interface_index;
    vigil_direction direction;
    int family;
    int protocol;
    uint16_t source_port;       // UDP; ICMP: the type
    uint16_t destination_port;  // UDP; ICMP: 0
    size_t ip_length;           // from the IP header

    auto key() const {
        return std::make_tuple(interface_index, static_cast<int>(direction), family, protocol,
                               source_port, destination_port, ip_length);
    }
    bool operator<(const Seen& other) const { return key() < other.key(); }
    bool operator==(const Seen& other) const { return key() == other.key(); }
};

std::ostream& operator<<(std::ostream& out, const Seen& s) {
    return out << "{if " << int(s.interface_index)
               << (s.direction == VIGIL_OUTBOUND ? " out" : " in") << " v" << s.family << " proto "
               << s.protocol << " " << s.source_port << ">" << s.destination_port << " len "
               << s.ip_length << "}";
}

uint64_t realtime_ms() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000u +
           static_cast<uint64_t>(now.tv_nsec) / 1000000u;
}

/// The frames of UDP and ICMP echo traffic (neighbour discovery and router solicitations that
/// the kernel sends on its own are left out), with each frame's lengths checked.
class Collector {
  public:
    void operator()(const PacketRing::Frame& frame) {
        ++frames_;
        const uint8_t* ip = frame.ip;
        EXPECT_GE(frame.captured, 20u);
        EXPECT_LE(frame.captured, 256u) << "cut to snap_length";
        EXPECT_LE(frame.captured, frame.original);
        EXPECT_FALSE(frame.otherhost);
        const uint64_t now = realtime_ms();
        EXPECT_LE(frame.time_ms, now + 1000);
        EXPECT_GE(frame.time_ms + 60'000, now);
        const int family = ip[0] >> 4;
        size_t header = 0;
        size_t length = 0;
        int protocol = 0;
        if (family == 4) {
            header = static_cast<size_t>(ip[0] & 0x0F) * 4;
            length = static_cast<size_t>(ip[2] << 8 | ip[3]);
            protocol = ip[9];
        } else {
            ASSERT_EQ(family, 6);
            header = 40;
            length = 40 + static_cast<size_t>(ip[4] << 8 | ip[5]);
            protocol = ip[6];
        }
        EXPECT_EQ(frame.original, length) << "the wire length from the IP header on";
        EXPECT_EQ(frame.captured, std::min<size_t>(length, 256));
        if (frame.captured < header + 4) {
            return;
        }
        const uint8_t* l4 = ip + header;
        Seen seen{frame.interface_index, frame.direction, family, protocol, 0, 0, length};
        if (protocol == 17) {
            seen.source_port = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
            seen.destination_port = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
        } else if ((protocol == 1 && (l4[0] == 8 || l4[0] == 0)) ||
                   (protocol == 58 && (l4[0] == 128 || l4[0] == 129))) {
            seen.source_port = l4[0];
        } else {
            return;
        }
        seen_.push_back(seen);
    }
    const std::vector<Seen>& seen() const { return seen_; }
    size_t frames() const { return frames_; }

  private:
    std::vector<Seen> seen_;
    size_t frames_ = 0;
};

/// Polls until `wanted` frames of interest arrived (or 5 s passed), then a little longer for
/// any that should not be there.
void collect(PacketRing& ring, Collector& collector, size_t wanted) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (collector.seen().size() < wanted && std::chrono::steady_clock::now() < deadline) {
        ASSERT_NE(ring.poll(100, std::ref(collector)), PacketRing::Result::Error) << ring.error();
    }
    for (int i = 0; i < 3; ++i) {
        ASSERT_NE(ring.poll(100, std::ref(collector)), PacketRing::Result::Error) << ring.error();
    }
}

/// Runs a shell command while polling the ring, as a daemon would: a ring nobody reads fills
/// up after block_count blocks, however few frames each holds.
bool run_while_polling(const std::string& command, PacketRing& ring, Collector& collector) {
    const pid_t child = fork();
    if (child == 0) {
        execl("/bin/sh", "sh", "-c", (command + " >/dev/null 2>&1").c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    if (child < 0) {
        return false;
    }
    int status = 0;
    while (waitpid(child, &status, WNOHANG) == 0) {
        if (ring.poll(20, std::ref(collector)) == PacketRing::Result::Error) {
            ADD_FAILURE() << ring.error();
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#define REQUIRE_NETWORK(network)                                              \
    if (!(network).create()) {                                                \
        GTEST_SKIP() << "cannot create network namespaces here (needs root)"; \
    }                                                                         \
    ASSERT_TRUE((network).made()) << "veth pairs and addresses"

PacketRing::Options fast_options() {
    PacketRing::Options options;
    options.interfaces = {"vd0", "vd1"};
    options.block_timeout_ms = 20;
    return options;
}

TEST(PacketRing, CountsLengthsDirectionsAndInterfaces) {
    TestNetwork network;
    REQUIRE_NETWORK(network);
    std::unique_ptr<PacketRing> ring;
    std::map<std::string, Udp> device;
    std::map<std::string, Udp> peer;
    {
        InNamespace in(network.device());
        ASSERT_TRUE(in.entered());
        std::string error;
        ring = PacketRing::open(fast_options(), error);
        ASSERT_TRUE(ring) << error;
        for (const Link& link : kLinks) {
            device[link.device4] = Udp(link.device4);
            device[link.device6] = Udp(link.device6);
        }
    }
    {
        InNamespace in(network.peer());
        ASSERT_TRUE(in.entered());
        for (const Link& link : kLinks) {
            peer[link.peer4] = Udp(link.peer4);
            peer[link.peer6] = Udp(link.peer6);
        }
    }
    for (const auto* sockets : {&device, &peer}) {
        for (const auto& [address, udp] : *sockets) {
            ASSERT_NE(udp.port, 0) << address;
        }
    }

    // (interface, sender is the device, v6, payload bytes)
    const std::vector<std::tuple<uint8_t, bool, bool, size_t>> datagrams = {
        {0, false, false, 10}, {0, false, false, 100}, {0, false, false, 1000},
        {0, true, false, 20},  {0, true, false, 1400}, {0, false, true, 30},
        {0, false, true, 300}, {0, false, true, 1200}, {0, true, true, 40},
        {1, false, false, 50}, {1, false, false, 60},  {1, true, false, 70},
        {1, true, true, 80},
    };
    std::vector<Seen> expected;
    for (const auto& [index, outbound, v6, payload] : datagrams) {
        const Link& link = kLinks[index];
        const Udp& mine = device[v6 ? link.device6 : link.device4];
        const Udp& theirs = peer[v6 ? link.peer6 : link.peer4];
        const Udp& from = outbound ? mine : theirs;
        const Udp& to = outbound ? theirs : mine;
        ASSERT_TRUE(from.send_to(to, payload));
        expected.push_back(Seen{index, outbound ? VIGIL_OUTBOUND : VIGIL_INBOUND, v6 ? 6 : 4, 17,
                                from.port, to.port, payload + 8 + (v6 ? 40 : 20)});
    }
    Collector collector;
    // Pings both ways: (interface, the device pings, v6, count). 56 bytes of data each.
    const std::vector<std::tuple<uint8_t, bool, bool, int>> pings = {
        {0, false, false, 3}, {0, true, false, 2}, {0, true, true, 2}, {1, false, false, 2}};
    for (const auto& [index, from_device, v6, count] : pings) {
        const Link& link = kLinks[index];
        const std::string target =
            from_device ? (v6 ? link.peer6 : link.peer4) : (v6 ? link.device6 : link.device4);
        ASSERT_TRUE(run_while_polling(
            "ip netns exec " + (from_device ? network.device() : network.peer()) +
                " ping -q -n -i 0.1 -W 2 -c " + std::to_string(count) + " " + target,
            *ring, collector));
        const int request = v6 ? 128 : 8;
        const int reply = v6 ? 129 : 0;
        const size_t length = v6 ? 104 : 84;
        for (int i = 0; i < count; ++i) {
            const vigil_direction out = from_device ? VIGIL_OUTBOUND : VIGIL_INBOUND;
            const vigil_direction back = from_device ? VIGIL_INBOUND : VIGIL_OUTBOUND;
            expected.push_back(Seen{index, out, v6 ? 6 : 4, v6 ? 58 : 1,
                                    static_cast<uint16_t>(request), 0, length});
            expected.push_back(Seen{index, back, v6 ? 6 : 4, v6 ? 58 : 1,
                                    static_cast<uint16_t>(reply), 0, length});
        }
    }

    collect(*ring, collector, expected.size());
    std::vector<Seen> seen = collector.seen();
    std::sort(seen.begin(), seen.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(seen, expected);

    // The kernel counts a frame when it enters a block, and hands the block over when it is full
    // or its timeout retires it: a frame counted after the last poll (a neighbour solicitation of
    // the namespaces' own) is read once its block retires.
    PacketRing::Stats stats = ring->stats();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (collector.frames() < stats.packets && std::chrono::steady_clock::now() < deadline) {
        ASSERT_NE(ring->poll(100, std::ref(collector)), PacketRing::Result::Error) << ring->error();
        stats = ring->stats();
    }
    EXPECT_EQ(stats.drops, 0u);
    EXPECT_EQ(stats.non_ip, 0u) << "ARP is filtered in the kernel";
    EXPECT_EQ(stats.packets, collector.frames()) << "every frame that passed the filter";
    EXPECT_EQ(ring->interfaces(), (std::vector<std::string>{"vd0", "vd1"}));
}

TEST(PacketRing, LinkDownIsNotAnErrorRemovalIs) {
    TestNetwork network;
    REQUIRE_NETWORK(network);
    std::unique_ptr<PacketRing> ring;
    Udp device;
    Udp peer;
    {
        InNamespace in(network.device());
        ASSERT_TRUE(in.entered());
        std::string error;
        ring = PacketRing::open(fast_options(), error);
        ASSERT_TRUE(ring) << error;
        device = Udp(kLinks[0].device4);
    }
    {
        InNamespace in(network.peer());
        peer = Udp(kLinks[0].peer4);
    }
    Collector collector;

    // vd0 down and up again: the ring keeps capturing on it.
    ASSERT_TRUE(run("ip -n " + network.device() + " link set vd0 down"));
    for (int i = 0; i < 3; ++i) {
        ASSERT_NE(ring->poll(100, std::ref(collector)), PacketRing::Result::Error) << ring->error();
    }
    ASSERT_TRUE(run("ip -n " + network.device() + " link set vd0 up"));
    for (int i = 0; i < 3; ++i) {
        ASSERT_NE(ring->poll(100, std::ref(collector)), PacketRing::Result::Error) << ring->error();
    }
    ASSERT_TRUE(peer.send_to(device, 5));
    collect(*ring, collector, 1);
    ASSERT_EQ(collector.seen().size(), 1u);
    EXPECT_EQ(collector.seen()[0].direction, VIGIL_INBOUND);

    // vd1 removed (with its peer end): poll reports it, without spinning.
    ASSERT_TRUE(run("ip -n " + network.peer() + " link del vp1"));
    const auto start = std::chrono::steady_clock::now();
    PacketRing::Result result = PacketRing::Result::Timeout;
    int polls = 0;
    while (result != PacketRing::Result::Error &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
        result = ring->poll(500, std::ref(collector));
        ++polls;
    }
    ASSERT_EQ(result, PacketRing::Result::Error);
    EXPECT_LE(polls, 20) << "each poll waited";
    EXPECT_NE(ring->error().find("vd1"), std::string::npos) << ring->error();
    EXPECT_NE(ring->error().find("removed"), std::string::npos) << ring->error();
    EXPECT_EQ(ring->poll(100, std::ref(collector)), PacketRing::Result::Error) << "stays failed";
}

TEST(PacketRing, EmptyListIsEveryUpInterfaceButLoopback) {
    TestNetwork network;
    REQUIRE_NETWORK(network);
    InNamespace in(network.device());
    ASSERT_TRUE(in.entered());
    std::string error;
    auto ring = PacketRing::open(PacketRing::Options{}, error);
    ASSERT_TRUE(ring) << error;
    EXPECT_EQ(ring->interfaces(), (std::vector<std::string>{"vd0", "vd1"}));
}

TEST(PacketRing, MissingInterfaceFails) {
    PacketRing::Options options;
    options.interfaces = {"lo", "vigil-none0"};
    std::string error;
    EXPECT_FALSE(PacketRing::open(options, error));
    EXPECT_NE(error.find("no such interface: vigil-none0"), std::string::npos) << error;
}

TEST(PacketRing, BadOptionsFail) {
    PacketRing::Options options;
    options.interfaces = {"lo"};
    options.block_size = 1000;
    std::string error;
    EXPECT_FALSE(PacketRing::open(options, error));
    EXPECT_NE(error.find("block_size"), std::string::npos) << error;
    options.block_size = 1 << 16;
    options.block_count = 0;
    EXPECT_FALSE(PacketRing::open(options, error));
    EXPECT_NE(error.find("block_count"), std::string::npos) << error;
}

TEST(PacketRing, WithoutCapNetRawFailsClearly) {
    // A child that gives up root (and so every capability) tries; the parent keeps its rights.
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (geteuid() == 0 && setresuid(65534, 65534, 65534) != 0) {
            _exit(3);
        }
        PacketRing::Options options;
        options.interfaces = {"lo"};
        std::string error;
        const bool opened = PacketRing::open(options, error) != nullptr;
        _exit(opened ? 1 : error.find("needs CAP_NET_RAW") != std::string::npos ? 0 : 2);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: opened anyway, 2: unclear message, 3: setresuid";
}

TEST(PacketRing, LoopbackWhenNamedSeesBothDirections) {
    PacketRing::Options options;
    options.interfaces = {"lo"};
    options.block_timeout_ms = 20;
    std::string error;
    auto ring = PacketRing::open(options, error);
    if (!ring) {
        GTEST_SKIP() << error;
    }
    Udp a("127.0.0.1");
    Udp b("127.0.0.1");
    ASSERT_TRUE(a.send_to(b, 33));
    Collector collector;
    collect(*ring, collector, 2);
    int out = 0;
    int in = 0;
    for (const Seen& s : collector.seen()) {
        if (s.protocol == 17 && s.source_port == a.port && s.destination_port == b.port) {
            EXPECT_EQ(s.ip_length, 61u);
            (s.direction == VIGIL_OUTBOUND ? out : in) += 1;
        }
    }
    EXPECT_EQ(out, 1);
    EXPECT_EQ(in, 1);
}

}  // namespace

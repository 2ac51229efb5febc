#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "packets.hpp"
#include "vigil/agent/agent.hpp"
#include "vigil/ports/posix.hpp"
#include "vigil/protocol/message.h"

namespace {

using namespace vigil::ports::posix;
namespace fs = std::filesystem;

vigil_address v4(const char* text) {
    vigil_address a{};
    a.family = 4;
    EXPECT_EQ(inet_pton(AF_INET, text, a.bytes), 1) << text;
    return a;
}

vigil_address v6(const char* text) {
    vigil_address a{};
    a.family = 6;
    EXPECT_EQ(inet_pton(AF_INET6, text, a.bytes), 1) << text;
    return a;
}

bool same_address(const vigil_address& a, const vigil_address& b) {
    const size_t size = a.family == 4 ? 4 : a.family == 6 ? 16 : 0;
    return a.family == b.family && std::memcmp(a.bytes, b.bytes, size) == 0;
}

bool contains(const std::vector<vigil_listening_port>& ports, vigil_protocol protocol,
              uint16_t port, const vigil_address& address) {
    for (const vigil_listening_port& p : ports) {
        if (p.protocol == protocol && p.port == port && same_address(p.address, address)) {
            return true;
        }
    }
    return false;
}

/// A scratch directory removed at the end of the test.
class TempTree {
  public:
    TempTree() {
        std::string pattern = (fs::temp_directory_path() / "vigil-posix-XXXXXX").string();
        root_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
        EXPECT_FALSE(root_.empty());
    }
    ~TempTree() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }
    std::string write(const std::string& relative, const std::string& content) {
        const fs::path path = fs::path(root_) / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path, std::ios::binary) << content;
        return path.string();
    }
    std::string path(const std::string& relative) const { return root_ + "/" + relative; }

  private:
    std::string root_;
};

// Lines as a little-endian Linux kernel prints them (a real capture of /proc/net/tcp, trimmed).
constexpr char kProcNetTcp[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1234 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "1235 1 0000000000000000 100 0 0 10 0\n"
    "   2: 0264A8C0:0016 0A64A8C0:D431 01 00000000:00000000 02:000A7B2E 00000000     0        0 "
    "1236 4 0000000000000000 20 4 29 10 -1\n"
    "   3: 0264A8C0:C350 0A64A8C0:0050 06 00000000:00000000 03:00001632 00000000     0        0 "
    "0 3 0000000000000000\n";

constexpr char kProcNetTcp6[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0\n"
    "   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 2002 1 0000000000000000 100 0 0 10 0\n"
    "   2: B80D0120000000000000000002000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 2003 1 0000000000000000 100 0 0 10 0\n";

constexpr char kProcNetUdp[] =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode ref pointer drops\n"
    "  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 "
    "3001 2 0000000000000000 0\n"
    "  101: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 "
    "3002 2 0000000000000000 0\n"
    "  102: 0264A8C0:A1B2 0101A8C0:0035 01 00000000:00000000 00:00000000 00000000     0        0 "
    "3003 2 0000000000000000 0\n";

constexpr char kProcNetUdp6[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    "  200: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000   104        0 4001 2 0000000000000000 0\n";

TEST(OsRelease, ReadsDebian) {
    const OsRelease r = parse_os_release(
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
        "NAME=\"Debian GNU/Linux\"\n"
        "VERSION_ID=\"12\"\n"
        "VERSION=\"12 (bookworm)\"\n"
        "ID=debian\n");
    EXPECT_EQ(r.name, "Debian GNU/Linux");
    EXPECT_EQ(r.version_id, "12");
    EXPECT_EQ(r.pretty_name, "Debian GNU/Linux 12 (bookworm)");
}

TEST(OsRelease, HandlesQuotingCommentsAndGarbage) {
    const OsRelease r = parse_os_release(
        "# comment with NAME=wrong\n"
        "\n"
        "not a key value line\n"
        "  NAME='Buildroot \"lite\"'  \r\n"
        "VERSION_ID=2024.02.1\n"
        "PRETTY_NAME=\"say \\\"hi\\\" \\$HOME \\\\ \\n\"\n");
    EXPECT_EQ(r.name, "Buildroot \"lite\"");
    EXPECT_EQ(r.version_id, "2024.02.1");
    EXPECT_EQ(r.pretty_name, "say \"hi\" $HOME \\ \\n");
}

TEST(OsRelease, EmptyWhenAbsent) {
    const OsRelease r = parse_os_release("ID=alpine\nVERSION_ID");
    EXPECT_EQ(r.name, "");
    EXPECT_EQ(r.version_id, "");
}

TEST(ProcNet, TcpListenersOnly) {
    const auto ports = parse_proc_net(kProcNetTcp, SocketTable::Tcp, WordOrder::Little);
    ASSERT_EQ(ports.size(), 2u);
    EXPECT_EQ(ports[0].protocol, VIGIL_TCP);
    EXPECT_EQ(ports[0].port, 22);
    EXPECT_EQ(ports[0].address.family, 0) << "0.0.0.0 means all addresses";
    EXPECT_EQ(ports[1].port, 631);
    EXPECT_TRUE(same_address(ports[1].address, v4("127.0.0.1")));
}

TEST(ProcNet, Tcp6Words) {
    const auto ports = parse_proc_net(kProcNetTcp6, SocketTable::Tcp6, WordOrder::Little);
    ASSERT_EQ(ports.size(), 3u);
    EXPECT_EQ(ports[0].address.family, 0);
    EXPECT_TRUE(same_address(ports[1].address, v6("::1")));
    EXPECT_EQ(ports[2].port, 8080);
    EXPECT_TRUE(same_address(ports[2].address, v6("2001:db8::2")));
}

TEST(ProcNet, UdpBoundWithoutRemote) {
    const auto ports = parse_proc_net(kProcNetUdp, SocketTable::Udp, WordOrder::Little);
    ASSERT_EQ(ports.size(), 2u);
    EXPECT_EQ(ports[0].protocol, VIGIL_UDP);
    EXPECT_EQ(ports[0].port, 68);
    EXPECT_EQ(ports[0].address.family, 0);
    EXPECT_EQ(ports[1].port, 53);
    EXPECT_TRUE(same_address(ports[1].address, v4("127.0.0.53")));

    const auto ports6 = parse_proc_net(kProcNetUdp6, SocketTable::Udp6, WordOrder::Little);
    ASSERT_EQ(ports6.size(), 1u);
    EXPECT_EQ(ports6[0].port, 5353);
}

TEST(ProcNet, BigEndianProducer) {
    const auto ports = parse_proc_net(
        "header\n   0: 7F000001:0277 00000000:0000 0A 00000000:00000000 00:00000000 0 0 0 1\n",
        SocketTable::Tcp, WordOrder::Big);
    ASSERT_EQ(ports.size(), 1u);
    EXPECT_TRUE(same_address(ports[0].address, v4("127.0.0.1")));
}

TEST(ProcNet, SkipsMalformedLines) {
    const char* text =
        "header\n"
        "   0: 0100007F 00000000:0000 0A\n"                                // no port
        "   1: 0100007G:0277 00000000:0000 0A\n"                           // not hex
        "   2: 0100007F:12345 00000000:0000 0A\n"                          // port out of range
        "   3: 010000:0277 00000000:0000 0A\n"                             // short address
        "   4: 0100007F:0000 00000000:0000 0A\n"                           // port 0
        "   5 0100007F:0277 00000000:0000 0A\n"                            // slot without colon
        "   6: 0100007F:0277\n"                                            // cut short
        "   7: 0100007F:0050 00000000:0000 0A trailing\n"                  // the one good line
        "   8: 00000000000000000000000000000000:0016 00000000:0000 0A\n";  // v6 in a v4 table
    const auto ports = parse_proc_net(text, SocketTable::Tcp, WordOrder::Little);
    ASSERT_EQ(ports.size(), 1u);
    EXPECT_EQ(ports[0].port, 80);
    EXPECT_TRUE(parse_proc_net("", SocketTable::Tcp).empty());
    EXPECT_TRUE(parse_proc_net("only a header", SocketTable::Udp6).empty());
}

TEST(ProcNet, SortUniqueMergesWildcards) {
    auto ports = parse_proc_net(kProcNetTcp, SocketTable::Tcp, WordOrder::Little);
    const auto ports6 = parse_proc_net(kProcNetTcp6, SocketTable::Tcp6, WordOrder::Little);
    ports.insert(ports.end(), ports6.begin(), ports6.end());
    sort_unique(ports);
    // [tcp 22 any] twice becomes once; 631 on 127.0.0.1 and on ::1 stay apart.
    ASSERT_EQ(ports.size(), 4u);
    EXPECT_EQ(ports[0].port, 22);
    EXPECT_EQ(ports[1].port, 631);
    EXPECT_EQ(ports[1].address.family, 4);
    EXPECT_EQ(ports[2].port, 631);
    EXPECT_EQ(ports[2].address.family, 6);
    EXPECT_EQ(ports[3].port, 8080);
}

TEST(ReadFirst, TrimsAndFallsBack) {
    TempTree tree;
    tree.write("blank", " \n");
    tree.write("model", std::string("Raspberry Pi 4 Model B Rev 1.4\0", 31));
    EXPECT_EQ(read_first({tree.path("missing"), tree.path("blank"), tree.path("model")}),
              "Raspberry Pi 4 Model B Rev 1.4");
    EXPECT_FALSE(read_first({tree.path("missing")}).has_value());
}

TEST(PosixPort, SystemInfoFromFiles) {
    TempTree tree;
    tree.write("etc/os-release", "NAME=\"Yocto\"\nVERSION_ID=4.0.17\n");
    tree.write("proc/device-tree/model", std::string("Board X\0", 8));
    PosixPort::Options options;
    options.etc_root = tree.path("etc");
    options.proc_root = tree.path("proc");
    options.sys_root = tree.path("sys");
    options.firmware_version = "fw-1.2.3";
    PosixPort port(options);

    vigil_system_info info{};
    port.port().system_info(port.port().context, &info);
    EXPECT_STREQ(info.os_name, "Yocto");
    EXPECT_STREQ(info.os_version, "4.0.17");
    EXPECT_STREQ(info.board, "Board X");
    EXPECT_STREQ(info.firmware_version, "fw-1.2.3");
    EXPECT_STREQ(info.stack_name, "Linux");
    ASSERT_NE(info.stack_version, nullptr);
    EXPECT_GT(std::strlen(info.stack_version), 0u);
    for (size_t i = 0; i < info.address_count; ++i) {
        EXPECT_FALSE(same_address(info.addresses[i], v4("127.0.0.1"))) << "loopback skipped";
        EXPECT_FALSE(same_address(info.addresses[i], v6("::1"))) << "loopback skipped";
    }
}

TEST(PosixPort, UnameWhenNoOsRelease) {
    TempTree tree;
    PosixPort::Options options;
    options.etc_root = tree.path("etc");
    options.proc_root = tree.path("proc");
    options.sys_root = tree.path("sys");
    PosixPort port(options);
    vigil_system_info info{};
    port.system_info(info);
    EXPECT_STREQ(info.os_name, "Linux");
    ASSERT_NE(info.board, nullptr) << "the machine name stands in for an unknown board";
    EXPECT_EQ(info.firmware_version, nullptr);
}

TEST(PosixPort, AddressOverride) {
    PosixPort port;
    port.override_addresses({v4("198.51.100.2"), v6("2001:db8::2")});
    vigil_system_info info{};
    port.system_info(info);
    ASSERT_EQ(info.address_count, 2u);
    EXPECT_TRUE(same_address(info.addresses[0], v4("198.51.100.2")));
    EXPECT_TRUE(same_address(info.addresses[1], v6("2001:db8::2")));
}

TEST(PosixPort, ListeningPortsFromFiles) {
    TempTree tree;
    tree.write("proc/net/tcp", kProcNetTcp);
    tree.write("proc/net/udp", kProcNetUdp);
    // no tcp6 / udp6: a kernel without IPv6
    PosixPort::Options options;
    options.proc_root = tree.path("proc");
    PosixPort port(options);
    const uint16_t probe = 1;
    if (*reinterpret_cast<const uint8_t*>(&probe) != 1) {
        GTEST_SKIP() << "the sample files are from a little-endian kernel";
    }
    vigil_listening_port out[3];
    const size_t total = port.port().listening_ports(port.port().context, out, 3);
    EXPECT_EQ(total, 4u) << "returns how many exist, beyond the capacity given";
    EXPECT_EQ(out[0].protocol, VIGIL_TCP);
    EXPECT_EQ(out[0].port, 22);
    EXPECT_EQ(out[2].protocol, VIGIL_UDP);
    EXPECT_EQ(out[2].port, 53);
}

TEST(PosixPort, LiveSocketsAreReported) {
    const int tcp = socket(AF_INET, SOCK_STREAM, 0);
    const int udp = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_GE(tcp, 0);
    ASSERT_GE(udp, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ASSERT_EQ(getsockname(tcp, reinterpret_cast<sockaddr*>(&address), &length), 0);
    const uint16_t tcp_port = ntohs(address.sin_port);
    ASSERT_EQ(getsockname(udp, reinterpret_cast<sockaddr*>(&address), &length), 0);
    const uint16_t udp_port = ntohs(address.sin_port);

    PosixPort port;
    EXPECT_FALSE(contains(port.listening_ports(), VIGIL_TCP, tcp_port, v4("127.0.0.1")))
        << "bound but not yet listening";
    ASSERT_EQ(listen(tcp, 1), 0);
    const auto ports = port.listening_ports();
    EXPECT_TRUE(contains(ports, VIGIL_TCP, tcp_port, v4("127.0.0.1")));
    EXPECT_TRUE(contains(ports, VIGIL_UDP, udp_port, v4("127.0.0.1")));
    close(tcp);
    close(udp);
    EXPECT_FALSE(contains(port.listening_ports(), VIGIL_TCP, tcp_port, v4("127.0.0.1")));
}

TEST(PosixPort, Clocks) {
    PosixPort port;
    const uint64_t a = port.now_ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const uint64_t b = port.now_ms();
    EXPECT_GE(b - a, 19u);
    EXPECT_LT(b - a, 5000u);
    const uint32_t unix_now = port.unix_time_s();
    EXPECT_TRUE(unix_now == 0 || unix_now > 1577836800u);

    port.set_now_ms(5);
    EXPECT_NE(port.now_ms(), 5u) << "the caller sets the clock only in replay mode";
    port.use_replay_clock(1'700'000'000'123);
    EXPECT_TRUE(port.replay_clock());
    EXPECT_EQ(port.port().now_ms(port.port().context), 1'700'000'000'123u);
    EXPECT_EQ(port.port().unix_time_s(port.port().context), 1'700'000'000u);
    port.set_now_ms(1'700'000'010'000);
    EXPECT_EQ(port.now_ms(), 1'700'000'010'000u);
    port.set_now_ms(42);  // a clock that does not look like a date: time unknown
    EXPECT_EQ(port.unix_time_s(), 0u);
}

TEST(PosixPort, Random) {
    PosixPort port;
    uint32_t first = port.random32();
    bool differs = false;
    for (int i = 0; i < 8 && !differs; ++i) {
        differs = port.random32() != first;
    }
    EXPECT_TRUE(differs);
}

TEST(PosixPort, Hooks) {
    PosixPort port;
    int attached = 0;
    int detached = 0;
    port.on_hooks([&] { ++attached; }, [&] { ++detached; });
    port.port().attach_hooks(port.port().context);
    port.port().detach_hooks(port.port().context);
    port.port().detach_hooks(port.port().context);
    EXPECT_EQ(attached, 1);
    EXPECT_EQ(detached, 2);
}

struct Recorder {
    std::vector<std::vector<uint8_t>> messages;
    static bool connected(void*) { return true; }
    static int32_t send(void* context, const char*, const char*, const uint8_t* payload,
                        size_t length) {
        static_cast<Recorder*>(context)->messages.emplace_back(payload, payload + length);
        return 1;
    }
};

// The packet hook runs in its own thread while the agent ticks: the port's lock must keep every
// packet counted exactly once.
TEST(PosixPort, PacketThreadAndTicks) {
    static vigil::agent::Agent<> agent;
    PosixPort port;
    port.use_replay_clock(1'700'000'000'000);
    Recorder recorder;
    const vigil_transport transport{&recorder, &Recorder::connected, &Recorder::send};
    const vigil_options options{0};
    ASSERT_EQ(agent.init(port.port(), transport, "posix-test", &options), vigil::agent::Status::Ok);

    // A few flows only, so nothing overflows and every packet lands in a flow record.
    std::vector<std::vector<uint8_t>> packets;
    for (uint16_t i = 0; i < 8; ++i) {
        packets.push_back(vigil::test::ipv4_packet(
            "198.51.100.2", "198.51.100.1",
            vigil::test::udp_datagram(static_cast<uint16_t>(40000 + i), 53, 20)));
    }
    constexpr int kPackets = 20000;
    std::atomic<bool> done{false};
    std::thread hook([&] {
        for (int i = 0; i < kPackets; ++i) {
            const auto& p = packets[static_cast<size_t>(i) % packets.size()];
            agent.packet(p.data(), p.size(), VIGIL_OUTBOUND, 0, port.now_ms());
        }
        done = true;
    });
    uint64_t now = 1'700'000'000'000;
    while (!done) {
        now += 500;
        port.set_now_ms(now);
        ASSERT_EQ(agent.tick(), vigil::agent::Status::Ok);
    }
    hook.join();
    now += 60'000;
    port.set_now_ms(now);
    ASSERT_EQ(agent.tick(), vigil::agent::Status::Ok);

    uint64_t packets_out = 0;
    uint64_t bytes_out = 0;
    for (const auto& bytes : recorder.messages) {
        vigil::protocol::Message message;
        ASSERT_TRUE(vigil::protocol::decode_message(bytes.data(), bytes.size(), message).ok());
        if (message.network) {
            for (const auto& flow : message.network->flows) {
                packets_out += flow.fields.packets_out;
                bytes_out += flow.fields.bytes_out;
            }
            EXPECT_TRUE(message.network->overflow.empty());
        }
    }
    EXPECT_EQ(packets_out, static_cast<uint64_t>(kPackets));
    EXPECT_EQ(bytes_out, static_cast<uint64_t>(kPackets) * packets[0].size());
}

}  // namespace

// sock_diag_listening_ports against real sockets of this process, and against the /proc parser.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vigil/ports/posix.hpp"

namespace {

using namespace vigil::ports::posix;

/// A socket closed at the end of the test, bound to an ephemeral port of `address`.
class BoundSocket {
  public:
    BoundSocket(int family, int type, const char* address) {
        fd_ = socket(family, type | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
            return;
        }
        sockaddr_storage storage{};
        socklen_t length = 0;
        if (family == AF_INET) {
            auto* in = reinterpret_cast<sockaddr_in*>(&storage);
            in->sin_family = AF_INET;
            ok_ = inet_pton(AF_INET, address, &in->sin_addr) == 1;
            length = sizeof(*in);
        } else {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
            in6->sin6_family = AF_INET6;
            ok_ = inet_pton(AF_INET6, address, &in6->sin6_addr) == 1;
            length = sizeof(*in6);
        }
        ok_ = ok_ && bind(fd_, reinterpret_cast<sockaddr*>(&storage), length) == 0 &&
              getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) == 0;
        port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                        : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
    }
    ~BoundSocket() { close(); }
    BoundSocket(const BoundSocket&) = delete;
    BoundSocket& operator=(const BoundSocket&) = delete;

    bool ok() const { return ok_; }
    int fd() const { return fd_; }
    uint16_t port() const { return port_; }
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

  private:
    int fd_ = -1;
    bool ok_ = false;
    uint16_t port_ = 0;
};

bool has_ipv6_loopback() {
    BoundSocket probe(AF_INET6, SOCK_DGRAM, "::1");
    return probe.ok();
}

/// The entries for one port, as "tcp 4 127.0.0.1"-style text so a mismatch reads clearly.
std::vector<std::string> entries_for(const std::vector<vigil_listening_port>& ports,
                                     uint16_t port) {
    std::vector<std::string> out;
    for (const vigil_listening_port& p : ports) {
        if (p.port != port) {
            continue;
        }
        char text[INET6_ADDRSTRLEN] = "*";
        if (p.address.family != 0) {
            inet_ntop(p.address.family == 4 ? AF_INET : AF_INET6, p.address.bytes, text,
                      sizeof(text));
        }
        out.push_back(std::string(p.protocol == VIGIL_TCP ? "tcp " : "udp ") + text);
    }
    return out;
}

std::vector<vigil_listening_port> from_proc() {
    const std::pair<const char*, SocketTable> tables[] = {{"/proc/net/tcp", SocketTable::Tcp},
                                                          {"/proc/net/tcp6", SocketTable::Tcp6},
                                                          {"/proc/net/udp", SocketTable::Udp},
                                                          {"/proc/net/udp6", SocketTable::Udp6}};
    std::vector<vigil_listening_port> all;
    for (const auto& [path, table] : tables) {
        std::ifstream file(path);
        std::ostringstream text;
        text << file.rdbuf();
        const auto found = parse_proc_net(text.str(), table);
        all.insert(all.end(), found.begin(), found.end());
    }
    sort_unique(all);
    return all;
}

using Entries = std::vector<std::string>;

TEST(SockDiag, ReportsListenersAndUnconnectedUdp) {
    BoundSocket tcp4(AF_INET, SOCK_STREAM, "127.0.0.1");
    BoundSocket udp4(AF_INET, SOCK_DGRAM, "127.0.0.1");
    BoundSocket tcp_any(AF_INET, SOCK_STREAM, "0.0.0.0");
    BoundSocket tcp_bound_only(AF_INET, SOCK_STREAM, "127.0.0.1");
    BoundSocket udp_connected(AF_INET, SOCK_DGRAM, "127.0.0.1");
    BoundSocket udp_closed(AF_INET, SOCK_DGRAM, "127.0.0.1");
    for (const BoundSocket* s :
         {&tcp4, &udp4, &tcp_any, &tcp_bound_only, &udp_connected, &udp_closed}) {
        ASSERT_TRUE(s->ok()) << std::strerror(errno);
    }
    ASSERT_EQ(listen(tcp4.fd(), 4), 0);
    ASSERT_EQ(listen(tcp_any.fd(), 4), 0);
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer.sin_port = htons(udp4.port());
    ASSERT_EQ(connect(udp_connected.fd(), reinterpret_cast<sockaddr*>(&peer), sizeof(peer)), 0);
    const uint16_t closed_port = udp_closed.port();
    udp_closed.close();

    std::string error;
    const auto ports = sock_diag_listening_ports(error);
    ASSERT_TRUE(ports.has_value()) << error;
    EXPECT_EQ(entries_for(*ports, tcp4.port()), Entries{"tcp 127.0.0.1"});
    EXPECT_EQ(entries_for(*ports, udp4.port()), Entries{"udp 127.0.0.1"});
    EXPECT_EQ(entries_for(*ports, tcp_any.port()), Entries{"tcp *"}) << "0.0.0.0 is family 0";
    EXPECT_EQ(entries_for(*ports, tcp_bound_only.port()), Entries{}) << "bound, not listening";
    EXPECT_EQ(entries_for(*ports, udp_connected.port()), Entries{}) << "has a peer";
    EXPECT_EQ(entries_for(*ports, closed_port), Entries{}) << "closed";
    EXPECT_TRUE(std::is_sorted(ports->begin(), ports->end(),
                               [](const vigil_listening_port& a, const vigil_listening_port& b) {
                                   return a.protocol != b.protocol ? a.protocol < b.protocol
                                                                   : a.port < b.port;
                               }));

    // The /proc parser sees the same sockets the same way.
    const auto proc = from_proc();
    for (uint16_t port : {tcp4.port(), udp4.port(), tcp_any.port(), tcp_bound_only.port(),
                          udp_connected.port(), closed_port}) {
        EXPECT_EQ(entries_for(*ports, port), entries_for(proc, port)) << "port " << port;
    }
}

TEST(SockDiag, Ipv6AndV4Mapped) {
    if (!has_ipv6_loopback()) {
        GTEST_SKIP() << "no IPv6 loopback address here";
    }
    BoundSocket tcp6(AF_INET6, SOCK_STREAM, "::1");
    BoundSocket udp6(AF_INET6, SOCK_DGRAM, "::1");
    BoundSocket tcp6_any(AF_INET6, SOCK_STREAM, "::");
    BoundSocket udp6_any(AF_INET6, SOCK_DGRAM, "::");
    BoundSocket tcp_mapped(AF_INET6, SOCK_STREAM, "::ffff:127.0.0.1");
    BoundSocket udp_mapped(AF_INET6, SOCK_DGRAM, "::ffff:127.0.0.1");
    BoundSocket udp6_connected(AF_INET6, SOCK_DGRAM, "::1");
    for (const BoundSocket* s :
         {&tcp6, &udp6, &tcp6_any, &udp6_any, &tcp_mapped, &udp_mapped, &udp6_connected}) {
        ASSERT_TRUE(s->ok()) << std::strerror(errno);
    }
    for (const BoundSocket* s : {&tcp6, &tcp6_any, &tcp_mapped}) {
        ASSERT_EQ(listen(s->fd(), 4), 0);
    }
    sockaddr_in6 peer{};
    peer.sin6_family = AF_INET6;
    peer.sin6_addr = in6addr_loopback;
    peer.sin6_port = htons(udp6.port());
    ASSERT_EQ(connect(udp6_connected.fd(), reinterpret_cast<sockaddr*>(&peer), sizeof(peer)), 0);

    std::string error;
    const auto ports = sock_diag_listening_ports(error);
    ASSERT_TRUE(ports.has_value()) << error;
    EXPECT_EQ(entries_for(*ports, tcp6.port()), Entries{"tcp ::1"});
    EXPECT_EQ(entries_for(*ports, udp6.port()), Entries{"udp ::1"});
    EXPECT_EQ(entries_for(*ports, tcp6_any.port()), Entries{"tcp *"});
    EXPECT_EQ(entries_for(*ports, udp6_any.port()), Entries{"udp *"});
    EXPECT_EQ(entries_for(*ports, tcp_mapped.port()), Entries{"tcp 127.0.0.1"}) << "v4-mapped";
    EXPECT_EQ(entries_for(*ports, udp_mapped.port()), Entries{"udp 127.0.0.1"}) << "v4-mapped";
    EXPECT_EQ(entries_for(*ports, udp6_connected.port()), Entries{}) << "has a peer";

    const auto proc = from_proc();
    for (uint16_t port : {tcp6.port(), udp6.port(), tcp6_any.port(), udp6_any.port(),
                          tcp_mapped.port(), udp_mapped.port(), udp6_connected.port()}) {
        EXPECT_EQ(entries_for(*ports, port), entries_for(proc, port)) << "port " << port;
    }
}

TEST(SockDiag, PosixPortUsesIt) {
    BoundSocket tcp4(AF_INET, SOCK_STREAM, "127.0.0.1");
    ASSERT_TRUE(tcp4.ok());
    ASSERT_EQ(listen(tcp4.fd(), 1), 0);
    PosixPort port;
    EXPECT_EQ(entries_for(port.listening_ports(), tcp4.port()), Entries{"tcp 127.0.0.1"});
}

TEST(LocalAddress, MapsWildcardsAndV4Mapped) {
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 7};
    vigil_address a = local_address(mapped, true);
    EXPECT_EQ(a.family, 4);
    EXPECT_EQ(std::memcmp(a.bytes, mapped + 12, 4), 0);
    const uint8_t mapped_any[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0};
    EXPECT_EQ(local_address(mapped_any, true).family, 0);
    const uint8_t zero[16] = {};
    EXPECT_EQ(local_address(zero, true).family, 0);
    EXPECT_EQ(local_address(zero, false).family, 0);
    const uint8_t loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    a = local_address(loopback6, true);
    EXPECT_EQ(a.family, 6);
    EXPECT_EQ(std::memcmp(a.bytes, loopback6, 16), 0);
}

TEST(ProcNet, V4MappedIsIpv4) {
    // [::ffff:127.0.0.1]:8080 as a little-endian kernel prints it in tcp6.
    const auto ports = parse_proc_net(
        "header\n   0: 0000000000000000FFFF00000100007F:1F90 "
        "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 0 0 0 1\n",
        SocketTable::Tcp6, WordOrder::Little);
    ASSERT_EQ(ports.size(), 1u);
    EXPECT_EQ(entries_for(ports, 8080), Entries{"tcp 127.0.0.1"});
}

}  // namespace

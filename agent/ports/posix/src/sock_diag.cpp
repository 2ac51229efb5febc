// Listening sockets from the kernel's socket monitoring interface (sock_diag(7)). Written against
// the kernel's uapi headers directly: Debian's libmnl would only wrap the few lines of message
// framing below, and the port should not need another shared library on the device.
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vigil/ports/posix.hpp"

namespace vigil::ports::posix {

namespace {

// The kernel keeps bound, unconnected UDP sockets in the TCP_CLOSE state and connected ones in
// TCP_ESTABLISHED.
constexpr uint32_t kTcpListenStates = 1u << TCP_LISTEN;
constexpr uint32_t kUdpUnconnectedStates = 1u << TCP_CLOSE;
// Large enough for any one datagram of a dump (the kernel fills at most a page or two), so
// nothing is cut.
constexpr size_t kReceiveBuffer = 32 * 1024;
constexpr int kReplyTimeoutS = 2;

struct DumpRequest {
    nlmsghdr header;
    inet_diag_req_v2 request;
};

class NetlinkSocket {
  public:
    NetlinkSocket() : fd_(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
    ~NetlinkSocket() {
        if (fd_ >= 0) {
            close(fd_);
        }
    }
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;
    int fd() const { return fd_; }

  private:
    int fd_;
};

std::string describe(const char* what, int error_number) {
    return std::string("sock_diag: ") + what + ": " + std::strerror(error_number);
}

bool is_zero(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) {
        if (bytes[i] != 0) {
            return false;
        }
    }
    return true;
}

/// One inet_diag_msg of the dump: appended to `out` when it is a listening socket.
void add_if_listening(const inet_diag_msg& message, bool tcp,
                      std::vector<vigil_listening_port>& out) {
    const bool v6 = message.idiag_family == AF_INET6;
    const uint16_t port = ntohs(message.id.idiag_sport);
    if (port == 0 || (!v6 && message.idiag_family != AF_INET)) {
        return;
    }
    if (tcp ? message.idiag_state != TCP_LISTEN
            : message.idiag_state != TCP_CLOSE || message.id.idiag_dport != 0 ||
                  !is_zero(message.id.idiag_dst, v6 ? 16 : 4)) {
        return;
    }
    uint8_t bytes[16];
    std::memcpy(bytes, message.id.idiag_src, sizeof(bytes));
    vigil_listening_port entry{};
    entry.protocol = tcp ? VIGIL_TCP : VIGIL_UDP;
    entry.port = port;
    entry.address = local_address(bytes, v6);
    out.push_back(entry);
}

/// Reads the replies to one dump request up to NLMSG_DONE.
bool read_dump(int fd, uint32_t sequence, bool tcp, std::vector<uint8_t>& buffer,
               std::vector<vigil_listening_port>& out, std::string& error) {
    for (;;) {
        iovec io{buffer.data(), buffer.size()};
        sockaddr_nl from{};
        msghdr message{};
        message.msg_name = &from;
        message.msg_namelen = sizeof(from);
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        const ssize_t received = recvmsg(fd, &message, 0);
        if (received < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = describe("reading the dump", errno);
            return false;
        }
        if ((message.msg_flags & MSG_TRUNC) != 0) {
            error = "sock_diag: a reply did not fit the receive buffer";
            return false;
        }
        if (from.nl_pid != 0) {
            continue;  // not from the kernel
        }
        size_t left = static_cast<size_t>(received);
        for (const auto* header = reinterpret_cast<const nlmsghdr*>(buffer.data());
             NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
            if (header->nlmsg_seq != sequence) {
                continue;
            }
            if (header->nlmsg_type == NLMSG_DONE) {
                // A dump that failed part way ends with the error in place of the count.
                int status = 0;
                if (header->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                    std::memcpy(&status, NLMSG_DATA(header), sizeof(status));
                }
                if (status < 0) {
                    error = describe("dump", -status);
                    return false;
                }
                return true;
            }
            if (header->nlmsg_type == NLMSG_ERROR) {
                const auto* failure = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
                const int code =
                    header->nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr)) ? -failure->error : EPROTO;
                error = describe("request refused", code);
                return false;
            }
            if (header->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                header->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                inet_diag_msg diag;
                std::memcpy(&diag, NLMSG_DATA(header), sizeof(diag));
                add_if_listening(diag, tcp, out);
            }
        }
    }
}

bool dump(int fd, uint8_t family, uint8_t protocol, uint32_t sequence, std::vector<uint8_t>& buffer,
          std::vector<vigil_listening_port>& out, std::string& error) {
    const bool tcp = protocol == IPPROTO_TCP;
    DumpRequest request{};
    request.header.nlmsg_len = sizeof(request);
    request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = sequence;
    request.request.sdiag_family = family;
    request.request.sdiag_protocol = protocol;
    request.request.idiag_states = tcp ? kTcpListenStates : kUdpUnconnectedStates;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, &request, sizeof(request), 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof(kernel)) != static_cast<ssize_t>(sizeof(request))) {
        error = describe("sending the request", errno);
        return false;
    }
    if (!read_dump(fd, sequence, tcp, buffer, out, error)) {
        error += std::string(" (") + (tcp ? "tcp" : "udp") + (family == AF_INET6 ? "6" : "") + ")";
        return false;
    }
    return true;
}

}  // namespace

std::optional<std::vector<vigil_listening_port>> sock_diag_listening_ports(std::string& error) {
    NetlinkSocket netlink;
    if (netlink.fd() < 0) {
        error = describe("opening a netlink socket", errno);
        return std::nullopt;
    }
    // The kernel answers at once; the timeout only keeps a broken kernel from hanging the caller.
    const timeval timeout{kReplyTimeoutS, 0};
    setsockopt(netlink.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    // Allocated with new, so aligned for the nlmsghdr that starts every reply.
    std::vector<uint8_t> buffer(kReceiveBuffer);
    std::vector<vigil_listening_port> ports;
    uint32_t sequence = 0;
    static constexpr uint8_t kFamilies[] = {AF_INET, AF_INET6};
    static constexpr uint8_t kProtocols[] = {IPPROTO_TCP, IPPROTO_UDP};
    for (const uint8_t family : kFamilies) {
        for (const uint8_t protocol : kProtocols) {
            if (!dump(netlink.fd(), family, protocol, ++sequence, buffer, ports, error)) {
                return std::nullopt;
            }
        }
    }
    sort_unique(ports);
    return ports;
}

}  // namespace vigil::ports::posix

#include "connection_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace vigil::sim {

ConnectionWatch::ConnectionWatch() : epoll_(epoll_create1(EPOLL_CLOEXEC)) {}

ConnectionWatch::~ConnectionWatch() {
    if (epoll_ >= 0) {
        ::close(epoll_);
    }
}

void ConnectionWatch::follow(size_t owner, int fd) {
    if (owner >= registered_.size()) {
        registered_.resize(owner + 1, -1);
    }
    const int old = registered_[owner];
    if (old == fd) {
        return;
    }
    if (old >= 0 && static_cast<size_t>(old) < owner_of_fd_.size() &&
        owner_of_fd_[old] == static_cast<long>(owner)) {
        // Fails harmlessly when the socket is already closed (closing removed it).
        (void)epoll_ctl(epoll_, EPOLL_CTL_DEL, old, nullptr);
        owner_of_fd_[old] = -1;
    }
    registered_[owner] = fd;
    if (fd < 0) {
        return;
    }
    if (static_cast<size_t>(fd) >= owner_of_fd_.size()) {
        owner_of_fd_.resize(static_cast<size_t>(fd) + 1, -1);
    }
    owner_of_fd_[fd] = static_cast<long>(owner);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = owner;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
        (void)epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &event);
    }
}

void ConnectionWatch::wait(int timeout_ms, std::vector<size_t>& ready) {
    ready.clear();
    epoll_event events[256];
    const int n = epoll_wait(epoll_, events, 256, timeout_ms);
    for (int i = 0; i < n; ++i) {
        ready.push_back(static_cast<size_t>(events[i].data.u64));
    }
}

}  // namespace vigil::sim

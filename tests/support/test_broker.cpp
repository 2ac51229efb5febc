#include "test_broker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "loopback.hpp"

namespace vigil::test {

TestBroker::~TestBroker() {
    stop(SIGKILL);
    if (!dir_.empty()) {
        std::system(("rm -rf " + dir_).c_str());
    }
}

bool TestBroker::installed() {
    return access(kMosquitto, X_OK) == 0;
}

bool TestBroker::init(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "XXXXXX";
    std::vector<char> path(pattern.begin(), pattern.end());
    path.push_back('\0');
    if (mkdtemp(path.data()) == nullptr) {
        return false;
    }
    dir_ = path.data();
    // mosquitto started as root drops to its own user, which must read the files here and write
    // its log and persistence file.
    chmod(dir_.c_str(), 0777);
    port_ = free_port();
    return true;
}

void TestBroker::write_config(const std::string& extra, bool persistence) {
    std::ofstream conf(dir_ + "/mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\n"
         << "log_dest file " << dir_ << "/mosquitto.log\nlog_type all\n"
         << extra;
    if (persistence) {
        // Saved every second or two, so a persistent session survives the broker's SIGKILL.
        conf << "persistence true\npersistence_location " << dir_ << "/\n"
             << "autosave_interval 1\n";
    } else {
        conf << "persistence false\n";
    }
    configured_ = true;
}

bool TestBroker::start(int timeout_ms) {
    if (!configured_) {
        write_config();
    }
    const std::string conf = dir_ + "/mosquitto.conf";
    pid_ = fork();
    if (pid_ < 0) {
        return false;
    }
    if (pid_ == 0) {
        const int null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execl(kMosquitto, kMosquitto, "-c", conf.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    return wait_for([this] { return port_open(port_); }, timeout_ms);
}

void TestBroker::stop(int signal) {
    if (pid_ > 0) {
        kill(pid_, signal);
        kill(pid_, SIGCONT);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

std::string TestBroker::log() const {
    std::ifstream log(dir_ + "/mosquitto.log");
    return {std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
}

}  // namespace vigil::test

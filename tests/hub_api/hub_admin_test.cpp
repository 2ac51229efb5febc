// `vigil-hub devices add|revoke ID` with no hub running: the program starts the data directory's
// own mosquitto for the change, and records it in the store the hub will serve.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "api_fixture.hpp"

namespace vigil::hub::testing {
namespace {

struct HubRun {
    int exit_code = -1;
    std::string out;     ///< stdout: the credentials' JSON
    std::string output;  ///< stdout and stderr
};

uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    ::close(fd);
    return port;
}

class HubAdmin : public ::testing::Test {
  protected:
    void SetUp() override {
        // HubRun as root, mosquitto drops to its own user, which must reach the data directory.
        ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
        ASSERT_EQ(::mkdir(data_.c_str(), 0700), 0);
        port_ = free_port();
        ASSERT_NE(port_, 0);
    }

    HubRun hub(const std::string& args) {
        const std::string command = std::string(VIGIL_HUB) + " devices " + args + " --data " +
                                    data_ + " --broker-port " + std::to_string(port_) + " 2>" +
                                    dir_.file("stderr");
        const CommandRun ran = run_command(command);
        HubRun run;
        run.exit_code = ran.exit_code;
        run.output = ran.output;
        run.out = run.output;
        std::ifstream errors(dir_.file("stderr"));
        for (std::string line; std::getline(errors, line);) {
            run.output += line + "\n";
        }
        return run;
    }

    /// The store's devices, read as the hub would, each time from a fresh open.
    std::vector<DeviceRow> devices() {
        SqliteOptions options;
        options.path = data_ + "/vigil.db";
        std::string error;
        auto store = open_sqlite_store(options, error);
        EXPECT_NE(store, nullptr) << error;
        if (!store) {
            return {};
        }
        const Fetched<DevicePage> page = store->list_devices({});
        EXPECT_TRUE(page.ok()) << page.error;
        return page.value.devices;
    }

    TempDir dir_;
    std::string data_ = dir_.file("data");
    uint16_t port_ = 0;
};

TEST_F(HubAdmin, AddAndRevoke_recordTheDeviceInTheStore) {
    const HubRun added = hub("add dev-off");
    ASSERT_EQ(added.exit_code, 0) << added.output;
    const auto credentials = nlohmann::json::parse(added.out, nullptr, false);
    ASSERT_FALSE(credentials.is_discarded()) << added.output;
    EXPECT_EQ(credentials["device_id"], "dev-off");
    std::vector<DeviceRow> listed = devices();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].id, "dev-off");
    EXPECT_EQ(listed[0].enrolment, Enrolment::Enrolled);
    EXPECT_EQ(listed[0].messages, 0u);
    EXPECT_FALSE(listed[0].last_seen_ms.has_value());

    const HubRun revoked = hub("revoke dev-off");
    ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
    listed = devices();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].enrolment, Enrolment::Blocked);
    // Again: the device is already blocked, which is what was asked (the API answers 204 too).
    const HubRun again = hub("revoke dev-off");
    EXPECT_EQ(again.exit_code, 0) << again.output;

    // An id the broker does not know: refused, and no row appears for it.
    const HubRun unknown = hub("revoke nobody");
    EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
    EXPECT_NE(unknown.output.find("nobody"), std::string::npos) << unknown.output;
    EXPECT_EQ(devices().size(), 1u);
}

}  // namespace
}  // namespace vigil::hub::testing

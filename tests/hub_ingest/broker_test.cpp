// The embedded broker against a real mosquitto: its configuration, supervision and enrolment.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "support.hpp"

namespace vigil::hub::test {
namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class HubBroker : public BrokerTest {
  protected:
    void start() { start_broker(); }
    DeviceCredentials enrol(const std::string& id) {
        Enrolled e = broker_->add_device(id);
        EXPECT_TRUE(e.ok()) << e.error;
        return e.credentials;
    }
};

TEST_F(HubBroker, Start_WritesItsConfigurationAndListensOnLoopback) {
    start();
    EXPECT_GT(broker_->pid(), 0);
    const std::string conf = slurp(dir_ + "/broker/mosquitto.conf");
    EXPECT_NE(conf.find("listener " + std::to_string(settings_.port) + " 127.0.0.1\n"),
              std::string::npos);
    EXPECT_NE(conf.find("persistence true\n"), std::string::npos);
    EXPECT_NE(conf.find("allow_anonymous false\n"), std::string::npos);
    EXPECT_NE(conf.find("max_inflight_messages 20000\n"), std::string::npos);
    EXPECT_NE(conf.find("max_inflight_bytes 67108864\n"), std::string::npos);
    EXPECT_NE(conf.find("mosquitto_dynamic_security.so"), std::string::npos);
    struct stat st {};
    ASSERT_EQ(stat((dir_ + "/broker-credentials.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const BrokerEndpoint e = broker_->ingest_endpoint();
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, settings_.port);
    EXPECT_FALSE(e.password.empty());
}

TEST_F(HubBroker, Start_AgainKeepsTheAccounts) {
    start();
    const std::string password = broker_->ingest_endpoint().password;
    const DeviceCredentials d = enrol("dev-keep");
    broker_.reset();
    start();
    EXPECT_EQ(broker_->ingest_endpoint().password, password);
    Device device(settings_.port, d.username, d.password, d.client_id);
    EXPECT_TRUE(device.wait_connected());
}

TEST_F(HubBroker, Supervision_KilledBrokerIsRestartedWithItsSessions) {
    auto lines = std::make_shared<std::vector<std::string>>();
    auto lines_mutex = std::make_shared<std::mutex>();
    settings_.log = [lines, lines_mutex](const std::string& line) {
        std::lock_guard<std::mutex> lock(*lines_mutex);
        lines->push_back(line);
    };
    start();
    const DeviceCredentials d = enrol("dev-s");
    const BrokerEndpoint e = broker_->ingest_endpoint();
    {
        Reader hub(e, "vigil-hub-ingest", false);
        ASSERT_TRUE(hub.subscribe("devices/+/messages/events/#"));
    }
    // Until the next autosave after the session ended, so it is on disk when the broker dies.
    const auto saved_after = std::chrono::system_clock::now();
    ASSERT_TRUE(wait_for(
        [&] {
            struct stat st {};
            if (stat((dir_ + "/broker/persist/mosquitto.db").c_str(), &st) != 0) {
                return false;
            }
            const auto mtime = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::seconds(st.st_mtim.tv_sec) +
                    std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
            return mtime > saved_after;
        },
        5000));
    const pid_t first = broker_->pid();
    ASSERT_EQ(kill(first, SIGKILL), 0);
    ASSERT_TRUE(wait_for([&] { return broker_->restarts() == 1 && broker_->pid() > 0; }, 10000));
    EXPECT_NE(broker_->pid(), first);
    {
        std::lock_guard<std::mutex> lock(*lines_mutex);
        EXPECT_NE(std::find(lines->begin(), lines->end(), "mosquitto killed by signal 9"),
                  lines->end());
        EXPECT_NE(std::find(lines->begin(), lines->end(), "restarting mosquitto in 100 ms"),
                  lines->end());
    }
    {
        Device device(settings_.port, d.username, d.password, d.client_id);
        ASSERT_TRUE(device.wait_connected());
        ASSERT_TRUE(device.publish(events_topic("dev-s"), "while-away"));
        ASSERT_TRUE(device.wait_acked(5000));
    }
    // No subscribe: the message can only come from the session the broker kept.
    Reader hub(e, "vigil-hub-ingest", false);
    EXPECT_TRUE(hub.wait_message("devices/dev-s/messages/events/ while-away"));
}

TEST_F(HubBroker, Stop_EndsMosquitto) {
    start();
    const pid_t pid = broker_->pid();
    broker_->stop();
    EXPECT_EQ(broker_->pid(), -1);
    EXPECT_NE(kill(pid, 0), 0);  // reaped, gone
}

TEST_F(HubBroker, Enrolment_DevicePublishesOnlyToItsOwnTopics) {
    start();
    const DeviceCredentials a = enrol("dev-a");
    enrol("dev-b");
    Reader hub(broker_->ingest_endpoint(), "vigil-hub-test", true);
    ASSERT_TRUE(hub.subscribe("devices/+/messages/events/#"));
    Device device(settings_.port, a.username, a.password, a.client_id);
    ASSERT_TRUE(device.wait_connected());
    ASSERT_TRUE(device.publish(events_topic("dev-a"), "own"));
    ASSERT_TRUE(device.publish(events_topic("dev-b"), "spoofed"));
    ASSERT_TRUE(device.publish("devices/dev-a/config/x", "own-config"));
    ASSERT_TRUE(device.publish(events_topic("dev-a"), "own-again"));
    ASSERT_TRUE(hub.wait_message("devices/dev-a/messages/events/ own-again"));
    // The broker handles one client's publishes in order: the others would have arrived first.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::vector<std::string> got = hub.messages();
    EXPECT_EQ(got, (std::vector<std::string>{"devices/dev-a/messages/events/ own",
                                             "devices/dev-a/messages/events/ own-again"}));
    EXPECT_TRUE(device.connected());
}

// Many devices into the files of a broker not yet started: every account usable once it starts,
// with the same rules as one enrolled through the running broker; refused ids cost the others
// nothing.
TEST_F(HubBroker, Enrolment_BatchBeforeStartWritesEveryAccountOnce) {
    broker_ = std::make_unique<Broker>(settings_);
    const std::vector<Enrolled> batch =
        broker_->add_devices({"dev-b1", "bad/id", "dev-b2", "dev-b1", "vigil-hub-x"});
    ASSERT_EQ(batch.size(), 5u);
    EXPECT_TRUE(batch[0].ok()) << batch[0].error;
    EXPECT_FALSE(batch[1].ok());
    EXPECT_TRUE(batch[2].ok()) << batch[2].error;
    EXPECT_NE(batch[3].error.find("already exists"), std::string::npos) << batch[3].error;
    EXPECT_NE(batch[4].error.find("reserved"), std::string::npos) << batch[4].error;
    const std::vector<Enrolled> again = broker_->add_devices({"dev-b2", "dev-b3"});
    EXPECT_FALSE(again[0].ok());  // enrolled by the first batch
    EXPECT_TRUE(again[1].ok()) << again[1].error;
    start();
    Reader hub(broker_->ingest_endpoint(), "vigil-hub-test", true);
    ASSERT_TRUE(hub.subscribe("devices/+/messages/events/#"));
    const DeviceCredentials& b1 = batch[0].credentials;
    Device device(settings_.port, b1.username, b1.password, b1.client_id);
    ASSERT_TRUE(device.wait_connected());
    ASSERT_TRUE(device.publish(events_topic("dev-b2"), "spoofed"));
    ASSERT_TRUE(device.publish(events_topic("dev-b1"), "own"));
    ASSERT_TRUE(hub.wait_message("devices/dev-b1/messages/events/ own"));
    EXPECT_EQ(hub.messages(), (std::vector<std::string>{"devices/dev-b1/messages/events/ own"}));
    for (const DeviceCredentials& d : {batch[2].credentials, again[1].credentials}) {
        Device other(settings_.port, d.username, d.password, d.client_id);
        EXPECT_TRUE(other.wait_connected()) << d.device_id;
    }
    // Revoked through the running broker like any other device.
    EXPECT_TRUE(broker_->revoke_device("dev-b3").ok());
}

TEST_F(HubBroker, Enrolment_DeviceReadsOnlyItsOwnConfig) {
    start();
    const DeviceCredentials a = enrol("dev-c");
    enrol("dev-d");
    BrokerEndpoint as_a{"127.0.0.1", settings_.port, a.username, a.password};
    {
        Reader own(as_a, a.client_id, true);
        EXPECT_TRUE(own.subscribe("devices/dev-c/config/#"));
    }
    Reader other(as_a, a.client_id, true);
    EXPECT_FALSE(other.subscribe("devices/dev-d/config/#"));  // SUBACK 0x80
}

TEST_F(HubBroker, Enrolment_WrongPasswordIsRefused) {
    start();
    const DeviceCredentials a = enrol("dev-w");
    Device device(settings_.port, a.username, a.password + "x", a.client_id);
    ASSERT_TRUE(wait_for([&] { return device.connack() > 0; }, 5000));
    EXPECT_FALSE(device.connected());
    Device impostor(settings_.port, a.username, a.password, "another-client-id");
    ASSERT_TRUE(wait_for([&] { return impostor.connack() > 0; }, 5000));
}

TEST_F(HubBroker, Revocation_DisconnectsAtOnceAndRefusesReconnect) {
    start();
    const DeviceCredentials a = enrol("dev-r");
    Device device(settings_.port, a.username, a.password, a.client_id);
    ASSERT_TRUE(device.wait_connected());
    const auto before = std::chrono::steady_clock::now();
    const BrokerResult r = broker_->revoke_device("dev-r");
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_TRUE(wait_for([&] { return device.disconnects() > 0; }, 1000));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - before);
    EXPECT_LT(took.count(), 1000);
    Device again(settings_.port, a.username, a.password, a.client_id);
    ASSERT_TRUE(wait_for([&] { return again.connack() > 0; }, 5000));
    EXPECT_FALSE(again.connected());
    EXPECT_FALSE(broker_->revoke_device("dev-r").ok());
    // The id may be enrolled again, with new credentials.
    const DeviceCredentials renewed = enrol("dev-r");
    EXPECT_NE(renewed.password, a.password);
}

TEST_F(HubBroker, Enrolment_RefusesInvalidAndDuplicateIds) {
    start();
    for (const std::string& id :
         {std::string(), std::string("a/b"), std::string("+"), std::string("#"),
          std::string("$SYS"), std::string("sp ace"), std::string(128, 'x')}) {
        EXPECT_FALSE(broker_->add_device(id).ok()) << id;
    }
    EXPECT_TRUE(broker_->add_device(std::string(127, 'x')).ok());
    EXPECT_TRUE(broker_->add_device("A-z.0_9:ok").ok());
    EXPECT_FALSE(broker_->add_device("A-z.0_9:ok").ok());
}

// The hub's own client ids: an id in its reserved namespace is refused with the reason.
TEST_F(HubBroker, Enrolment_RefusesTheHubsReservedIds) {
    start();
    for (const char* id : {"vigil-hub-ingest", "vigil-hub", "vigil-hub.config"}) {
        const Enrolled e = broker_->add_device(id);
        EXPECT_FALSE(e.ok()) << id;
        EXPECT_NE(e.error.find("reserved"), std::string::npos) << e.error;
    }
    EXPECT_TRUE(broker_->add_device("my-vigil-hub-sensor").ok());
}

TEST_F(HubBroker, Tls_DeviceConnectsWithItsCertificate) {
    settings_.tls = true;
    settings_.tls_port = free_port();
    settings_.tls_address = "127.0.0.1";
    start();
    const DeviceCredentials a = enrol("dev-tls");
    ASSERT_NE(a.cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
    ASSERT_NE(a.key_pem.find("PRIVATE KEY"), std::string::npos);
    ASSERT_EQ(a.ca_pem, broker_->ca_pem());
    const std::string ca = dir_ + "/dev-ca.crt", cert = dir_ + "/dev.crt", key = dir_ + "/dev.key";
    std::ofstream(ca) << a.ca_pem;
    std::ofstream(cert) << a.cert_pem;
    std::ofstream(key) << a.key_pem;
    Reader hub(broker_->ingest_endpoint(), "vigil-hub-test", true);
    ASSERT_TRUE(hub.subscribe("devices/+/messages/events/#"));
    Device device(settings_.tls_port, a.username, a.password, a.client_id, {ca, cert, key});
    ASSERT_TRUE(device.wait_connected());
    ASSERT_TRUE(device.publish(events_topic("dev-tls"), "over-tls"));
    EXPECT_TRUE(hub.wait_message("devices/dev-tls/messages/events/ over-tls"));
}

TEST_F(HubBroker, External_UsesTheGivenBrokerWithoutSupervisingIt) {
    start();
    BrokerSettings external;
    external.url = "mqtt://127.0.0.1:" + std::to_string(settings_.port);
    external.ingest_username = "vigil-ingest";
    external.ingest_password = broker_->ingest_endpoint().password;
    Broker other(external);
    ASSERT_TRUE(other.start().ok());
    EXPECT_FALSE(other.embedded());
    EXPECT_EQ(other.pid(), -1);
    EXPECT_EQ(other.ingest_endpoint().port, settings_.port);
    EXPECT_FALSE(other.add_device("dev-x").ok());  // no administrator configured
    for (const char* bad : {"tcp://127.0.0.1:1883", "mqtt://broker.example:1883",
                            "mqtt://127.0.0.1:0", "mqtt://127.0.0.1"}) {
        BrokerSettings b;
        b.url = bad;
        EXPECT_FALSE(Broker(b).start().ok()) << bad;
    }
}

TEST_F(HubBroker, Start_FailsWhenThePortIsTaken) {
    start();
    BrokerSettings again = broker_settings(temp_dir());
    again.port = settings_.port;
    Broker second(again);
    const BrokerResult r = second.start();
    EXPECT_FALSE(r.ok());
    std::system(("rm -rf " + again.data_dir).c_str());
}

// Started as root, mosquitto drops to the mosquitto user: these need both.
bool can_switch_to_mosquitto() {
    return geteuid() == 0 && getpwnam("mosquitto") != nullptr;
}

TEST_F(HubBroker, AsRoot_DataDirectoryLetsOnlyTheBrokersGroupThrough) {
    if (!can_switch_to_mosquitto()) {
        GTEST_SKIP() << "needs root and a mosquitto user";
    }
    start();
    struct stat st {};
    ASSERT_EQ(stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0710u);  // not 0711: other users may not even pass through
    EXPECT_EQ(st.st_gid, getpwnam("mosquitto")->pw_gid);
    EXPECT_TRUE(broker_->check_administration().ok());
}

TEST_F(HubBroker, AsRoot_DataDirectoryTheBrokerCannotReachIsRefusedNamingTheFix) {
    if (!can_switch_to_mosquitto()) {
        GTEST_SKIP() << "needs root and a mosquitto user";
    }
    // dir_ is mkdtemp's, mode 0700: the mosquitto user cannot pass through it.
    settings_.data_dir = dir_ + "/data";
    ASSERT_EQ(mkdir(settings_.data_dir.c_str(), 0700), 0);
    broker_ = std::make_unique<Broker>(settings_);
    const BrokerResult r = broker_->start();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error.find("the directory " + dir_ + " does not let it through"), std::string::npos)
        << r.error;
    EXPECT_NE(r.error.find("chmod o+x " + dir_), std::string::npos) << r.error;
    EXPECT_EQ(broker_->pid(), -1);  // no broker left running without its accounts
    // Let through as the message says, it starts and can be administered.
    ASSERT_EQ(chmod(dir_.c_str(), 0711), 0);
    broker_ = std::make_unique<Broker>(settings_);
    const BrokerResult again = broker_->start();
    ASSERT_TRUE(again.ok()) << again.error;
    EXPECT_TRUE(broker_->check_administration().ok());
}

TEST_F(HubBroker, Administration_CheckFailsWhileTheBrokerIsGone) {
    start();
    EXPECT_TRUE(broker_->check_administration().ok());
    broker_->stop();
    const BrokerResult r = broker_->check_administration();
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace vigil::hub::test

// The ingest pipeline through a real mosquitto: batching, acknowledgement after commit, store
// failures, a hub killed with SIGKILL, a broker restarted underneath it, and its throughput.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "support.hpp"

namespace vigil::hub::test {
namespace {

class Ingest : public BrokerTest {
  protected:
    void SetUp() override {
        BrokerTest::SetUp();
        if (!IsSkipped() && !HasFatalFailure()) {
            start_broker();
        }
    }
    std::vector<DeviceCredentials> enrol(int n) {
        std::vector<DeviceCredentials> out;
        for (int i = 0; i < n; ++i) {
            Enrolled e = broker_->add_device("dev-" + std::to_string(i));
            EXPECT_TRUE(e.ok()) << e.error;
            out.push_back(e.credentials);
        }
        return out;
    }
    std::unique_ptr<IngestPipeline> pipeline(MemoryStore& store, IngestSettings s) {
        auto p = std::make_unique<IngestPipeline>(s, trivial_decode, store.writer());
        p->start();
        EXPECT_TRUE(wait_for([&] { return p->subscribed(); }, 5000));
        return p;
    }
    // Each device publishes `count` messages "<device>-<tag><i>" through its own client.
    void publish_all(const std::vector<DeviceCredentials>& devices, int count,
                     const std::function<void(int)>& between = {}, const std::string& tag = "") {
        std::vector<std::unique_ptr<Publisher>> clients;
        for (const DeviceCredentials& d : devices) {
            clients.push_back(std::make_unique<Publisher>(broker_->ingest_endpoint().port, d));
            ASSERT_TRUE(clients.back()->wait_connected());
        }
        for (int i = 0; i < count; ++i) {
            for (size_t k = 0; k < devices.size(); ++k) {
                clients[k]->publish(events_topic(devices[k].device_id),
                                    devices[k].device_id + "-" + tag + std::to_string(i));
            }
            if (between) {
                between(i);
            }
        }
        for (auto& c : clients) {
            ASSERT_TRUE(c->wait_acked(30000));
        }
    }
};

TEST_F(Ingest, Pipeline_MessagesFromSeveralDevicesAreCommittedExactlyOnce) {
    const auto devices = enrol(3);
    MemoryStore store;
    auto p = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    publish_all(devices, 400);
    ASSERT_TRUE(wait_for([&] { return store.size() == 1200; }, 20000)) << store.size();
    p->stop();
    EXPECT_EQ(store.writes(), 1200u);
    for (const DeviceCredentials& d : devices) {
        EXPECT_TRUE(store.has(d.device_id, d.device_id + "-399"));
    }
    const IngestMetrics m = p->metrics();
    EXPECT_EQ(m.ingested.at("vigil"), 1200u);
    EXPECT_EQ(m.duplicates, 0u);
    EXPECT_EQ(m.store_failures, 0u);
    EXPECT_EQ(m.latency_ms.count(), 1200u);
    EXPECT_GT(m.batches, 0u);
    // Everything was acknowledged: a new session of the same client gets nothing again.
    MemoryStore again;
    auto q = pipeline(again, ingest_settings(broker_->ingest_endpoint()));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(again.writes(), 0u);
}

TEST_F(Ingest, Pipeline_RejectedMessagesAreCountedAndAcknowledged) {
    const auto devices = enrol(1);
    MemoryStore store;
    auto p = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    {
        Device d(broker_->ingest_endpoint().port, devices[0].username, devices[0].password,
                 devices[0].client_id);
        ASSERT_TRUE(d.wait_connected());
        ASSERT_TRUE(d.publish(events_topic("dev-0"), "bad-payload"));
        ASSERT_TRUE(d.publish(events_topic("dev-0"), "good"));
        ASSERT_TRUE(d.wait_acked());
    }
    ASSERT_TRUE(wait_for([&] { return store.size() == 1; }, 5000));
    p->stop();
    const IngestMetrics m = p->metrics();
    EXPECT_EQ((m.rejected.at({reason::kMalformed, "vigil"})), 1u);
    auto q = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    q->stop();
    EXPECT_TRUE(q->metrics().rejected.empty());  // not redelivered
}

// The lines a pipeline logs, kept for a look.
class LogLines {
  public:
    std::function<void(const std::string&)> sink() {
        return [this](const std::string& line) {
            std::lock_guard<std::mutex> lock(mutex_);
            lines_.push_back(line);
        };
    }
    std::vector<std::string> starting(const std::string& prefix) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> found;
        for (const std::string& line : lines_) {
            if (line.rfind(prefix, 0) == 0) {
                found.push_back(line);
            }
        }
        return found;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

TEST_F(Ingest, Pipeline_JunkFloodWritesAFewLinesAndCountsTheRest) {
    const auto devices = enrol(1);
    MemoryStore store;
    LogLines log;
    IngestSettings settings = ingest_settings(broker_->ingest_endpoint());
    settings.rejection_log_lines = 5;
    settings.rejection_log_interval_ms = 60000;  // longer than the test: one interval
    settings.log = log.sink();
    auto p = pipeline(store, settings);
    {
        Device d(broker_->ingest_endpoint().port, devices[0].username, devices[0].password,
                 devices[0].client_id);
        ASSERT_TRUE(d.wait_connected());
        for (int i = 0; i < 2000; ++i) {
            ASSERT_TRUE(d.publish(events_topic("dev-0"), "bad-" + std::to_string(i)));
        }
        ASSERT_TRUE(d.publish(events_topic("dev-0"), "good"));
        ASSERT_TRUE(d.wait_acked());
    }
    ASSERT_TRUE(wait_for([&] { return store.size() == 1; }, 10000));
    EXPECT_EQ(log.starting("rejected a message on").size(), 5u);
    EXPECT_TRUE(log.starting("rejected 1995 more").empty());  // its interval is not over
    p->stop();
    const IngestMetrics m = p->metrics();
    EXPECT_EQ((m.rejected.at({reason::kMalformed, "vigil"})), 2000u);
    EXPECT_EQ(m.rejections_unlogged.at(reason::kMalformed), 1995u);
    // Stopping says what was held back.
    const auto summary = log.starting("rejected 1995 more messages (malformed)");
    ASSERT_EQ(summary.size(), 1u);
}

TEST_F(Ingest, Pipeline_HeldBackRejectionsAreSummedUpOnceTheirIntervalIsOver) {
    const auto devices = enrol(1);
    MemoryStore store;
    LogLines log;
    IngestSettings settings = ingest_settings(broker_->ingest_endpoint());
    settings.rejection_log_lines = 2;
    settings.rejection_log_interval_ms = 1500;
    settings.log = log.sink();
    auto p = pipeline(store, settings);
    Device d(broker_->ingest_endpoint().port, devices[0].username, devices[0].password,
             devices[0].client_id);
    ASSERT_TRUE(d.wait_connected());
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(d.publish(events_topic("dev-0"), "bad-" + std::to_string(i)));
    }
    ASSERT_TRUE(d.wait_acked());
    // Without another message, and while the pipeline runs.
    ASSERT_TRUE(wait_for([&] { return !log.starting("rejected 48 more").empty(); }, 10000))
        << log.starting("rejected").size();
    // A new interval: lines again.
    ASSERT_TRUE(d.publish(events_topic("dev-0"), "bad-again"));
    ASSERT_TRUE(d.wait_acked());
    ASSERT_TRUE(wait_for([&] { return log.starting("rejected a message on").size() == 3; }, 5000));
    EXPECT_EQ(p->metrics().rejections_unlogged.at(reason::kMalformed), 48u);
}

TEST_F(Ingest, Pipeline_StoreFailureAcknowledgesNothingAndRetries) {
    const auto devices = enrol(2);
    MemoryStore store;
    store.set_fail(true);
    IngestSettings s = ingest_settings(broker_->ingest_endpoint());
    s.retry_min_ms = 20;
    s.retry_max_ms = 200;
    s.stop_timeout_ms = 300;
    auto p = pipeline(store, s);
    publish_all(devices, 50);
    ASSERT_TRUE(wait_for([&] { return p->metrics().store_failures >= 3; }, 5000));
    // Stopped while the store still fails: nothing was acknowledged, so nothing is lost.
    p->stop();
    EXPECT_EQ(store.size(), 0u);
    MemoryStore working;
    auto q = pipeline(working, s);
    ASSERT_TRUE(wait_for([&] { return working.size() == 100; }, 10000)) << working.size();
    // And in place: the store recovers and the held batch goes through.
    store.set_fail(true);
    auto r = std::unique_ptr<IngestPipeline>();
    q->stop();
    r = pipeline(store, s);
    publish_all(devices, 10);
    ASSERT_TRUE(wait_for([&] { return r->metrics().store_failures >= 2; }, 5000));
    store.set_fail(false);
    ASSERT_TRUE(wait_for([&] { return store.size() == 20; }, 5000)) << store.size();
}

TEST_F(Ingest, Pipeline_HubKilledMidStreamLosesNothing) {
    const auto devices = enrol(3);
    const BrokerEndpoint e = broker_->ingest_endpoint();
    const std::string keys = dir_ + "/keys", ready = dir_ + "/ready";
    ASSERT_EQ(mkdir(keys.c_str(), 0755), 0);
    auto start_worker = [&] {
        unlink(ready.c_str());
        const std::string port = std::to_string(e.port);
        const pid_t pid = fork();
        if (pid == 0) {
            execl(VIGIL_INGEST_WORKER, VIGIL_INGEST_WORKER, port.c_str(), e.username.c_str(),
                  e.password.c_str(), "vigil-hub-worker", keys.c_str(), ready.c_str(),
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        EXPECT_TRUE(wait_for([&] { return access(ready.c_str(), F_OK) == 0; }, 10000));
        return pid;
    };
    // Every committed batch, whole (a killed worker leaves at most a .tmp file behind).
    auto lines = [&] {
        std::vector<std::string> out;
        for (const auto& entry : std::filesystem::directory_iterator(keys)) {
            if (entry.path().extension() != ".keys") {
                continue;
            }
            std::ifstream in(entry.path());
            for (std::string line; std::getline(in, line);) {
                out.push_back(line);
            }
        }
        return out;
    };
    pid_t worker = start_worker();
    constexpr int kPerDevice = 1000;
    bool killed = false;
    publish_all(devices, kPerDevice, [&](int i) {
        if (i == kPerDevice / 3) {
            // Mid-stream: a third is published, part of it committed, the rest still coming.
            ASSERT_TRUE(wait_for([&] { return lines().size() >= 300; }, 10000));
            ASSERT_EQ(kill(worker, SIGKILL), 0);
            waitpid(worker, nullptr, 0);
            killed = true;
            worker = start_worker();
        }
    });
    EXPECT_TRUE(killed);
    std::set<std::string> expected;
    for (const DeviceCredentials& d : devices) {
        for (int i = 0; i < kPerDevice; ++i) {
            expected.insert(d.device_id + " " + d.device_id + "-" + std::to_string(i));
        }
    }
    ASSERT_TRUE(wait_for(
        [&] {
            const auto got = lines();
            return std::set<std::string>(got.begin(), got.end()).size() >= expected.size();
        },
        30000));
    kill(worker, SIGTERM);
    int status = 0;
    waitpid(worker, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const auto got = lines();
    const std::set<std::string> unique(got.begin(), got.end());
    EXPECT_EQ(unique, expected);  // every message arrived, nothing else did
    std::printf("hub killed mid-stream: %zu committed, %zu repeats a deduping store skips\n",
                got.size(), got.size() - unique.size());
}

TEST_F(Ingest, Pipeline_BrokerRestartWhileIngestingLosesNothing) {
    const auto devices = enrol(3);
    MemoryStore store;
    auto p = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    publish_all(devices, 300, [&](int i) {
        if (i == 100) {
            // SIGTERM: mosquitto saves its sessions and queues, then the hub restarts it.
            ASSERT_EQ(kill(broker_->pid(), SIGTERM), 0);
        }
    });
    ASSERT_TRUE(wait_for([&] { return store.size() == 900; }, 30000)) << store.size();
    EXPECT_GE(broker_->restarts(), 1u);
}

TEST_F(Ingest, Pipeline_ResponsesArePublishedAfterCommit) {
    const auto devices = enrol(1);
    const DeviceCredentials& d = devices[0];
    MemoryStore store;
    auto p = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    const BrokerEndpoint as_device{"127.0.0.1", broker_->ingest_endpoint().port, d.username,
                                   d.password};
    Reader device(as_device, d.client_id, true);
    const std::string topic = "$aws/things/dev-0/defender/metrics/json";
    ASSERT_TRUE(device.subscribe(topic + "/accepted"));
    ASSERT_TRUE(device.publish(topic, "report-1"));
    EXPECT_TRUE(device.wait_message(topic + "/accepted ok"));
    EXPECT_TRUE(store.has("dev-0", "report-1"));
    EXPECT_EQ(p->metrics().ingested.at("aws-defender"), 1u);
}

TEST_F(Ingest, Bench_MessagesPerSecondThroughTheBroker) {
    const auto devices = enrol(4);
    MemoryStore store;
    auto p = pipeline(store, ingest_settings(broker_->ingest_endpoint()));
    constexpr int kPerDevice = 5000;
    const auto begin = std::chrono::steady_clock::now();
    publish_all(devices, kPerDevice);
    ASSERT_TRUE(wait_for([&] { return store.size() == 4u * kPerDevice; }, 40000)) << store.size();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    const IngestMetrics m = p->metrics();
    std::printf("%d messages in %.3f s, %llu batches, mean latency %.1f ms\n", 4 * kPerDevice,
                seconds, static_cast<unsigned long long>(m.batches),
                m.latency_ms.sum() / static_cast<double>(m.latency_ms.count()));
    std::printf("BENCH hub_ingest_pipeline_messages_per_second %.0f msg/s\n",
                4 * kPerDevice / seconds);
}

}  // namespace
}  // namespace vigil::hub::test

namespace vigil::hub::test {
namespace {

TEST(IngestTopic, DeviceIdFromTopic_TakesTheIdTheBrokerAuthorised) {
    EXPECT_EQ(device_id_from_topic("devices/dev-1/messages/events/"), "dev-1");
    EXPECT_EQ(device_id_from_topic("devices/a.b_c:d/messages/events/mti=vigil.1"), "a.b_c:d");
    EXPECT_EQ(device_id_from_topic("$aws/things/thing-7/defender/metrics/json"), "thing-7");
    EXPECT_EQ(device_id_from_topic("devices/dev-1/config/x"), "");
    EXPECT_EQ(device_id_from_topic("devices//messages/events/"), "");
    EXPECT_EQ(device_id_from_topic("devices/sp ace/messages/events/"), "");
    EXPECT_EQ(device_id_from_topic("$aws/things/t/shadow/update"), "");
    EXPECT_EQ(device_id_from_topic("other/dev-1/messages/events/"), "");
    EXPECT_EQ(device_id_from_topic("devices/" + std::string(128, 'x') + "/messages/events/"), "");
}

}  // namespace
}  // namespace vigil::hub::test

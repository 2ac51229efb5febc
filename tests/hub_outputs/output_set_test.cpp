// OutputSet: outputs built from the policy's settings, swapped on reload without losing what the
// old outputs had queued (within the drain time), and their metrics in Prometheus text.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "vigil/hub/outputs/output_set.hpp"

namespace vigil::hub::outputs::test {
namespace {

detect::OutputSettings hook(const std::string& name, const std::string& url) {
    detect::OutputSettings s = settings_of(detect::OutputKind::Webhook, name);
    s.url = url;
    return s;
}

TEST(OutputSet, LeavesOutEntriesItCannotBuild) {
    detect::OutputSettings bad_syslog = settings_of(detect::OutputKind::Syslog, "siem");
    bad_syslog.address = "nowhere";
    bad_syslog.line = 12;
    const OutputSet set({hook("a", "http://127.0.0.1:9/x"), hook("a", "http://127.0.0.1:9/y"),
                         bad_syslog, hook("b", "gopher://x")},
                        MqttConnection{});
    EXPECT_EQ(set.size(), 1u);
    ASSERT_EQ(set.errors().size(), 3u);
    EXPECT_NE(set.errors()[0].find("another output's"), std::string::npos);
    EXPECT_NE(set.errors()[1].find("output \"siem\" (line 12)"), std::string::npos);
}

TEST(OutputSet, ReplaceDrainsTheOldQueueAndTheNewSetTakesOver) {
    // Slow but working: each request takes 20 ms.
    WebhookReceiver old_receiver([](size_t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return 200;
    });
    WebhookReceiver new_receiver;
    AlertEvents events;
    auto old_set = std::make_unique<OutputSet>(
        std::vector<detect::OutputSettings>{hook("hook", old_receiver.url())}, MqttConnection{});
    old_set->subscribe(events);
    for (int i = 0; i < 20; ++i) {
        events.publish(sample_event(i));
    }
    OutputSet new_set({hook("hook", new_receiver.url())}, MqttConnection{});
    old_set->replace(new_set, std::chrono::milliseconds(5000));
    events.publish(sample_event(100));

    EXPECT_EQ(old_receiver.count(), 20u);  // all it had queued, before replace() returned
    const OutputMetrics old_metrics = old_set->metrics()[0];
    EXPECT_EQ(old_metrics.sent, 20u);
    EXPECT_EQ(old_metrics.abandoned, 0u);
    ASSERT_TRUE(wait_for([&] { return new_receiver.count() == 1; }, 5000));
    EXPECT_EQ(nlohmann::json::parse(new_receiver.requests()[0].body)["alert"]["id"], 100);
    old_set.reset();  // the old set is no longer subscribed
    events.publish(sample_event(101));
    ASSERT_TRUE(wait_for([&] { return new_receiver.count() == 2; }, 5000));
}

TEST(OutputSet, ReplaceBehindAHangingReceiverIsBounded) {
    HangingReceiver hanging;
    detect::OutputSettings s = hook("hook", hanging.url());
    s.timeout_ms = 2000;
    AlertEvents events;
    OutputSet old_set({s}, MqttConnection{});
    old_set.subscribe(events);
    for (int i = 0; i < 10; ++i) {
        events.publish(sample_event(i));
    }
    ASSERT_TRUE(wait_for([&] { return hanging.connections() == 1; }, 3000));
    OutputSet new_set(std::vector<detect::OutputSettings>{}, MqttConnection{});
    const auto start = std::chrono::steady_clock::now();
    old_set.replace(new_set, std::chrono::milliseconds(200));
    const int64_t took = elapsed_ms(start);
    EXPECT_GE(took, 190);
    EXPECT_LT(took, 1500);  // the drain time, not the receiver's timeout
    const OutputMetrics m = old_set.metrics()[0];
    EXPECT_EQ(m.abandoned, 9u);
    EXPECT_EQ(m.given_up, 1u);
}

TEST(OutputSet, PrometheusText) {
    WebhookReceiver receiver;
    detect::OutputSettings syslog = settings_of(detect::OutputKind::Syslog, "si\"em");
    syslog.address = "127.0.0.1:" + std::to_string(free_port());
    syslog.tcp = true;
    syslog.retries = 0;
    AlertEvents events;
    OutputSet set({hook("hook", receiver.url()), syslog}, MqttConnection{});
    set.subscribe(events);
    events.publish(sample_event(1));
    ASSERT_TRUE(wait_for(
        [&] {
            const auto m = set.metrics();
            return m[0].sent == 1 && m[1].given_up == 1;
        },
        5000));
    PrometheusWriter writer;
    set.write_metrics(writer);
    const std::string& text = writer.text();
    for (const char* line :
         {"# TYPE vigil_hub_output_sent_total counter\n",
          "vigil_hub_output_sent_total{output=\"hook\",kind=\"webhook\"} 1\n",
          "vigil_hub_output_queued_total{output=\"hook\",kind=\"webhook\"} 1\n",
          "vigil_hub_output_failed_total{output=\"si\\\"em\",kind=\"syslog\"} 1\n",
          "vigil_hub_output_given_up_total{output=\"si\\\"em\",kind=\"syslog\"} 1\n",
          "vigil_hub_output_dropped_total{output=\"hook\",kind=\"webhook\"} 0\n",
          "# TYPE vigil_hub_output_queue_depth gauge\n",
          "vigil_hub_output_queue_depth{output=\"hook\",kind=\"webhook\"} 0\n",
          "vigil_hub_output_queue_capacity{output=\"hook\",kind=\"webhook\"} 1000\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
    }
}

}  // namespace
}  // namespace vigil::hub::outputs::test

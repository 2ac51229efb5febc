// GET /api/alerts/stream with a real HTTP client reading the server-sent events: what is
// published reaches it in order, a client that leaves is unsubscribed, a slow one loses events
// but every event is either delivered or counted, and stopping the server does not wait for
// the clients.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <sstream>
#include <thread>

#include "api_fixture.hpp"
#include "stream_client.hpp"
#include "vigil/hub/outputs/alert_events.hpp"

namespace vigil::hub::testing {
namespace {

using namespace std::chrono_literals;

class AlertStream : public ApiTest {
  protected:
    void SetUp() override {
        ApiTest::SetUp();
        write({report("dev-a", "k1", kNowMs - 1000)});
        restart({});
    }
    // The server goes first: its streams unsubscribe from events_ as they end.
    void TearDown() override { server_.reset(); }

    void restart(ApiSettings settings) {
        server_.reset();
        settings.alert_events = &events_;
        settings.alert_stream_keepalive_ms = keepalive_ms_;
        start_server(std::move(settings));
    }

    double metric(const std::string& name) {
        const Reply reply = call("GET", "/metrics");
        std::istringstream lines(reply.text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind(name + " ", 0) == 0) {
                return std::stod(line.substr(name.size() + 1));
            }
        }
        ADD_FAILURE() << "no " << name << " in /metrics";
        return -1;
    }

    /// Whether the metric reaches `value` within 10 s.
    bool metric_becomes(const std::string& name, double value) {
        for (int i = 0; i < 100; ++i) {
            if (metric(name) == value) {
                return true;
            }
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }

    AlertEvents events_;
    int64_t keepalive_ms_ = 100;
};

TEST_F(AlertStream, DeliversPublishedEventsAndTheApisOwnChangesInOrder) {
    StreamClient client(url(), admin_token_);
    ASSERT_TRUE(client.wait_for_text(": subscribed")) << client.text();
    EXPECT_EQ(client.status(), 200);
    EXPECT_EQ(client.content_type(), "text/event-stream");

    const AlertEvent opened = raise_scan_alert("203.0.113.9");
    events_.publish(opened);
    const AlertEvent repeated = raise_scan_alert("203.0.113.9");
    events_.publish(repeated);
    const std::string id = std::to_string(opened.alert.id);
    ASSERT_EQ(call("POST", "/api/alerts/" + id + "/ack").status, 200);
    ASSERT_EQ(call("POST", "/api/alerts/" + id + "/ack").status, 200);  // no change: no event
    ASSERT_EQ(call("POST", "/api/alerts/" + id + "/resolve").status, 200);

    ASSERT_TRUE(client.wait([](const std::string& text, bool) {
        return text.find("event: resolved") != std::string::npos;
    })) << client.text();
    const std::vector<StreamEvent> got = client.events();
    ASSERT_EQ(got.size(), 4u) << client.text();
    const char* expected[] = {"opened", "repeated", "acknowledged", "resolved"};
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].event, expected[i]);
        EXPECT_EQ(got[i].id, id);
        EXPECT_EQ(got[i].data["id"], opened.alert.id);
        EXPECT_EQ(got[i].data["evidence"]["ports"], (nlohmann::json{22, 23}));
    }
    EXPECT_EQ(got[1].data["count"], 2);
    EXPECT_EQ(got[2].data["state"], "acknowledged");
    EXPECT_EQ(got[3].data["state"], "resolved");
    EXPECT_EQ(got[3].data["changed_by"], "token:admin");
    // With nothing to say, the stream keeps itself open with comments.
    EXPECT_TRUE(client.wait_for_text(": keep-alive")) << client.text();
}

// Recommendation events share the stream under their own event names: the checks' changes as
// published, and a dismissal made through the API.
TEST_F(AlertStream, CarriesRecommendationEventsUnderTheirOwnNames) {
    StreamClient client(url(), admin_token_);
    ASSERT_TRUE(client.wait_for_text(": subscribed")) << client.text();
    const RecommendationEvent opened = open_telnet_recommendation("dev-a");
    ASSERT_NE(opened.recommendation.id, 0);
    events_.publish(opened);
    events_.publish(raise_scan_alert("203.0.113.9"));
    const std::string id = std::to_string(opened.recommendation.id);
    ASSERT_EQ(call("POST", "/api/recommendations/" + id + "/dismiss", R"({"reason":"lab"})").status,
              200);

    ASSERT_TRUE(client.wait([](const std::string& text, bool) {
        return text.find("event: recommendation.dismissed") != std::string::npos;
    })) << client.text();
    const std::vector<StreamEvent> got = client.events();
    ASSERT_EQ(got.size(), 3u) << client.text();
    EXPECT_EQ(got[0].event, "recommendation.opened");
    EXPECT_EQ(got[0].id, "recommendation-" + id);
    EXPECT_EQ(got[0].data["kind"], "service.cleartext");
    EXPECT_EQ(got[0].data["evidence"]["port"], 23);
    EXPECT_EQ(got[1].event, "opened");
    EXPECT_EQ(got[2].event, "recommendation.dismissed");
    EXPECT_EQ(got[2].data["state"], "dismissed");
    EXPECT_EQ(got[2].data["dismissed_by"], "token:admin");
}

// Suppressed alerts reach no output, and the stream only when asked for, as in the list.
TEST_F(AlertStream, SuppressedAlertsOnlyWhenAskedFor) {
    StreamClient plain(url(), admin_token_);
    StreamClient all(url(), admin_token_, "/api/alerts/stream?suppressed=true");
    ASSERT_TRUE(plain.wait_for_text(": subscribed")) << plain.text();
    ASSERT_TRUE(all.wait_for_text(": subscribed")) << all.text();
    AlertEvent suppressed = raise_scan_alert("quiet");
    suppressed.alert.suppressed_by = 7;
    events_.publish(suppressed);
    events_.publish(raise_scan_alert("loud"));
    ASSERT_TRUE(plain.wait_for_text("loud")) << plain.text();
    ASSERT_TRUE(all.wait_for_text("loud")) << all.text();
    ASSERT_EQ(plain.events().size(), 1u) << plain.text();
    EXPECT_EQ(plain.events()[0].data["subject"], "loud");
    ASSERT_EQ(all.events().size(), 2u) << all.text();
    EXPECT_EQ(all.events()[0].data["suppressed_by"], 7);
    EXPECT_EQ(call("GET", "/api/alerts/stream?suppressed=maybe").status, 400);
}

TEST_F(AlertStream, AClientThatLeavesIsUnsubscribed) {
    {
        StreamClient client(url(), read_token());  // a read token may follow the stream
        ASSERT_TRUE(client.wait_for_text(": subscribed")) << client.text();
        EXPECT_EQ(metric("vigil_api_alert_streams"), 1);
        client.leave();
        ASSERT_TRUE(client.wait_until_ended());
    }
    EXPECT_TRUE(metric_becomes("vigil_api_alert_streams", 0));
    // Publishing to nobody is fine, and a new client is served.
    events_.publish(raise_scan_alert("x"));
    StreamClient again(url(), admin_token_);
    ASSERT_TRUE(again.wait_for_text(": subscribed")) << again.text();
    events_.publish(raise_scan_alert("y"));
    EXPECT_TRUE(again.wait_for_text("event: opened")) << again.text();
}

// The publisher never waits: with a queue of one, a burst overflows it, and each event is either
// delivered or counted as dropped (to the client and in /metrics).
TEST_F(AlertStream, ASlowClientLosesEventsButEveryOneIsDeliveredOrCounted) {
    ApiSettings settings;
    settings.alert_stream_queue = 1;
    restart(settings);
    StreamClient client(url(), admin_token_);
    ASSERT_TRUE(client.wait_for_text(": subscribed")) << client.text();
    const AlertEvent event = raise_scan_alert("burst");
    constexpr uint64_t kBurst = 200;
    for (uint64_t i = 0; i < kBurst; ++i) {
        events_.publish(event);
    }
    // The stream writes what it has at its next wake-up; counted until it adds up.
    bool balanced = false;
    for (int i = 0; i < 50 && !balanced; ++i) {
        balanced = client.events().size() + client.dropped() == kBurst;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(balanced) << client.events().size() << " delivered, " << client.dropped()
                          << " dropped";
    EXPECT_GT(client.dropped(), 0u);
    EXPECT_GE(client.events().size(), 1u);
    EXPECT_EQ(metric("vigil_api_alert_stream_dropped_events_total"),
              static_cast<double>(client.dropped()));
}

TEST_F(AlertStream, StopDoesNotWaitForOpenStreams) {
    keepalive_ms_ = 15'000;  // as deployed: stopping must not wait for a keep-alive
    restart({});
    StreamClient first(url(), admin_token_);
    StreamClient second(url(), admin_token_);
    ASSERT_TRUE(first.wait_for_text(": subscribed"));
    ASSERT_TRUE(second.wait_for_text(": subscribed"));
    const auto start = std::chrono::steady_clock::now();
    server_->stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    EXPECT_TRUE(first.wait_until_ended(5s));
    EXPECT_TRUE(second.wait_until_ended(5s));
}

TEST_F(AlertStream, RefusedWithoutEventsOverTheLimitOrWithoutAToken) {
    ApiSettings settings;
    settings.max_alert_streams = 1;
    restart(settings);
    StreamClient first(url(), admin_token_);
    ASSERT_TRUE(first.wait_for_text(": subscribed"));
    const Reply busy = call("GET", "/api/alerts/stream");
    EXPECT_EQ(busy.status, 503);
    EXPECT_EQ(busy.body["error"], "too_many_streams");
    EXPECT_EQ(call("GET", "/api/alerts/stream", "", "").status, 401);

    server_.reset();
    start_server({});  // no AlertEvents
    const Reply none = call("GET", "/api/alerts/stream");
    EXPECT_EQ(none.status, 503);
    EXPECT_EQ(none.body["error"], "unavailable");
}

}  // namespace
}  // namespace vigil::hub::testing

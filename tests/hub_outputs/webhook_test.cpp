// The webhook output against a real HTTP receiver on loopback: signature and headers, retries,
// refusals, a receiver that hangs and one that is not there.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "support.hpp"
#include "temp_dir.hpp"
#include "vigil/hub/outputs/webhook_output.hpp"

namespace vigil::hub::outputs::test {
namespace {

// What publishing 100,000 events may take: well under a second in a plain build; ThreadSanitizer
// makes every atomic and lock several times slower.
#if defined(__SANITIZE_THREAD__)
constexpr int64_t kPublishBudgetMs = 5000;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int64_t kPublishBudgetMs = 5000;
#else
constexpr int64_t kPublishBudgetMs = 1000;
#endif
#else
constexpr int64_t kPublishBudgetMs = 1000;
#endif

// Computed here from OpenSSL directly, not with the output's own function.
std::string expected_signature(const std::string& body, const std::string& secret) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &size);
    std::string hex = "sha256=";
    for (unsigned int i = 0; i < size; ++i) {
        char pair[3];
        std::snprintf(pair, sizeof pair, "%02x", digest[i]);
        hex += pair;
    }
    return hex;
}

std::unique_ptr<Output> webhook(const detect::OutputSettings& s) {
    std::string error;
    auto output = make_webhook_output(s, error);
    EXPECT_NE(output, nullptr) << error;
    return output;
}

detect::OutputSettings hook_settings(const std::string& url) {
    detect::OutputSettings s = settings_of(detect::OutputKind::Webhook, "hook");
    s.url = url;
    return s;
}

// Recommendation events travel the same way as alerts, named apart in the header and the body;
// the output's severity floor holds for them too.
TEST(Webhook, PostsRecommendationEventsPublishedBesideAlerts) {
    WebhookReceiver receiver;
    detect::OutputSettings s = hook_settings(receiver.url());
    s.secret = "correct horse battery staple";
    s.min_severity = Severity::Medium;
    std::shared_ptr<Output> output = webhook(s);
    AlertEvents events;
    events.subscribe(output);
    events.publish(sample_recommendation_event(3, Severity::Low));  // below the floor
    events.publish(sample_recommendation_event(4));
    events.publish(sample_event(41));
    events.publish(sample_recommendation_event(4, Severity::High, RecommendationChange::Closed));
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 3; }, 5000));
    events.unsubscribe(output.get());

    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 3u);
    const auto& opened = requests[0];
    EXPECT_EQ(opened.header("X-Vigil-Event"), "recommendation.opened");
    EXPECT_EQ(opened.header("X-Vigil-Signature"), expected_signature(opened.body, s.secret));
    const auto body = nlohmann::json::parse(opened.body);
    EXPECT_EQ(body["event"], "recommendation.opened");
    EXPECT_EQ(body["change"], "opened");
    EXPECT_FALSE(body.contains("alert"));
    const auto& r = body["recommendation"];
    EXPECT_EQ(r["id"], 4);
    EXPECT_EQ(r["device_id"], "plc-7");
    EXPECT_EQ(r["kind"], "service.cleartext");
    EXPECT_EQ(r["subject"], "tcp/23");
    EXPECT_EQ(r["severity"], "high");
    EXPECT_EQ(r["state"], "open");
    EXPECT_EQ(r["remediation"], "Turn telnet off");
    EXPECT_EQ(r["evidence"]["port"], 23);
    EXPECT_EQ(r["opened_ms"], 1'765'000'000'123);
    EXPECT_EQ(requests[1].header("X-Vigil-Event"), "opened");
    EXPECT_EQ(requests[2].header("X-Vigil-Event"), "recommendation.closed");
    EXPECT_EQ(nlohmann::json::parse(requests[2].body)["event"], "recommendation.closed");
    EXPECT_EQ(output->metrics().queued, 3u);
}

TEST(Webhook, PostsSignedEventJson) {
    WebhookReceiver receiver;
    detect::OutputSettings s = hook_settings(receiver.url());
    s.secret = "correct horse battery staple";
    auto output = webhook(s);
    output->deliver(sample_event(41));
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 1; }, 5000));

    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 1u);
    const auto& r = requests[0];
    EXPECT_EQ(r.header("X-Vigil-Signature"), expected_signature(r.body, s.secret));
    EXPECT_NE(r.header("X-Vigil-Signature"), expected_signature(r.body, "another secret"));
    EXPECT_EQ(r.header("X-Vigil-Event"), "opened");
    EXPECT_FALSE(r.header("X-Vigil-Delivery").empty());
    EXPECT_EQ(r.header("Content-Type"), "application/json");

    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["event"], "alert.opened");
    EXPECT_EQ(body["change"], "opened");
    const auto& alert = body["alert"];
    EXPECT_EQ(alert["id"], 41);
    EXPECT_EQ(alert["device_id"], "plc-7");
    EXPECT_EQ(alert["type"], "scan.port_inbound");
    EXPECT_EQ(alert["category"], "port_scan_inbound");
    EXPECT_EQ(alert["severity"], "high");
    EXPECT_EQ(alert["state"], "open");
    EXPECT_EQ(alert["subject"], "203.0.113.9");
    EXPECT_EQ(alert["technique"], "T0846 Remote System Discovery");
    EXPECT_EQ(alert["raised_ms"], 1'765'000'000'123);
    ASSERT_TRUE(alert["evidence"].is_object());  // embedded, not a string of JSON
    EXPECT_EQ(alert["evidence"]["ports"], nlohmann::json({22, 23, 80}));

    const OutputMetrics m = output->metrics();
    EXPECT_EQ(m.queued, 1u);
    EXPECT_EQ(m.failed, 0u);
    EXPECT_EQ(m.given_up, 0u);
    EXPECT_EQ(m.kind, "webhook");
}

TEST(Webhook, UnsignedWithoutSecretAndEachDeliveryHasItsOwnId) {
    WebhookReceiver receiver;
    auto output = webhook(hook_settings(receiver.url()));
    for (int i = 0; i < 5; ++i) {
        output->deliver(sample_event(i, Severity::Critical, AlertChange::Resolved));
    }
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 5; }, 5000));
    std::set<std::string> ids;
    for (const auto& r : receiver.requests()) {
        EXPECT_EQ(r.header("X-Vigil-Signature"), "");
        EXPECT_EQ(r.header("X-Vigil-Event"), "resolved");
        ids.insert(r.header("X-Vigil-Delivery"));
    }
    EXPECT_EQ(ids.size(), 5u);
}

TEST(Webhook, FiltersBySeverityChangeAndSuppression) {
    WebhookReceiver receiver;
    detect::OutputSettings s = hook_settings(receiver.url());
    s.min_severity = Severity::High;
    s.changes = {AlertChange::Opened};
    auto output = webhook(s);
    output->deliver(sample_event(1, Severity::Medium));                           // too low
    output->deliver(sample_event(2, Severity::High, AlertChange::Acknowledged));  // not followed
    AlertEvent suppressed = sample_event(3, Severity::Critical);
    suppressed.alert.suppressed_by = 9;
    output->deliver(suppressed);
    output->deliver(sample_event(4, Severity::Critical));
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 1; }, 5000));
    output->stop(std::chrono::milliseconds(1000));
    EXPECT_EQ(output->metrics().queued, 1u);
    ASSERT_EQ(receiver.count(), 1u);
    EXPECT_EQ(nlohmann::json::parse(receiver.requests()[0].body)["alert"]["id"], 4);
}

TEST(Webhook, RetriesAfterServerErrorWithTheSameDelivery) {
    WebhookReceiver receiver([](size_t index) { return index == 0 ? 500 : 200; });
    auto output = webhook(hook_settings(receiver.url()));
    output->deliver(sample_event(7));
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 1; }, 5000));
    const OutputMetrics m = output->metrics();
    EXPECT_EQ(m.failed, 1u);
    EXPECT_EQ(m.given_up, 0u);
    const auto requests = receiver.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].header("X-Vigil-Delivery"), requests[1].header("X-Vigil-Delivery"));
    EXPECT_EQ(requests[0].body, requests[1].body);
}

TEST(Webhook, TooManyRequestsIsRetriedButOtherClientErrorsAreNot) {
    WebhookReceiver receiver([](size_t index) { return index == 0 ? 429 : 400; });
    auto output = webhook(hook_settings(receiver.url()));
    output->deliver(sample_event(8));
    ASSERT_TRUE(wait_for([&] { return output->metrics().given_up == 1; }, 5000));
    const OutputMetrics m = output->metrics();
    EXPECT_EQ(m.failed, 2u);  // 429, then 400 refuses for good
    EXPECT_EQ(m.sent, 0u);
    EXPECT_EQ(m.last_failure, "HTTP 400");
    EXPECT_EQ(receiver.count(), 2u);
}

TEST(Webhook, ClosedPortIsGivenUpAfterTheRetries) {
    detect::OutputSettings s =
        hook_settings("http://127.0.0.1:" + std::to_string(free_port()) + "/x");
    s.retries = 2;
    std::mutex log_mutex;
    std::vector<std::string> log;
    std::string error;
    auto output = make_webhook_output(s, error, [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(log_mutex);
        log.push_back(line);
    });
    ASSERT_NE(output, nullptr) << error;
    const auto start = std::chrono::steady_clock::now();
    output->deliver(sample_event(9));
    ASSERT_TRUE(wait_for([&] { return output->metrics().given_up == 1; }, 5000));
    const OutputMetrics m = output->metrics();
    EXPECT_EQ(m.failed, 3u);  // the first attempt and two retries
    EXPECT_EQ(m.sent, 0u);
    EXPECT_GE(elapsed_ms(start), 20 + 40);  // the doubling backoff between them
    EXPECT_FALSE(m.last_failure.empty());
    std::lock_guard<std::mutex> lock(log_mutex);
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], "output \"hook\" (webhook): gave up alert 9 (opened) after 3 attempts: " +
                          m.last_failure);
}

TEST(Webhook, HangingReceiverNeverBlocksPublishAndStopIsBounded) {
    HangingReceiver hang_receiver;
    detect::OutputSettings s = hook_settings(hang_receiver.url());
    s.timeout_ms = 300;
    s.queue = 100;
    s.retries = 100;
    auto output = std::shared_ptr<Output>(webhook(s));
    AlertEvents events;
    events.subscribe(output);

    const AlertEvent event = sample_event(1);
    constexpr uint64_t kEvents = 100'000;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < kEvents; ++i) {
        events.publish(event);
    }
    const int64_t publish_ms = elapsed_ms(start);
    std::printf("publish() of %llu events into a hanging webhook: %lld ms\n",
                static_cast<unsigned long long>(kEvents), static_cast<long long>(publish_ms));
    EXPECT_LT(publish_ms, kPublishBudgetMs);

    OutputMetrics m = output->metrics();
    EXPECT_LE(m.queued, 101u);  // the queue and at most one taken by the sender
    EXPECT_EQ(m.queued + m.dropped, kEvents);
    EXPECT_EQ(m.queue_depth, 100u);
    ASSERT_TRUE(wait_for([&] { return hang_receiver.connections() >= 1; }, 3000));

    const auto stop_start = std::chrono::steady_clock::now();
    output->stop(std::chrono::milliseconds(0));
    const int64_t stop_ms = elapsed_ms(stop_start);
    std::printf("stop() behind a hanging receiver: %lld ms\n", static_cast<long long>(stop_ms));
    EXPECT_LT(stop_ms, 300 + 500);
    m = output->metrics();
    EXPECT_EQ(m.sent, 0u);
    EXPECT_EQ(m.queue_depth, 0u);
    EXPECT_GE(m.abandoned, 99u);
    events.unsubscribe(output.get());
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// An HTTPS receiver with a certificate for 127.0.0.1 made by the openssl command line.
class WebhookHttps : public ::testing::Test {
  protected:
    void SetUp() override {
        if (std::system("command -v openssl >/dev/null") != 0) {
            GTEST_SKIP() << "openssl is missing (apt-get install openssl)";
        }
        const std::string command =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=vigil-test-receiver -addext subjectAltName=IP:127.0.0.1 -keyout " +
            dir_.file("receiver.key") + " -out " + dir_.file("receiver.crt") + " 2>/dev/null";
        ASSERT_EQ(std::system(command.c_str()), 0);
        server_ = std::make_unique<httplib::SSLServer>(dir_.file("receiver.crt").c_str(),
                                                       dir_.file("receiver.key").c_str());
        ASSERT_TRUE(server_->is_valid());
        server_->Post("/hooks/vigil", [this](const httplib::Request&, httplib::Response& res) {
            ++requests_;
            res.status = 204;
        });
        port_ = server_->bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_->listen_after_bind(); });
    }
    void TearDown() override {
        if (server_) {
            server_->stop();
            thread_.join();
        }
        unsetenv("SSL_CERT_FILE");
    }
    detect::OutputSettings https_settings() {
        detect::OutputSettings s =
            hook_settings("https://127.0.0.1:" + std::to_string(port_) + "/hooks/vigil");
        s.retries = 1;
        return s;
    }

    vigil::test::TempDir dir_;
    std::unique_ptr<httplib::SSLServer> server_;
    int port_ = 0;
    std::thread thread_;
    std::atomic<int> requests_{0};
};

TEST_F(WebhookHttps, UntrustedCertificateGetsNothing) {
    auto output = webhook(https_settings());
    output->deliver(sample_event(70));
    ASSERT_TRUE(wait_for([&] { return output->metrics().given_up == 1; }, 5000));
    EXPECT_EQ(requests_.load(), 0);
    EXPECT_EQ(output->metrics().failed, 2u);
    EXPECT_NE(output->metrics().last_failure.find("SSL"), std::string::npos)
        << output->metrics().last_failure;
}

TEST_F(WebhookHttps, TrustedCertificateGetsTheEvent) {
    // OpenSSL's default trust store, which the client uses, is the file this names.
    setenv("SSL_CERT_FILE", dir_.file("receiver.crt").c_str(), 1);
    auto output = webhook(https_settings());
    output->deliver(sample_event(71));
    ASSERT_TRUE(wait_for([&] { return output->metrics().sent == 1; }, 5000))
        << output->metrics().last_failure;
    EXPECT_EQ(requests_.load(), 1);
}
#endif

TEST(Webhook, RefusesUrlsItCannotUse) {
    std::string error;
    detect::OutputSettings s = hook_settings("ftp://127.0.0.1/x");
    EXPECT_EQ(make_webhook_output(s, error), nullptr);
    EXPECT_NE(error.find("not http"), std::string::npos) << error;
    s.url = "http://user:pw@127.0.0.1/x";
    EXPECT_EQ(make_webhook_output(s, error), nullptr);
    s.url = "http:///x";
    EXPECT_EQ(make_webhook_output(s, error), nullptr);
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
    s.url = "https://127.0.0.1/x";
    EXPECT_EQ(make_webhook_output(s, error), nullptr);
    EXPECT_NE(error.find("TLS"), std::string::npos) << error;
#endif
}

}  // namespace
}  // namespace vigil::hub::outputs::test

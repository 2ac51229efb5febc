// What one connection may hold of the API, tried as an attacker without a token would: slow
// request heads, idle connections, more connections than the cap, bodies over the limit by
// Content-Length or chunked, bodies that never come. The API must go on answering /healthz and
// callers with a token within its usual time while the attack lasts, and cut what the limits
// bound, counting it in /metrics.
#include <atomic>
#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include "api_fixture.hpp"
#include "raw_connection.hpp"
#include "vigil/hub/outputs/alert_events.hpp"

namespace vigil::hub::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Far above an answer's usual time on loopback (a few ms, sanitizers included), far below what
// a stalled server takes (seconds).
constexpr double kAnswerBoundMs = 500;

class Limits : public ApiTest {
  protected:
    void restart(ApiSettings settings) {
        server_.reset();
        start_server(std::move(settings));
    }

    /// Milliseconds /healthz, then an authenticated GET, take to answer (a failure counts as
    /// the client's whole timeout).
    double slowest_answer_ms() {
        double slowest = 0;
        for (const bool with_token : {false, true}) {
            const auto start = Clock::now();
            httplib::Client client(url());
            client.set_connection_timeout(3, 0);
            client.set_read_timeout(3, 0);
            httplib::Headers headers;
            if (with_token) {
                headers.emplace("Authorization", "Bearer " + admin_token_);
            }
            const auto result = client.Get(with_token ? "/api/devices" : "/healthz", headers);
            const double ms =
                std::chrono::duration<double, std::milli>(Clock::now() - start).count();
            slowest = std::max(slowest, result && result->status == 200 ? ms : 3000.0);
        }
        return slowest;
    }

    /// The slowest answer while `attacking` holds, asked every 50 ms.
    double slowest_answer_while(const std::function<bool()>& attacking) {
        double slowest = 0;
        int asked = 0;
        while (attacking()) {
            slowest = std::max(slowest, slowest_answer_ms());
            ++asked;
            std::this_thread::sleep_for(50ms);
        }
        EXPECT_GT(asked, 3);
        return slowest;
    }

    double metric(const std::string& sample) {
        const Reply reply = call("GET", "/metrics", "", std::string());
        std::istringstream lines(reply.text);
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind(sample + " ", 0) == 0) {
                return std::stod(line.substr(sample.size() + 1));
            }
        }
        ADD_FAILURE() << "no sample " << sample;
        return -1;
    }

    std::string authorized_head(const std::string& request_line, const std::string& more = "") {
        return request_line + "\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + admin_token_ +
               "\r\n" + more + "\r\n";
    }
};

TEST_F(Limits, SlowHeads_doNotStallTheApiAndAreCutAtTheHeadDeadline) {
    AlertEvents events;
    ApiSettings settings;
    settings.request_head_timeout_ms = 1500;
    settings.alert_events = &events;
    settings.alert_stream_keepalive_ms = 100;
    restart(settings);
    const double usual = slowest_answer_ms();

    // A client following the alert stream all along: it keeps its own worker.
    RawConnection stream(server_->port());
    ASSERT_TRUE(stream.send(authorized_head("GET /api/alerts/stream HTTP/1.1")));
    ASSERT_TRUE(stream.read_until(": subscribed", 2s)) << stream.received;

    // Four times as many slow clients as the server has workers, each sending one header line
    // every 300 ms (far more often than any read timeout), and opening a new connection when
    // one is cut, for 3 s.
    constexpr int kSlowClients = 16;
    struct Slow {
        std::unique_ptr<RawConnection> connection;
        Clock::time_point began;
    };
    std::vector<Slow> slow(kSlowClients);
    const auto open = [&](Slow& s) {
        s.connection = std::make_unique<RawConnection>(server_->port());
        s.began = Clock::now();
        s.connection->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    };
    std::atomic<bool> attacking{true};
    std::atomic<int> cut{0}, cut_late{0}, cut_without_408{0};
    std::thread attacker([&] {
        for (Slow& s : slow) {
            open(s);
        }
        const auto end = Clock::now() + 3s;
        while (Clock::now() < end) {
            std::this_thread::sleep_for(300ms);
            for (Slow& s : slow) {
                if (s.connection->send("X-Drip: 1\r\n") && !s.connection->read_until_closed(1ms)) {
                    continue;
                }
                s.connection->read_until_closed(500ms);
                ++cut;
                if (Clock::now() - s.began > 1500ms + 800ms) {
                    ++cut_late;
                }
                if (s.connection->received.rfind("HTTP/1.1 408", 0) != 0) {
                    ++cut_without_408;
                }
                open(s);
            }
        }
        attacking = false;
    });
    const double slowest = slowest_answer_while([&] { return attacking.load(); });
    attacker.join();
    EXPECT_LT(slowest, kAnswerBoundMs) << "usually " << usual << " ms";
    EXPECT_GE(cut.load(), kSlowClients);
    EXPECT_EQ(cut_late.load(), 0);
    EXPECT_EQ(cut_without_408.load(), 0);
    EXPECT_GE(metric("vigil_api_request_heads_refused_total{reason=\"timeout\"}"), kSlowClients);
    // The stream went on all along.
    stream.received.clear();
    EXPECT_TRUE(stream.read_until(": keep-alive", 2s));
    server_.reset();  // its stream unsubscribes from `events` as it ends
}

TEST_F(Limits, IdleConnections_doNotStallTheApiAndAreClosedAtTheIdleTimeout) {
    ApiSettings settings;
    settings.idle_timeout_ms = 1500;
    restart(settings);
    const double usual = slowest_answer_ms();
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 200; ++i) {
        idle.push_back(std::make_unique<RawConnection>(server_->port()));
        ASSERT_TRUE(idle.back()->connected());
    }
    const auto opened = Clock::now();
    const double slowest = slowest_answer_while([&] { return Clock::now() - opened < 1200ms; });
    EXPECT_LT(slowest, kAnswerBoundMs) << "usually " << usual << " ms";
    for (auto& connection : idle) {
        EXPECT_TRUE(connection->read_until_closed(
            std::chrono::duration_cast<std::chrono::milliseconds>(opened + 2500ms - Clock::now())));
    }
    EXPECT_GE(metric("vigil_api_connections_idle_closed_total"), 200);
}

TEST_F(Limits, ConnectionCap_makesRoomByClosingIdleOnesOrAnswers503) {
    ApiSettings settings;
    settings.max_connections = 3;
    settings.request_body_timeout_ms = 3000;
    restart(settings);
    {
        // Three callers whose bodies are slow to come: every connection is being answered.
        std::vector<std::unique_ptr<RawConnection>> busy;
        for (int i = 0; i < 3; ++i) {
            busy.push_back(std::make_unique<RawConnection>(server_->port()));
            ASSERT_TRUE(busy.back()->send(
                authorized_head("POST /api/tokens HTTP/1.1",
                                "Content-Type: application/json\r\nContent-Length: 40\r\n")));
        }
        std::this_thread::sleep_for(200ms);
        RawConnection refused(server_->port());
        refused.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        const auto asked = Clock::now();
        EXPECT_TRUE(refused.read_until_closed(1s));
        EXPECT_LT(Clock::now() - asked, 500ms);
        EXPECT_EQ(refused.received.rfind("HTTP/1.1 503", 0), 0u) << refused.received;
        EXPECT_NE(refused.received.find("Retry-After: 1\r\n"), std::string::npos);
        EXPECT_NE(refused.received.find("Connection: close\r\n"), std::string::npos);
    }
    std::this_thread::sleep_for(200ms);  // the busy ones are closed
    // Idle connections make room for a new one, the one idle longest first.
    std::vector<std::unique_ptr<RawConnection>> idle;
    for (int i = 0; i < 3; ++i) {
        idle.push_back(std::make_unique<RawConnection>(server_->port()));
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(call("GET", "/healthz", "", std::string()).status, 200);
    EXPECT_TRUE(idle[0]->read_until_closed(1s));
    EXPECT_EQ(metric("vigil_api_connections_refused_total"), 1);
    EXPECT_GE(metric("vigil_api_connections_evicted_total"), 1);
}

TEST_F(Limits, HugeContentLength_isRefusedAtOnce) {
    RawConnection client(server_->port());
    const auto asked = Clock::now();
    ASSERT_TRUE(client.send(
        authorized_head("POST /api/tokens HTTP/1.1",
                        "Content-Type: application/json\r\nContent-Length: 209715200\r\n")));
    ASSERT_TRUE(client.read_until("payload_too_large", 3s));
    EXPECT_LT(Clock::now() - asked, 500ms);
    EXPECT_TRUE(client.read_until_closed(3s));
    EXPECT_EQ(client.received.rfind("HTTP/1.1 413", 0), 0u) << client.received;
    EXPECT_NE(client.received.find("payload_too_large"), std::string::npos);
    EXPECT_EQ(metric("vigil_api_request_bodies_refused_total{reason=\"too_large\"}"), 1);
}

TEST_F(Limits, ChunkedBodyOverTheLimit_isRefusedOnceItCrossesIt) {
    RawConnection client(server_->port());
    ASSERT_TRUE(client.send(
        authorized_head("POST /api/tokens HTTP/1.1",
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")));
    // Up to 64 MiB in 64 KiB chunks; the server must answer long before.
    const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
    size_t sent = 0;
    const auto began = Clock::now();
    while (sent < 64u * 1024 * 1024 && client.send(chunk)) {
        sent += 0x10000;
        if (client.read_until("\r\n\r\n", 0ms)) {
            break;
        }
    }
    ASSERT_TRUE(client.read_until_closed(3s));
    EXPECT_LT(Clock::now() - began, 2s);
    EXPECT_LT(sent, 32u * 1024 * 1024);
    EXPECT_EQ(client.received.rfind("HTTP/1.1 413", 0), 0u) << client.received;
    EXPECT_NE(client.received.find("payload_too_large"), std::string::npos);
    EXPECT_NE(client.received.find("Connection: close"), std::string::npos);
    EXPECT_EQ(metric("vigil_api_request_bodies_refused_total{reason=\"too_large\"}"), 1);

    // Within the limit, a chunked body is read as any other.
    RawConnection small(server_->port());
    const std::string body = R"({"name":"chunked","role":"read"})";
    std::ostringstream size;
    size << std::hex << body.size();
    ASSERT_TRUE(small.send(authorized_head("POST /api/tokens HTTP/1.1",
                                           "Content-Type: application/json\r\n"
                                           "Transfer-Encoding: chunked\r\nConnection: close\r\n") +
                           size.str() + "\r\n" + body + "\r\n0\r\n\r\n"));
    ASSERT_TRUE(small.read_until_closed(3s));
    EXPECT_EQ(small.received.rfind("HTTP/1.1 201", 0), 0u) << small.received;
}

TEST_F(Limits, BodiesWithoutLengthLateOrToOpenRoutes_areRefused) {
    ApiSettings settings;
    settings.request_body_timeout_ms = 500;
    restart(settings);
    RawConnection no_length(server_->port());
    ASSERT_TRUE(no_length.send(authorized_head("POST /api/tokens HTTP/1.1")));
    ASSERT_TRUE(no_length.read_until_closed(2s));
    EXPECT_EQ(no_length.received.rfind("HTTP/1.1 411", 0), 0u) << no_length.received;

    RawConnection late(server_->port());
    ASSERT_TRUE(late.send(authorized_head("POST /api/tokens HTTP/1.1", "Content-Length: 40\r\n") +
                          "{\"name\":"));
    const auto asked = Clock::now();
    ASSERT_TRUE(late.read_until_closed(3s));
    EXPECT_LT(Clock::now() - asked, 1500ms);
    EXPECT_EQ(late.received.rfind("HTTP/1.1 408", 0), 0u) << late.received;

    // /healthz is open to anyone: it reads no body.
    RawConnection open_route(server_->port());
    ASSERT_TRUE(open_route.send(
        "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"));
    ASSERT_TRUE(open_route.read_until_closed(2s));
    EXPECT_EQ(open_route.received.rfind("HTTP/1.1 405", 0), 0u) << open_route.received;

    EXPECT_EQ(metric("vigil_api_request_bodies_refused_total{reason=\"no_length\"}"), 1);
    EXPECT_EQ(metric("vigil_api_request_bodies_refused_total{reason=\"timeout\"}"), 1);
}

}  // namespace
}  // namespace vigil::hub::testing

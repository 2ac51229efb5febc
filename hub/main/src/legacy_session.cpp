#include "legacy_session.hpp"

#include <mosquitto.h>

#include <chrono>
#include <thread>
#include <utility>

namespace vigil::hub {

namespace {

using Clock = std::chrono::steady_clock;

// A clean-session connection under the id: the broker discards the session it held for it and
// keeps none after the disconnect (MQTT 3.1.1, 3.1.2.4).
bool end_session(const IngestSettings& s) {
    static const int init = mosquitto_lib_init();
    (void)init;
    int connack = -1;  // the broker's answer; 0 once it has made the clean start
    mosquitto* m = mosquitto_new(s.client_id.c_str(), true, &connack);
    if (m == nullptr) {
        return false;
    }
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_username_pw_set(m, s.username.c_str(), s.password.c_str());
    mosquitto_connect_callback_set(
        m, [](mosquitto*, void* answer, int rc) { *static_cast<int*>(answer) = rc; });
    if (mosquitto_connect(m, s.host.c_str(), s.port, 30) == MOSQ_ERR_SUCCESS) {
        const auto deadline = Clock::now() + std::chrono::seconds(5);
        while (connack < 0 && Clock::now() < deadline &&
               mosquitto_loop(m, 20, 1) == MOSQ_ERR_SUCCESS) {
        }
        mosquitto_disconnect(m);
        (void)mosquitto_loop(m, 20, 1);
    }
    const bool ended = connack == 0;
    mosquitto_destroy(m);
    return ended;
}

}  // namespace

void drain_legacy_session(IngestSettings settings, DecodeFunction decode, WriteFunction write,
                          const std::atomic<bool>& stop,
                          const std::function<void(const std::string&)>& log) {
    settings.client_id = kLegacyIngestClientId;
    IngestPipeline old(settings, std::move(decode), std::move(write));
    old.start();
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (!stop && !old.connected() && Clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!old.connected()) {
        old.stop();
        if (!stop) {
            log("cannot reach the session of an earlier hub (" + settings.client_id +
                "): " + old.last_error() + "; trying again at the next start");
        }
        return;
    }
    const bool held = old.resumed_session();
    uint64_t received = 0;
    if (held) {
        log("reading what the broker queued for the session of an earlier hub (" +
            settings.client_id + ")");
        auto quiet_since = Clock::now();
        while (!stop && Clock::now() - quiet_since < std::chrono::seconds(1)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const uint64_t now_received = old.metrics().received;
            if (now_received != received || !old.connected()) {
                received = now_received;
                quiet_since = Clock::now();
            }
        }
    }
    old.stop();  // commits and acknowledges what it holds
    // Anything received and not committed (the store failing) is still the old session's to
    // redeliver: it must not be ended.
    const IngestMetrics m = old.metrics();
    uint64_t accounted = m.decode_errors;
    for (const auto& [format, count] : m.ingested) {
        accounted += count;
    }
    for (const auto& [key, count] : m.rejected) {
        accounted += count;
    }
    if (stop) {
        return;
    }
    if (m.store_failures > 0 || accounted < m.received) {
        log("the session of an earlier hub (" + settings.client_id +
            ") keeps what the store did not commit, for the next start");
        return;
    }
    received = m.received;
    if (!end_session(settings)) {
        log("could not end the session of an earlier hub (" + settings.client_id +
            "); trying again at the next start");
        return;
    }
    if (held) {
        log("the session of an earlier hub (" + settings.client_id + ") gave " +
            std::to_string(received) + " messages and is ended");
    }
}

}  // namespace vigil::hub

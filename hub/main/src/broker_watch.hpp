// What the embedded broker says about itself, for the hub's metrics: the guard plugin's counts of
// what devices tried and were refused (or had their retain flag taken off), and mosquitto's own
// $SYS figures on its store and on the messages it dropped at a queue's bound; and, for the
// hygiene checks, the guard's reports of how each device connects (passed on as they come). A
// libmosquitto client of its own (the hub's account, client id vigil-hub/watch) subscribes to
// all three.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

struct mosquitto;
struct mosquitto_message;

#include "hub_client.hpp"

namespace vigil::hub {

class BrokerWatch {
  public:
    /// `take_connections` gets every report of the guard on kGuardConnectionsTopic.
    BrokerWatch(std::string host, uint16_t port, std::string username, std::string password,
                std::function<void(const std::string&)> take_connections);
    ~BrokerWatch();
    BrokerWatch(const BrokerWatch&) = delete;
    BrokerWatch& operator=(const BrokerWatch&) = delete;

    bool start(std::string& error);
    void stop();

    /// vigil_hub_broker_refused_total{device,reason}, vigil_hub_broker_retain_cleared_total{device}
    /// and the $SYS figures, in Prometheus text.
    std::string metrics_text() const;

    /// Takes one guard report (kGuardReportTopic's JSON); false when it is not one. Counts are
    /// cumulative per broker start (epoch): the totals add each epoch's latest report.
    bool take_guard_report(const std::string& payload);

  private:
    static void on_connect(mosquitto* client, void* self, int rc);
    static void on_message(mosquitto* client, void* self, const mosquitto_message* message);

    HubClientAccount account_;
    std::function<void(const std::string&)> take_connections_;
    mosquitto* client_ = nullptr;
    mutable std::mutex mutex_;
    // epoch -> (device, reason) -> count
    std::map<std::string, std::map<std::pair<std::string, std::string>, uint64_t>> guard_;
    std::map<std::string, double> sys_;  // $SYS topic -> latest value
};

}  // namespace vigil::hub

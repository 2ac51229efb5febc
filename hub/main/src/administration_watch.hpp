// Whether the hub can administer its broker (enrol and revoke devices), looked at on a thread of
// its own every few seconds: /healthz then says so while it cannot, instead of the next
// enrolment finding out.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace vigil::hub {

class AdministrationWatch {
  public:
    /// Asks the broker once: "" while administration works, else why it does not.
    using Check = std::function<std::string()>;
    using Log = std::function<void(const std::string&)>;

    /// Looks at once, then every interval_ms; `log` hears each change between working and not.
    AdministrationWatch(Check check, uint32_t interval_ms, Log log);
    ~AdministrationWatch();
    AdministrationWatch(const AdministrationWatch&) = delete;
    AdministrationWatch& operator=(const AdministrationWatch&) = delete;

    /// Looks again now (an enrolment just failed), without waiting for the interval.
    void look_now();
    /// "" while the last look found administration working (or none was made yet).
    std::string failure() const;

  private:
    void run();

    Check check_;
    uint32_t interval_ms_;
    Log log_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool look_now_ = false;
    std::string failure_;
    std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace vigil::hub

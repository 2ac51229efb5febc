#include "administration_watch.hpp"

#include <chrono>
#include <utility>

namespace vigil::hub {

AdministrationWatch::AdministrationWatch(Check check, uint32_t interval_ms, Log log)
    : check_(std::move(check)),
      interval_ms_(interval_ms),
      log_(std::move(log)),
      thread_([this] { run(); }) {}

AdministrationWatch::~AdministrationWatch() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void AdministrationWatch::look_now() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        look_now_ = true;
    }
    wake_.notify_all();
}

std::string AdministrationWatch::failure() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
}

void AdministrationWatch::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
        look_now_ = false;
        lock.unlock();
        const std::string found = check_();  // may take seconds: never under the lock
        lock.lock();
        if (found != failure_) {
            log_(found.empty() ? "administration works again"
                               : "administration failing: " + found +
                                     " (devices can be neither enrolled nor revoked)");
            failure_ = found;
        }
        wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_),
                       [this] { return stopping_ || look_now_; });
    }
}

}  // namespace vigil::hub

#include "commit_thread.hpp"

#include <utility>

namespace vigil::hub::ingest_detail {

CommitThread::CommitThread() : thread_([this] { loop(); }) {}

CommitThread::~CommitThread() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ending_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void CommitThread::run(std::function<void()> job) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = std::move(job);
        state_ = State::Queued;
    }
    wake_.notify_one();
}

void CommitThread::wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] {
        const State s = state_.load();
        return s == State::Finished || s == State::Idle;
    });
}

void CommitThread::collected() {
    std::lock_guard<std::mutex> lock(mutex_);
    state_ = State::Idle;
}

void CommitThread::loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        // A queued job still runs when the end comes: its batch must not be left half-handled.
        wake_.wait(lock, [this] { return ending_ || state_.load() == State::Queued; });
        if (state_.load() != State::Queued) {
            return;
        }
        std::function<void()> job = std::move(job_);
        job_ = nullptr;
        state_ = State::Running;
        lock.unlock();
        job();
        lock.lock();
        state_ = State::Finished;
        finished_.notify_all();
    }
}

}  // namespace vigil::hub::ingest_detail

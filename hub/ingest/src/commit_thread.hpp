// The one thread that commits ingest's batches, for the pipeline's whole life: the pipeline's
// loop hands it a job and goes on receiving and decoding while the store writes, so the two use
// separate cores. One job at a time; the loop polls finished() and then collects the job's
// outcome itself (the job writes it where the loop reads it).
//
// A thread of its own rather than std::async per commit: a thread each time cost a clone and a
// fresh malloc arena per batch, and made the commit's stack and arena a different one each time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace vigil::hub::ingest_detail {

class CommitThread {
  public:
    CommitThread();
    /// Waits for a running job, then ends the thread.
    ~CommitThread();
    CommitThread(const CommitThread&) = delete;
    CommitThread& operator=(const CommitThread&) = delete;

    /// Runs `job` on the thread. Only when !busy().
    void run(std::function<void()> job);
    /// A job was handed over and not yet collected.
    bool busy() const { return state_.load() != State::Idle; }
    /// The job has returned: what it wrote is visible to the caller now.
    bool finished() const { return state_.load() == State::Finished; }
    /// Blocks until the job has returned.
    void wait();
    /// The caller has taken the finished job's outcome; the thread may run another.
    void collected();

  private:
    enum class State { Idle, Queued, Running, Finished };
    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;      // a job, or the end
    std::condition_variable finished_;  // a job returned
    std::function<void()> job_;
    std::atomic<State> state_{State::Idle};
    bool ending_ = false;
    std::thread thread_;  // last: it starts once the rest is ready
};

}  // namespace vigil::hub::ingest_detail

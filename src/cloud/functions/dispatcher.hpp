// Asynchronous function invocations with retries (as AWS invokes Lambda from a rule:
// asynchronously, retried on failure). Each attempt is reported to an observer so the cloud can log
// it and the console can show failures. Workers run on their own threads, never on the network
// threads.
//
// The queue is bounded (max_queued invocations waiting for a worker) and drops an invocation that
// duplicates one still waiting (same function and dedupe key, e.g. the same device's registration
// event): submit() then returns an error and queues nothing, and the caller records the drop. A
// device that floods events cannot delay another rule's function by more than one queue's worth.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"

namespace zt::cloud::functions {

struct RetryPolicy {
  int max_attempts = 3;  // AWS retries an asynchronous Lambda invocation twice
  std::chrono::milliseconds first_backoff{500};
  double multiplier = 2.0;
};

// Invocations waiting for a worker (retries of running ones are always requeued).
inline constexpr size_t kDefaultMaxQueued = 1000;

// A failure that another attempt cannot change (the event was refused: Errc::permission, or the
// resource is in the wrong state: Errc::conflict) is final at once.
bool is_retryable(const Error& error);

struct AttemptRecord {
  std::string function_name;
  std::string invocation_id;
  int attempt = 1;
  bool succeeded = false;
  bool final = false;  // no more attempts follow (success, or retries exhausted)
  std::string detail;  // error message or function output summary
  int64_t started_ms = 0;
  int64_t duration_ms = 0;
};

class Dispatcher {
 public:
  using Handler = std::function<Status(const nlohmann::json& event)>;
  using Observer = std::function<void(const AttemptRecord&)>;

  Dispatcher(size_t workers, RetryPolicy policy, Observer observer,
             size_t max_queued = kDefaultMaxQueued);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues an invocation; returns its id at once. Errc::conflict (nothing queued) when an
  // invocation of `function_name` with the same non-empty `dedupe_key` is already waiting, or the
  // queue holds max_queued invocations.
  Result<std::string> submit(std::string function_name, nlohmann::json event, Handler handler,
                             std::string dedupe_key = {});
  size_t queued() const;
  // Runs the first attempt on the calling thread (for a quick in-process function, where handing
  // the event to a worker thread only adds latency); a failed attempt is retried as submit()'s are.
  std::string invoke_now(std::string function_name, nlohmann::json event, Handler handler);
  // Blocks until every queued and delayed invocation has finished (tests, shutdown).
  void drain();
  void stop();

 private:
  struct Job {
    std::string function_name, invocation_id;
    nlohmann::json event;
    Handler handler;
    int attempt = 1;
    std::chrono::steady_clock::time_point not_before;
    std::string dedupe_key;  // function name + '\n' + the caller's key; "" for none
  };
  void work();
  // Runs one attempt (no lock held), reports it; true when another attempt must follow.
  bool run_attempt(Job& job);
  // After an attempt: requeues `job` with backoff when `retry`; wakes drain() when idle. Locked.
  void finish_attempt(Job job, bool retry);
  std::string next_id();  // locked

  RetryPolicy policy_;
  Observer observer_;
  size_t max_queued_;
  mutable std::mutex mutex_;
  std::set<std::string> waiting_keys_;  // dedupe keys of the jobs in jobs_
  std::condition_variable wake_, idle_;
  std::deque<Job> jobs_;
  size_t running_ = 0;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  std::vector<std::thread> workers_;
};

}  // namespace zt::cloud::functions

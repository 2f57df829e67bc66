// Asynchronous function invocations with retries (as AWS invokes Lambda from a rule:
// asynchronously, retried on failure). Each attempt is reported to an observer so the cloud can log
// it and the console can show failures. Workers run on their own threads, never on the network
// threads.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
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

  Dispatcher(size_t workers, RetryPolicy policy, Observer observer);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues an invocation; returns its id at once.
  std::string submit(std::string function_name, nlohmann::json event, Handler handler);
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
  };
  void work();
  // Runs one attempt (no lock held), reports it; true when another attempt must follow.
  bool run_attempt(Job& job);
  // After an attempt: requeues `job` with backoff when `retry`; wakes drain() when idle. Locked.
  void finish_attempt(Job job, bool retry);
  std::string next_id();  // locked

  RetryPolicy policy_;
  Observer observer_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Job> jobs_;
  size_t running_ = 0;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  std::vector<std::thread> workers_;
};

}  // namespace zt::cloud::functions

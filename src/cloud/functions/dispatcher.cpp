#include "cloud/functions/dispatcher.hpp"

#include <algorithm>
#include <cmath>

#include "common/time.hpp"

namespace zt::cloud::functions {

bool is_retryable(const Error& error) {
  return error.code != Errc::permission && error.code != Errc::conflict;
}

Dispatcher::Dispatcher(size_t workers, RetryPolicy policy, Observer observer, size_t max_queued)
    : policy_(policy), observer_(std::move(observer)), max_queued_(max_queued) {
  for (size_t i = 0; i < std::max<size_t>(workers, 1); ++i)
    workers_.emplace_back([this] { work(); });
}

Dispatcher::~Dispatcher() { stop(); }

std::string Dispatcher::next_id() {
  return std::to_string(unix_now_ms()) + "-" + std::to_string(next_id_++);
}

Result<std::string> Dispatcher::submit(std::string function_name, nlohmann::json event,
                                       Handler handler, std::string dedupe_key) {
  std::lock_guard lock(mutex_);
  if (!dedupe_key.empty()) {
    dedupe_key = function_name + "\n" + dedupe_key;
    if (waiting_keys_.contains(dedupe_key)) {
      return make_error(Errc::conflict, "dropped: an invocation of " + function_name +
                                            " for the same event is already queued");
    }
  }
  if (jobs_.size() >= max_queued_) {
    return make_error(Errc::conflict, "dropped: the function queue is full (" +
                                          std::to_string(max_queued_) + " invocations waiting)");
  }
  std::string id = next_id();
  if (!dedupe_key.empty()) waiting_keys_.insert(dedupe_key);
  jobs_.push_back(Job{std::move(function_name), id, std::move(event), std::move(handler), 1,
                      std::chrono::steady_clock::now(), std::move(dedupe_key)});
  wake_.notify_one();
  return id;
}

size_t Dispatcher::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::string Dispatcher::invoke_now(std::string function_name, nlohmann::json event,
                                   Handler handler) {
  Job job;
  {
    std::lock_guard lock(mutex_);
    job = Job{std::move(function_name),         next_id(), std::move(event), std::move(handler), 1,
              std::chrono::steady_clock::now(), {}};
    ++running_;  // drain() waits for it like for a worker's attempt
  }
  std::string id = job.invocation_id;
  bool retry = run_attempt(job);
  std::lock_guard lock(mutex_);
  finish_attempt(std::move(job), retry);
  return id;
}

void Dispatcher::drain() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return (jobs_.empty() && running_ == 0) || stopping_; });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  idle_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

void Dispatcher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    auto now = std::chrono::steady_clock::now();
    auto ready = std::find_if(jobs_.begin(), jobs_.end(),
                              [&](const Job& job) { return job.not_before <= now; });
    if (ready == jobs_.end()) {
      if (jobs_.empty()) {
        wake_.wait(lock);
      } else {
        auto earliest =
            std::min_element(jobs_.begin(), jobs_.end(), [](const Job& a, const Job& b) {
              return a.not_before < b.not_before;
            })->not_before;
        wake_.wait_until(lock, earliest);
      }
      continue;
    }
    Job job = std::move(*ready);
    jobs_.erase(ready);
    // Running now: an event for the same thing that arrives from here on is queued again (it may
    // come after what this attempt reads).
    if (!job.dedupe_key.empty()) waiting_keys_.erase(job.dedupe_key);
    job.dedupe_key.clear();
    ++running_;
    lock.unlock();
    bool retry = run_attempt(job);
    lock.lock();
    finish_attempt(std::move(job), retry);
  }
}

bool Dispatcher::run_attempt(Job& job) {
  AttemptRecord record{
      job.function_name, job.invocation_id, job.attempt, false, false, "", unix_now_ms(), 0};
  Status status = job.handler(job.event);
  record.duration_ms = unix_now_ms() - record.started_ms;
  record.succeeded = static_cast<bool>(status);
  record.detail = status ? "ok" : status.error().message;
  record.final =
      record.succeeded || job.attempt >= policy_.max_attempts || !is_retryable(status.error());
  if (observer_) observer_(record);
  return !record.final;
}

void Dispatcher::finish_attempt(Job job, bool retry) {
  --running_;
  if (retry && !stopping_) {
    auto backoff = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(policy_.first_backoff.count()) *
                             std::pow(policy_.multiplier, job.attempt - 1)));
    job.attempt += 1;
    job.not_before = std::chrono::steady_clock::now() + backoff;
    jobs_.push_back(std::move(job));
    wake_.notify_one();
  }
  if (jobs_.empty() && running_ == 0) idle_.notify_all();
}

}  // namespace zt::cloud::functions

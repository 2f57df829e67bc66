// Rate quotas of reference/aws-iot.md §6.3 and §4.5 (publishes per connection, shadow requests per
// thing, CONNECTs per client id): fixed one-second windows. Cheap (two integers and a time point),
// and never admits more than twice the quota in any sliding second, which is as precise as AWS's
// own documentation of these limits.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace zt::cloud::broker {

using SteadyTime = std::chrono::steady_clock::time_point;

class RateWindow {
 public:
  // Counts one event of `bytes` bytes if the current window still has room for it: at most
  // `max_events` events (0: no limit) and `max_bytes` bytes (0: no limit) per second.
  bool admit(SteadyTime now, size_t max_events, size_t bytes = 0, size_t max_bytes = 0) {
    if (now - start_ >= std::chrono::seconds(1)) {
      start_ = now;
      events_ = 0;
      bytes_ = 0;
      refused_logged_ = false;
    }
    if (max_events != 0 && events_ >= max_events) return false;
    if (max_bytes != 0 && bytes_ + bytes > max_bytes) return false;
    ++events_;
    bytes_ += bytes;
    return true;
  }
  // The first refusal of a window (for logging once per second, not per message).
  bool first_refusal() { return !refused_logged_ ? (refused_logged_ = true) : false; }
  SteadyTime start() const { return start_; }

 private:
  SteadyTime start_{};
  size_t events_ = 0;
  size_t bytes_ = 0;
  bool refused_logged_ = false;
};

// Per-key windows shared between threads (shadow requests per thing). Idle keys are pruned as the
// table grows, so it stays about as large as the set of keys active in the last second.
class KeyedRateLimit {
 public:
  explicit KeyedRateLimit(size_t max_per_second) : max_per_second_(max_per_second) {}

  bool admit(const std::string& key, SteadyTime now) {
    if (max_per_second_ == 0) return true;
    std::lock_guard lock(mutex_);
    if (windows_.size() >= prune_at_) {
      std::erase_if(windows_, [&](const auto& entry) {
        return now - entry.second.start() >= std::chrono::seconds(1);
      });
      prune_at_ = std::max<size_t>(kMinPruneAt, 2 * windows_.size());
    }
    return windows_[key].admit(now, max_per_second_);
  }

 private:
  static constexpr size_t kMinPruneAt = 1024;
  size_t max_per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, RateWindow> windows_;
  size_t prune_at_ = kMinPruneAt;
};

// At most one event per `interval` per key (1 CONNECT per second per client id, one registration
// event per second per certificate): admit() is false while the key's last admitted event is
// younger than `interval` (0 or less: no limit); a refused attempt is not recorded, so a client
// that retries once per interval gets through. Thread-safe; keys whose last event is older than the
// interval decide nothing and are pruned as the table grows.
class IntervalLimit {
 public:
  explicit IntervalLimit(std::chrono::milliseconds interval) : interval_(interval) {}

  bool admit(const std::string& key, SteadyTime now) {
    if (interval_.count() <= 0) return true;
    std::lock_guard lock(mutex_);
    if (last_.size() >= prune_at_) {
      std::erase_if(last_, [&](const auto& entry) { return now - entry.second >= interval_; });
      prune_at_ = std::max<size_t>(kMinPruneAt, 2 * last_.size());
    }
    auto [it, inserted] = last_.try_emplace(key, now);
    if (inserted) return true;
    if (now - it->second < interval_) return false;
    it->second = now;
    return true;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return last_.size();
  }

 private:
  static constexpr size_t kMinPruneAt = 1024;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, SteadyTime> last_;
  size_t prune_at_ = kMinPruneAt;
};

}  // namespace zt::cloud::broker

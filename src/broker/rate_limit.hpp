// Rate quotas of reference/aws-iot.md §6.3 and §4.5 (publishes per connection, shadow requests per
// thing, CONNECTs per client id): fixed one-second windows (per-thing shadow requests: a token
// bucket of one second's quota, KeyedRateLimit). Cheap (two integers and a time point),
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

// Per-key quotas shared between threads (shadow requests per thing): a token bucket per key, as
// deep as one second's quota and refilled at the quota's rate. A device that keeps to the quota is
// never refused however its requests are spaced within the second (a fixed window refused the
// 21st of a steady 20/s stream whenever jitter put it a millisecond early); a burst gets one
// second's quota, and no sliding second admits more than twice the quota, as with the windows
// above. Idle keys (full buckets) are pruned as the table grows, so it stays about as large as the
// set of keys active in the last second.
class KeyedRateLimit {
 public:
  explicit KeyedRateLimit(size_t max_per_second) : max_per_second_(max_per_second) {}

  // `log_refusal` (optional) is set true for the first refusal of a key in a second: callers log
  // that one, not every refused request of a flood.
  bool admit(const std::string& key, SteadyTime now, bool* log_refusal = nullptr) {
    if (log_refusal) *log_refusal = false;
    if (max_per_second_ == 0) return true;
    const double depth = static_cast<double>(max_per_second_);
    std::lock_guard lock(mutex_);
    if (buckets_.size() >= prune_at_) {
      std::erase_if(buckets_, [&](const auto& entry) {
        return now - entry.second.last >= std::chrono::seconds(1);  // refilled: as a new key
      });
      prune_at_ = std::max<size_t>(kMinPruneAt, 2 * buckets_.size());
    }
    auto [it, fresh] = buckets_.try_emplace(key);
    Bucket& bucket = it->second;
    if (fresh) {
      bucket.tokens = depth;
    } else if (now > bucket.last) {
      std::chrono::duration<double> elapsed = now - bucket.last;
      bucket.tokens = std::min(depth, bucket.tokens + elapsed.count() * depth);
    }
    if (now > bucket.last) bucket.last = now;
    if (bucket.tokens >= 1.0) {
      bucket.tokens -= 1.0;
      return true;
    }
    if (log_refusal && now - bucket.refusal_logged >= std::chrono::seconds(1)) {
      bucket.refusal_logged = now;
      *log_refusal = true;
    }
    return false;
  }

 private:
  struct Bucket {
    double tokens = 0;
    SteadyTime last{};
    SteadyTime refusal_logged{};
  };
  static constexpr size_t kMinPruneAt = 1024;
  size_t max_per_second_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
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

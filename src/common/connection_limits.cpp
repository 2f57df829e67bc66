#include "common/connection_limits.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <utility>

namespace zt {

std::shared_ptr<ConnectionLimiter> ConnectionLimiter::create(ConnectionCaps caps) {
  return std::shared_ptr<ConnectionLimiter>(new ConnectionLimiter(caps));
}

void ConnectionLimiter::uncount(Entry& entry) {
  if (!entry.counted) return;
  entry.counted = false;
  --total_;
  auto it = per_address_.find(entry.address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

ConnectionLimiter::Admission ConnectionLimiter::admit(const std::string& address,
                                                      bool allow_eviction) {
  std::function<void()> evict;
  Admission admission;
  {
    std::lock_guard lock(mutex_);
    auto from_address = per_address_.find(address);
    size_t of_address = from_address == per_address_.end() ? 0 : from_address->second;
    bool address_full = caps_.max_per_address && of_address >= caps_.max_per_address;
    bool total_full = caps_.max_total && total_ >= caps_.max_total;
    if (address_full || total_full) {
      admission.refusal = address_full ? Refusal::per_address : Refusal::total;
      if (!allow_eviction) return admission;
      // The oldest waiting connection: of the same address when that address is at its cap (so
      // one address never evicts another's connections for its own sake), of any otherwise.
      auto victim = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& entry) {
        return entry.counted && entry.evict && (!address_full || entry.address == address);
      });
      if (victim == entries_.end()) return admission;
      evict = std::move(victim->evict);
      victim->evict = nullptr;
      uncount(*victim);
      admission.evicted = true;
    }
    entries_.push_back(Entry{.address = address, .evict = nullptr, .counted = true});
    ++total_;
    ++per_address_[address];
    admission.slot = Slot(shared_from_this(), std::prev(entries_.end()));
  }
  if (evict) evict();  // outside the lock: it posts to the victim's executor
  return admission;
}

size_t ConnectionLimiter::open_connections() const {
  std::lock_guard lock(mutex_);
  return total_;
}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::move(other.owner_);
    entry_ = other.entry_;
  }
  return *this;
}

void ConnectionLimiter::Slot::set_evictable(std::function<void()> evict) {
  if (!owner_) return;
  std::lock_guard lock(owner_->mutex_);
  if (entry_->counted) entry_->evict = std::move(evict);
}

void ConnectionLimiter::Slot::clear_evictable() {
  if (!owner_) return;
  std::lock_guard lock(owner_->mutex_);
  entry_->evict = nullptr;
}

void ConnectionLimiter::Slot::release() {
  if (!owner_) return;
  {
    std::lock_guard lock(owner_->mutex_);
    owner_->uncount(*entry_);
    owner_->entries_.erase(entry_);
  }
  owner_.reset();
}

std::chrono::milliseconds AcceptBackoff::failed() {
  auto delay = next_;
  next_ = std::min(next_ * 2, kMax);
  return delay;
}

std::optional<size_t> LogThrottle::admit(std::chrono::steady_clock::time_point now) {
  if (last_ && now - *last_ < interval_) {
    ++suppressed_;
    return std::nullopt;
  }
  last_ = now;
  return std::exchange(suppressed_, 0);
}

std::chrono::milliseconds AcceptLoopGuard::failed(const std::string& error,
                                                  std::chrono::steady_clock::time_point now) {
  if (auto suppressed = failures_.admit(now)) {
    spdlog::warn("{}: accepting a connection failed: {} ({} more since the last report)", name_,
                 error, *suppressed);
  }
  return backoff_.failed();
}

void AcceptLoopGuard::refused(const std::string& address, ConnectionLimiter::Refusal refusal,
                              const ConnectionCaps& caps,
                              std::chrono::steady_clock::time_point now) {
  if (auto suppressed = refusals_.admit(now)) {
    bool total = refusal == ConnectionLimiter::Refusal::total;
    spdlog::warn("{}: refused a connection from {}: {} connections {} ({} more since)", name_,
                 address, total ? caps.max_total : caps.max_per_address,
                 total ? "open" : "open from that address", *suppressed);
  }
}

size_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // RLIM_INFINITY (possible in containers) is still bounded by fs.nr_open; count it as 1 Mi.
  if (limit.rlim_cur == RLIM_INFINITY) return size_t{1} << 20;
  return static_cast<size_t>(limit.rlim_cur);
}

DescriptorBudget descriptor_budget(size_t open_file_limit) {
  size_t usable = open_file_limit > 2 * kReservedDescriptors
                      ? open_file_limit - kReservedDescriptors
                      : open_file_limit / 2;
  DescriptorBudget budget;
  budget.http_connections = std::max<size_t>(1, std::min<size_t>(1024, usable / 4));
  budget.mqtt_connections = std::max<size_t>(1, usable - budget.http_connections);
  return budget;
}

}  // namespace zt

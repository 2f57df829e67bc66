// A steady clock that moves only when the test says so (Envoy's SimulatedTimeSource is the model):
// quotas, caches and expiry take a SteadyClock (common/time.hpp), and tests hand them this one.
#pragma once

#include <chrono>

#include "common/time.hpp"

namespace zt::testing {

class FakeClock {
 public:
  // Starts an hour after the epoch of steady_clock, so that "an hour ago" is still a valid time.
  explicit FakeClock(SteadyTime start = SteadyTime{} + std::chrono::hours(1)) : now_(start) {}
  SteadyTime now() const { return now_; }
  void advance(std::chrono::steady_clock::duration by) { now_ += by; }
  // A SteadyClock reading this one (it must outlive the clock it hands out).
  SteadyClock clock() const {
    return [this] { return now_; };
  }

 private:
  SteadyTime now_;
};

}  // namespace zt::testing

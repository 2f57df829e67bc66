// The rate quotas of reference/aws-iot.md §6.3 and §4.5 with explicit time points (no sleeping, no
// clock): one-second windows, per-key budgets, and 1 CONNECT per second per client id.
#include "broker/rate_limit.hpp"

#include <gtest/gtest.h>

#include "broker/core.hpp"

namespace zt::cloud::broker {
namespace {

using std::chrono::milliseconds;

const SteadyTime t0 = SteadyTime{} + std::chrono::hours(1);

TEST(RateWindow, AdmitsTheQuotaPerSecondThenRefusesUntilTheNextWindow) {
  RateWindow window;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(window.admit(t0 + milliseconds(i), 100)) << i;
  EXPECT_FALSE(window.admit(t0 + milliseconds(500), 100));
  EXPECT_TRUE(window.first_refusal());  // logged once per window
  EXPECT_FALSE(window.first_refusal());
  EXPECT_FALSE(window.admit(t0 + milliseconds(999), 100));
  EXPECT_TRUE(window.admit(t0 + milliseconds(1000), 100));  // a new window
  EXPECT_TRUE(window.first_refusal());
}

TEST(RateWindow, BytesAreAQuotaOfTheirOwn) {
  RateWindow window;
  constexpr size_t kBytes = 512 * 1024;
  EXPECT_TRUE(window.admit(t0, 100, 128 * 1024, kBytes));
  EXPECT_TRUE(window.admit(t0, 100, 128 * 1024, kBytes));
  EXPECT_TRUE(window.admit(t0, 100, 256 * 1024, kBytes));  // exactly 512 KiB
  EXPECT_FALSE(window.admit(t0, 100, 1, kBytes));
  EXPECT_TRUE(window.admit(t0 + milliseconds(1000), 100, 1, kBytes));
}

TEST(RateWindow, ZeroMeansNoLimit) {
  RateWindow window;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(window.admit(t0, 0, 1 << 20, 0));
}

TEST(KeyedRateLimit, EachKeyHasItsOwnBudgetAndIdleKeysArePruned) {
  KeyedRateLimit limit(2);
  EXPECT_TRUE(limit.admit("a", t0));
  EXPECT_TRUE(limit.admit("a", t0));
  EXPECT_FALSE(limit.admit("a", t0));
  EXPECT_TRUE(limit.admit("b", t0));
  // Thousands of keys later (pruning runs as the table grows), "a" still has no budget in its
  // window and a fresh one in the next.
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(limit.admit("k" + std::to_string(i), t0));
  EXPECT_FALSE(limit.admit("a", t0 + milliseconds(999)));
  EXPECT_TRUE(limit.admit("a", t0 + milliseconds(1000)));
}

TEST(Core, OneConnectPerSecondPerClientId) {
  Core core(BrokerConfig{}, nullptr, std::make_shared<AllowAllAuthorizer>());
  EXPECT_TRUE(core.admit_connect("device-1", t0));
  EXPECT_FALSE(core.admit_connect("device-1", t0 + milliseconds(10)));
  EXPECT_TRUE(core.admit_connect("device-2", t0 + milliseconds(10)));  // per client id
  // A refused attempt is not counted: the next one a second after the admitted one gets in.
  EXPECT_FALSE(core.admit_connect("device-1", t0 + milliseconds(990)));
  EXPECT_TRUE(core.admit_connect("device-1", t0 + milliseconds(1000)));
  EXPECT_FALSE(core.admit_connect("device-1", t0 + milliseconds(1500)));
  // Many other client ids (the table prunes itself) do not disturb the bookkeeping.
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(core.admit_connect("id-" + std::to_string(i), t0 + milliseconds(1500)));
  EXPECT_FALSE(core.admit_connect("device-1", t0 + milliseconds(1999)));
  EXPECT_TRUE(core.admit_connect("device-1", t0 + milliseconds(2000)));
}

TEST(Core, ConnectIntervalZeroTurnsTheThrottleOff) {
  BrokerConfig config;
  config.limits.min_connect_interval = milliseconds(0);
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(core.admit_connect("device-1", t0));
}

}  // namespace
}  // namespace zt::cloud::broker

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
  // Thousands of keys later (pruning runs as the table grows), "a" has refilled at 2 per second:
  // nothing 400 ms on (0.8 of a request), one at 500 ms, then none again.
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(limit.admit("k" + std::to_string(i), t0));
  EXPECT_FALSE(limit.admit("a", t0 + milliseconds(400)));
  EXPECT_TRUE(limit.admit("a", t0 + milliseconds(500)));
  EXPECT_FALSE(limit.admit("a", t0 + milliseconds(501)));
  // Idle for a second: a full second's quota again.
  EXPECT_TRUE(limit.admit("a", t0 + milliseconds(1600)));
  EXPECT_TRUE(limit.admit("a", t0 + milliseconds(1600)));
  EXPECT_FALSE(limit.admit("a", t0 + milliseconds(1600)));
}

TEST(KeyedRateLimit, AStreamAtTheQuotaIsNeverRefusedWhateverItsJitter) {
  // 20 per second, each request up to 20 ms early or late around its 50 ms slot (a fixed window
  // refused the 21st whenever it came early).
  KeyedRateLimit limit(20);
  for (int i = 0; i < 2000; ++i) {
    int jitter = (i * 7919) % 41 - 20;  // -20..20 ms, deterministic
    ASSERT_TRUE(limit.admit("thing", t0 + milliseconds(1000 + 50 * i + jitter))) << i;
  }
}

TEST(KeyedRateLimit, AFloodGetsOneSecondsQuotaAndLogsOncePerSecond) {
  KeyedRateLimit limit(20);
  size_t admitted_in_first_second = 0;
  size_t logged = 0;
  bool log = false;
  for (int ms = 0; ms < 1000; ++ms) {
    for (int k = 0; k < 10; ++k) {  // 10,000 requests in the second
      if (limit.admit("thing", t0 + milliseconds(ms), &log)) ++admitted_in_first_second;
      logged += log ? 1 : 0;
    }
  }
  // The bucket's 20 plus ~20 refilled during the second: at most twice the quota.
  EXPECT_GE(admitted_in_first_second, 20u);
  EXPECT_LE(admitted_in_first_second, 40u);
  EXPECT_EQ(logged, 1u);
  // More than a second after the first refusal, the next refusal is logged again.
  int admitted_now = 0;
  while (limit.admit("thing", t0 + milliseconds(1500), &log)) ASSERT_LE(++admitted_now, 20);
  EXPECT_TRUE(log);
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

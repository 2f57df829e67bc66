#include "common/connection_limits.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <sstream>
#include <vector>

namespace zt {
namespace {

using namespace std::chrono_literals;

TEST(ConnectionLimiter, RefusesOverTheTotalCapAndCountsReleases) {
  auto limiter = ConnectionLimiter::create({.max_total = 2, .max_per_address = 0});
  auto a = limiter->admit("127.0.0.1", false);
  auto b = limiter->admit("127.0.0.2", false);
  ASSERT_TRUE(a.slot && b.slot);
  auto c = limiter->admit("127.0.0.3", false);
  EXPECT_FALSE(c.slot);
  EXPECT_EQ(c.refusal, ConnectionLimiter::Refusal::total);
  EXPECT_EQ(limiter->open_connections(), 2u);
  a.slot.reset();  // the connection ended
  EXPECT_EQ(limiter->open_connections(), 1u);
  EXPECT_TRUE(limiter->admit("127.0.0.3", false).slot);
}

TEST(ConnectionLimiter, PerAddressCapLeavesOtherAddressesIn) {
  auto limiter = ConnectionLimiter::create({.max_total = 10, .max_per_address = 2});
  std::vector<ConnectionLimiter::Slot> held;
  for (int i = 0; i < 2; ++i) held.push_back(std::move(*limiter->admit("10.0.0.1", false).slot));
  auto third = limiter->admit("10.0.0.1", false);
  EXPECT_FALSE(third.slot);
  EXPECT_EQ(third.refusal, ConnectionLimiter::Refusal::per_address);
  EXPECT_TRUE(limiter->admit("10.0.0.2", false).slot);
}

TEST(ConnectionLimiter, EvictsTheOldestWaitingConnection) {
  auto limiter = ConnectionLimiter::create({.max_total = 3, .max_per_address = 0});
  std::vector<int> evicted;
  std::vector<ConnectionLimiter::Slot> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::move(*limiter->admit("127.0.0.1", true).slot));
  held[0].clear_evictable();  // busy with a request: never evicted
  held[1].set_evictable([&] { evicted.push_back(1); });
  held[2].set_evictable([&] { evicted.push_back(2); });
  auto fourth = limiter->admit("127.0.0.1", true);
  ASSERT_TRUE(fourth.slot);
  EXPECT_TRUE(fourth.evicted);
  EXPECT_EQ(evicted, std::vector<int>{1});
  EXPECT_EQ(limiter->open_connections(), 3u);
  held[1] = ConnectionLimiter::Slot();  // the evicted connection ends later: counted once only
  EXPECT_EQ(limiter->open_connections(), 3u);
  held[2].clear_evictable();
  auto fifth = limiter->admit("127.0.0.1", true);
  EXPECT_FALSE(fifth.slot);  // nobody waiting: refused
  EXPECT_EQ(evicted, std::vector<int>{1});
}

TEST(ConnectionLimiter, AnAddressAtItsCapEvictsOnlyItsOwnConnections) {
  auto limiter = ConnectionLimiter::create({.max_total = 10, .max_per_address = 1});
  bool other_evicted = false;
  auto other = limiter->admit("10.0.0.2", true);
  other.slot->set_evictable([&] { other_evicted = true; });
  auto mine = limiter->admit("10.0.0.1", true);
  ASSERT_TRUE(mine.slot);
  auto again = limiter->admit("10.0.0.1", true);  // mine is busy, not evictable
  EXPECT_FALSE(again.slot);
  EXPECT_FALSE(other_evicted);
}

TEST(ConnectionLimiter, SlotsOutliveTheLimiterHandle) {
  auto limiter = ConnectionLimiter::create({.max_total = 1, .max_per_address = 0});
  auto slot = std::move(limiter->admit("::1", false).slot);
  limiter.reset();  // the server is gone; a connection still ends later
  slot.reset();
  SUCCEED();
}

TEST(AcceptBackoff, DoublesFromTenMillisecondsToOneSecondAndResets) {
  AcceptBackoff backoff;
  std::vector<long> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(backoff.failed().count());
  EXPECT_EQ(delays, (std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000}));
  backoff.succeeded();
  EXPECT_EQ(backoff.failed().count(), 10);
}

TEST(LogThrottle, OneLinePerIntervalCountingTheSuppressed) {
  LogThrottle throttle(1s);
  std::chrono::steady_clock::time_point now{};  // a fake clock
  EXPECT_EQ(throttle.admit(now), std::optional<size_t>(0));
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(throttle.admit(now + 1ms * i));
  EXPECT_EQ(throttle.admit(now + 1s), std::optional<size_t>(1000));
  EXPECT_FALSE(throttle.admit(now + 1500ms));
  EXPECT_EQ(throttle.admit(now + 2s), std::optional<size_t>(1));
}

TEST(AcceptLoopGuard, AFailingAcceptLoopPausesAndLogsOnceASecond) {
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
  AcceptLoopGuard guard("api");
  std::chrono::steady_clock::time_point now{};  // a fake clock
  std::chrono::milliseconds paused{0};
  for (int i = 0; i < 5000; ++i) paused += guard.failed("Too many open files", now + 1ms * i);
  for (int i = 0; i < 300; ++i) {
    guard.refused("127.0.0.1", ConnectionLimiter::Refusal::total,
                  {.max_total = 224, .max_per_address = 256}, now + 1ms * i);
  }
  spdlog::set_default_logger(previous);
  std::string text = out.str();
  size_t lines = std::count(text.begin(), text.end(), '\n');
  EXPECT_EQ(lines, 5u + 1u) << text;  // 5 s of failures, one refusal line
  EXPECT_NE(text.find("api: accepting a connection failed: Too many open files (999 more since"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("api: refused a connection from 127.0.0.1: 224 connections open (0 more"),
            std::string::npos);
  // Each failure pauses: 5,000 failures cannot be retried faster than ~1 s apart after the start.
  EXPECT_GT(paused, std::chrono::milliseconds(4990 * 1000));
  guard.accepted();
  EXPECT_EQ(guard.failed("again", now + 10s), AcceptBackoff::kFirst);
}

TEST(DescriptorBudget, KeepsConnectionsUnderTheOpenFileLimit) {
  for (size_t limit : {size_t{64}, size_t{1024}, size_t{4096}, size_t{1} << 20}) {
    auto budget = descriptor_budget(limit);
    EXPECT_LT(budget.http_connections + budget.mqtt_connections, limit) << limit;
    EXPECT_GE(budget.http_connections, 1u);
    EXPECT_LE(budget.http_connections, 1024u);
  }
  auto at_1024 = descriptor_budget(1024);
  EXPECT_EQ(at_1024.http_connections, 224u);
  EXPECT_EQ(at_1024.mqtt_connections, 672u);
}

TEST(OpenFileLimit, RaisesTheSoftLimitToTheHardLimit) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  rlimit lowered = before;
  if (before.rlim_max != RLIM_INFINITY && before.rlim_max > 256) {
    lowered.rlim_cur = 256;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  }
  size_t now = raise_open_file_limit();
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(after.rlim_cur, after.rlim_max);
  if (after.rlim_max != RLIM_INFINITY) {
    EXPECT_EQ(now, after.rlim_cur);
  }
}

}  // namespace
}  // namespace zt

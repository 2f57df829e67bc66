// What keeps the broker's memory bounded whatever clients do (issue 12): per-client-id state
// (versionNumber, CONNECT times) is forgotten, persistent sessions are capped in number and queued
// bytes (the longest offline expire first), and registration-style events are throttled per key.
// Explicit time points stand in for the clock.
#include <gtest/gtest.h>

#include "broker/core.hpp"
#include "broker/lifecycle.hpp"
#include "broker/rate_limit.hpp"

namespace zt::cloud::broker {
namespace {

using std::chrono::milliseconds;
const SteadyTime t0 = SteadyTime{} + std::chrono::hours(10);

class NullOutlet final : public Outlet {
 public:
  void send_publish(const Message&, uint8_t, uint16_t, bool, bool) override { ++sent; }
  void close(DisconnectReason) override {}
  size_t sent = 0;
};

std::shared_ptr<const Message> message(std::string topic, size_t payload_bytes) {
  return std::make_shared<const Message>(
      Message{.topic = std::move(topic), .payload = Bytes(payload_bytes, 0x41), .qos = 1});
}

TEST(IntervalLimit, OnePerIntervalPerKeyAndRefusalsAreNotCounted) {
  IntervalLimit limit(milliseconds(1000));
  EXPECT_TRUE(limit.admit("cert-a", t0));
  for (int i = 1; i < 100; ++i) EXPECT_FALSE(limit.admit("cert-a", t0 + milliseconds(i * 10)));
  EXPECT_TRUE(limit.admit("cert-b", t0 + milliseconds(5)));
  EXPECT_TRUE(limit.admit("cert-a", t0 + milliseconds(1000)));
  EXPECT_FALSE(limit.admit("cert-a", t0 + milliseconds(1999)));
  // Thousands of keys: the table is pruned of keys that decide nothing any more.
  for (int i = 0; i < 10000; ++i)
    ASSERT_TRUE(limit.admit("k" + std::to_string(i), t0 + std::chrono::seconds(10 + i)));
  EXPECT_LT(limit.size(), 3000u);
}

TEST(VersionTable, IncreasesPerClientIdAndResetsAfterAnHourOffline) {
  VersionTable versions;
  EXPECT_EQ(versions.connected("dev", t0), 0);
  versions.disconnected("dev", t0 + milliseconds(10));
  EXPECT_EQ(versions.connected("dev", t0 + milliseconds(20)), 1);
  EXPECT_EQ(versions.current("dev"), 1);
  // A takeover: the new connection before the old one's disconnect; still online afterwards.
  EXPECT_EQ(versions.connected("dev", t0 + milliseconds(30)), 2);
  versions.disconnected("dev", t0 + milliseconds(40));
  versions.disconnected("dev", t0 + milliseconds(50));
  EXPECT_EQ(versions.connected("dev", t0 + std::chrono::minutes(59)), 3);
  versions.disconnected("dev", t0 + std::chrono::minutes(60));
  // aws-iot.md §6.1: "resets to 0 after ~1 h offline".
  EXPECT_EQ(versions.connected("dev", t0 + std::chrono::minutes(120)), 0);
}

TEST(VersionTable, StaysBoundedWhateverClientIdsConnect) {
  VersionTable versions(std::chrono::hours(1), /*max_offline=*/500);
  versions.connected("online", t0);
  for (int i = 0; i < 20000; ++i) {
    std::string id = "random-" + std::to_string(i);  // as empty client ids get from the broker
    auto now = t0 + milliseconds(i);
    versions.connected(id, now);
    versions.disconnected(id, now);
  }
  EXPECT_LE(versions.size(), 2u * (500 + 1) + 1);
  // The one still online was never forgotten.
  EXPECT_EQ(versions.connected("online", t0 + std::chrono::seconds(30)), 1);
}

TEST(Core, PersistentSessionsAreCappedLongestOfflineFirst) {
  BrokerConfig config;
  config.limits.max_persistent_sessions = 3;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  std::vector<std::shared_ptr<NullOutlet>> outlets;
  for (int i = 0; i < 3; ++i) {
    auto outlet = std::make_shared<NullOutlet>();
    auto attached = core.attach("p" + std::to_string(i), false, outlet, {});
    ASSERT_TRUE(core.subscribe(attached.session, "t/" + std::to_string(i), 1));
    core.detach(attached.session, outlet.get());  // offline, in the order p0, p1, p2
  }
  EXPECT_EQ(core.session_count(), 3u);
  // A fourth persistent session: p0, offline the longest, expires.
  auto live = std::make_shared<NullOutlet>();
  auto fourth = core.attach("p3", false, live, {});
  EXPECT_EQ(core.session_count(), 3u);
  auto back = std::make_shared<NullOutlet>();
  EXPECT_FALSE(core.attach("p0", false, back, {}).session_present);
  // …which made p1 the longest offline, and it went for p0's new session.
  EXPECT_FALSE(core.attach("p1", false, std::make_shared<NullOutlet>(), {}).session_present);
  // Online sessions are never expired to make room.
  EXPECT_EQ(core.session_count(), 3u);
  EXPECT_TRUE(core.attach("p3", false, std::make_shared<NullOutlet>(), {}).session_present);
}

// The cap counts persistent sessions only: thousands of connected clean-session devices neither
// expire a persistent session nor make each persistent connect scan them all (bench_scale).
TEST(Core, ThePersistentCapIgnoresCleanSessions) {
  BrokerConfig config;
  config.limits.max_persistent_sessions = 3;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  std::vector<std::shared_ptr<NullOutlet>> online;
  for (int i = 0; i < 10; ++i) {
    online.push_back(std::make_shared<NullOutlet>());
    core.attach("clean" + std::to_string(i), true, online.back(), {});
  }
  auto offline = [&](const std::string& id) {
    auto outlet = std::make_shared<NullOutlet>();
    auto attached = core.attach(id, false, outlet, {});
    core.detach(attached.session, outlet.get());
  };
  for (const char* id : {"p0", "p1", "p2"}) offline(id);
  EXPECT_EQ(core.session_count(), 13u);
  // p1 comes back with a clean session: two persistent sessions are left (p0, p2).
  online.push_back(std::make_shared<NullOutlet>());
  EXPECT_FALSE(core.attach("p1", true, online.back(), {}).session_present);
  offline("p3");  // the third: nothing expires
  EXPECT_EQ(core.session_count(), 14u);
  offline("p4");  // the fourth: p0, offline the longest, expires
  EXPECT_EQ(core.session_count(), 14u);
  EXPECT_FALSE(core.attach("p0", false, std::make_shared<NullOutlet>(), {}).session_present);
  // …and p0's new session took p2 (then the longest offline), p2's new one takes p3; p4 stays, as
  // do all the clean sessions.
  EXPECT_FALSE(core.attach("p2", false, std::make_shared<NullOutlet>(), {}).session_present);
  EXPECT_EQ(core.session_count(), 14u);
  EXPECT_TRUE(core.attach("p4", false, std::make_shared<NullOutlet>(), {}).session_present);
  EXPECT_EQ(core.session_count(), 14u);
}

TEST(Core, QueuedBytesAreCappedInTotalLongestOfflineFirst) {
  BrokerConfig config;
  config.limits.max_queued_bytes_total = 100 * 1024;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  for (const char* id : {"old", "new"}) {
    auto outlet = std::make_shared<NullOutlet>();
    auto attached = core.attach(id, false, outlet, {});
    ASSERT_TRUE(core.subscribe(attached.session, "data", 1));
    core.detach(attached.session, outlet.get());
  }
  for (int i = 0; i < 4; ++i) core.publish(message("data", 10 * 1024));  // 2 × 40 KiB queued
  EXPECT_EQ(core.session_count(), 2u);
  EXPECT_GT(core.queued_bytes_total(), 80u * 1024);
  core.publish(message("data", 20 * 1024));  // 2 × 60 KiB > 100 KiB: "old" expires
  EXPECT_EQ(core.session_count(), 1u);
  EXPECT_LE(core.queued_bytes_total(), config.limits.max_queued_bytes_total);
  auto outlet = std::make_shared<NullOutlet>();
  auto resumed = core.attach("new", false, outlet, {});
  EXPECT_TRUE(resumed.session_present);
  resumed.session->resume();
  EXPECT_EQ(outlet->sent, 5u);  // everything queued for the survivor is delivered
  EXPECT_EQ(core.queued_bytes_total(), 0u);
  EXPECT_FALSE(core.attach("old", false, std::make_shared<NullOutlet>(), {}).session_present);
}

TEST(Core, DiscardedSessionsGiveTheirQueuedBytesBack) {
  BrokerConfig config;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  auto outlet = std::make_shared<NullOutlet>();
  auto attached = core.attach("p", false, outlet, {});
  ASSERT_TRUE(core.subscribe(attached.session, "data", 1));
  core.detach(attached.session, outlet.get());
  core.publish(message("data", 1000));
  EXPECT_EQ(core.queued_bytes_total(), 1004u);
  // Clean session for the same id: the old session and its queue are gone.
  core.attach("p", true, std::make_shared<NullOutlet>(), {});
  EXPECT_EQ(core.queued_bytes_total(), 0u);
  attached.session.reset();
  EXPECT_EQ(core.expire_sessions(t0 + std::chrono::hours(100)), 0u);
}

}  // namespace
}  // namespace zt::cloud::broker

// The MQTT 5 parts of a session, without a network: message expiry of queued and live messages
// (deadlines in the past, no sleeping), the client's Receive Maximum as the in-flight window, a
// client Maximum Packet Size too small for a message, and the properties a subscriber receives.
#include <gtest/gtest.h>

#include "broker/mqtt5.hpp"
#include "broker/session.hpp"

namespace zt::cloud::broker {
namespace {

using Clock = std::chrono::steady_clock;

class RecordingOutlet final : public Outlet {
 public:
  void send_publish(const Message& message, uint8_t, uint16_t packet_id, bool, bool) override {
    sent.emplace_back(message.topic, packet_id);
  }
  bool fits(const Message& message) override { return message.payload.size() <= max_payload; }
  void close(DisconnectReason) override {}
  std::vector<std::pair<std::string, uint16_t>> sent;
  size_t max_payload = 1000;
};

std::shared_ptr<const Message> message(std::string topic,
                                       std::optional<Clock::time_point> expires_at = {},
                                       size_t payload = 1) {
  Message m{.topic = std::move(topic), .payload = Bytes(payload, 1), .qos = 1};
  m.expires_at = expires_at;
  return std::make_shared<const Message>(std::move(m));
}

TEST(SessionV5, ExpiredMessagesAreNeitherSentNorKeptQueued) {
  AllowAllAuthorizer allow;
  Session session("dev", SessionLimits{});
  session.configure(std::chrono::seconds(60), 0);
  auto past = Clock::now() - std::chrono::seconds(1);
  auto future = Clock::now() + std::chrono::hours(1);
  auto first = std::make_shared<RecordingOutlet>();
  session.attach(first, {}, true);
  session.deliver(message("live-expired", past), 1, false, allow);
  EXPECT_TRUE(first->sent.empty());  // §3.3.2.3.3: not delivered once expired
  EXPECT_TRUE(session.detach(first.get()));
  session.deliver(message("queued-early", future), 1, false, allow);
  session.deliver(message("queued-live", future), 1, false, allow);
  EXPECT_EQ(session.queued_count(), 2u);
  // One whose deadline passes while the client is offline (a deadline already in the past).
  session.deliver(message("queued-past", past), 1, false, allow);
  auto second = std::make_shared<RecordingOutlet>();
  session.attach(second, {}, true);
  session.resume();
  ASSERT_EQ(second->sent.size(), 2u);
  EXPECT_EQ(second->sent[0].first, "queued-early");
  EXPECT_EQ(second->sent[1].first, "queued-live");
  EXPECT_EQ(session.queued_count(), 0u);
}

TEST(SessionV5, ReceiveMaximumIsTheInflightWindow) {
  AllowAllAuthorizer allow;
  Session session("dev", SessionLimits{.max_inflight = 100});
  session.configure(std::chrono::seconds(0), 2);
  auto outlet = std::make_shared<RecordingOutlet>();
  session.attach(outlet, {}, false);
  for (int i = 0; i < 4; ++i) session.deliver(message("t" + std::to_string(i)), 1, false, allow);
  ASSERT_EQ(outlet->sent.size(), 2u);
  EXPECT_EQ(session.queued_count(), 2u);
  session.acknowledge(outlet->sent[0].second);
  EXPECT_EQ(outlet->sent.size(), 3u);
}

TEST(SessionV5, TooLargeForTheClientIsDiscardedAsIfSent) {
  AllowAllAuthorizer allow;
  Session session("dev", SessionLimits{});
  auto outlet = std::make_shared<RecordingOutlet>();
  outlet->max_payload = 10;
  session.attach(outlet, {}, false);
  session.deliver(message("big", {}, 11), 1, false, allow);
  session.deliver(message("small", {}, 10), 1, false, allow);
  ASSERT_EQ(outlet->sent.size(), 1u);
  EXPECT_EQ(outlet->sent[0].first, "small");
  EXPECT_EQ(session.inflight_count(), 1u);  // the big one holds no window slot
}

TEST(SessionV5, ForwardedPropertiesCarryTheRemainingExpiry) {
  Message m{.topic = "t"};
  mqtt::Properties sent;
  sent.message_expiry_interval = 100;
  sent.user_properties = {{"a", "1"}};
  sent.content_type = "text/plain";
  sent.topic_alias = 3;
  auto now = Clock::now();
  v5::keep_properties(std::move(sent), m, now, std::chrono::seconds(3600));
  EXPECT_EQ(m.user_properties, (mqtt::UserProperties{{"a", "1"}}));
  EXPECT_FALSE(m.properties.topic_alias);
  auto forwarded = v5::forwarded_properties(m, now + std::chrono::milliseconds(30500));
  EXPECT_EQ(forwarded.message_expiry_interval, 70u);  // 69.5 s left, rounded up
  EXPECT_EQ(forwarded.content_type, "text/plain");
  EXPECT_EQ(forwarded.user_properties, m.user_properties);
  // An interval above the cap is capped.
  Message capped{.topic = "t"};
  mqtt::Properties week;
  week.message_expiry_interval = 30 * 24 * 3600;
  v5::keep_properties(std::move(week), capped, now, std::chrono::seconds(7 * 24 * 3600));
  EXPECT_EQ(v5::forwarded_properties(capped, now).message_expiry_interval, 7u * 24 * 3600);
}

TEST(SessionV5, TopicAliases) {
  v5::TopicAliases aliases(8);
  mqtt::Publish set{.topic = "a/b"};
  set.properties.topic_alias = 8;
  ASSERT_TRUE(aliases.resolve(set));
  EXPECT_FALSE(set.properties.topic_alias);
  mqtt::Publish use{.topic = ""};
  use.properties.topic_alias = 8;
  ASSERT_TRUE(aliases.resolve(use));
  EXPECT_EQ(use.topic, "a/b");
  mqtt::Publish unknown{.topic = ""};
  unknown.properties.topic_alias = 1;
  EXPECT_FALSE(aliases.resolve(unknown));
  mqtt::Publish above{.topic = "x"};
  above.properties.topic_alias = 9;
  EXPECT_FALSE(aliases.resolve(above));
  mqtt::Publish empty{.topic = ""};
  EXPECT_FALSE(aliases.resolve(empty));
}

}  // namespace
}  // namespace zt::cloud::broker

// Session state machine pieces and the subscription trie, without a network: a recording Outlet
// stands in for the connection.
#include <gtest/gtest.h>

#include <algorithm>

#include "broker/core.hpp"
#include "broker/session.hpp"
#include "broker/subscriptions.hpp"

namespace zt::cloud::broker {
namespace {

struct Sent {
  std::string topic;
  uint8_t qos;
  uint16_t packet_id;
  bool dup;
  bool retain;
};

class RecordingOutlet final : public Outlet {
 public:
  void send_publish(const Message& message, uint8_t qos, uint16_t packet_id, bool dup,
                    bool retain) override {
    sent.push_back({message.topic, qos, packet_id, dup, retain});
  }
  void close(DisconnectReason reason) override { closed.push_back(reason); }
  std::vector<Sent> sent;
  std::vector<DisconnectReason> closed;
};

class DenyTopic final : public Authorizer {
 public:
  bool allow(Action action, std::string_view resource, const ClientContext&) override {
    return !(action == Action::receive && resource == "secret");
  }
};

std::shared_ptr<const Message> message(std::string topic, uint8_t qos = 1) {
  return std::make_shared<const Message>(
      Message{.topic = std::move(topic), .payload = {1}, .qos = qos});
}

TEST(Session, Qos1WindowQueueAndAcknowledge) {
  AllowAllAuthorizer allow;
  Session session("dev",
                  SessionLimits{.max_inflight = 2, .max_queued = 3, .max_subscriptions = 50});
  auto outlet = std::make_shared<RecordingOutlet>();
  session.attach(outlet, {}, false);
  for (int i = 0; i < 6; ++i) session.deliver(message("t/" + std::to_string(i)), 1, false, allow);
  // Two in flight, three queued, the sixth dropped (bounded queue).
  ASSERT_EQ(outlet->sent.size(), 2u);
  EXPECT_EQ(session.inflight_count(), 2u);
  EXPECT_EQ(session.queued_count(), 3u);
  EXPECT_EQ(session.dropped_count(), 1u);
  EXPECT_NE(outlet->sent[0].packet_id, outlet->sent[1].packet_id);
  session.acknowledge(outlet->sent[0].packet_id);
  ASSERT_EQ(outlet->sent.size(), 3u);  // the window refilled from the queue, in order
  EXPECT_EQ(outlet->sent[2].topic, "t/2");
  session.acknowledge(outlet->sent[0].packet_id);  // duplicate PUBACK: ignored
  EXPECT_EQ(outlet->sent.size(), 3u);
}

TEST(Session, PersistentQueuesOfflineAndRedeliversWithDup) {
  AllowAllAuthorizer allow;
  Session session("dev", SessionLimits{});
  auto first = std::make_shared<RecordingOutlet>();
  session.attach(first, {}, true);
  session.deliver(message("unacked"), 1, false, allow);
  ASSERT_EQ(first->sent.size(), 1u);
  EXPECT_TRUE(session.detach(first.get()));
  session.deliver(message("offline-qos1"), 1, false, allow);
  session.deliver(message("offline-qos0", 0), 0, false, allow);  // QoS 0 is not kept offline
  EXPECT_EQ(session.queued_count(), 1u);

  auto second = std::make_shared<RecordingOutlet>();
  session.attach(second, {}, true);
  session.resume();
  ASSERT_EQ(second->sent.size(), 2u);
  EXPECT_EQ(second->sent[0].topic, "unacked");
  EXPECT_TRUE(second->sent[0].dup);  // MQTT 3.1.1 §4.4
  EXPECT_EQ(second->sent[0].packet_id, first->sent[0].packet_id);
  EXPECT_EQ(second->sent[1].topic, "offline-qos1");
  EXPECT_FALSE(second->sent[1].dup);
}

TEST(Session, CleanSessionDoesNotQueueAndReceiveIsAuthorized) {
  DenyTopic deny;
  Session session("dev", SessionLimits{});
  auto outlet = std::make_shared<RecordingOutlet>();
  session.attach(outlet, {}, false);
  session.deliver(message("secret"), 1, false, deny);
  session.deliver(message("public"), 0, true, deny);
  ASSERT_EQ(outlet->sent.size(), 1u);
  EXPECT_EQ(outlet->sent[0].topic, "public");
  EXPECT_TRUE(outlet->sent[0].retain);
  session.detach(outlet.get());
  session.deliver(message("public"), 1, false, deny);
  EXPECT_EQ(session.queued_count(), 0u);
}

TEST(Session, SubscriptionLimit) {
  Session session("dev",
                  SessionLimits{.max_inflight = 100, .max_queued = 10, .max_subscriptions = 2});
  EXPECT_TRUE(session.add_subscription("a", 0));
  EXPECT_TRUE(session.add_subscription("b", 0));
  EXPECT_FALSE(session.add_subscription("c", 0));
  EXPECT_TRUE(session.add_subscription("a", 1));  // replacing is not adding
  EXPECT_TRUE(session.remove_subscription("a"));
  EXPECT_TRUE(session.add_subscription("c", 0));
}

TEST(SubscriptionTrie, AwsMatchingAndDeduplication) {
  SubscriptionTrie trie;
  auto s1 = std::make_shared<Session>("s1", SessionLimits{});
  auto s2 = std::make_shared<Session>("s2", SessionLimits{});
  trie.add("a/#", s1, 0);
  trie.add("a/+", s1, 1);
  trie.add("#", s2, 0);
  trie.add("$aws/things/+/shadow/update", s2, 1);

  auto match = [&](std::string_view topic) {
    std::vector<Subscriber> out;
    trie.match(topic, out);
    std::vector<std::pair<std::string, int>> result;
    for (const auto& s : out) result.emplace_back(s.session->client_id(), s.qos);
    std::sort(result.begin(), result.end());
    return result;
  };
  using R = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(match("a/b"), (R{{"s1", 1}, {"s2", 0}}));  // s1 once, at its highest QoS
  EXPECT_EQ(match("a"), (R{{"s2", 0}}));               // a/# does not match a (AWS)
  EXPECT_EQ(match("a/b/c"), (R{{"s1", 0}, {"s2", 0}}));
  EXPECT_EQ(match("$aws/things/t/shadow/update"), (R{{"s2", 1}}));  // # does not match $ topics
  EXPECT_EQ(trie.size(), 4u);
  EXPECT_TRUE(trie.remove("a/#", s1.get()));
  EXPECT_FALSE(trie.remove("a/#", s1.get()));
  EXPECT_EQ(match("a/b/c"), (R{{"s2", 0}}));
}

TEST(Core, TakeoverAndSessionPresent) {
  BrokerConfig config;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  auto first = std::make_shared<RecordingOutlet>();
  auto attached = core.attach("dev", false, first, {});
  EXPECT_FALSE(attached.session_present);
  ASSERT_TRUE(core.subscribe(attached.session, "a/b", 1));

  // Same client id again, persistent: the first connection is closed, the session kept.
  auto second = std::make_shared<RecordingOutlet>();
  auto again = core.attach("dev", false, second, {});
  EXPECT_TRUE(again.session_present);
  EXPECT_EQ(again.session, attached.session);
  ASSERT_EQ(first->closed.size(), 1u);
  EXPECT_EQ(first->closed[0], DisconnectReason::duplicate_client_id);
  core.detach(attached.session, first.get());  // the old connection's late cleanup changes nothing
  core.publish(message("a/b"));
  EXPECT_EQ(second->sent.size(), 1u);

  // Clean session: a fresh session; the old subscriptions are gone.
  auto third = std::make_shared<RecordingOutlet>();
  auto fresh = core.attach("dev", true, third, {});
  EXPECT_FALSE(fresh.session_present);
  EXPECT_NE(fresh.session, attached.session);
  core.publish(message("a/b"));
  EXPECT_TRUE(third->sent.empty());
  core.detach(fresh.session, third.get());
  EXPECT_EQ(core.session_count(), 0u);
}

TEST(Core, DisconnectPrincipal) {
  BrokerConfig config;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  auto revoked = std::make_shared<RecordingOutlet>();
  auto other = std::make_shared<RecordingOutlet>();
  ClientContext revoked_context;
  revoked_context.principal = "cert-a";
  ClientContext other_context;
  other_context.principal = "cert-b";
  core.attach("a", true, revoked, revoked_context);
  core.attach("b", true, other, other_context);
  EXPECT_EQ(core.disconnect_principal("cert-a", DisconnectReason::auth_error), 1u);
  ASSERT_EQ(revoked->closed.size(), 1u);
  EXPECT_EQ(revoked->closed[0], DisconnectReason::auth_error);
  EXPECT_TRUE(other->closed.empty());
}

TEST(Core, RetainedOnlyForExactFilters) {
  BrokerConfig config;
  Core core(config, nullptr, std::make_shared<AllowAllAuthorizer>());
  auto stored = std::make_shared<const Message>(
      Message{.topic = "r/t", .payload = {7}, .qos = 1, .retain = true});
  core.publish(stored);
  auto outlet = std::make_shared<RecordingOutlet>();
  auto attached = core.attach("dev", true, outlet, {});
  core.send_retained(attached.session, "r/+",
                     1);  // AWS: wildcard subscriptions get no retained message
  EXPECT_TRUE(outlet->sent.empty());
  core.send_retained(attached.session, "r/t", 0);
  ASSERT_EQ(outlet->sent.size(), 1u);
  EXPECT_TRUE(outlet->sent[0].retain);
  EXPECT_EQ(outlet->sent[0].qos, 0);
  // An empty retained payload deletes it.
  core.publish(std::make_shared<const Message>(
      Message{.topic = "r/t", .payload = {}, .qos = 0, .retain = true}));
  core.send_retained(attached.session, "r/t", 0);
  EXPECT_EQ(outlet->sent.size(), 1u);  // nothing retained any more
}

}  // namespace
}  // namespace zt::cloud::broker

// `$share/<name>/<filter>` parsing and the group's one-member-per-message routing, without a
// network (a recording Outlet stands in for each member's connection).
#include <gtest/gtest.h>

#include <map>

#include "broker/session.hpp"
#include "broker/shared_subscriptions.hpp"

namespace zt::cloud::broker {
namespace {

class NullOutlet final : public Outlet {
 public:
  void send_publish(const Message&, uint8_t, uint16_t, bool, bool) override {}
  void close(DisconnectReason) override {}
};

TEST(SharedFilter, ParsesAndRefusesAsSection4_8_2Says) {
  EXPECT_FALSE(parse_shared_filter("a/b"));  // not shared
  auto ok = parse_shared_filter("$share/group/a/+/c");
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ((*ok)->share_name, "group");
  EXPECT_EQ((*ok)->filter, "a/+/c");
  for (const char* bad : {"$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a",
                          "$share/#/a", "$share/g/a/#/b"}) {
    auto parsed = parse_shared_filter(bad);
    ASSERT_TRUE(parsed) << bad;
    EXPECT_FALSE(*parsed) << bad;
    EXPECT_FALSE(validate_subscription_filter(bad)) << bad;
  }
  EXPECT_TRUE(validate_subscription_filter("$share/g/a/#"));
  EXPECT_TRUE(validate_subscription_filter("a/#"));
}

TEST(SharedSubscriptions, OneConnectedMemberPerMessageInTurn) {
  SharedSubscriptions shared;
  auto a = std::make_shared<Session>("a", SessionLimits{});
  auto b = std::make_shared<Session>("b", SessionLimits{});
  auto offline = std::make_shared<Session>("c", SessionLimits{});
  a->attach(std::make_shared<NullOutlet>(), {}, false);
  b->attach(std::make_shared<NullOutlet>(), {}, false);
  auto group = **parse_shared_filter("$share/g/s/#");
  shared.add(group, a, 1);
  shared.add(group, offline, 1);
  shared.add(group, b, 0);
  shared.add(group, b, 1);  // a second SUBSCRIBE replaces, no second membership
  auto other = **parse_shared_filter("$share/h/s/x");
  shared.add(other, a, 0);
  EXPECT_EQ(shared.group_count(), 2u);

  std::map<std::string, int> received;
  for (int i = 0; i < 6; ++i) {
    std::vector<Subscriber> out;
    shared.match("s/y", out);
    ASSERT_EQ(out.size(), 1u);  // one member of the one matching group
    ++received[out[0].session->client_id()];
  }
  EXPECT_EQ(received["a"], 3);
  EXPECT_EQ(received["b"], 3);
  EXPECT_EQ(received.count("c"), 0u);  // offline while others are connected
  std::vector<Subscriber> both;
  shared.match("s/x", both);
  EXPECT_EQ(both.size(), 2u);  // one per group

  EXPECT_TRUE(shared.remove(group, a.get()));
  EXPECT_TRUE(shared.remove(group, b.get()));
  std::vector<Subscriber> last;
  shared.match("s/y", last);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].session->client_id(), "c");  // only the offline member remains: it queues
  EXPECT_TRUE(shared.remove(group, offline.get()));
  EXPECT_FALSE(shared.remove(group, offline.get()));
  EXPECT_EQ(shared.group_count(), 1u);
}

}  // namespace
}  // namespace zt::cloud::broker

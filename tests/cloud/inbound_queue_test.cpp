// The service worker's bounded queue of devices' messages (cloud_service.cpp's on_publish offers,
// the worker takes): room is looked at before a shadow request's per-thing quota, so a request
// refused for a full queue leaves its thing's quota as it was (issue 19 review).
#include "cloud/service/inbound_queue.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace zt::cloud::service {
namespace {

InboundMessage message(const std::string& topic, const std::string& payload = "{}") {
  InboundMessage m;
  m.context.topic = topic;
  m.context.payload = payload;
  return m;
}

std::optional<shadow::ShadowTopic> request_of(const std::string& topic) {
  return shadow::parse_request_topic(topic);
}

class InboundQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = registry::Registry::open(temp_ / "registry.db");
    ASSERT_TRUE(opened) << opened.error().message;
    registry_ = std::move(*opened);
  }

  zt::testing::TempDir temp_{"inbound-queue"};
  zt::testing::FakeClock now_;  // the quota's refill and the refusal log move only when told
  std::unique_ptr<registry::Registry> registry_;
};

TEST_F(InboundQueueTest, ARequestRefusedForAFullQueueSpendsNoQuota) {
  // aws-iot.md §4.5 says 20 requests/s per thing; 3 keeps the test short.
  ShadowStore store(*registry_, 3, now_.clock());
  InboundQueue queue(2, 1u << 20, store, now_.clock());
  const std::string update = "$aws/things/lamp/shadow/update";

  // Two messages fill the queue; the first owes the worker a drain.
  auto first = queue.offer(message("sensors/1"), std::nullopt);
  EXPECT_TRUE(first.queued);
  EXPECT_TRUE(first.start_drain);
  auto second = queue.offer(message("sensors/2"), std::nullopt);
  EXPECT_TRUE(second.queued);
  EXPECT_FALSE(second.start_drain);

  // Ten requests for the lamp while the queue is full: each refused (the caller answers 429), the
  // first of the second logged, none counted against the lamp's quota of 3.
  for (int i = 0; i < 10; ++i) {
    auto refused = queue.offer(message(update), request_of(update));
    EXPECT_FALSE(refused.queued) << i;
    EXPECT_FALSE(refused.over_quota) << i;
    EXPECT_EQ(refused.refused, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(refused.log_refusal, i == 0) << i;
  }

  // The worker takes the batch; the queue has room again, and the lamp its whole quota.
  bool more = true;
  EXPECT_EQ(queue.take(256, more).size(), 2u);
  EXPECT_FALSE(more);
  EXPECT_FALSE(queue.drain_owed());
  for (int i = 0; i < 2; ++i) {
    auto admitted = queue.offer(message(update), request_of(update));
    EXPECT_TRUE(admitted.queued) << i;
    EXPECT_FALSE(admitted.over_quota) << i;
  }
  auto batch = queue.take(256, more);
  ASSERT_EQ(batch.size(), 2u);
  // The third request of the lamp's quota is admitted; the fourth is over it.
  auto third = queue.offer(message(update), request_of(update));
  EXPECT_TRUE(third.queued);
  EXPECT_FALSE(third.over_quota);
  auto fourth = queue.offer(message(update), request_of(update));
  EXPECT_TRUE(fourth.queued);
  EXPECT_TRUE(fourth.over_quota);

  // The admitted requests carry their shadow topic for the worker's shadow batch; the one over
  // the quota goes on as a plain message (taps, rules), without it.
  ASSERT_TRUE(batch[0].shadow);
  EXPECT_EQ(batch[0].shadow->thing, "lamp");
  EXPECT_EQ(batch[0].shadow->operation, "update");
  batch = queue.take(256, more);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_TRUE(batch[0].shadow);
  EXPECT_FALSE(batch[1].shadow);
  EXPECT_EQ(batch[1].context.topic, update);
}

TEST_F(InboundQueueTest, BoundedInBytesTooAndRefusalsLoggedOnceASecond) {
  ShadowStore store(*registry_, 20, now_.clock());
  const std::string payload(100, 'x');
  InboundQueue queue(100, 250, store, now_.clock());
  // "a" + 100 bytes, twice: 202 bytes; a third would make 303 > 250.
  EXPECT_TRUE(queue.offer(message("a", payload), std::nullopt).queued);
  EXPECT_TRUE(queue.offer(message("b", payload), std::nullopt).queued);
  auto refused = queue.offer(message("c", payload), std::nullopt);
  EXPECT_FALSE(refused.queued);
  EXPECT_TRUE(refused.log_refusal);
  EXPECT_TRUE(queue.offer(message("d", "small"), std::nullopt).queued);  // 208 bytes fit
  EXPECT_FALSE(queue.offer(message("e", payload), std::nullopt).log_refusal);
  now_.advance(std::chrono::milliseconds(999));
  EXPECT_FALSE(queue.offer(message("f", payload), std::nullopt).log_refusal);
  now_.advance(std::chrono::milliseconds(1));
  auto next_second = queue.offer(message("g", payload), std::nullopt);
  EXPECT_TRUE(next_second.log_refusal);
  EXPECT_EQ(next_second.refused, 4u);
  bool more = true;
  EXPECT_EQ(queue.take(2, more).size(), 2u);
  EXPECT_TRUE(more);
  EXPECT_TRUE(queue.drain_owed());
  EXPECT_EQ(queue.take(2, more).size(), 1u);
  EXPECT_FALSE(more);
}

}  // namespace
}  // namespace zt::cloud::service

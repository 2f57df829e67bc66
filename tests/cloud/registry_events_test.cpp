// Registry::append_device_events, reset_device_presence and device_timeline: the data plane's
// device events in order (the newest `limit` kept), their presence effects, and all or nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "registry_fixture.hpp"

namespace zt::cloud::registry {
namespace {

using testing::kCertificatePrefix;

class RegistryEventsTest : public testing::RegistryFixture {
 protected:
  static DeviceEventRecord event(const std::string& certificate_id, int64_t time_us,
                                 std::string kind, std::string detail,
                                 PresenceEffect presence = PresenceEffect::none) {
    return {.time_us = time_us,
            .certificate_id = certificate_id,
            .thing_name = {},
            .kind = std::move(kind),
            .detail = std::move(detail),
            .client_id = "client-" + certificate_id.substr(60),
            .presence = presence};
  }
  static std::vector<std::string> details(const Timeline& timeline) {
    std::vector<std::string> out;
    for (const auto& item : timeline.items) out.push_back(item.detail);
    return out;
  }
  DeviceRow device(const std::string& id) {
    auto page = registry_->list_devices(kCertificatePrefix, {.offset = 0, .limit = 500});
    EXPECT_TRUE(page) << page.error().message;
    for (const auto& row : page->items) {
      if (row.certificate_id == id) return row;
    }
    ADD_FAILURE() << "no device " << id;
    return {};
  }
};

TEST_F(RegistryEventsTest, EventsAreListedOldestFirstAndTheNewestKeptWhenLong) {
  std::vector<DeviceEventRecord> events;
  for (int i = 0; i < 30; ++i) events.push_back(event(id_of(1), 1000 + i, "k", std::to_string(i)));
  events.push_back(event(id_of(2), 1005, "k", "other device"));
  // Same microsecond: the order of appending decides.
  events.push_back(event(id_of(1), 2000, "k", "first of two"));
  events.push_back(event(id_of(1), 2000, "k", "second of two"));
  ASSERT_TRUE(registry_->append_device_events(events));

  auto all = registry_->device_timeline(kCertificatePrefix, id_of(1));
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_FALSE(all->truncated);
  ASSERT_EQ(all->items.size(), 32u);
  EXPECT_EQ(all->items.front().detail, "0");
  EXPECT_EQ(all->items[29].detail, "29");
  EXPECT_EQ(all->items[30].detail, "first of two");
  EXPECT_EQ(all->items[31].detail, "second of two");
  EXPECT_EQ(all->items.front().certificate_id, id_of(1));
  EXPECT_FALSE(all->items.front().thing_name);
  EXPECT_EQ(all->certificate_ids, std::vector<std::string>{id_of(1)});
  EXPECT_TRUE(all->thing_names.empty());

  auto newest = registry_->device_timeline(kCertificatePrefix, id_of(1), 4);
  ASSERT_TRUE(newest);
  EXPECT_TRUE(newest->truncated);
  EXPECT_EQ(details(*newest),
            (std::vector<std::string>{"28", "29", "first of two", "second of two"}));
}

TEST_F(RegistryEventsTest, TimelineJoinsACertificateAndItsThing) {
  add_device(id_of(3), "ca", kActive, "kit-3");
  DeviceEventRecord on_thing = event(id_of(9), 0, "note", "on the thing only");
  on_thing.certificate_id.clear();
  on_thing.thing_name = "kit-3";
  ASSERT_TRUE(registry_->append_device_events(
      {event(id_of(3), 1, "connect-refused", "by certificate"), on_thing}));

  auto by_thing = registry_->device_timeline(kCertificatePrefix, "kit-3");
  ASSERT_TRUE(by_thing) << by_thing.error().message;
  EXPECT_EQ(by_thing->certificate_ids, std::vector<std::string>{id_of(3)});
  EXPECT_EQ(by_thing->thing_names, std::vector<std::string>{"kit-3"});
  auto by_certificate = registry_->device_timeline(kCertificatePrefix, id_of(3));
  ASSERT_TRUE(by_certificate);
  EXPECT_EQ(by_certificate->thing_names, std::vector<std::string>{"kit-3"});
  // Both see the appended rows and the triggers' (certificate registered, thing created,
  // attached), whichever key names the device.
  for (const auto* timeline : {&*by_thing, &*by_certificate}) {
    auto seen = details(*timeline);
    EXPECT_NE(std::find(seen.begin(), seen.end(), "by certificate"), seen.end());
    EXPECT_NE(std::find(seen.begin(), seen.end(), "on the thing only"), seen.end());
    std::vector<std::string> kinds;
    for (const auto& item : timeline->items) kinds.push_back(item.kind);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "thing-created"), kinds.end());
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), "principal-attached"), kinds.end());
  }

  auto unknown = registry_->device_timeline(kCertificatePrefix, "no-such-device");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::not_found);
  auto empty = registry_->device_timeline(kCertificatePrefix, "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
}

TEST_F(RegistryEventsTest, PresenceCountsConnectionsAndKeepsTheLatestActivity) {
  add_device(id_of(4), "ca", kActive);
  add_device(id_of(5), "ca", kActive);
  EXPECT_FALSE(device(id_of(4)).last_seen_us);

  ASSERT_TRUE(registry_->append_device_events(
      {event(id_of(4), 100, "connected", "a", PresenceEffect::connected),
       event(id_of(4), 200, "connected", "b", PresenceEffect::connected),
       event(id_of(4), 300, "disconnected", "a", PresenceEffect::disconnected),
       // Not device activity: neither counted nor seen.
       event(id_of(5), 999, "rule-matched", "x", PresenceEffect::none)}));
  EXPECT_TRUE(device(id_of(4)).connected);  // one of two connections left
  EXPECT_EQ(device(id_of(4)).last_seen_us, 300);
  EXPECT_FALSE(device(id_of(5)).last_seen_us);

  // More disconnects than connects: the count stops at zero, so one connect counts again.
  ASSERT_TRUE(registry_->append_device_events(
      {event(id_of(4), 400, "disconnected", "b", PresenceEffect::disconnected),
       event(id_of(4), 500, "disconnected", "c", PresenceEffect::disconnected)}));
  EXPECT_FALSE(device(id_of(4)).connected);
  ASSERT_TRUE(registry_->append_device_events(
      {event(id_of(4), 600, "connected", "d", PresenceEffect::connected)}));
  EXPECT_TRUE(device(id_of(4)).connected);

  // Activity without a stored event (kind ""): last seen moves; an older time never moves it back.
  ASSERT_TRUE(
      registry_->append_device_events({event(id_of(4), 900, "", "", PresenceEffect::seen),
                                       event(id_of(4), 700, "", "", PresenceEffect::seen)}));
  EXPECT_EQ(device(id_of(4)).last_seen_us, 900);
  EXPECT_EQ(registry_->device_timeline(kCertificatePrefix, id_of(4))->items.size(),
            7u);  // certificate-registered (trigger) + the six stored events

  // A starting broker has no sessions: everyone disconnected, last seen kept.
  ASSERT_TRUE(registry_->reset_device_presence());
  EXPECT_FALSE(device(id_of(4)).connected);
  EXPECT_EQ(device(id_of(4)).last_seen_us, 900);
}

TEST_F(RegistryEventsTest, AFailingTransactionLeavesNoEventsAndNoPresence) {
  add_device(id_of(6), "ca", kActive);
  auto before = registry_->device_timeline(kCertificatePrefix, id_of(6));
  ASSERT_TRUE(before);
  auto thrown = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->append_device_events(
        {event(id_of(6), 1, "connected", "lost", PresenceEffect::connected)}));
    throw std::runtime_error("the caller failed after appending");
  });
  ASSERT_FALSE(thrown);
  EXPECT_NE(thrown.error().message.find("the caller failed"), std::string::npos);
  auto failed = registry_->transaction([&]() -> Status {
    ZT_TRY(registry_->append_device_events(
        {event(id_of(6), 2, "connected", "lost too", PresenceEffect::connected)}));
    return make_error(Errc::internal, "a later step failed");
  });
  ASSERT_FALSE(failed);

  auto after = registry_->device_timeline(kCertificatePrefix, id_of(6));
  ASSERT_TRUE(after);
  EXPECT_EQ(details(*after), details(*before));
  EXPECT_FALSE(device(id_of(6)).connected);
  EXPECT_FALSE(device(id_of(6)).last_seen_us);
  // The registry is usable afterwards (the transaction was not left open).
  ASSERT_TRUE(registry_->append_device_events({event(id_of(6), 3, "connected", "ok")}));
  EXPECT_EQ(registry_->device_timeline(kCertificatePrefix, id_of(6))->items.size(),
            before->items.size() + 1);
}

}  // namespace
}  // namespace zt::cloud::registry

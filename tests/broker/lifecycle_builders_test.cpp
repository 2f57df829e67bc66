// The lifecycle event builders (reference/aws-iot.md §6.1) that the standalone broker and the cloud
// service both publish through: one topic and payload per event type.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/lifecycle.hpp"

namespace zt::cloud::broker {
namespace {

ClientContext device() {
  ClientContext client;
  client.client_id = "thing-1";
  client.principal = std::string(64, 'b');
  client.remote_address = "127.0.0.1";
  client.session_identifier = "fedcba9876543210fedcba9876543210";
  return client;
}

TEST(LifecycleBuilders, ConnectedCarriesAddressVersionAndTimestamp) {
  auto event = connected_event(device(), 7, 1700000000123);
  EXPECT_EQ(event.topic, "$aws/events/presence/connected/thing-1");
  auto json = nlohmann::json::parse(event.payload);
  EXPECT_EQ(json["eventType"], "connected");
  EXPECT_EQ(json["clientId"], "thing-1");
  EXPECT_EQ(json["principalIdentifier"], std::string(64, 'b'));
  EXPECT_EQ(json["sessionIdentifier"], "fedcba9876543210fedcba9876543210");
  EXPECT_EQ(json["ipAddress"], "127.0.0.1");
  EXPECT_EQ(json["versionNumber"], 7);
  EXPECT_EQ(json["timestamp"], 1700000000123);
}

TEST(LifecycleBuilders, DisconnectedNamesTheReasonInAwsWords) {
  auto event = disconnected_event(device(), DisconnectReason::keep_alive_timeout, 3, 5);
  EXPECT_EQ(event.topic, "$aws/events/presence/disconnected/thing-1");
  auto json = nlohmann::json::parse(event.payload);
  EXPECT_EQ(json["eventType"], "disconnected");
  EXPECT_EQ(json["disconnectReason"], "MQTT_KEEP_ALIVE_TIMEOUT");
  EXPECT_EQ(json["clientInitiatedDisconnect"], false);
  EXPECT_EQ(json["versionNumber"], 3);
  EXPECT_FALSE(json.contains("ipAddress"));
  auto by_client = nlohmann::json::parse(
      disconnected_event(device(), DisconnectReason::client_initiated, 0, 5).payload);
  EXPECT_EQ(by_client["clientInitiatedDisconnect"], true);
  EXPECT_EQ(by_client["disconnectReason"], "CLIENT_INITIATED_DISCONNECT");
}

TEST(LifecycleBuilders, SubscriptionsListTheFiltersWithoutAVersion) {
  auto subscribed = subscription_event(device(), {"a/b", "c/#"}, true, 9);
  EXPECT_EQ(subscribed.topic, "$aws/events/subscriptions/subscribed/thing-1");
  auto json = nlohmann::json::parse(subscribed.payload);
  EXPECT_EQ(json["eventType"], "subscribed");
  EXPECT_EQ(json["topics"], nlohmann::json({"a/b", "c/#"}));
  EXPECT_FALSE(json.contains("versionNumber"));
  auto unsubscribed = subscription_event(device(), {"a/b"}, false, 9);
  EXPECT_EQ(unsubscribed.topic, "$aws/events/subscriptions/unsubscribed/thing-1");
  EXPECT_EQ(nlohmann::json::parse(unsubscribed.payload)["eventType"], "unsubscribed");
}

TEST(LifecycleBuilders, WildcardClientIdsHaveNoEvents) {
  EXPECT_TRUE(has_lifecycle_events("thing-1"));
  EXPECT_FALSE(has_lifecycle_events("a+b"));
  EXPECT_FALSE(has_lifecycle_events("a#"));
}

}  // namespace
}  // namespace zt::cloud::broker

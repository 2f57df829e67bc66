// Lifecycle event payloads (reference/aws-iot.md §6.1).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/lifecycle.hpp"

namespace zt::cloud::broker {
namespace {

TEST(LifecycleEvents, ConnectedDisconnectedSubscribed) {
  std::vector<Message> published;
  LifecycleEvents events([&](Message message) { published.push_back(std::move(message)); });
  ClientContext client;
  client.client_id = "thing-1";
  client.principal = std::string(64, 'a');
  client.remote_address = "127.0.0.1";
  client.session_identifier = "0123456789abcdef0123456789abcdef";

  events.on_connected(client);
  events.on_subscribed(client, {"a/b", "c/#"});
  events.on_disconnected(client, DisconnectReason::client_initiated);
  events.on_connected(client);
  ASSERT_EQ(published.size(), 4u);

  EXPECT_EQ(published[0].topic, "$aws/events/presence/connected/thing-1");
  auto connected = nlohmann::json::parse(as_chars(published[0].payload));
  EXPECT_EQ(connected["eventType"], "connected");
  EXPECT_EQ(connected["clientId"], "thing-1");
  EXPECT_EQ(connected["principalIdentifier"], client.principal);
  EXPECT_EQ(connected["sessionIdentifier"], client.session_identifier);
  EXPECT_EQ(connected["ipAddress"], "127.0.0.1");
  EXPECT_EQ(connected["versionNumber"], 0);
  EXPECT_TRUE(connected["timestamp"].is_number_integer());

  EXPECT_EQ(published[1].topic, "$aws/events/subscriptions/subscribed/thing-1");
  EXPECT_EQ(nlohmann::json::parse(as_chars(published[1].payload))["topics"],
            nlohmann::json({"a/b", "c/#"}));

  auto disconnected = nlohmann::json::parse(as_chars(published[2].payload));
  EXPECT_EQ(published[2].topic, "$aws/events/presence/disconnected/thing-1");
  EXPECT_EQ(disconnected["disconnectReason"], "CLIENT_INITIATED_DISCONNECT");
  EXPECT_EQ(disconnected["clientInitiatedDisconnect"], true);
  EXPECT_EQ(disconnected["versionNumber"], 0);  // shared with its connect
  EXPECT_FALSE(disconnected.contains("ipAddress"));

  EXPECT_EQ(nlohmann::json::parse(as_chars(published[3].payload))["versionNumber"], 1);

  ClientContext wildcard;
  wildcard.client_id = "a+b";  // no events for ids with + or #
  events.on_connected(wildcard);
  EXPECT_EQ(published.size(), 4u);
}

}  // namespace
}  // namespace zt::cloud::broker

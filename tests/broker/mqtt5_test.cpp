// MQTT 5 clients of the broker over real TLS, beside 3.1.1 clients: the CONNACK that announces AWS
// IoT Core's limits, properties forwarded across versions, and every server DISCONNECT reason code
// a client can provoke (unknown topic alias, malformed properties, QoS 2, subscription identifiers,
// a policy denial, a takeover) — after which the broker keeps serving the others.
#include "tls_client.hpp"

namespace zt::cloud::broker {
namespace {

using namespace testing_support;
namespace reason = mqtt::reason;

// Denies publishing and subscribing under "denied/".
class DenyPrefix final : public Authorizer {
 public:
  bool allow(Action action, std::string_view resource, const ClientContext&) override {
    return !((action == Action::publish || action == Action::subscribe) &&
             resource.starts_with("denied/"));
  }
};

class Mqtt5OverTls : public BrokerOverTls {
 protected:
  std::shared_ptr<Authorizer> authorizer() override { return std::make_shared<DenyPrefix>(); }

  // A connected MQTT 5 client.
  std::unique_ptr<TlsClient> client5(const std::string& id, mqtt::Properties properties = {},
                                     bool clean = true) {
    auto c = client();
    c->use_mqtt5();
    mqtt::Connect connect = connect_packet(id, clean);
    connect.properties = std::move(properties);
    auto connack = c->connect(connect);
    EXPECT_TRUE(connack && connack->reason_code == reason::success) << id;
    last_connack_ = connack;
    return c;
  }
  std::unique_ptr<TlsClient> client311(const std::string& id) {
    auto c = client();
    EXPECT_TRUE(c->connect(connect_packet(id)));
    return c;
  }
  static void subscribe(TlsClient& c, mqtt::Subscription subscription, uint16_t id = 1) {
    ASSERT_TRUE(c.send(mqtt::Subscribe{.packet_id = id, .subscriptions = {subscription}}));
    auto suback = c.next();
    ASSERT_TRUE(suback && std::holds_alternative<mqtt::Suback>(*suback));
  }
  // The DISCONNECT the server sent before closing (nullopt if it closed without one).
  static std::optional<uint8_t> disconnect_reason(TlsClient& c) {
    auto packet = c.next();
    if (!packet || !std::holds_alternative<mqtt::Disconnect>(*packet)) return std::nullopt;
    EXPECT_FALSE(c.next());  // and then the connection ends
    // Every server DISCONNECT says why in a Reason String (paho 1.6.1 needs properties to read
    // the reason code).
    EXPECT_TRUE(std::get<mqtt::Disconnect>(*packet).properties.reason_string);
    return std::get<mqtt::Disconnect>(*packet).reason_code;
  }
  // The broker still serves: a fresh client gets PINGRESP.
  void still_serving() {
    auto other = client5("bystander");
    ASSERT_TRUE(other->send(mqtt::Pingreq{}));
    auto pong = other->next();
    EXPECT_TRUE(pong && std::holds_alternative<mqtt::Pingresp>(*pong));
  }

  std::optional<mqtt::Connack> last_connack_;
};

TEST_F(Mqtt5OverTls, ConnackAnnouncesAwsLimitsAndAssignsAClientId) {
  auto c = client();
  c->use_mqtt5();
  mqtt::Connect connect = connect_packet("");
  connect.keep_alive = 10;  // connect() sets 60: below AWS's 30 s minimum is tested below
  auto connack = c->connect(connect);
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->reason_code, reason::success);
  const mqtt::Properties& p = connack->properties;
  EXPECT_EQ(p.maximum_qos, 1);
  EXPECT_EQ(p.retain_available, 1);
  EXPECT_EQ(p.topic_alias_maximum, 8);
  EXPECT_EQ(p.receive_maximum, 100);
  EXPECT_EQ(p.maximum_packet_size, 149504u);
  EXPECT_EQ(p.wildcard_subscription_available, 1);
  EXPECT_EQ(p.subscription_identifier_available, 0);
  EXPECT_EQ(p.shared_subscription_available, 1);
  ASSERT_TRUE(p.assigned_client_identifier);
  EXPECT_TRUE(p.assigned_client_identifier->starts_with("zt-"));
  EXPECT_FALSE(p.server_keep_alive);  // 60 s asked, 60 s used

  // Keep-alive 10 s is clamped to 30 s (aws-iot.md §6.3): CONNACK says so (§3.2.2.3.14); a
  // session expiry above the 1 h cap comes back capped (§3.2.2.3.2).
  auto d = client();
  d->use_mqtt5();
  mqtt::Connect clamped = connect_packet("clamped", false);
  clamped.protocol_level = mqtt::kProtocolLevel5;
  clamped.keep_alive = 10;
  clamped.properties.session_expiry_interval = 7 * 24 * 3600;
  ASSERT_TRUE(d->send(clamped));
  auto reply = d->next();
  ASSERT_TRUE(reply && std::holds_alternative<mqtt::Connack>(*reply));
  EXPECT_EQ(std::get<mqtt::Connack>(*reply).properties.server_keep_alive, 30);
  EXPECT_EQ(std::get<mqtt::Connack>(*reply).properties.session_expiry_interval, 3600u);
}

TEST_F(Mqtt5OverTls, Mqtt5AndMqtt311ClientsShareTopics) {
  auto sub5 = client5("sub5");
  subscribe(*sub5, {.filter = "mix/#", .qos = 1});
  auto sub311 = client311("sub311");
  subscribe(*sub311, {.filter = "mix/#", .qos = 1});

  // An MQTT 5 PUBLISH with properties: the v5 subscriber gets them, the 3.1.1 one the message.
  auto pub5 = client5("pub5");
  mqtt::Publish publish{.topic = "mix/a", .payload = {'{', '}'}, .qos = 1, .packet_id = 3};
  publish.properties.user_properties = {{"source", "sensor"}, {"source", "again"}};
  publish.properties.content_type = "application/json";
  publish.properties.payload_format_indicator = 1;
  publish.properties.response_topic = "mix/reply";
  publish.properties.correlation_data = Bytes{1, 2, 3};
  publish.properties.message_expiry_interval = 300;
  ASSERT_TRUE(pub5->send(publish));
  auto puback = pub5->next();
  ASSERT_TRUE(puback && std::holds_alternative<mqtt::Puback>(*puback));
  EXPECT_EQ(std::get<mqtt::Puback>(*puback).reason_code, reason::success);

  auto got5 = sub5->next();
  ASSERT_TRUE(got5 && std::holds_alternative<mqtt::Publish>(*got5));
  const auto& p = std::get<mqtt::Publish>(*got5).properties;
  EXPECT_EQ(p.user_properties, publish.properties.user_properties);
  EXPECT_EQ(p.content_type, "application/json");
  EXPECT_EQ(p.payload_format_indicator, 1);
  EXPECT_EQ(p.response_topic, "mix/reply");
  EXPECT_EQ(p.correlation_data, (Bytes{1, 2, 3}));
  ASSERT_TRUE(p.message_expiry_interval);
  EXPECT_LE(*p.message_expiry_interval, 300u);  // what remains of it (§3.3.2.3.3)
  EXPECT_GT(*p.message_expiry_interval, 0u);
  auto got311 = sub311->next();
  ASSERT_TRUE(got311 && std::holds_alternative<mqtt::Publish>(*got311));
  EXPECT_EQ(std::get<mqtt::Publish>(*got311).payload, publish.payload);

  // A 3.1.1 publisher reaches the MQTT 5 subscriber with no properties.
  auto pub311 = client311("pub311");
  ASSERT_TRUE(pub311->send(mqtt::Publish{.topic = "mix/b", .payload = {'x'}, .qos = 0}));
  auto plain = sub5->next();
  ASSERT_TRUE(plain && std::holds_alternative<mqtt::Publish>(*plain));
  EXPECT_EQ(std::get<mqtt::Publish>(*plain).topic, "mix/b");
  EXPECT_EQ(std::get<mqtt::Publish>(*plain).properties, mqtt::Properties{});
}

TEST_F(Mqtt5OverTls, TopicAliasesSetUsedAndUnknown) {
  auto sub = client5("alias-sub");
  subscribe(*sub, {.filter = "alias/#", .qos = 0});
  auto pub = client5("alias-pub");
  mqtt::Publish set{.topic = "alias/long/topic", .payload = {'1'}};
  set.properties.topic_alias = 2;
  ASSERT_TRUE(pub->send(set));
  mqtt::Publish use{.topic = "", .payload = {'2'}};
  use.properties.topic_alias = 2;
  ASSERT_TRUE(pub->send(use));
  for (char expected : {'1', '2'}) {
    auto got = sub->next();
    ASSERT_TRUE(got && std::holds_alternative<mqtt::Publish>(*got));
    EXPECT_EQ(std::get<mqtt::Publish>(*got).topic, "alias/long/topic");
    EXPECT_EQ(std::get<mqtt::Publish>(*got).payload, (Bytes{static_cast<uint8_t>(expected)}));
    EXPECT_FALSE(std::get<mqtt::Publish>(*got).properties.topic_alias);  // never forwarded
  }
  // Alias 3 was never set: DISCONNECT 0x94 Topic Alias Invalid.
  mqtt::Publish unknown{.topic = "", .payload = {'3'}};
  unknown.properties.topic_alias = 3;
  ASSERT_TRUE(pub->send(unknown));
  EXPECT_EQ(disconnect_reason(*pub), reason::topic_alias_invalid);
  // Above the maximum of 8 the CONNACK announced: the same.
  auto high = client5("alias-high");
  mqtt::Publish nine{.topic = "alias/x", .payload = {'9'}};
  nine.properties.topic_alias = 9;
  ASSERT_TRUE(high->send(nine));
  EXPECT_EQ(disconnect_reason(*high), reason::topic_alias_invalid);
  still_serving();
}

TEST_F(Mqtt5OverTls, MalformedPropertiesEndTheConnectionWithTheSpecReason) {
  // A PUBLISH with Message Expiry twice (Protocol Error 0x82), one with an unknown property
  // identifier (Malformed Packet 0x81), one with a property length past the packet (0x81).
  const std::pair<Bytes, uint8_t> cases[] = {
      {{0x30, 0x0e, 0x00, 0x01, 't', 0x0a, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2},
       reason::protocol_error},
      {{0x30, 0x06, 0x00, 0x01, 't', 0x02, 0x7f, 0x00}, reason::malformed_packet},
      {{0x30, 0x05, 0x00, 0x01, 't', 0x09, 0x01}, reason::malformed_packet},
  };
  int n = 0;
  for (const auto& [wire, expected] : cases) {
    auto c = client5("malformed-" + std::to_string(n++));
    ASSERT_TRUE(c->write(wire));
    EXPECT_EQ(disconnect_reason(*c), expected) << n;
  }
  still_serving();
}

TEST_F(Mqtt5OverTls, WhatAwsDoesNotSupportIsRefusedWithAReasonCode) {
  // QoS 2 PUBLISH: above the Maximum QoS → 0x9B.
  auto qos2 = client5("qos2");
  ASSERT_TRUE(qos2->send(mqtt::Publish{.topic = "t", .payload = {}, .qos = 2, .packet_id = 1}));
  EXPECT_EQ(disconnect_reason(*qos2), reason::qos_not_supported);
  // A QoS 2 subscription is granted QoS 1.
  auto sub = client5("qos2-sub");
  ASSERT_TRUE(
      sub->send(mqtt::Subscribe{.packet_id = 4, .subscriptions = {{.filter = "q", .qos = 2}}}));
  auto suback = sub->next();
  ASSERT_TRUE(suback && std::holds_alternative<mqtt::Suback>(*suback));
  EXPECT_EQ(std::get<mqtt::Suback>(*suback).return_codes, (std::vector<uint8_t>{1}));
  // Subscription identifiers → 0xA1.
  mqtt::Subscribe with_id{.packet_id = 5, .subscriptions = {{.filter = "q", .qos = 0}}};
  with_id.properties.subscription_identifiers = {7};
  ASSERT_TRUE(sub->send(with_id));
  EXPECT_EQ(disconnect_reason(*sub), reason::subscription_identifiers_not_supported);
  // Enhanced authentication → CONNACK 0x8C Bad authentication method.
  auto auth = client();
  auth->use_mqtt5();
  mqtt::Connect connect = connect_packet("auth");
  connect.properties.authentication_method = "SCRAM-SHA-1";
  auto connack = auth->connect(connect);
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->reason_code, reason::bad_authentication_method);
  still_serving();
}

TEST_F(Mqtt5OverTls, PolicyDenialAndTakeoverAreSaidInADisconnect) {
  auto publisher = client5("denied-pub");
  ASSERT_TRUE(publisher->send(mqtt::Publish{.topic = "denied/x", .payload = {'x'}}));
  EXPECT_EQ(disconnect_reason(*publisher), reason::not_authorized);
  auto subscriber = client5("denied-sub");
  ASSERT_TRUE(subscriber->send(
      mqtt::Subscribe{.packet_id = 1, .subscriptions = {{.filter = "denied/#", .qos = 0}}}));
  EXPECT_EQ(disconnect_reason(*subscriber), reason::not_authorized);

  auto first = client5("taken");
  auto second = client5("taken");
  EXPECT_EQ(disconnect_reason(*first), reason::session_taken_over);
  ASSERT_TRUE(second->send(mqtt::Pingreq{}));
  auto pong = second->next();
  EXPECT_TRUE(pong && std::holds_alternative<mqtt::Pingresp>(*pong));
}

class Mqtt5KeepAlive : public Mqtt5OverTls {
 protected:
  void tune(BrokerConfig& config) override {
    config.limits.min_keep_alive_seconds = 1;  // every keep-alive becomes 1 s: timeout 1.5 s
    config.limits.max_keep_alive_seconds = 1;
    // The watchdog first wakes at the connect timeout (10 s by default), then follows the
    // keep-alive deadline: shorten it so the 1.5 s timeout is seen within the client's 5 s.
    config.limits.connect_timeout = std::chrono::seconds(1);
  }
};

TEST_F(Mqtt5KeepAlive, ASilentClientGetsKeepAliveTimeout) {
  auto c = client5("silent");
  EXPECT_EQ(last_connack_->properties.server_keep_alive, 1);     // asked 60, clamped
  EXPECT_EQ(disconnect_reason(*c), reason::keep_alive_timeout);  // within the 5 s receive timeout
}

TEST_F(Mqtt5OverTls, ShutdownSaysServerShuttingDown) {
  auto c = client5("at-shutdown");
  auto old = client311("at-shutdown-311");
  broker_->stop();
  EXPECT_EQ(disconnect_reason(*c), reason::server_shutting_down);
  EXPECT_FALSE(old->next());  // 3.1.1: the connection just ends
}

TEST_F(Mqtt5OverTls, UnsubackSaysWhetherTheSubscriptionExisted) {
  auto c = client5("unsub");
  subscribe(*c, {.filter = "u/a", .qos = 0});
  ASSERT_TRUE(c->send(mqtt::Unsubscribe{.packet_id = 2, .filters = {"u/a", "u/b"}}));
  auto unsuback = c->next();
  ASSERT_TRUE(unsuback && std::holds_alternative<mqtt::Unsuback>(*unsuback));
  EXPECT_EQ(std::get<mqtt::Unsuback>(*unsuback).reason_codes,
            (std::vector<uint8_t>{reason::success, reason::no_subscription_existed}));
}

TEST_F(Mqtt5OverTls, NoLocalAndRetainAsPublished) {
  auto c = client5("self");
  subscribe(*c, {.filter = "self/#", .qos = 1, .no_local = true});
  subscribe(*c, {.filter = "rap/#", .qos = 1, .retain_as_published = true}, 2);
  ASSERT_TRUE(
      c->send(mqtt::Publish{.topic = "self/a", .payload = {'1'}, .qos = 1, .packet_id = 7}));
  auto puback = c->next();
  ASSERT_TRUE(puback && std::holds_alternative<mqtt::Puback>(*puback));  // not the message back
  ASSERT_TRUE(c->send(mqtt::Publish{.topic = "rap/a", .payload = {'2'}, .retain = true}));
  auto got = c->next();
  ASSERT_TRUE(got && std::holds_alternative<mqtt::Publish>(*got));
  EXPECT_EQ(std::get<mqtt::Publish>(*got).topic, "rap/a");
  EXPECT_TRUE(std::get<mqtt::Publish>(*got).retain);  // kept as published
  ASSERT_TRUE(c->send(mqtt::Pingreq{}));
  auto pong = c->next();
  EXPECT_TRUE(pong && std::holds_alternative<mqtt::Pingresp>(*pong));  // and nothing from self/a
}

TEST_F(Mqtt5OverTls, SessionExpiryKeepsTheSessionAcrossAReconnect) {
  mqtt::Properties keep;
  keep.session_expiry_interval = 600;
  {
    auto c = client5("durable", keep, false);
    EXPECT_FALSE(last_connack_->session_present);
    subscribe(*c, {.filter = "durable/t", .qos = 1});
    ASSERT_TRUE(c->send(mqtt::Disconnect{}));
  }
  auto publisher = client311("durable-pub");
  ASSERT_TRUE(publisher->send(
      mqtt::Publish{.topic = "durable/t", .payload = {'q'}, .qos = 1, .packet_id = 1}));
  ASSERT_TRUE(publisher->next());  // PUBACK: routed (queued for the offline session)
  auto c = client5("durable", keep, false);
  EXPECT_TRUE(last_connack_->session_present);
  auto queued = c->next();
  ASSERT_TRUE(queued && std::holds_alternative<mqtt::Publish>(*queued));
  EXPECT_EQ(std::get<mqtt::Publish>(*queued).payload, (Bytes{'q'}));
  // Without a session expiry interval (0) the session ends with the connection.
  ASSERT_TRUE(c->send(mqtt::Disconnect{.properties = {.session_expiry_interval = 0}}));
  auto again = client5("durable", {}, false);
  EXPECT_FALSE(last_connack_->session_present);
}

TEST_F(Mqtt5OverTls, ReceiveMaximumBoundsUnacknowledgedDeliveries) {
  mqtt::Properties one;
  one.receive_maximum = 1;
  auto c = client5("window", one);
  subscribe(*c, {.filter = "w", .qos = 1});
  auto publisher = client5("window-pub");
  for (uint8_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(publisher->send(
        mqtt::Publish{.topic = "w", .payload = {i}, .qos = 1, .packet_id = uint16_t(i + 1)}));
    ASSERT_TRUE(publisher->next());
  }
  auto first = c->next();
  ASSERT_TRUE(first && std::holds_alternative<mqtt::Publish>(*first));
  // The second waits for the PUBACK of the first: a PINGRESP overtakes it.
  ASSERT_TRUE(c->send(mqtt::Pingreq{}));
  auto pong = c->next();
  ASSERT_TRUE(pong && std::holds_alternative<mqtt::Pingresp>(*pong));
  ASSERT_TRUE(c->send(mqtt::Puback{.packet_id = std::get<mqtt::Publish>(*first).packet_id}));
  auto second = c->next();
  ASSERT_TRUE(second && std::holds_alternative<mqtt::Publish>(*second));
  EXPECT_EQ(std::get<mqtt::Publish>(*second).payload, (Bytes{1}));
}

TEST_F(Mqtt5OverTls, SharedSubscriptionGivesEachMessageToOneMember) {
  // Members of one group on both protocol versions (AWS supports $share/ on 3.1.1 and 5).
  auto a = client5("share-a");
  subscribe(*a, {.filter = "$share/workers/jobs/#", .qos = 1});
  auto b = client311("share-b");
  subscribe(*b, {.filter = "$share/workers/jobs/#", .qos = 1});
  auto publisher = client5("share-pub");
  for (uint8_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(publisher->send(
        mqtt::Publish{.topic = "jobs/x", .payload = {i}, .qos = 1, .packet_id = uint16_t(i + 1)}));
    ASSERT_TRUE(publisher->next());
  }
  std::vector<uint8_t> seen;
  for (TlsClient* member : {a.get(), b.get()}) {
    ASSERT_TRUE(member->send(mqtt::Pingreq{}));
    int got = 0;
    while (true) {
      auto packet = member->next();
      ASSERT_TRUE(packet);
      if (std::holds_alternative<mqtt::Pingresp>(*packet)) break;
      ASSERT_TRUE(std::holds_alternative<mqtt::Publish>(*packet));
      const auto& publish = std::get<mqtt::Publish>(*packet);
      seen.push_back(publish.payload.at(0));
      ASSERT_TRUE(member->send(mqtt::Puback{.packet_id = publish.packet_id}));
      ++got;
    }
    EXPECT_EQ(got, 2);  // in turn
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<uint8_t>{0, 1, 2, 3}));  // each message once
  // An invalid share name is refused per filter (0x8F); No Local on a share is a Protocol Error.
  ASSERT_TRUE(
      a->send(mqtt::Subscribe{.packet_id = 9, .subscriptions = {{.filter = "$share/w+/x"}}}));
  auto suback = a->next();
  ASSERT_TRUE(suback && std::holds_alternative<mqtt::Suback>(*suback));
  EXPECT_EQ(std::get<mqtt::Suback>(*suback).return_codes,
            (std::vector<uint8_t>{reason::topic_filter_invalid}));
  ASSERT_TRUE(a->send(mqtt::Subscribe{
      .packet_id = 10, .subscriptions = {{.filter = "$share/w/x", .no_local = true}}}));
  EXPECT_EQ(disconnect_reason(*a), reason::protocol_error);
}

}  // namespace
}  // namespace zt::cloud::broker

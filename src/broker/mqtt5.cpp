#include "broker/mqtt5.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mqtt/topic.hpp"

namespace zt::cloud::broker::v5 {

uint8_t disconnect_code(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::client_initiated:
      return mqtt::reason::success;
    case DisconnectReason::client_error:
      return mqtt::reason::protocol_error;
    case DisconnectReason::connection_lost:
      return mqtt::reason::unspecified_error;
    case DisconnectReason::duplicate_client_id:
      return mqtt::reason::session_taken_over;
    case DisconnectReason::forbidden_access:
    case DisconnectReason::auth_error:
      return mqtt::reason::not_authorized;
    case DisconnectReason::keep_alive_timeout:
      return mqtt::reason::keep_alive_timeout;
    case DisconnectReason::server_initiated:
      return mqtt::reason::administrative_action;
    case DisconnectReason::server_shutdown:
      return mqtt::reason::server_shutting_down;
  }
  return mqtt::reason::unspecified_error;
}

mqtt::Disconnect disconnect_packet(uint8_t code, std::string_view why) {
  mqtt::Disconnect disconnect{.reason_code = code};
  std::string_view text = why.substr(0, 256);
  while (!text.empty() && !mqtt::is_valid_mqtt_utf8(text)) text.remove_suffix(1);
  if (!text.empty()) disconnect.properties.reason_string = std::string(text);
  return disconnect;
}

SessionRequest session_request(const mqtt::Connect& connect, const BrokerLimits& limits) {
  SessionRequest request{.clean_start = connect.clean_session};
  if (connect.protocol_level != mqtt::kProtocolLevel5) {
    if (!connect.clean_session) request.expiry = limits.session_expiry;  // = Core::attach(bool)
    return request;
  }
  // §3.1.2.11.3: how many QoS 1 messages the client takes unacknowledged; the broker's own window
  // (AWS: 100 in flight) bounds it as well.
  if (auto receive_maximum = connect.properties.receive_maximum)
    request.receive_maximum = *receive_maximum;
  // §3.1.2.11.2: absent means 0 (the session ends with the network connection); 0xFFFFFFFF never
  // expires. AWS caps it at its persistent-session quota.
  std::chrono::seconds asked(connect.properties.session_expiry_interval.value_or(0));
  request.expiry = std::min(asked, limits.session_expiry);
  request.capped = asked > limits.session_expiry;
  return request;
}

uint32_t maximum_packet_size(const BrokerLimits& limits) { return limits.max_packet_size; }

mqtt::Properties connack_properties(const BrokerLimits& limits, const ConnackFacts& facts) {
  mqtt::Properties p;
  // §3.2.2.3.2: the server tells the client the interval it uses when it differs from the asked.
  if (facts.session.capped)
    p.session_expiry_interval = static_cast<uint32_t>(facts.session.expiry.count());
  p.receive_maximum = static_cast<uint16_t>(std::min<size_t>(limits.session.max_inflight, 65535));
  p.maximum_qos = 1;  // QoS 2 is not supported
  p.retain_available = 1;
  p.maximum_packet_size = maximum_packet_size(limits);
  if (!facts.assigned_client_id.empty()) p.assigned_client_identifier = facts.assigned_client_id;
  p.topic_alias_maximum = limits.topic_alias_maximum;
  p.wildcard_subscription_available = 1;
  p.subscription_identifier_available = 0;  // AWS IoT Core does not support them
  p.shared_subscription_available = 1;
  // §3.2.2.3.14: when the server uses another keep alive than the client asked, it says which.
  if (facts.keep_alive != facts.requested_keep_alive) p.server_keep_alive = facts.keep_alive;
  return p;
}

Result<void> TopicAliases::resolve(mqtt::Publish& publish) {
  auto alias = publish.properties.topic_alias;
  if (!alias) {
    if (publish.topic.empty())  // §3.3.2.1: an empty topic needs an alias
      return make_error(Errc::invalid_argument, "empty topic name without a topic alias");
    return {};
  }
  // §3.3.2.3.4: an alias of 0 (the codec refuses it) or above the Topic Alias Maximum the server
  // sent is a Topic Alias Invalid.
  if (*alias > maximum_) {
    return make_error(Errc::invalid_argument,
                      fmt::format("topic alias {} exceeds the maximum of {}", *alias, maximum_));
  }
  if (topics_.size() < maximum_) topics_.resize(maximum_);
  std::string& slot = topics_[*alias - 1];
  if (publish.topic.empty()) {
    if (slot.empty())
      return make_error(Errc::not_found, fmt::format("topic alias {} is not set", *alias));
    publish.topic = slot;
  } else {
    slot = publish.topic;
  }
  publish.properties.topic_alias.reset();  // per connection: never forwarded
  return {};
}

namespace {

std::optional<Refusal> check_properties(const mqtt::Properties& p, ByteView payload,
                                        const BrokerLimits& limits) {
  size_t user_bytes = 0;
  for (const auto& [name, value] : p.user_properties) user_bytes += name.size() + value.size();
  if (user_bytes > limits.max_user_properties_bytes) {
    return Refusal{mqtt::reason::quota_exceeded,
                   fmt::format("user properties of {} bytes exceed {}", user_bytes,
                               limits.max_user_properties_bytes)};
  }
  // §3.3.2.3.8: a client's PUBLISH never carries a Subscription Identifier.
  if (!p.subscription_identifiers.empty())
    return Refusal{mqtt::reason::protocol_error, "PUBLISH from a client with a subscription id"};
  // §3.3.2.3.5: the Response Topic is a topic name, so no wildcards.
  if (p.response_topic) {
    if (auto valid = mqtt::validate_topic_name(*p.response_topic); !valid)
      return Refusal{mqtt::reason::protocol_error, "response topic: " + valid.error().message};
  }
  // §3.3.2.3.2: the server may check that a payload announced as UTF-8 is.
  if (p.payload_format_indicator == 1 && !mqtt::is_valid_mqtt_utf8(as_chars(payload)))
    return Refusal{mqtt::reason::payload_format_invalid, "payload is not the UTF-8 it claims"};
  return std::nullopt;
}

}  // namespace

std::optional<Refusal> check_publish(const mqtt::Publish& publish, const BrokerLimits& limits) {
  return check_properties(publish.properties, publish.payload, limits);
}

std::optional<Refusal> check_will(const mqtt::Will& will, const BrokerLimits& limits) {
  return check_properties(will.properties, will.payload, limits);
}

void keep_properties(mqtt::Properties&& p, Message& message, Clock::time_point now,
                     std::chrono::seconds max_expiry) {
  message.user_properties = std::move(p.user_properties);
  p.user_properties.clear();
  if (p.message_expiry_interval) {
    message.expires_at = now + std::min<std::chrono::seconds>(
                                   std::chrono::seconds(*p.message_expiry_interval), max_expiry);
    p.message_expiry_interval.reset();
  }
  p.topic_alias.reset();
  message.properties = std::move(p);
}

mqtt::Properties forwarded_properties(const Message& message, Clock::time_point now) {
  mqtt::Properties p = message.properties;
  p.user_properties = message.user_properties;
  if (message.expires_at) {
    // §3.3.2.3.3: the interval sent on is what remains of the one received (rounded up, so a
    // message about to expire is not forwarded as never expiring).
    auto left = std::chrono::ceil<std::chrono::seconds>(*message.expires_at - now);
    p.message_expiry_interval = static_cast<uint32_t>(std::max<int64_t>(left.count(), 1));
  }
  return p;
}

}  // namespace zt::cloud::broker::v5

// PUBLISH, SUBSCRIBE and UNSUBSCRIBE from a client (MQTT 3.1.1 §3.3, §3.8, §3.10; MQTT 5 the same
// sections) with AWS IoT's rules: QoS 0/1 only, reserved `$` topics, 128 KB payloads, a denial
// closes the connection (reference/aws-iot.md §5, §6.2, §6.3) — on MQTT 5 with a DISCONNECT whose
// reason code says why.
#include <fmt/format.h>

#include <chrono>

#include "broker/connection.hpp"
#include "broker/reserved_topics.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {
bool Connection::handle_publish(mqtt::Publish& publish) {
  // aws-iot.md §6.2: QoS 2 is not supported; in practice the client sees a disconnect. MQTT 5
  // §3.3.1.2: above the Maximum QoS of CONNACK → DISCONNECT 0x9B QoS not supported.
  if (publish.qos > 1)
    return fail(DisconnectReason::client_error, "PUBLISH with QoS 2",
                mqtt::reason::qos_not_supported);
  if (v5()) {
    // §3.3.2.3.4: an alias above the maximum or never set → DISCONNECT 0x94 Topic Alias Invalid;
    // an empty topic without an alias is a Protocol Error.
    if (auto resolved = topic_aliases_->resolve(publish); !resolved) {
      bool no_alias = !publish.properties.topic_alias;
      return fail(DisconnectReason::client_error, resolved.error().message,
                  no_alias ? mqtt::reason::protocol_error : mqtt::reason::topic_alias_invalid);
    }
    if (auto refusal = v5::check_publish(publish, core_.limits())) {
      // Refusals a PUBACK can carry (§3.4.2.1) end only this message for QoS 1.
      bool ack = publish.qos == 1 && (refusal->reason_code == mqtt::reason::quota_exceeded ||
                                      refusal->reason_code == mqtt::reason::payload_format_invalid);
      if (!ack) return fail(DisconnectReason::client_error, refusal->why, refusal->reason_code);
      spdlog::info("broker: {}: PUBLISH to '{}' refused: {}", context_.client_id, publish.topic,
                   refusal->why);
      send_packet(
          mqtt::Puback{.packet_id = publish.packet_id, .reason_code = refusal->reason_code});
      return true;
    }
  }
  if (auto valid = mqtt::validate_topic_name(publish.topic); !valid) {
    return fail(DisconnectReason::client_error, valid.error().message,
                mqtt::reason::topic_name_invalid);
  }
  if (publish.payload.size() > core_.limits().max_payload_bytes) {
    return fail(DisconnectReason::client_error,
                fmt::format("payload of {} bytes exceeds {}", publish.payload.size(),
                            core_.limits().max_payload_bytes),
                mqtt::reason::packet_too_large);
  }
  // reserved_topics.hpp: AWS terminates the connection (FORBIDDEN_ACCESS on 3.1.1).
  if (auto refusal =
          reserved_topic_refusal(publish.topic, publish.retain, core_.config().reserved_topics);
      !refusal.empty()) {
    return fail(DisconnectReason::forbidden_access,
                fmt::format("publish to '{}': {}", publish.topic, refusal));
  }
  // aws-iot.md §6.3: per connection, publishes beyond 100/s or 512 KiB/s are discarded. A discarded
  // QoS 1 message gets no PUBACK: the client still holds it and may send it again.
  const BrokerLimits& limits = core_.limits();
  if (!publish_quota_.admit(std::chrono::steady_clock::now(), limits.max_publishes_per_second,
                            publish.payload.size(), limits.max_publish_bytes_per_second)) {
    if (publish_quota_.first_refusal()) {
      spdlog::info("broker: {} exceeds {} publishes or {} bytes per second: discarding (THROTTLED)",
                   context_.client_id, limits.max_publishes_per_second,
                   limits.max_publish_bytes_per_second);
    }
    // MQTT 5 can say so: PUBACK 0x97 Quota exceeded (the message is discarded all the same).
    if (v5() && publish.qos == 1)
      send_packet(mqtt::Puback{.packet_id = publish.packet_id,
                               .reason_code = mqtt::reason::quota_exceeded});
    return true;
  }
  Authorizer& authorizer = core_.authorizer();
  if (!authorizer.allow(Action::publish, publish.topic, context_) ||
      (publish.retain && !authorizer.allow(Action::retain_publish, publish.topic, context_))) {
    return fail(DisconnectReason::forbidden_access,
                fmt::format("publish to '{}' not authorized", publish.topic));
  }
  auto message = std::make_shared<Message>(Message{.topic = std::move(publish.topic),
                                                   .payload = std::move(publish.payload),
                                                   .qos = publish.qos,
                                                   .retain = publish.retain,
                                                   .publisher_client_id = context_.client_id,
                                                   .timestamp_ms = unix_now_ms()});
  if (v5()) {
    v5::keep_properties(std::move(publish.properties), *message, v5::Clock::now(),
                        limits.max_message_expiry);
  }
  core_.notify([&](Observer& observer) { observer.on_publish(*message, context_); });
  // Basic Ingest (`$aws/rules/<rule>/…`) goes to the rules engine only, never to subscribers.
  if (!message->topic.starts_with("$aws/rules/")) core_.publish(message);
  if (publish.qos == 1) send_puback(publish.packet_id);
  return true;
}

bool Connection::handle_subscribe(const mqtt::Subscribe& subscribe) {
  const BrokerLimits& limits = core_.limits();
  // AWS IoT Core does not support Subscription Identifiers (its CONNACK says so): MQTT 5
  // §3.2.2.3.12 → DISCONNECT 0xA1 Subscription Identifiers not supported.
  if (!subscribe.properties.subscription_identifiers.empty()) {
    return fail(DisconnectReason::client_error, "subscription identifiers are not supported",
                mqtt::reason::subscription_identifiers_not_supported);
  }
  // The whole SUBSCRIBE is checked before any filter is applied, so a refused one leaves the
  // session as it was (a persistent session would otherwise keep the filters before the refusal).
  // aws-iot.md §6.2: "When QoS level 2 is requested, the message broker doesn't send a PUBACK or
  // SUBACK"; on MQTT 3.1.1 the client sees the connection end. MQTT 5 grants QoS 1 instead
  // (§3.9.3: the server may grant a lower QoS than requested; CONNACK said Maximum QoS 1).
  for (const auto& subscription : subscribe.subscriptions) {
    if (subscription.qos > 1 && !v5())
      return fail(DisconnectReason::client_error,
                  fmt::format("SUBSCRIBE to '{}' with QoS 2", subscription.filter));
  }
  auto admissible = [&](size_t i) {
    return i < limits.max_filters_per_subscribe &&
           static_cast<bool>(validate_subscription_filter(subscribe.subscriptions[i].filter));
  };
  // MQTT 5 §3.8.3.1: No Local on a shared subscription is a Protocol Error.
  for (const auto& subscription : subscribe.subscriptions) {
    if (subscription.no_local && parse_shared_filter(subscription.filter)) {
      return fail(DisconnectReason::client_error, "no local on a shared subscription",
                  mqtt::reason::protocol_error);
    }
  }
  // aws-iot.md §5: a denied iot:Subscribe closes the connection (no SUBACK; MQTT 5: DISCONNECT
  // 0x87 Not authorized).
  for (size_t i = 0; i < subscribe.subscriptions.size(); ++i) {
    const std::string& filter = subscribe.subscriptions[i].filter;
    if (admissible(i) && !core_.authorizer().allow(Action::subscribe, filter, context_)) {
      return fail(DisconnectReason::forbidden_access,
                  fmt::format("subscribe to '{}' not authorized", filter));
    }
  }
  mqtt::Suback suback{.packet_id = subscribe.packet_id, .return_codes = {}};
  struct Accepted {
    const mqtt::Subscription* subscription;
    uint8_t qos;
    bool existed;
  };
  std::vector<Accepted> accepted;
  for (size_t i = 0; i < subscribe.subscriptions.size(); ++i) {
    const mqtt::Subscription& subscription = subscribe.subscriptions[i];
    uint8_t granted = std::min<uint8_t>(subscription.qos, 1);
    bool existed = false;
    // Beyond 8 filters per SUBSCRIBE or 50 subscriptions: 0x80 (3.1.1), 0x97 Quota exceeded (5);
    // an invalid filter: 0x80, 0x8F Topic Filter invalid.
    if (i >= limits.max_filters_per_subscribe) {
      suback.return_codes.push_back(v5() ? mqtt::reason::quota_exceeded : mqtt::kSubackFailure);
      continue;
    }
    if (!admissible(i)) {
      suback.return_codes.push_back(v5() ? mqtt::reason::topic_filter_invalid
                                         : mqtt::kSubackFailure);
      continue;
    }
    SubscriptionOptions options{.no_local = subscription.no_local,
                                .retain_as_published = subscription.retain_as_published};
    if (!core_.subscribe(session_, subscription.filter, granted, options, &existed)) {
      suback.return_codes.push_back(v5() ? mqtt::reason::quota_exceeded : mqtt::kSubackFailure);
      continue;
    }
    suback.return_codes.push_back(granted);
    accepted.push_back({&subscription, granted, existed});
    spdlog::debug("broker: {} subscribed to {} (QoS {})", context_.client_id, subscription.filter,
                  granted);
  }
  send_packet(suback);
  std::vector<std::string> filters;
  for (const auto& [subscription, qos, existed] : accepted) {
    // MQTT 5 §3.8.3.1 Retain Handling: 0 sends retained messages at subscribe, 1 only for a new
    // subscription, 2 never (3.1.1 always behaves as 0).
    bool send =
        subscription->retain_handling == 0 || (subscription->retain_handling == 1 && !existed);
    if (send) core_.send_retained(session_, subscription->filter, qos);
    filters.push_back(subscription->filter);
  }
  if (!filters.empty())
    core_.notify([&](Observer& observer) { observer.on_subscribed(context_, filters); });
  return true;
}

bool Connection::handle_unsubscribe(const mqtt::Unsubscribe& unsubscribe) {
  mqtt::Unsuback unsuback{.packet_id = unsubscribe.packet_id};
  for (const auto& filter : unsubscribe.filters) {
    bool existed = core_.unsubscribe(session_, filter);
    // MQTT 5 §3.11.3: Success, or 0x11 No subscription existed (3.1.1 sends no codes).
    unsuback.reason_codes.push_back(existed ? mqtt::reason::success
                                            : mqtt::reason::no_subscription_existed);
  }
  send_packet(unsuback);
  core_.notify(
      [&](Observer& observer) { observer.on_unsubscribed(context_, unsubscribe.filters); });
  return true;
}

}  // namespace zt::cloud::broker

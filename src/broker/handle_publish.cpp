// PUBLISH, SUBSCRIBE and UNSUBSCRIBE from a client (MQTT 3.1.1 §3.3, §3.8, §3.10) with AWS IoT's
// rules: QoS 0/1 only, reserved `$` topics, 128 KB payloads, a denial closes the connection
// (reference/aws-iot.md §5, §6.2, §6.3).
#include <fmt/format.h>

#include <chrono>

#include "broker/connection.hpp"
#include "broker/reserved_topics.hpp"
#include "common/log.hpp"
#include "common/time.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {
namespace {}  // namespace

bool Connection::handle_publish(mqtt::Publish& publish) {
  // aws-iot.md §6.2: QoS 2 is not supported; in practice the client sees a disconnect.
  if (publish.qos > 1) return fail(DisconnectReason::client_error, "PUBLISH with QoS 2");
  if (auto valid = mqtt::validate_topic_name(publish.topic); !valid) {
    return fail(DisconnectReason::client_error, valid.error().message);
  }
  if (publish.payload.size() > core_.limits().max_payload_bytes) {
    return fail(DisconnectReason::client_error,
                fmt::format("payload of {} bytes exceeds {}", publish.payload.size(),
                            core_.limits().max_payload_bytes));
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
  core_.notify([&](Observer& observer) { observer.on_publish(*message, context_); });
  // Basic Ingest (`$aws/rules/<rule>/…`) goes to the rules engine only, never to subscribers.
  if (!message->topic.starts_with("$aws/rules/")) core_.publish(message);
  if (publish.qos == 1) send_packet(mqtt::Puback{publish.packet_id});
  return true;
}

bool Connection::handle_subscribe(const mqtt::Subscribe& subscribe) {
  const BrokerLimits& limits = core_.limits();
  // The whole SUBSCRIBE is checked before any filter is applied, so a refused one leaves the
  // session as it was (a persistent session would otherwise keep the filters before the refusal).
  // aws-iot.md §6.2: "When QoS level 2 is requested, the message broker doesn't send a PUBACK or
  // SUBACK"; on MQTT 3.1.1 the client sees the connection end.
  for (const auto& [filter, requested_qos] : subscribe.subscriptions) {
    if (requested_qos > 1)
      return fail(DisconnectReason::client_error,
                  fmt::format("SUBSCRIBE to '{}' with QoS 2", filter));
  }
  auto admissible = [&](size_t i) {
    return i < limits.max_filters_per_subscribe &&
           static_cast<bool>(mqtt::validate_topic_filter(subscribe.subscriptions[i].filter));
  };
  // aws-iot.md §5: a denied iot:Subscribe closes the connection (no SUBACK).
  for (size_t i = 0; i < subscribe.subscriptions.size(); ++i) {
    const std::string& filter = subscribe.subscriptions[i].filter;
    if (admissible(i) && !core_.authorizer().allow(Action::subscribe, filter, context_)) {
      return fail(DisconnectReason::forbidden_access,
                  fmt::format("subscribe to '{}' not authorized", filter));
    }
  }
  mqtt::Suback suback{.packet_id = subscribe.packet_id, .return_codes = {}};
  std::vector<std::pair<std::string, uint8_t>> accepted;
  for (size_t i = 0; i < subscribe.subscriptions.size(); ++i) {
    const auto& [filter, requested_qos] = subscribe.subscriptions[i];
    // Beyond 8 filters per SUBSCRIBE, invalid filters, beyond 50 subscriptions: failure code 0x80.
    if (!admissible(i) || !core_.subscribe(session_, filter, requested_qos)) {
      suback.return_codes.push_back(mqtt::kSubackFailure);
      continue;
    }
    suback.return_codes.push_back(requested_qos);
    accepted.emplace_back(filter, requested_qos);
    spdlog::debug("broker: {} subscribed to {} (QoS {})", context_.client_id, filter,
                  requested_qos);
  }
  send_packet(suback);
  std::vector<std::string> filters;
  for (const auto& [filter, qos] : accepted) {
    core_.send_retained(session_, filter, qos);
    filters.push_back(filter);
  }
  if (!filters.empty())
    core_.notify([&](Observer& observer) { observer.on_subscribed(context_, filters); });
  return true;
}

bool Connection::handle_unsubscribe(const mqtt::Unsubscribe& unsubscribe) {
  for (const auto& filter : unsubscribe.filters) core_.unsubscribe(session_, filter);
  send_packet(mqtt::Unsuback{unsubscribe.packet_id});
  core_.notify(
      [&](Observer& observer) { observer.on_unsubscribed(context_, unsubscribe.filters); });
  return true;
}

}  // namespace zt::cloud::broker

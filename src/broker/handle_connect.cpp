// CONNECT (MQTT 3.1.1 §3.1, MQTT 5 §3.1) with AWS IoT's rules (reference/aws-iot.md §6.2, §6.3),
// and dispatch of every packet a client may send. The MQTT 5 specifics: handle_connect_v5.cpp.
#include <fmt/format.h>

#include "broker/connection.hpp"
#include "broker/reserved_topics.hpp"
#include "common/hex.hpp"
#include "common/log.hpp"
#include "crypto/digest.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {

bool Connection::handle(mqtt::Packet& packet) {
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
    bool open = handle_connect(*connect);
    settle();  // past its handshake and CONNECT: no longer counted as busy on this thread
    return open;
  }
  // §3.1.0-1: the first packet from the client MUST be CONNECT.
  if (!connected_) return fail(DisconnectReason::client_error, "first packet is not CONNECT");
  switch (mqtt::packet_type(packet)) {
    case mqtt::PacketType::publish:
      return handle_publish(std::get<mqtt::Publish>(packet));
    case mqtt::PacketType::puback:
      session_->acknowledge(std::get<mqtt::Puback>(packet).packet_id);
      return true;
    case mqtt::PacketType::subscribe:
      return handle_subscribe(std::get<mqtt::Subscribe>(packet));
    case mqtt::PacketType::unsubscribe:
      return handle_unsubscribe(std::get<mqtt::Unsubscribe>(packet));
    case mqtt::PacketType::pingreq:
      send_packet(mqtt::Pingresp{});
      return true;
    case mqtt::PacketType::disconnect:
      return handle_disconnect(std::get<mqtt::Disconnect>(packet));
    case mqtt::PacketType::pubrec:
    case mqtt::PacketType::pubrel:
    case mqtt::PacketType::pubcomp:
      return fail(DisconnectReason::client_error, "QoS 2 is not supported (AWS IoT: QoS 0 and 1)",
                  mqtt::reason::qos_not_supported);
    case mqtt::PacketType::auth:
      // MQTT 5 §4.12: AUTH without an Authentication Method in CONNECT is a Protocol Error; AWS IoT
      // offers no enhanced authentication, so no CONNECT ever agreed on one.
      return fail(DisconnectReason::client_error, "AUTH: enhanced authentication not supported",
                  mqtt::reason::protocol_error);
    default:
      return fail(DisconnectReason::client_error,
                  fmt::format("{} is not a packet a client sends",
                              mqtt::to_string(mqtt::packet_type(packet))));
  }
}

bool Connection::refuse_connect(mqtt::ConnectReturnCode code, uint8_t reason_code,
                                std::string_view why) {
  send_packet(
      mqtt::Connack{.session_present = false, .return_code = code, .reason_code = reason_code});
  return fail(DisconnectReason::client_error, why);
}

bool Connection::hang_up_on_connect(DisconnectReason reason, uint8_t reason_code,
                                    std::string_view why) {
  spdlog::info("broker: CONNECT of {} refused ({}): {}", context_.client_id, to_string(reason),
               why);
  if (v5()) {
    // MQTT 5 has a reason code for it (§3.2.2.2): AWS answers MQTT 5 clients with a CONNACK.
    send_packet(mqtt::Connack{.session_present = false, .reason_code = reason_code});
    close_now(reason, true);
    return false;
  }
  close_now(reason, false);
  return false;
}

bool Connection::handle_connect(mqtt::Connect& connect) {
  const BrokerLimits& limits = core_.limits();
  // §3.1.0-2: a second CONNECT is a protocol violation.
  if (connected_) return fail(DisconnectReason::client_error, "second CONNECT");
  if (close_on_connect_) {
    // JITR (aws-iot.md §3 step 4): the device sees a hang-up, no CONNACK.
    close_now(DisconnectReason::auth_error, false);
    return false;
  }
  if (connect.protocol_level == mqtt::kProtocolLevel5) {
    version_ = mqtt::kProtocolLevel5;
    if (!accept_v5_connect(connect)) return false;
  } else if (connect.protocol_level != mqtt::kProtocolLevel311) {
    // MQTT 3.1 and unknown levels: the 3.1.1 CONNACK 0x01 (MQTT 5 §3.1.2.2 allows it too).
    return refuse_connect(
        mqtt::ConnectReturnCode::unacceptable_protocol_version,
        mqtt::reason::unsupported_protocol_version,
        fmt::format("protocol level {} is neither MQTT 3.1.1 nor 5", connect.protocol_level));
  }
  std::string assigned_client_id;
  if (connect.client_id.empty()) {
    // 3.1.1 §3.1.3.1: a zero-byte client id is allowed with clean session, and the server assigns
    // one. MQTT 5 §3.1.3.1 drops the clean-start condition and returns the id in CONNACK.
    if (!connect.clean_session && !v5()) {
      return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                            mqtt::reason::client_identifier_not_valid,
                            "empty client id without clean session");
    }
    connect.client_id = "zt-" + to_hex(crypto::random_bytes(12));
    assigned_client_id = connect.client_id;
  }
  if (connect.client_id.size() > limits.max_client_id_bytes) {
    return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                          mqtt::reason::client_identifier_not_valid,
                          fmt::format("client id is {} bytes; the limit is {}",
                                      connect.client_id.size(), limits.max_client_id_bytes));
  }
  if (connect.client_id[0] == '$') {  // aws-iot.md §6.3: the `$` prefix is reserved
    return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                          mqtt::reason::client_identifier_not_valid,
                          "client ids starting with '$' are reserved");
  }
  context_.client_id = connect.client_id;
  // aws-iot.md §6.3: 1 CONNECT per second per client id. AWS counts a faster one against the
  // throttle (disconnect reason THROTTLED); a 3.1.1 client sees a hang-up without CONNACK, an
  // MQTT 5 client CONNACK 0x97 Quota exceeded.
  if (!core_.admit_connect(connect.client_id, std::chrono::steady_clock::now())) {
    return hang_up_on_connect(DisconnectReason::client_error, mqtt::reason::quota_exceeded,
                              fmt::format("throttled (THROTTLED): more than 1 per {} ms",
                                          limits.min_connect_interval.count()));
  }
  // aws-iot.md §5: a denied iot:Connect hangs up without CONNACK (MQTT 5: CONNACK 0x87).
  if (!core_.authorizer().allow(Action::connect, connect.client_id, context_)) {
    return hang_up_on_connect(DisconnectReason::forbidden_access, mqtt::reason::not_authorized,
                              "iot:Connect denied");
  }
  if (connect.will) {
    // 3.1.1 closes without CONNACK; MQTT 5 says why in a CONNACK (§3.2.2.2).
    auto refuse_will = [&](uint8_t reason_code, std::string why) {
      if (v5())
        return refuse_connect(mqtt::ConnectReturnCode::accepted, reason_code, "will: " + why);
      return fail(DisconnectReason::client_error, "will: " + why);
    };
    if (auto valid = mqtt::validate_topic_name(connect.will->topic); !valid)
      return refuse_will(mqtt::reason::topic_name_invalid, valid.error().message);
    if (connect.will->qos > 1)
      return refuse_will(mqtt::reason::qos_not_supported, "QoS 2 is not supported");
    if (connect.will->payload.size() > limits.max_payload_bytes)
      return refuse_will(mqtt::reason::packet_too_large, "payload exceeds 128 KB");
    if (auto refusal = v5::check_will(*connect.will, limits))
      return refuse_will(refusal->reason_code, refusal->why);
    // A will is a PUBLISH made later on the client's behalf: the same reserved-topic rules and
    // policy checks apply, at CONNECT (AWS authorizes a will as part of iot:Connect, the
    // iot:ConnectAttributes "LastWill" condition) and again when it is published. A refused will
    // refuses the connection as a denied iot:Connect does: a hang-up without CONNACK.
    if (auto refusal = will_refusal(*connect.will); !refusal.empty()) {
      return hang_up_on_connect(DisconnectReason::forbidden_access, mqtt::reason::not_authorized,
                                fmt::format("will to '{}': {}", connect.will->topic, refusal));
    }
    will_ = std::make_unique<mqtt::Will>(std::move(*connect.will));
  }
  // aws-iot.md §6.3: keep-alive 0 or above 1200 → 1200, 1–29 → 30; timeout 1.5 × keep-alive.
  uint16_t keep_alive = connect.keep_alive;
  if (keep_alive == 0 || keep_alive > limits.max_keep_alive_seconds)
    keep_alive = limits.max_keep_alive_seconds;
  if (keep_alive < limits.min_keep_alive_seconds) keep_alive = limits.min_keep_alive_seconds;
  keep_alive_timeout_ = std::chrono::milliseconds(keep_alive * 1500);
  deadline_ = std::chrono::steady_clock::now() + keep_alive_timeout_;

  SessionRequest request = v5::session_request(connect, limits);
  session_expiry_ = request.expiry;
  auto attached = core_.attach(connect.client_id, request, shared_from_this(), context_);
  session_ = std::move(attached.session);
  connected_ = true;
  send_connack(connect, attached, request, keep_alive, assigned_client_id);
  session_->resume();
  spdlog::debug("broker: {} connected (clean session {}, keep-alive {} s{})", connect.client_id,
                connect.clean_session, keep_alive, v5() ? ", MQTT 5" : "");
  core_.notify([&](Observer& observer) { observer.on_connected(context_); });
  return true;
}

std::string Connection::will_refusal(const mqtt::Will& will) {
  if (auto refusal =
          reserved_topic_refusal(will.topic, will.retain, core_.config().reserved_topics);
      !refusal.empty())
    return std::string(refusal);
  Authorizer& authorizer = core_.authorizer();
  if (!authorizer.allow(Action::publish, will.topic, context_)) return "iot:Publish denied";
  if (will.retain && !authorizer.allow(Action::retain_publish, will.topic, context_))
    return "iot:RetainPublish denied";
  return {};
}

void Connection::publish_will() {
  if (!will_) return;
  // Checked again: the certificate's policies may have changed since CONNECT.
  if (auto refusal = will_refusal(*will_); !refusal.empty()) {
    spdlog::info("broker: will of {} to '{}' not published: {}", context_.client_id, will_->topic,
                 refusal);
    will_.reset();
    return;
  }
  auto message = std::make_shared<Message>(Message{.topic = std::move(will_->topic),
                                                   .payload = std::move(will_->payload),
                                                   .qos = will_->qos,
                                                   .retain = will_->retain,
                                                   .publisher_client_id = context_.client_id,
                                                   .timestamp_ms = 0});
  // MQTT 5 will properties travel with the will as a PUBLISH's do (§3.1.3.2); the Will Delay
  // Interval is not a message property.
  will_->properties.will_delay_interval.reset();
  v5::keep_properties(std::move(will_->properties), *message, v5::Clock::now(),
                      core_.limits().max_message_expiry);
  will_.reset();
  core_.notify([&](Observer& observer) { observer.on_publish(*message, context_); });
  // Basic Ingest goes to the rules engine only, as for a PUBLISH.
  if (!message->topic.starts_with("$aws/rules/")) core_.publish(message);
}

}  // namespace zt::cloud::broker

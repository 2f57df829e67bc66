// CONNECT (MQTT 3.1.1 §3.1) with AWS IoT's rules (reference/aws-iot.md §6.2, §6.3), and dispatch of
// every packet a client may send.
#include <fmt/format.h>

#include "broker/connection.hpp"
#include "broker/reserved_topics.hpp"
#include "common/hex.hpp"
#include "common/log.hpp"
#include "crypto/digest.hpp"
#include "mqtt/topic.hpp"

namespace zt::cloud::broker {

bool Connection::handle(mqtt::Packet& packet) {
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) return handle_connect(*connect);
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
      // §3.14.4: the will is discarded; AWS: CLIENT_INITIATED_DISCONNECT, no LWT.
      clean_disconnect_ = true;
      close_now(DisconnectReason::client_initiated, true);
      return false;
    case mqtt::PacketType::pubrec:
    case mqtt::PacketType::pubrel:
    case mqtt::PacketType::pubcomp:
      return fail(DisconnectReason::client_error, "QoS 2 is not supported (AWS IoT: QoS 0 and 1)");
    default:
      return fail(DisconnectReason::client_error,
                  fmt::format("{} is not a packet a client sends",
                              mqtt::to_string(mqtt::packet_type(packet))));
  }
}

bool Connection::refuse_connect(mqtt::ConnectReturnCode code, std::string_view why) {
  send_packet(mqtt::Connack{.session_present = false, .return_code = code});
  return fail(DisconnectReason::client_error, why);
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
    // MQTT 5 §3.2.2.2: CONNACK reason code 0x84 "Unsupported Protocol Version" in the MQTT 5 layout
    // (flags, reason code, empty properties), then close.
    const uint8_t connack_v5[] = {0x20, 0x03, 0x00, 0x84, 0x00};
    send_bytes(connack_v5);
    return fail(DisconnectReason::client_error, "MQTT 5 is not supported yet");
  }
  if (connect.protocol_level != mqtt::kProtocolLevel311) {
    return refuse_connect(
        mqtt::ConnectReturnCode::unacceptable_protocol_version,
        fmt::format("protocol level {} is not MQTT 3.1.1", connect.protocol_level));
  }
  if (connect.client_id.empty()) {
    // §3.1.3.1: a zero-byte client id is allowed with clean session, and the server assigns one.
    if (!connect.clean_session) {
      return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                            "empty client id without clean session");
    }
    connect.client_id = "zt-" + to_hex(crypto::random_bytes(12));
  }
  if (connect.client_id.size() > limits.max_client_id_bytes) {
    return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                          fmt::format("client id is {} bytes; the limit is {}",
                                      connect.client_id.size(), limits.max_client_id_bytes));
  }
  if (connect.client_id[0] == '$') {  // aws-iot.md §6.3: the `$` prefix is reserved
    return refuse_connect(mqtt::ConnectReturnCode::identifier_rejected,
                          "client ids starting with '$' are reserved");
  }
  context_.client_id = connect.client_id;
  // aws-iot.md §6.3: 1 CONNECT per second per client id. AWS counts a faster one against the
  // throttle (disconnect reason THROTTLED); the client sees a hang-up without CONNACK.
  if (!core_.admit_connect(connect.client_id, std::chrono::steady_clock::now())) {
    spdlog::info("broker: CONNECT of {} throttled (THROTTLED): more than 1 per {} ms per client id",
                 connect.client_id, limits.min_connect_interval.count());
    close_now(DisconnectReason::client_error, false);
    return false;
  }
  // aws-iot.md §5: a denied iot:Connect hangs up without CONNACK.
  if (!core_.authorizer().allow(Action::connect, connect.client_id, context_)) {
    close_now(DisconnectReason::forbidden_access, false);
    return false;
  }
  if (connect.will) {
    if (auto valid = mqtt::validate_topic_name(connect.will->topic); !valid) {
      return fail(DisconnectReason::client_error, "will: " + valid.error().message);
    }
    if (connect.will->qos > 1)
      return fail(DisconnectReason::client_error, "will QoS 2 is not supported");
    if (connect.will->payload.size() > limits.max_payload_bytes) {
      return fail(DisconnectReason::client_error, "will payload exceeds 128 KB");
    }
    // A will is a PUBLISH made later on the client's behalf: the same reserved-topic rules and
    // policy checks apply, at CONNECT (AWS authorizes a will as part of iot:Connect, the
    // iot:ConnectAttributes "LastWill" condition) and again when it is published. A refused will
    // refuses the connection as a denied iot:Connect does: a hang-up without CONNACK.
    if (auto refusal = will_refusal(*connect.will); !refusal.empty()) {
      spdlog::info("broker: CONNECT of {} refused (FORBIDDEN_ACCESS): will to '{}': {}",
                   connect.client_id, connect.will->topic, refusal);
      close_now(DisconnectReason::forbidden_access, false);
      return false;
    }
    will_ = std::move(connect.will);
  }
  // aws-iot.md §6.3: keep-alive 0 or above 1200 → 1200, 1–29 → 30; timeout 1.5 × keep-alive.
  uint16_t keep_alive = connect.keep_alive;
  if (keep_alive == 0 || keep_alive > limits.max_keep_alive_seconds)
    keep_alive = limits.max_keep_alive_seconds;
  if (keep_alive < limits.min_keep_alive_seconds) keep_alive = limits.min_keep_alive_seconds;
  keep_alive_timeout_ = std::chrono::milliseconds(keep_alive * 1500);
  deadline_ = std::chrono::steady_clock::now() + keep_alive_timeout_;

  auto attached =
      core_.attach(connect.client_id, connect.clean_session, shared_from_this(), context_);
  session_ = std::move(attached.session);
  connected_ = true;
  // §3.2.2.2: session present is 0 whenever clean session is 1.
  send_packet(mqtt::Connack{.session_present = attached.session_present && !connect.clean_session,
                            .return_code = mqtt::ConnectReturnCode::accepted});
  session_->resume();
  spdlog::debug("broker: {} connected (clean session {}, keep-alive {} s)", connect.client_id,
                connect.clean_session, keep_alive);
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
  will_.reset();
  core_.notify([&](Observer& observer) { observer.on_publish(*message, context_); });
  // Basic Ingest goes to the rules engine only, as for a PUBLISH.
  if (!message->topic.starts_with("$aws/rules/")) core_.publish(message);
}

}  // namespace zt::cloud::broker

// The MQTT 5 parts of a connection's start and end (mqtt-v5.0 §3.1, §3.2, §3.14): what AWS IoT
// refuses at CONNECT, the CONNACK that announces the limits, DISCONNECT with a reason code and a
// session expiry interval. Sources for each limit: docs/mqtt5.md ("Limits and where they come
// from").
#include <fmt/format.h>

#include "broker/connection.hpp"
#include "common/log.hpp"

namespace zt::cloud::broker {

bool Connection::accept_v5_connect(const mqtt::Connect& connect) {
  const BrokerLimits& limits = core_.limits();
  const mqtt::Properties& p = connect.properties;
  // AWS IoT Core authenticates at the TLS layer (X.509) and offers no MQTT 5 enhanced
  // authentication: an Authentication Method is a method the server does not support (§4.12).
  if (p.authentication_method) {
    return refuse_connect(mqtt::ConnectReturnCode::accepted,
                          mqtt::reason::bad_authentication_method,
                          fmt::format("authentication method '{}' is not supported (AUTH)",
                                      *p.authentication_method));
  }
  // §3.1.2.11.7: authentication data without a method is a Protocol Error.
  if (p.authentication_data) {
    return refuse_connect(mqtt::ConnectReturnCode::accepted, mqtt::reason::protocol_error,
                          "authentication data without an authentication method");
  }
  size_t user_bytes = 0;
  for (const auto& [name, value] : p.user_properties) user_bytes += name.size() + value.size();
  if (user_bytes > limits.max_user_properties_bytes) {
    return refuse_connect(mqtt::ConnectReturnCode::accepted, mqtt::reason::quota_exceeded,
                          fmt::format("CONNECT user properties of {} bytes exceed {}", user_bytes,
                                      limits.max_user_properties_bytes));
  }
  client_max_packet_ = p.maximum_packet_size.value_or(0);
  topic_aliases_.emplace(limits.topic_alias_maximum);
  // Packets the client sends are bounded by the Maximum Packet Size announced in CONNACK; beyond
  // it, DISCONNECT 0x95 Packet Too Large (§3.2.2.3.6). The bound is on the remaining length: the
  // fixed header is at most 5 bytes.
  decoder_.set_max_remaining_length(v5::maximum_packet_size(limits) - 5);
  return true;
}

void Connection::send_connack(const mqtt::Connect& connect, const Core::Attached& attached,
                              const SessionRequest& request, uint16_t keep_alive,
                              const std::string& assigned_client_id) {
  // §3.2.2.1.1 (both versions): session present is 0 whenever clean start is 1.
  mqtt::Connack connack{.session_present = attached.session_present && !request.clean_start,
                        .return_code = mqtt::ConnectReturnCode::accepted};
  if (v5()) {
    connack.properties = v5::connack_properties(
        core_.limits(), v5::ConnackFacts{.session = request,
                                         .requested_keep_alive = connect.keep_alive,
                                         .keep_alive = keep_alive,
                                         .assigned_client_id = assigned_client_id});
  }
  send_packet(connack);
}

bool Connection::handle_disconnect(const mqtt::Disconnect& disconnect) {
  if (v5()) {
    if (auto expiry = disconnect.properties.session_expiry_interval) {
      // §3.14.2.2.2: a non-zero interval after CONNECT said 0 is a Protocol Error.
      if (session_expiry_.count() == 0 && *expiry != 0) {
        return fail(DisconnectReason::client_error,
                    "DISCONNECT sets a session expiry after CONNECT said 0");
      }
      session_expiry_ = std::min<std::chrono::seconds>(std::chrono::seconds(*expiry),
                                                       core_.limits().session_expiry);
      session_->set_expiry(session_expiry_);
    }
    // §3.14.2.1: 0x04 "Disconnect with Will Message" keeps the will; any other code discards it.
    if (disconnect.reason_code == mqtt::reason::disconnect_with_will) {
      close_now(DisconnectReason::client_initiated, true);
      return false;
    }
  }
  // §3.14.4: the will is discarded; AWS: CLIENT_INITIATED_DISCONNECT, no LWT.
  clean_disconnect_ = true;
  close_now(DisconnectReason::client_initiated, true);
  return false;
}

}  // namespace zt::cloud::broker

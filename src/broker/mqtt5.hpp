// What the broker does differently for an MQTT 5 connection, as pure functions the connection
// calls: the CONNACK that tells the client AWS IoT Core's limits, the reason code a server
// DISCONNECT carries, client → server topic aliases, and the PUBLISH properties a message keeps and
// forwards. Sources for each limit: docs/mqtt5.md ("Limits and where they come from").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "broker/core.hpp"
#include "broker/interfaces.hpp"
#include "mqtt/packet.hpp"

namespace zt::cloud::broker::v5 {

using Clock = std::chrono::steady_clock;

// The reason code of the DISCONNECT a server sends an MQTT 5 client for `reason` (§3.14.2.1).
uint8_t disconnect_code(DisconnectReason reason);

// A server DISCONNECT: `code` and, as its Reason String (§3.14.2.2.3), `why` cut to 256 bytes of
// whole UTF-8 characters. Clients show the string; paho-mqtt 1.6.1 reads the reason code of a
// DISCONNECT only when properties follow it.
mqtt::Disconnect disconnect_packet(uint8_t code, std::string_view why);

// The session a CONNECT asks for (§3.1.2.4 Clean Start, §3.1.2.11.2 Session Expiry Interval,
// §3.1.2.11.3 Receive Maximum), capped at the broker's maximum. 3.1.1: persistent = !clean session,
// kept limits.session_expiry.
SessionRequest session_request(const mqtt::Connect& connect, const BrokerLimits& limits);

// What the CONNACK of an accepted MQTT 5 connection says (§3.2.2.3).
struct ConnackFacts {
  SessionRequest session;
  uint16_t requested_keep_alive = 0;
  uint16_t keep_alive = 0;           // after AWS's clamp
  std::string assigned_client_id{};  // when the client sent an empty one
};
mqtt::Properties connack_properties(const BrokerLimits& limits, const ConnackFacts& facts);

// The largest packet the broker accepts from a client, which CONNACK announces (§3.2.2.3.6).
uint32_t maximum_packet_size(const BrokerLimits& limits);

// Client → server topic aliases (§3.3.2.3.4): at most `maximum`, per connection.
class TopicAliases {
 public:
  explicit TopicAliases(uint16_t maximum) : maximum_(maximum) {}
  // Sets or uses the alias of `publish` (its topic filled in). Fails with the reason why when the
  // alias is above the maximum or unknown (both 0x94 Topic Alias Invalid).
  Result<void> resolve(mqtt::Publish& publish);

 private:
  uint16_t maximum_;
  std::vector<std::string> topics_;  // index alias - 1; "" = unset
};

// Checks the PUBLISH properties a client sent against AWS's limits and the specification; the
// reason code and why on refusal, nullopt when acceptable.
struct Refusal {
  uint8_t reason_code;
  std::string why;
};
std::optional<Refusal> check_publish(const mqtt::Publish& publish, const BrokerLimits& limits);
// The same for the will properties of a CONNECT.
std::optional<Refusal> check_will(const mqtt::Will& will, const BrokerLimits& limits);

// Moves the forwarded properties of `publish` into `message` (user properties into
// message.user_properties, the expiry interval, capped at `max_expiry`, into a deadline from
// `now`).
void keep_properties(mqtt::Properties&& properties, Message& message, Clock::time_point now,
                     std::chrono::seconds max_expiry);

// The properties of the PUBLISH that carries `message` to an MQTT 5 subscriber at `now`: what the
// publisher sent, the remaining expiry interval (§3.3.2.3.3), the user properties in order.
mqtt::Properties forwarded_properties(const Message& message, Clock::time_point now);

// True when `message` has expired at `now` (and must not be delivered any more).
inline bool expired(const Message& message, Clock::time_point now) {
  return message.expires_at && *message.expires_at <= now;
}

}  // namespace zt::cloud::broker::v5

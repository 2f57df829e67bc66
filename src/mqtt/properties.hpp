// MQTT 5.0 properties (OASIS mqtt-v5.0-os §2.2.2) and reason codes (§2.4). A property section is a
// variable byte integer length followed by (identifier, value) pairs; which identifiers a packet
// may carry, and how often, is fixed by Table 2-4. Every violation is refused with the reason code
// the specification names: a wrong identifier or a value that runs past the section is a Malformed
// Packet (0x81), a repeated single-use property or a value out of its range a Protocol Error
// (0x82).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::mqtt {

namespace wire {
class Reader;
}

// §2.2.2.2 Table 2-4 property identifiers.
enum class PropertyId : uint8_t {
  payload_format_indicator = 0x01,
  message_expiry_interval = 0x02,
  content_type = 0x03,
  response_topic = 0x08,
  correlation_data = 0x09,
  subscription_identifier = 0x0b,
  session_expiry_interval = 0x11,
  assigned_client_identifier = 0x12,
  server_keep_alive = 0x13,
  authentication_method = 0x15,
  authentication_data = 0x16,
  request_problem_information = 0x17,
  will_delay_interval = 0x18,
  request_response_information = 0x19,
  response_information = 0x1a,
  server_reference = 0x1c,
  reason_string = 0x1f,
  receive_maximum = 0x21,
  topic_alias_maximum = 0x22,
  topic_alias = 0x23,
  maximum_qos = 0x24,
  retain_available = 0x25,
  user_property = 0x26,
  maximum_packet_size = 0x27,
  wildcard_subscription_available = 0x28,
  subscription_identifier_available = 0x29,
  shared_subscription_available = 0x2a,
};

// Where a property section sits: a packet type (PacketType's value, 1..15) or the will properties
// of a CONNECT payload (§3.1.3.2), which have their own column in Table 2-4.
inline constexpr uint8_t kWillProperties = 0;

using UserProperties = std::vector<std::pair<std::string, std::string>>;

// Every property of Table 2-4; absent ones are empty. Only the properties the packet may carry
// are ever set by the decoder, and the encoder refuses the others.
struct Properties {
  std::optional<uint8_t> payload_format_indicator{};
  std::optional<uint32_t> message_expiry_interval{};
  std::optional<std::string> content_type{};
  std::optional<std::string> response_topic{};
  std::optional<Bytes> correlation_data{};
  std::vector<uint32_t> subscription_identifiers{};  // several only in a server's PUBLISH
  std::optional<uint32_t> session_expiry_interval{};
  std::optional<std::string> assigned_client_identifier{};
  std::optional<uint16_t> server_keep_alive{};
  std::optional<std::string> authentication_method{};
  std::optional<Bytes> authentication_data{};
  std::optional<uint8_t> request_problem_information{};
  std::optional<uint32_t> will_delay_interval{};
  std::optional<uint8_t> request_response_information{};
  std::optional<std::string> response_information{};
  std::optional<std::string> server_reference{};
  std::optional<std::string> reason_string{};
  std::optional<uint16_t> receive_maximum{};
  std::optional<uint16_t> topic_alias_maximum{};
  std::optional<uint16_t> topic_alias{};
  std::optional<uint8_t> maximum_qos{};
  std::optional<uint8_t> retain_available{};
  UserProperties user_properties{};  // in order; names may repeat (§3.1.2.11.8)
  std::optional<uint32_t> maximum_packet_size{};
  std::optional<uint8_t> wildcard_subscription_available{};
  std::optional<uint8_t> subscription_identifier_available{};
  std::optional<uint8_t> shared_subscription_available{};
  bool operator==(const Properties&) const = default;
};

// §2.1.4 Table 2-1 / §1.5.5: the largest value a variable byte integer holds.
inline constexpr uint32_t kMaxVariableByteInteger = 268'435'455;

// Reads the property section at the reader's position for `where` (a PacketType value or
// kWillProperties). Errors carry the reason code (reason_code_of).
Result<Properties> read_properties(wire::Reader& reader, uint8_t where);
// Appends the section (length, then properties in identifier order). Fails for a property `where`
// may not carry, a string over 65535 bytes, or a section over kMaxVariableByteInteger.
Status put_properties(Bytes& out, const Properties& properties, uint8_t where);
// The encoded size of the section, its length prefix included (for size limits before encoding).
size_t properties_size(const Properties& properties);

// §2.4 Table 2-6 reason codes (the ones this project sends or checks).
namespace reason {
inline constexpr uint8_t success = 0x00;  // also: normal disconnection, granted QoS 0
inline constexpr uint8_t granted_qos_1 = 0x01;
inline constexpr uint8_t disconnect_with_will = 0x04;
inline constexpr uint8_t no_matching_subscribers = 0x10;
inline constexpr uint8_t no_subscription_existed = 0x11;
inline constexpr uint8_t continue_authentication = 0x18;
inline constexpr uint8_t unspecified_error = 0x80;
inline constexpr uint8_t malformed_packet = 0x81;
inline constexpr uint8_t protocol_error = 0x82;
inline constexpr uint8_t implementation_specific_error = 0x83;
inline constexpr uint8_t unsupported_protocol_version = 0x84;
inline constexpr uint8_t client_identifier_not_valid = 0x85;
inline constexpr uint8_t bad_user_name_or_password = 0x86;
inline constexpr uint8_t not_authorized = 0x87;
inline constexpr uint8_t server_unavailable = 0x88;
inline constexpr uint8_t server_busy = 0x89;
inline constexpr uint8_t banned = 0x8a;
inline constexpr uint8_t server_shutting_down = 0x8b;
inline constexpr uint8_t bad_authentication_method = 0x8c;
inline constexpr uint8_t keep_alive_timeout = 0x8d;
inline constexpr uint8_t session_taken_over = 0x8e;
inline constexpr uint8_t topic_filter_invalid = 0x8f;
inline constexpr uint8_t topic_name_invalid = 0x90;
inline constexpr uint8_t packet_identifier_in_use = 0x91;
inline constexpr uint8_t packet_identifier_not_found = 0x92;
inline constexpr uint8_t receive_maximum_exceeded = 0x93;
inline constexpr uint8_t topic_alias_invalid = 0x94;
inline constexpr uint8_t packet_too_large = 0x95;
inline constexpr uint8_t message_rate_too_high = 0x96;
inline constexpr uint8_t quota_exceeded = 0x97;
inline constexpr uint8_t administrative_action = 0x98;
inline constexpr uint8_t payload_format_invalid = 0x99;
inline constexpr uint8_t retain_not_supported = 0x9a;
inline constexpr uint8_t qos_not_supported = 0x9b;
inline constexpr uint8_t use_another_server = 0x9c;
inline constexpr uint8_t server_moved = 0x9d;
inline constexpr uint8_t shared_subscriptions_not_supported = 0x9e;
inline constexpr uint8_t connection_rate_exceeded = 0x9f;
inline constexpr uint8_t maximum_connect_time = 0xa0;
inline constexpr uint8_t subscription_identifiers_not_supported = 0xa1;
inline constexpr uint8_t wildcard_subscriptions_not_supported = 0xa2;
}  // namespace reason

// The reason code a decode error stands for: Errc::invalid_argument is a Protocol Error (0x82),
// every other decode error a Malformed Packet (0x81).
uint8_t reason_code_of(const Error& error);

}  // namespace zt::mqtt

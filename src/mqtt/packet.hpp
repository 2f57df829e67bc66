// MQTT 3.1.1 control packets (OASIS mqtt-v3.1.1-os §3) as plain values, shared by the broker and
// the device. decode_packet/encode_packet convert between these values and wire bytes;
// StreamDecoder (decoder.hpp) cuts a byte stream into packets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace zt::mqtt {

// §2.2.1 control packet types (high nibble of the first byte).
enum class PacketType : uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

const char* to_string(PacketType type);

// §3.1.2.2: protocol level 4 is MQTT 3.1.1; level 5 is MQTT 5.0 (not supported by this codec beyond
// recognising it, so a server can answer with the right CONNACK).
inline constexpr uint8_t kProtocolLevel311 = 4;
inline constexpr uint8_t kProtocolLevel5 = 5;

// §3.2.2.3 CONNACK return codes.
enum class ConnectReturnCode : uint8_t {
  accepted = 0,
  unacceptable_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_user_name_or_password = 4,
  not_authorized = 5,
};

// §3.9.3 SUBACK return code for a refused filter.
inline constexpr uint8_t kSubackFailure = 0x80;

// §2.3.1: the largest remaining length the four-byte varint can express.
inline constexpr size_t kMaxRemainingLength = 268'435'455;

struct Will {
  std::string topic{};
  Bytes payload{};
  uint8_t qos = 0;
  bool retain = false;
  bool operator==(const Will&) const = default;
};

struct Connect {
  std::string protocol_name = "MQTT";
  uint8_t protocol_level = kProtocolLevel311;
  bool clean_session = true;
  uint16_t keep_alive = 0;  // seconds
  // When protocol_level is not 4, decoding stops after the level: the fields below stay empty so
  // the server can refuse the connection with a CONNACK (§3.1.2.2) instead of a parse error.
  std::string client_id{};
  std::optional<Will> will{};
  std::optional<std::string> username{};
  std::optional<Bytes> password{};
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  ConnectReturnCode return_code = ConnectReturnCode::accepted;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic{};
  Bytes payload{};
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // present on the wire only when qos > 0
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK carry nothing but a packet identifier.
template <PacketType kType>
struct PacketIdOnly {
  uint16_t packet_id = 0;
  bool operator==(const PacketIdOnly&) const = default;
};
using Puback = PacketIdOnly<PacketType::puback>;
using Pubrec = PacketIdOnly<PacketType::pubrec>;
using Pubrel = PacketIdOnly<PacketType::pubrel>;
using Pubcomp = PacketIdOnly<PacketType::pubcomp>;
using Unsuback = PacketIdOnly<PacketType::unsuback>;

struct Subscription {
  std::string filter{};
  uint8_t qos = 0;
  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions{};
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> return_codes{};  // granted QoS 0..2, or kSubackFailure
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  std::vector<std::string> filters{};
  bool operator==(const Unsubscribe&) const = default;
};

template <PacketType kType>
struct Empty {
  bool operator==(const Empty&) const = default;
};
using Pingreq = Empty<PacketType::pingreq>;
using Pingresp = Empty<PacketType::pingresp>;
using Disconnect = Empty<PacketType::disconnect>;

using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe,
                            Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect>;

PacketType packet_type(const Packet& packet);

// Decodes one packet from its first byte and its body (the `remaining length` bytes after the
// fixed header). Every malformed input yields an Errc::parse error naming the field.
Result<Packet> decode_packet(uint8_t first_byte, ByteView body);

// Appends the wire form of `packet` to `out`. Fails only for values that cannot be encoded (a
// string over 65535 bytes, a body over kMaxRemainingLength, QoS > 2, a zero packet id where one is
// needed).
Status encode_packet(const Packet& packet, Bytes& out);
Result<Bytes> encode_packet(const Packet& packet);

// Appends a PUBLISH built from views, for a broker that sends one stored message to many
// subscribers without copying it into a Publish value first. Same checks as encode_packet.
Status encode_publish(std::string_view topic, ByteView payload, uint8_t qos, bool retain, bool dup,
                      uint16_t packet_id, Bytes& out);

// §2.2.3 remaining length: appends the 1–4 byte varint.
void encode_remaining_length(size_t length, Bytes& out);

// §1.5.3: well-formed UTF-8, no U+0000, no surrogates. Used for every MQTT string.
bool is_valid_mqtt_utf8(std::string_view text);

}  // namespace zt::mqtt

// MQTT 3.1.1 and 5.0 control packets (OASIS mqtt-v3.1.1-os §3, mqtt-v5.0-os §3) as plain values,
// shared by the broker and the device. One struct per packet serves both versions: the MQTT 5
// fields (properties, reason codes, subscription options) stay empty for 3.1.1, where the wire has
// no room for them. decode_packet/encode_packet convert between these values and wire bytes for a
// given protocol level; StreamDecoder (decoder.hpp) cuts a byte stream into packets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "mqtt/properties.hpp"

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
  auth = 15,  // MQTT 5 only (§3.15); reserved in 3.1.1
};

const char* to_string(PacketType type);

// §3.1.2.2: protocol level 4 is MQTT 3.1.1; level 5 is MQTT 5.0. Level 3 (MQTT 3.1) is recognised
// only so that a server can answer it with the right CONNACK.
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
  Properties properties{};  // MQTT 5 will properties (§3.1.3.2)
  bool operator==(const Will&) const = default;
};

struct Connect {
  std::string protocol_name = "MQTT";
  uint8_t protocol_level = kProtocolLevel311;
  bool clean_session = true;  // MQTT 5: Clean Start (§3.1.2.4)
  uint16_t keep_alive = 0;    // seconds
  Properties properties{};    // MQTT 5
  // When protocol_level is neither 4 nor 5, decoding stops after the level: the fields below stay
  // empty so the server can refuse the connection with a CONNACK (§3.1.2.2), not a parse error.
  std::string client_id{};
  std::optional<Will> will{};
  std::optional<std::string> username{};
  std::optional<Bytes> password{};
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  ConnectReturnCode return_code = ConnectReturnCode::accepted;  // MQTT 3.1.1
  uint8_t reason_code = reason::success;                        // MQTT 5 (§3.2.2.2)
  Properties properties{};                                      // MQTT 5
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic{};
  Bytes payload{};
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;   // present on the wire only when qos > 0
  Properties properties{};  // MQTT 5
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP: a packet identifier (3.1.1), plus a reason code and
// properties in MQTT 5 (§3.4.2), both omitted on the wire when they are Success and empty.
template <PacketType kType>
struct PacketIdOnly {
  uint16_t packet_id = 0;
  uint8_t reason_code = reason::success;  // MQTT 5
  Properties properties{};                // MQTT 5
  bool operator==(const PacketIdOnly&) const = default;
};
using Puback = PacketIdOnly<PacketType::puback>;
using Pubrec = PacketIdOnly<PacketType::pubrec>;
using Pubrel = PacketIdOnly<PacketType::pubrel>;
using Pubcomp = PacketIdOnly<PacketType::pubcomp>;

struct Subscription {
  std::string filter{};
  uint8_t qos = 0;
  // MQTT 5 subscription options (§3.8.3.1).
  bool no_local = false;
  bool retain_as_published = false;
  uint8_t retain_handling = 0;  // 0 send retained at subscribe, 1 only if new, 2 never
  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions{};
  Properties properties{};  // MQTT 5
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  // 3.1.1: granted QoS 0..2 or kSubackFailure; MQTT 5: reason codes (§3.9.3).
  std::vector<uint8_t> return_codes{};
  Properties properties{};  // MQTT 5
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  std::vector<std::string> filters{};
  Properties properties{};  // MQTT 5
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> reason_codes{};  // MQTT 5, one per filter (§3.11.3); none in 3.1.1
  Properties properties{};              // MQTT 5
  bool operator==(const Unsuback&) const = default;
};

template <PacketType kType>
struct Empty {
  bool operator==(const Empty&) const = default;
};
using Pingreq = Empty<PacketType::pingreq>;
using Pingresp = Empty<PacketType::pingresp>;

// DISCONNECT: empty in 3.1.1; MQTT 5 adds a reason code and properties (§3.14.2), and the server
// may send it too.
struct Disconnect {
  uint8_t reason_code = reason::success;
  Properties properties{};
  bool operator==(const Disconnect&) const = default;
};

// AUTH (MQTT 5 §3.15): enhanced authentication, which AWS IoT does not offer (the broker refuses
// it).
struct Auth {
  uint8_t reason_code = reason::success;
  Properties properties{};
  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe,
                            Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

PacketType packet_type(const Packet& packet);

// Decodes one packet from its first byte and its body (the `remaining length` bytes after the
// fixed header), as protocol level `level` has it (a CONNECT carries its own level). Every
// malformed input yields an error naming the field; reason_code_of(error) is the MQTT 5 reason
// code for it (Malformed Packet or Protocol Error).
Result<Packet> decode_packet(uint8_t first_byte, ByteView body, uint8_t level = kProtocolLevel311);

// Appends the wire form of `packet` for protocol level `level` (a CONNECT uses its own
// protocol_level) to `out`. Fails only for values that cannot be encoded (a string over 65535
// bytes, a body over kMaxRemainingLength, QoS > 2, a zero packet id where one is needed, a property
// the packet may not carry, AUTH in 3.1.1).
Status encode_packet(const Packet& packet, Bytes& out, uint8_t level = kProtocolLevel311);
Result<Bytes> encode_packet(const Packet& packet, uint8_t level = kProtocolLevel311);

// Appends a PUBLISH built from views, for a broker that sends one stored message to many
// subscribers without copying it into a Publish value first. Same checks as encode_packet.
// `properties` (MQTT 5 only) is nullptr for 3.1.1.
Status encode_publish(std::string_view topic, ByteView payload, uint8_t qos, bool retain, bool dup,
                      uint16_t packet_id, Bytes& out, const Properties* properties = nullptr);

// §2.2.3 remaining length: appends the 1–4 byte varint.
void encode_remaining_length(size_t length, Bytes& out);

// §1.5.3: well-formed UTF-8, no U+0000, no surrogates. Used for every MQTT string.
bool is_valid_mqtt_utf8(std::string_view text);

}  // namespace zt::mqtt

// CONNECT and CONNACK (MQTT 3.1.1 §3.1, §3.2; MQTT 5.0 §3.1, §3.2: properties after the keep alive
// and before the will, a reason code and properties in CONNACK).
#include <fmt/format.h>

#include "mqtt/handlers.hpp"

namespace zt::mqtt::detail {

Result<Packet> decode_connect(uint8_t /*flags*/, ByteView body) {
  wire::Reader reader(body, "CONNECT");
  Connect connect;
  ZT_TRY_ASSIGN(connect.protocol_name, reader.utf8("protocol name"));
  ZT_TRY_ASSIGN(connect.protocol_level, reader.u8("protocol level"));
  // §3.1.2.1: "MQTT" for 3.1.1 and 5.0; "MQIsdp" is MQTT 3.1 (level 3). Anything else is not MQTT.
  if (connect.protocol_name != "MQTT" && connect.protocol_name != "MQIsdp") {
    return reader.error("protocol name", fmt::format("'{}' is not MQTT", connect.protocol_name));
  }
  // §3.1.2.2: an unsupported level is answered with CONNACK 0x01, so it is not a decode error. The
  // rest of the packet is left unread.
  if (connect.protocol_level != kProtocolLevel311 && connect.protocol_level != kProtocolLevel5)
    return Packet{std::move(connect)};
  const bool v5 = connect.protocol_level == kProtocolLevel5;

  ZT_TRY_ASSIGN(uint8_t flags, reader.u8("connect flags"));
  if (flags & 0x01) return reader.error("connect flags", "reserved bit 0 is set (§3.1.2.3)");
  connect.clean_session = (flags & 0x02) != 0;
  bool has_will = (flags & 0x04) != 0;
  uint8_t will_qos = (flags >> 3) & 0x03;
  bool will_retain = (flags & 0x20) != 0;
  bool has_password = (flags & 0x40) != 0;
  bool has_username = (flags & 0x80) != 0;
  if (will_qos == 3) return reader.error("connect flags", "will QoS 3 is not a QoS (§3.1.2.6)");
  if (!has_will && (will_qos != 0 || will_retain)) {
    return reader.error("connect flags", "will QoS/retain set without the will flag (§3.1.2.5)");
  }
  // MQTT 5 §3.1.2.9 drops this rule: a password may come without a user name.
  if (has_password && !has_username && !v5) {
    return reader.error("connect flags", "password flag set without the user name flag (§3.1.2.9)");
  }
  ZT_TRY_ASSIGN(connect.keep_alive, reader.u16("keep alive"));
  if (v5) {
    ZT_TRY_ASSIGN(connect.properties,
                  read_properties(reader, static_cast<uint8_t>(PacketType::connect)));
  }

  ZT_TRY_ASSIGN(connect.client_id, reader.utf8("client identifier"));
  if (has_will) {
    Will will;
    will.qos = will_qos;
    will.retain = will_retain;
    if (v5) {
      ZT_TRY_ASSIGN(will.properties, read_properties(reader, kWillProperties));
    }
    ZT_TRY_ASSIGN(will.topic, reader.utf8("will topic"));
    ZT_TRY_ASSIGN(will.payload, reader.binary("will message"));
    connect.will = std::move(will);
  }
  if (has_username) {
    ZT_TRY_ASSIGN(connect.username, reader.utf8("user name"));
  }
  if (has_password) {
    ZT_TRY_ASSIGN(connect.password, reader.binary("password"));
  }
  if (!reader.empty()) return reader.error("payload", "unexpected bytes after the last field");
  return Packet{std::move(connect)};
}

Status encode_connect(const Connect& packet, Bytes& out) {
  if (packet.will && packet.will->qos > 2)
    return make_error(Errc::invalid_argument, "CONNECT: will QoS above 2");
  const bool v5 = packet.protocol_level == kProtocolLevel5;
  if (packet.password && !packet.username && !v5) {
    return make_error(Errc::invalid_argument, "CONNECT: a password needs a user name (§3.1.2.9)");
  }
  ZT_TRY(wire::check_string_length(as_bytes(packet.protocol_name), "protocol name"));
  ZT_TRY(wire::check_string_length(as_bytes(packet.client_id), "client identifier"));
  Bytes body;
  wire::put_string(body, as_bytes(packet.protocol_name));
  wire::put_u8(body, packet.protocol_level);
  uint8_t flags = packet.clean_session ? 0x02 : 0;
  if (packet.will)
    flags |= static_cast<uint8_t>(0x04 | packet.will->qos << 3 | (packet.will->retain ? 0x20 : 0));
  if (packet.password) flags |= 0x40;
  if (packet.username) flags |= 0x80;
  wire::put_u8(body, flags);
  wire::put_u16(body, packet.keep_alive);
  if (v5)
    ZT_TRY(put_properties(body, packet.properties, static_cast<uint8_t>(PacketType::connect)));
  wire::put_string(body, as_bytes(packet.client_id));
  if (packet.will) {
    if (v5) ZT_TRY(put_properties(body, packet.will->properties, kWillProperties));
    ZT_TRY(wire::check_string_length(as_bytes(packet.will->topic), "will topic"));
    ZT_TRY(wire::check_string_length(packet.will->payload, "will message"));
    wire::put_string(body, as_bytes(packet.will->topic));
    wire::put_string(body, packet.will->payload);
  }
  if (packet.username) {
    ZT_TRY(wire::check_string_length(as_bytes(*packet.username), "user name"));
    wire::put_string(body, as_bytes(*packet.username));
  }
  if (packet.password) {
    ZT_TRY(wire::check_string_length(*packet.password, "password"));
    wire::put_string(body, *packet.password);
  }
  return put_packet(out, 0x10, body);
}

namespace {

// MQTT 5 §3.2.2.2 Table 3-1: the reason codes a CONNACK may carry.
bool is_connack_reason(uint8_t code) {
  static constexpr uint8_t kCodes[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                       0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97,
                                       0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f};
  for (uint8_t known : kCodes) {
    if (code == known) return true;
  }
  return false;
}

}  // namespace

Result<Packet> decode_connack(uint8_t /*flags*/, ByteView body, bool v5) {
  wire::Reader reader(body, "CONNACK");
  ZT_TRY_ASSIGN(uint8_t acknowledge_flags, reader.u8("connect acknowledge flags"));
  ZT_TRY_ASSIGN(uint8_t code, reader.u8(v5 ? "reason code" : "return code"));
  if (acknowledge_flags & 0xfe)
    return reader.error("connect acknowledge flags", "reserved bits 7-1 are set");
  Connack connack{.session_present = (acknowledge_flags & 1) != 0};
  if (v5) {
    if (!is_connack_reason(code))
      return reader.error("reason code", fmt::format("0x{:02x} is not a CONNACK reason", code));
    connack.reason_code = code;
    ZT_TRY_ASSIGN(connack.properties,
                  read_properties(reader, static_cast<uint8_t>(PacketType::connack)));
    if (!reader.empty()) return reader.error("body", "unexpected bytes after the properties");
    return Packet{std::move(connack)};
  }
  if (!reader.empty()) return reader.error("body", "remaining length must be 2");
  if (code > 5) return reader.error("return code", fmt::format("{} is reserved (§3.2.2.3)", code));
  connack.return_code = static_cast<ConnectReturnCode>(code);
  return Packet{std::move(connack)};
}

Status encode_connack(const Connack& packet, Bytes& out, bool v5) {
  Bytes body;
  wire::put_u8(body, packet.session_present ? 1 : 0);
  if (v5) {
    wire::put_u8(body, packet.reason_code);
    ZT_TRY(put_properties(body, packet.properties, static_cast<uint8_t>(PacketType::connack)));
  } else {
    wire::put_u8(body, static_cast<uint8_t>(packet.return_code));
  }
  return put_packet(out, 0x20, body);
}

}  // namespace zt::mqtt::detail

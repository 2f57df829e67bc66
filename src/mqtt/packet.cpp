// Dispatch by packet type and protocol level, the remaining-length varint, UTF-8 rules and the
// packets that carry only a packet identifier, a reason code, or nothing at all.
#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "mqtt/handlers.hpp"
#include "mqtt/packet.hpp"

namespace zt::mqtt {
namespace {

Error flags_error(PacketType type, uint8_t flags, uint8_t expected) {
  // §2.2.2: reserved flag bits that are not as specified make the packet malformed.
  return make_error(Errc::parse,
                    fmt::format("{}: fixed header flags are 0x{:x}, MQTT requires 0x{:x}",
                                to_string(type), flags, expected));
}

template <class T>
Result<Packet> decode_empty(PacketType type, ByteView body) {
  if (!body.empty()) {
    return make_error(Errc::parse, fmt::format("{}: remaining length must be 0, got {}",
                                               to_string(type), body.size()));
  }
  return Packet{T{}};
}

// MQTT 5 reason codes per packet: PUBACK/PUBREC §3.4.2.1, PUBREL/PUBCOMP §3.6.2.1,
// DISCONNECT §3.14.2.1 Table 3-10, AUTH §3.15.2.1.
constexpr uint8_t kPubackReasons[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
constexpr uint8_t kPubrelReasons[] = {0x00, 0x92};
constexpr uint8_t kDisconnectReasons[] = {
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2};
constexpr uint8_t kAuthReasons[] = {0x00, 0x18, 0x19};

std::span<const uint8_t> reasons_of(PacketType type) {
  switch (type) {
    case PacketType::puback:
    case PacketType::pubrec:
      return kPubackReasons;
    case PacketType::pubrel:
    case PacketType::pubcomp:
      return kPubrelReasons;
    case PacketType::disconnect:
      return kDisconnectReasons;
    default:
      return kAuthReasons;
  }
}

bool has_packet_id(PacketType type) {
  return type != PacketType::disconnect && type != PacketType::auth;
}

template <class T>
Packet make_reason_packet(uint16_t packet_id, uint8_t reason_code, Properties properties) {
  if constexpr (std::is_same_v<T, Disconnect> || std::is_same_v<T, Auth>) {
    return T{reason_code, std::move(properties)};
  } else {
    return T{packet_id, reason_code, std::move(properties)};
  }
}

}  // namespace

namespace detail {

Status put_packet(Bytes& out, uint8_t first_byte, const Bytes& body) {
  ZT_TRY(wire::put_fixed_header(out, first_byte, body.size()));
  wire::put_bytes(out, body);
  return ok();
}

Result<Packet> decode_reason_packet(PacketType type, ByteView body, bool v5) {
  wire::Reader reader(body, to_string(type));
  uint16_t packet_id = 0;
  if (has_packet_id(type)) {
    ZT_TRY_ASSIGN(packet_id, reader.u16("packet identifier"));
    if (packet_id == 0) return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  }
  uint8_t code = reason::success;
  Properties properties;
  if (v5 && !reader.empty()) {
    ZT_TRY_ASSIGN(code, reader.u8("reason code"));
    auto allowed = reasons_of(type);
    if (std::find(allowed.begin(), allowed.end(), code) == allowed.end()) {
      return reader.error("reason code",
                          fmt::format("0x{:02x} is not a {} reason", code, to_string(type)));
    }
    if (!reader.empty()) {
      ZT_TRY_ASSIGN(properties, read_properties(reader, static_cast<uint8_t>(type)));
    }
  }
  if (!reader.empty()) {
    return v5 ? reader.error("body", "unexpected bytes after the properties")
              : make_error(Errc::parse, fmt::format("{}: remaining length must be {}",
                                                    to_string(type), has_packet_id(type) ? 2 : 0));
  }
  switch (type) {
    case PacketType::puback:
      return make_reason_packet<Puback>(packet_id, code, std::move(properties));
    case PacketType::pubrec:
      return make_reason_packet<Pubrec>(packet_id, code, std::move(properties));
    case PacketType::pubrel:
      return make_reason_packet<Pubrel>(packet_id, code, std::move(properties));
    case PacketType::pubcomp:
      return make_reason_packet<Pubcomp>(packet_id, code, std::move(properties));
    case PacketType::disconnect:
      return make_reason_packet<Disconnect>(packet_id, code, std::move(properties));
    default:
      return make_reason_packet<Auth>(packet_id, code, std::move(properties));
  }
}

Status encode_reason_packet(const Packet& packet, Bytes& out, bool v5) {
  PacketType type = packet_type(packet);
  uint16_t packet_id = 0;
  uint8_t code = reason::success;
  const Properties* properties = nullptr;
  std::visit(
      [&](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, Disconnect> || std::is_same_v<T, Auth>) {
          code = value.reason_code;
          properties = &value.properties;
        } else if constexpr (std::is_same_v<T, Puback> || std::is_same_v<T, Pubrec> ||
                             std::is_same_v<T, Pubrel> || std::is_same_v<T, Pubcomp>) {
          packet_id = value.packet_id;
          code = value.reason_code;
          properties = &value.properties;
        }
      },
      packet);
  if (!properties) return make_error(Errc::internal, "not a reason-code packet");
  if (type == PacketType::auth && !v5)
    return make_error(Errc::invalid_argument, "AUTH exists only in MQTT 5");
  Bytes body;
  if (has_packet_id(type)) {
    if (packet_id == 0) {
      return make_error(Errc::invalid_argument,
                        fmt::format("{}: packet identifier must be non-zero", to_string(type)));
    }
    wire::put_u16(body, packet_id);
  }
  // §3.4.2.1, §3.14.2.1, §3.15.2.1: the reason code (and property length) may be omitted when
  // the code is Success and there are no properties; the property length alone when empty.
  bool empty_properties = *properties == Properties{};
  if (v5 && (code != reason::success || !empty_properties)) {
    wire::put_u8(body, code);
    if (!empty_properties) ZT_TRY(put_properties(body, *properties, static_cast<uint8_t>(type)));
  }
  uint8_t flags = type == PacketType::pubrel ? 2 : 0;
  return put_packet(out, static_cast<uint8_t>(static_cast<uint8_t>(type) << 4 | flags), body);
}

}  // namespace detail

const char* to_string(PacketType type) {
  switch (type) {
    case PacketType::connect:
      return "CONNECT";
    case PacketType::connack:
      return "CONNACK";
    case PacketType::publish:
      return "PUBLISH";
    case PacketType::puback:
      return "PUBACK";
    case PacketType::pubrec:
      return "PUBREC";
    case PacketType::pubrel:
      return "PUBREL";
    case PacketType::pubcomp:
      return "PUBCOMP";
    case PacketType::subscribe:
      return "SUBSCRIBE";
    case PacketType::suback:
      return "SUBACK";
    case PacketType::unsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::unsuback:
      return "UNSUBACK";
    case PacketType::pingreq:
      return "PINGREQ";
    case PacketType::pingresp:
      return "PINGRESP";
    case PacketType::disconnect:
      return "DISCONNECT";
    case PacketType::auth:
      return "AUTH";
  }
  return "UNKNOWN";
}

PacketType packet_type(const Packet& packet) {
  // The variant's alternatives are listed in PacketType order, starting at CONNECT = 1.
  return static_cast<PacketType>(packet.index() + 1);
}

void encode_remaining_length(size_t length, Bytes& out) {
  do {
    uint8_t digit = length % 128;
    length /= 128;
    if (length > 0) digit |= 0x80;
    out.push_back(digit);
  } while (length > 0);
}

bool is_valid_mqtt_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<uint8_t>(text[i]);
    if (byte == 0) return false;
    if (byte < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code_point;
    if ((byte & 0xe0) == 0xc0) {
      length = 2;
      code_point = byte & 0x1f;
    } else if ((byte & 0xf0) == 0xe0) {
      length = 3;
      code_point = byte & 0x0f;
    } else if ((byte & 0xf8) == 0xf0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = code_point << 6 | (next & 0x3f);
    }
    // Reject overlong forms, surrogates (U+D800..U+DFFF, §1.5.3) and values above U+10FFFF.
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

Result<Packet> decode_packet(uint8_t first_byte, ByteView body, uint8_t level) {
  uint8_t type_value = first_byte >> 4;
  uint8_t flags = first_byte & 0x0f;
  const bool v5 = level == kProtocolLevel5;
  // §2.2.1: 0 is reserved in both versions; 15 is AUTH in MQTT 5 and reserved in 3.1.1.
  if (type_value == 0 || (type_value == 15 && !v5)) {
    return make_error(Errc::parse, fmt::format("packet type {} is reserved (§2.2.1)", type_value));
  }
  auto type = static_cast<PacketType>(type_value);
  // §2.2.2: PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010; every other type but PUBLISH 0000.
  uint8_t expected_flags = (type == PacketType::pubrel || type == PacketType::subscribe ||
                            type == PacketType::unsubscribe)
                               ? 2
                               : 0;
  if (type != PacketType::publish && flags != expected_flags)
    return flags_error(type, flags, expected_flags);
  switch (type) {
    case PacketType::connect:
      return detail::decode_connect(flags, body);
    case PacketType::connack:
      return detail::decode_connack(flags, body, v5);
    case PacketType::publish:
      return detail::decode_publish(flags, body, v5);
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp:
    case PacketType::disconnect:
    case PacketType::auth:
      return detail::decode_reason_packet(type, body, v5);
    case PacketType::subscribe:
      return detail::decode_subscribe(flags, body, v5);
    case PacketType::suback:
      return detail::decode_suback(flags, body, v5);
    case PacketType::unsubscribe:
      return detail::decode_unsubscribe(flags, body, v5);
    case PacketType::unsuback:
      return detail::decode_unsuback(flags, body, v5);
    case PacketType::pingreq:
      return decode_empty<Pingreq>(type, body);
    case PacketType::pingresp:
      return decode_empty<Pingresp>(type, body);
  }
  return make_error(Errc::parse, "unknown packet type");
}

Status encode_packet(const Packet& packet, Bytes& out, uint8_t level) {
  const bool v5 = level == kProtocolLevel5;
  return std::visit(
      [&out, &packet, v5](const auto& value) -> Status {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, Connect>) {
          return detail::encode_connect(value, out);
        } else if constexpr (std::is_same_v<T, Connack>) {
          return detail::encode_connack(value, out, v5);
        } else if constexpr (std::is_same_v<T, Publish>) {
          return detail::encode_publish(value, out, v5);
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          return detail::encode_subscribe(value, out, v5);
        } else if constexpr (std::is_same_v<T, Suback>) {
          return detail::encode_suback(value, out, v5);
        } else if constexpr (std::is_same_v<T, Unsubscribe>) {
          return detail::encode_unsubscribe(value, out, v5);
        } else if constexpr (std::is_same_v<T, Unsuback>) {
          return detail::encode_unsuback(value, out, v5);
        } else if constexpr (std::is_same_v<T, Puback> || std::is_same_v<T, Pubrec> ||
                             std::is_same_v<T, Pubrel> || std::is_same_v<T, Pubcomp> ||
                             std::is_same_v<T, Disconnect> || std::is_same_v<T, Auth>) {
          return detail::encode_reason_packet(packet, out, v5);
        } else {
          out.push_back(
              static_cast<uint8_t>(static_cast<uint8_t>(packet_type(Packet{value})) << 4));
          out.push_back(0);
          return ok();
        }
      },
      packet);
}

Result<Bytes> encode_packet(const Packet& packet, uint8_t level) {
  Bytes out;
  ZT_TRY(encode_packet(packet, out, level));
  return out;
}

}  // namespace zt::mqtt

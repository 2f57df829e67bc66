// Dispatch by packet type, the remaining-length varint, UTF-8 rules and the packets that carry only
// a packet identifier or nothing at all.
#include <fmt/format.h>

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
Result<Packet> decode_packet_id_only(PacketType type, ByteView body) {
  wire::Reader reader(body, to_string(type));
  ZT_TRY_ASSIGN(uint16_t packet_id, reader.u16("packet identifier"));
  if (!reader.empty()) return reader.error("body", "unexpected bytes after the packet identifier");
  if (packet_id == 0) return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  return Packet{T{packet_id}};
}

template <class T>
Result<Packet> decode_empty(PacketType type, ByteView body) {
  if (!body.empty()) {
    return make_error(Errc::parse, fmt::format("{}: remaining length must be 0, got {}",
                                               to_string(type), body.size()));
  }
  return Packet{T{}};
}

Status encode_packet_id_only(PacketType type, uint8_t flags, uint16_t packet_id, Bytes& out) {
  if (packet_id == 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{}: packet identifier must be non-zero", to_string(type)));
  }
  ZT_TRY(wire::put_fixed_header(out, static_cast<uint8_t>(static_cast<uint8_t>(type) << 4 | flags),
                                2));
  wire::put_u16(out, packet_id);
  return ok();
}

}  // namespace

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

Result<Packet> decode_packet(uint8_t first_byte, ByteView body) {
  uint8_t type_value = first_byte >> 4;
  uint8_t flags = first_byte & 0x0f;
  if (type_value == 0 || type_value == 15) {
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
      return detail::decode_connack(flags, body);
    case PacketType::publish:
      return detail::decode_publish(flags, body);
    case PacketType::puback:
      return decode_packet_id_only<Puback>(type, body);
    case PacketType::pubrec:
      return decode_packet_id_only<Pubrec>(type, body);
    case PacketType::pubrel:
      return decode_packet_id_only<Pubrel>(type, body);
    case PacketType::pubcomp:
      return decode_packet_id_only<Pubcomp>(type, body);
    case PacketType::subscribe:
      return detail::decode_subscribe(flags, body);
    case PacketType::suback:
      return detail::decode_suback(flags, body);
    case PacketType::unsubscribe:
      return detail::decode_unsubscribe(flags, body);
    case PacketType::unsuback:
      return decode_packet_id_only<Unsuback>(type, body);
    case PacketType::pingreq:
      return decode_empty<Pingreq>(type, body);
    case PacketType::pingresp:
      return decode_empty<Pingresp>(type, body);
    case PacketType::disconnect:
      return decode_empty<Disconnect>(type, body);
  }
  return make_error(Errc::parse, "unknown packet type");
}

Status encode_packet(const Packet& packet, Bytes& out) {
  return std::visit(
      [&out](const auto& value) -> Status {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, Connect>) {
          return detail::encode_connect(value, out);
        } else if constexpr (std::is_same_v<T, Connack>) {
          return detail::encode_connack(value, out);
        } else if constexpr (std::is_same_v<T, Publish>) {
          return detail::encode_publish(value, out);
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          return detail::encode_subscribe(value, out);
        } else if constexpr (std::is_same_v<T, Suback>) {
          return detail::encode_suback(value, out);
        } else if constexpr (std::is_same_v<T, Unsubscribe>) {
          return detail::encode_unsubscribe(value, out);
        } else if constexpr (std::is_same_v<T, Pubrel>) {
          return encode_packet_id_only(PacketType::pubrel, 2, value.packet_id, out);
        } else if constexpr (std::is_same_v<T, Puback> || std::is_same_v<T, Pubrec> ||
                             std::is_same_v<T, Pubcomp> || std::is_same_v<T, Unsuback>) {
          return encode_packet_id_only(packet_type(Packet{value}), 0, value.packet_id, out);
        } else {
          out.push_back(
              static_cast<uint8_t>(static_cast<uint8_t>(packet_type(Packet{value})) << 4));
          out.push_back(0);
          return ok();
        }
      },
      packet);
}

Result<Bytes> encode_packet(const Packet& packet) {
  Bytes out;
  ZT_TRY(encode_packet(packet, out));
  return out;
}

}  // namespace zt::mqtt

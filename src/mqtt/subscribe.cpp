// SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK (MQTT 3.1.1 §3.8–§3.11; MQTT 5.0 §3.8–§3.11:
// properties after the packet identifier, subscription options, reason codes in the acks).
#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "mqtt/handlers.hpp"

namespace zt::mqtt::detail {
namespace {

Status put_packet_id(Bytes& out, uint16_t packet_id, std::string_view packet) {
  if (packet_id == 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{}: packet identifier must be non-zero", packet));
  }
  wire::put_u16(out, packet_id);
  return ok();
}

Result<uint16_t> read_packet_id(wire::Reader& reader) {
  ZT_TRY_ASSIGN(uint16_t packet_id, reader.u16("packet identifier"));
  if (packet_id == 0) return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  return packet_id;
}

Result<Properties> read_if_v5(wire::Reader& reader, PacketType type, bool v5) {
  if (!v5) return Properties{};
  return read_properties(reader, static_cast<uint8_t>(type));
}

Status put_if_v5(Bytes& body, const Properties& properties, PacketType type, bool v5) {
  if (!v5) return ok();
  return put_properties(body, properties, static_cast<uint8_t>(type));
}

// Reads the list of one-byte codes that ends an ack, each one of `allowed`.
Result<std::vector<uint8_t>> read_codes(wire::Reader& reader, std::span<const uint8_t> allowed) {
  ByteView codes = reader.rest();
  for (uint8_t code : codes) {
    if (std::find(allowed.begin(), allowed.end(), code) == allowed.end())
      return reader.error("reason code", fmt::format("0x{:02x} is not allowed here", code));
  }
  return std::vector<uint8_t>(codes.begin(), codes.end());
}

// 3.1.1 §3.9.3; MQTT 5 §3.9.3 Table 3-8.
constexpr uint8_t kSuback311[] = {0x00, 0x01, 0x02, kSubackFailure};
constexpr uint8_t kSuback5[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2};
// MQTT 5 §3.11.3 Table 3-9.
constexpr uint8_t kUnsuback5[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91};

}  // namespace

Result<Packet> decode_subscribe(uint8_t /*flags*/, ByteView body, bool v5) {
  wire::Reader reader(body, "SUBSCRIBE");
  Subscribe subscribe;
  ZT_TRY_ASSIGN(subscribe.packet_id, read_packet_id(reader));
  ZT_TRY_ASSIGN(subscribe.properties, read_if_v5(reader, PacketType::subscribe, v5));
  while (!reader.empty()) {
    Subscription subscription;
    ZT_TRY_ASSIGN(subscription.filter, reader.utf8("topic filter"));
    ZT_TRY_ASSIGN(uint8_t options, reader.u8(v5 ? "subscription options" : "requested QoS"));
    if (v5) {
      // MQTT 5 §3.8.3.1: bits 7-6 reserved, retain handling 3 and QoS 3 are errors.
      if (options & 0xc0) return reader.error("subscription options", "reserved bits 7-6 are set");
      subscription.no_local = (options & 0x04) != 0;
      subscription.retain_as_published = (options & 0x08) != 0;
      subscription.retain_handling = (options >> 4) & 0x03;
      if (subscription.retain_handling == 3)
        return reader.protocol_error("subscription options", "retain handling 3 is reserved");
      options &= 0x03;
    } else if (options & 0xfc) {
      // 3.1.1 §3.8.3.1: the upper six bits are reserved.
      return reader.error("requested QoS", "reserved bits 7-2 are set");
    }
    if (options == 3) return reader.error("requested QoS", "QoS 3 is not a QoS");
    subscription.qos = options;
    subscribe.subscriptions.push_back(std::move(subscription));
  }
  // §3.8.3: a SUBSCRIBE with no payload is a protocol violation.
  if (subscribe.subscriptions.empty()) return reader.protocol_error("payload", "no topic filter");
  return Packet{std::move(subscribe)};
}

Status encode_subscribe(const Subscribe& packet, Bytes& out, bool v5) {
  if (packet.subscriptions.empty())
    return make_error(Errc::invalid_argument, "SUBSCRIBE: no topic filter");
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "SUBSCRIBE"));
  ZT_TRY(put_if_v5(body, packet.properties, PacketType::subscribe, v5));
  for (const auto& subscription : packet.subscriptions) {
    ZT_TRY(wire::check_string_length(as_bytes(subscription.filter), "topic filter"));
    if (subscription.qos > 2) return make_error(Errc::invalid_argument, "SUBSCRIBE: QoS above 2");
    if (subscription.retain_handling > 2)
      return make_error(Errc::invalid_argument, "SUBSCRIBE: retain handling above 2");
    wire::put_string(body, as_bytes(subscription.filter));
    uint8_t options = subscription.qos;
    if (v5) {
      options |= static_cast<uint8_t>((subscription.no_local ? 0x04 : 0) |
                                      (subscription.retain_as_published ? 0x08 : 0) |
                                      subscription.retain_handling << 4);
    }
    wire::put_u8(body, options);
  }
  return put_packet(out, 0x82, body);
}

Result<Packet> decode_suback(uint8_t /*flags*/, ByteView body, bool v5) {
  wire::Reader reader(body, "SUBACK");
  Suback suback;
  ZT_TRY_ASSIGN(suback.packet_id, read_packet_id(reader));
  ZT_TRY_ASSIGN(suback.properties, read_if_v5(reader, PacketType::suback, v5));
  if (reader.empty()) return reader.error("payload", "no return code");
  if (v5) {
    ZT_TRY_ASSIGN(suback.return_codes, read_codes(reader, kSuback5));
  } else {
    ZT_TRY_ASSIGN(suback.return_codes, read_codes(reader, kSuback311));
  }
  return Packet{std::move(suback)};
}

Status encode_suback(const Suback& packet, Bytes& out, bool v5) {
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "SUBACK"));
  ZT_TRY(put_if_v5(body, packet.properties, PacketType::suback, v5));
  wire::put_bytes(body, packet.return_codes);
  return put_packet(out, 0x90, body);
}

Result<Packet> decode_unsubscribe(uint8_t /*flags*/, ByteView body, bool v5) {
  wire::Reader reader(body, "UNSUBSCRIBE");
  Unsubscribe unsubscribe;
  ZT_TRY_ASSIGN(unsubscribe.packet_id, read_packet_id(reader));
  ZT_TRY_ASSIGN(unsubscribe.properties, read_if_v5(reader, PacketType::unsubscribe, v5));
  while (!reader.empty()) {
    ZT_TRY_ASSIGN(std::string filter, reader.utf8("topic filter"));
    unsubscribe.filters.push_back(std::move(filter));
  }
  // §3.10.3: the payload MUST contain at least one topic filter.
  if (unsubscribe.filters.empty()) return reader.protocol_error("payload", "no topic filter");
  return Packet{std::move(unsubscribe)};
}

Status encode_unsubscribe(const Unsubscribe& packet, Bytes& out, bool v5) {
  if (packet.filters.empty())
    return make_error(Errc::invalid_argument, "UNSUBSCRIBE: no topic filter");
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "UNSUBSCRIBE"));
  ZT_TRY(put_if_v5(body, packet.properties, PacketType::unsubscribe, v5));
  for (const auto& filter : packet.filters) {
    ZT_TRY(wire::check_string_length(as_bytes(filter), "topic filter"));
    wire::put_string(body, as_bytes(filter));
  }
  return put_packet(out, 0xa2, body);
}

Result<Packet> decode_unsuback(uint8_t /*flags*/, ByteView body, bool v5) {
  wire::Reader reader(body, "UNSUBACK");
  Unsuback unsuback;
  ZT_TRY_ASSIGN(unsuback.packet_id, read_packet_id(reader));
  if (v5) {
    ZT_TRY_ASSIGN(unsuback.properties,
                  read_properties(reader, static_cast<uint8_t>(PacketType::unsuback)));
    ZT_TRY_ASSIGN(unsuback.reason_codes, read_codes(reader, kUnsuback5));
  } else if (!reader.empty()) {
    return reader.error("body", "unexpected bytes after the packet identifier");
  }
  return Packet{std::move(unsuback)};
}

Status encode_unsuback(const Unsuback& packet, Bytes& out, bool v5) {
  Bytes body;
  ZT_TRY(put_packet_id(body, packet.packet_id, "UNSUBACK"));
  if (v5) {
    ZT_TRY(put_properties(body, packet.properties, static_cast<uint8_t>(PacketType::unsuback)));
    wire::put_bytes(body, packet.reason_codes);
  }
  return put_packet(out, 0xb0, body);
}

}  // namespace zt::mqtt::detail

// PUBLISH (MQTT 3.1.1 §3.3; MQTT 5.0 §3.3: properties after the packet identifier). PUBACK and
// the QoS 2 acknowledgements live in packet.cpp.
#include <fmt/format.h>

#include "mqtt/handlers.hpp"

namespace zt::mqtt::detail {

Result<Packet> decode_publish(uint8_t flags, ByteView body, bool v5) {
  wire::Reader reader(body, "PUBLISH");
  Publish publish;
  publish.retain = (flags & 0x01) != 0;
  publish.qos = (flags >> 1) & 0x03;
  publish.dup = (flags & 0x08) != 0;
  if (publish.qos == 3) return reader.error("fixed header", "QoS 3 is not a QoS (§3.3.1.2)");
  if (publish.qos == 0 && publish.dup)
    return reader.error("fixed header", "DUP set on a QoS 0 message (§3.3.1.1)");
  ZT_TRY_ASSIGN(publish.topic, reader.utf8("topic name"));
  if (publish.qos > 0) {
    ZT_TRY_ASSIGN(publish.packet_id, reader.u16("packet identifier"));
    if (publish.packet_id == 0)
      return reader.error("packet identifier", "must be non-zero (§2.3.1)");
  }
  if (v5) {
    ZT_TRY_ASSIGN(publish.properties,
                  read_properties(reader, static_cast<uint8_t>(PacketType::publish)));
  }
  ByteView payload = reader.rest();
  publish.payload.assign(payload.begin(), payload.end());
  return Packet{std::move(publish)};
}

Status encode_publish(const Publish& packet, Bytes& out, bool v5) {
  return mqtt::encode_publish(packet.topic, packet.payload, packet.qos, packet.retain, packet.dup,
                              packet.packet_id, out, v5 ? &packet.properties : nullptr);
}

}  // namespace zt::mqtt::detail

namespace zt::mqtt {

Status encode_publish(std::string_view topic, ByteView payload, uint8_t qos, bool retain, bool dup,
                      uint16_t packet_id, Bytes& out, const Properties* properties) {
  if (qos > 2) return make_error(Errc::invalid_argument, "PUBLISH: QoS above 2");
  if (qos > 0 && packet_id == 0) {
    return make_error(Errc::invalid_argument,
                      "PUBLISH: QoS 1/2 needs a non-zero packet identifier");
  }
  ZT_TRY(wire::check_string_length(as_bytes(topic), "topic name"));
  Bytes section;
  if (properties)
    ZT_TRY(put_properties(section, *properties, static_cast<uint8_t>(PacketType::publish)));
  size_t body_length = 2 + topic.size() + (qos > 0 ? 2 : 0) + section.size() + payload.size();
  uint8_t first = static_cast<uint8_t>(0x30 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0));
  ZT_TRY(wire::put_fixed_header(out, first, body_length));
  wire::put_string(out, as_bytes(topic));
  if (qos > 0) wire::put_u16(out, packet_id);
  wire::put_bytes(out, section);
  wire::put_bytes(out, payload);
  return ok();
}

}  // namespace zt::mqtt

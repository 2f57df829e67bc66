// Per-family decode/encode functions behind decode_packet/encode_packet (one file per packet
// family, as Mosquitto's handle_*.c). `v5` selects the MQTT 5.0 layout. Internal to zt_mqtt.
#pragma once

#include "mqtt/packet.hpp"
#include "mqtt/wire.hpp"

namespace zt::mqtt::detail {

Result<Packet> decode_connect(uint8_t flags, ByteView body);
Result<Packet> decode_connack(uint8_t flags, ByteView body, bool v5);
Status encode_connect(const Connect& packet, Bytes& out);
Status encode_connack(const Connack& packet, Bytes& out, bool v5);

Result<Packet> decode_publish(uint8_t flags, ByteView body, bool v5);
Status encode_publish(const Publish& packet, Bytes& out, bool v5);

Result<Packet> decode_subscribe(uint8_t flags, ByteView body, bool v5);
Result<Packet> decode_suback(uint8_t flags, ByteView body, bool v5);
Result<Packet> decode_unsubscribe(uint8_t flags, ByteView body, bool v5);
Result<Packet> decode_unsuback(uint8_t flags, ByteView body, bool v5);
Status encode_subscribe(const Subscribe& packet, Bytes& out, bool v5);
Status encode_suback(const Suback& packet, Bytes& out, bool v5);
Status encode_unsubscribe(const Unsubscribe& packet, Bytes& out, bool v5);
Status encode_unsuback(const Unsuback& packet, Bytes& out, bool v5);

// MQTT 5 acknowledgements, DISCONNECT and AUTH (§3.4–§3.7, §3.14, §3.15): what follows the packet
// identifier (if any) is a reason code then properties, each omitted when Success / empty.
Result<Packet> decode_reason_packet(PacketType type, ByteView body, bool v5);
Status encode_reason_packet(const Packet& packet, Bytes& out, bool v5);

// Writes the fixed header then `body` (the common tail of every encoder).
Status put_packet(Bytes& out, uint8_t first_byte, const Bytes& body);

}  // namespace zt::mqtt::detail
